"""fit_gan: the 1-D toys of the loss-zoo tests (N(3, 0.5^2), affine generator) for every GAN family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from losslab.train.gan import generator_value_and_grad

MEAN, STD = 3.0, 0.5
A1B0 = {"W": [[1.0]], "b": [0.0]}  # G(z) = z, as tests/wgan_toy.py starts


def real(rng, n):
    return rng.normal(MEAN, STD, size=(n, 1))


def _gan(loss, *, steps, n_critic, generator_lr, critic_lr, betas, batch_size, seed=0, hidden=8, **kw):
    opt = {
        "generator": ll.optim.adam(
            lr=ll.optim.schedules.cosine_decay(generator_lr, T_max=steps), betas=betas
        ),
        "critic": ll.optim.adam(lr=critic_lr, betas=betas),
    }
    return ll.train.fit_gan(
        ll.models.Linear(1, 1),
        ll.models.MLP([1, hidden, 1], activation="tanh"),
        real,
        loss=loss,
        optimizer=opt,
        n_critic=n_critic,
        steps=steps,
        batch_size=batch_size,
        generator_init=A1B0,
        seed=seed,
        **kw,
    )


def test_wgan_gp_toy_reaches_the_target_mean_and_spread():
    h = _gan(
        "wgan_gp",
        steps=150,
        n_critic=5,
        generator_lr=0.05,
        critic_lr=0.05,
        betas=(0.5, 0.9),
        batch_size=64,
        loss_params={"one_sided": True},
    )
    assert h.fake_mean[0] == pytest.approx(MEAN, rel=0.1)
    assert h.fake_std[0] == pytest.approx(STD, rel=0.1)
    a, b = h.generator_params["W"][0, 0], h.generator_params["b"][0]
    assert (b, abs(a)) == pytest.approx((MEAN, STD), rel=0.1)
    assert h.real_mean[0] == pytest.approx(MEAN, abs=0.05) and not h.mode_collapse and not h.diverged
    assert h.n_steps == 150 and h.critic_loss.shape == (150,) and np.isfinite(h.generator_loss).all()


def test_non_saturating_gan_toy_reaches_the_target_mean_and_spread():
    h = _gan(
        "nsgan", steps=500, n_critic=3, generator_lr=0.02, critic_lr=0.05, betas=(0.5, 0.999), batch_size=128
    )
    assert h.fake_mean[0] == pytest.approx(MEAN, rel=0.1)
    assert h.fake_std[0] == pytest.approx(STD, rel=0.1)
    assert h.spread_ratio == pytest.approx(1.0, rel=0.1) and not h.mode_collapse


def test_mode_collapse_is_reported():
    # too few critic steps and a fast generator: the samples bunch up at the data's mode
    h = _gan(
        "nsgan", steps=250, n_critic=2, generator_lr=0.03, critic_lr=0.05, betas=(0.5, 0.999), batch_size=128
    )
    assert h.mode_collapse and h.spread_ratio < 0.25
    assert abs(h.fake_mean[0] - MEAN) < 0.2  # the mean is right, the spread is gone
    ratios = h.spread_ratios
    assert ratios.shape == (250,) and ratios[-20:].mean() < 0.5 < ratios[:5].mean()


@pytest.mark.parametrize("loss", sorted(ll.train.GAN_FAMILIES))
def test_every_family_trains_seeded(loss):
    kw = {"loss_params": {"clip_value": 0.05}} if loss == "wgan" else {}
    opt = ll.optim.adam(lr=0.01, betas=(0.5, 0.9))
    run = lambda: ll.train.fit_gan(  # noqa: E731
        ll.models.Linear(1, 1),
        ll.models.MLP([1, 4, 1], activation="tanh"),
        real,
        loss=loss,
        optimizer=opt,
        n_critic=2,
        steps=15,
        batch_size=32,
        seed=3,
        **kw,
    )
    a, b = run(), run()
    assert a.n_steps == 15 and np.isfinite(a.critic_loss).all() and np.isfinite(a.generator_loss).all()
    np.testing.assert_array_equal(a.generator_params["W"], b.generator_params["W"])
    np.testing.assert_array_equal(a.critic_loss, b.critic_loss)
    if loss == "wgan":
        assert all(np.abs(v).max() <= 0.05 for v in a.critic_params.values())  # weight clipping


def test_real_data_array_and_dropout_critic():
    data = np.random.default_rng(0).normal(MEAN, STD, size=(500, 1))
    critic = ll.models.MLP([1, 8, 1], activation="tanh", dropout=0.2)
    kw = dict(loss="lsgan", optimizer=ll.optim.adam(lr=0.02), n_critic=1, steps=30, batch_size=32, seed=0)
    a = ll.train.fit_gan(ll.models.Linear(1, 1), critic, data, **kw)
    b = ll.train.fit_gan(ll.models.Linear(1, 1), critic, data, **kw)
    np.testing.assert_array_equal(a.critic_params["W1"], b.critic_params["W1"])
    assert a.real_mean[0] == pytest.approx(data.mean(), abs=0.05)


@pytest.mark.parametrize("loss", ["nsgan", "gan", "lsgan", "wgan_gp"])
def test_generator_gradient_matches_torch_through_the_critic(loss):
    rng = np.random.default_rng(1)
    generator = ll.models.MLP([2, 5, 3], activation="tanh")
    critic_model = ll.models.MLP([3, 4, 1], activation="tanh")
    gp, cp = generator.init(0), critic_model.init(1)
    z = rng.normal(size=(6, 2))
    family = ll.train.GAN_FAMILIES[loss]
    value, grads = generator_value_and_grad(
        generator,
        gp,
        ll.models.as_critic(critic_model),
        cp,
        z,
        family.generator_loss,
        family.generator_params,
    )
    T = {k: torch.tensor(v, requires_grad=True) for k, v in gp.items()}
    C = {k: torch.tensor(v) for k, v in cp.items()}
    fake = torch.tanh(torch.from_numpy(z) @ T["W1"] + T["b1"]) @ T["W2"] + T["b2"]
    scores = (torch.tanh(fake @ C["W1"] + C["b1"]) @ C["W2"] + C["b2"])[:, 0]
    expected = {
        "nsgan": lambda s: torch.nn.functional.softplus(-s).mean(),
        "gan": lambda s: -torch.nn.functional.softplus(s).mean(),
        "lsgan": lambda s: 0.5 * ((s - 1.0) ** 2).mean(),
        "wgan_gp": lambda s: -s.mean(),
    }[loss](scores)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    for k in gp:
        np.testing.assert_allclose(grads[k], T[k].grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_critic": 0}, ValueError, "fit_gan: n_critic must be >= 1, got n_critic=0"),
        ({"loss": "vanilla"}, ValueError, "fit_gan: loss must be one of"),
        (
            {"loss_params": {"gamma": 1.0}},
            TypeError,
            "unknown loss parameter 'gamma'; valid: one_sided, weight",
        ),
        ({"loss": "wgan", "loss_params": {"clip_value": -1.0}}, ValueError, "clip_value must be > 0"),
        ({"optimizer": "adam"}, TypeError, "optimizer must be a GradientTransformation or a pair"),
        ({"optimizer": ll.optim.newton()}, ValueError, "needs \\['hessian'\\], which fit_gan cannot provide"),
    ],
    ids=["n_critic", "family", "param", "clip", "optimizer", "newton"],
)
def test_bad_gan_arguments_are_named(kwargs, error, match):
    args = {"optimizer": ll.optim.adam(), "steps": 1, **kwargs}
    with pytest.raises(error, match=match):
        ll.train.fit_gan(ll.models.Linear(1, 1), ll.models.MLP([1, 3, 1]), real, **args)


def test_gan_models_must_fit_together():
    opt = ll.optim.adam()
    with pytest.raises(ValueError, match="needs a model with one output"):
        ll.train.fit_gan(ll.models.Linear(1, 1), ll.models.Linear(1, 2), real, optimizer=opt, steps=1)
    with pytest.raises(ValueError, match="generator makes samples of 2 features, the critic reads 1"):
        ll.train.fit_gan(ll.models.Linear(1, 2), ll.models.Linear(1, 1), real, optimizer=opt, steps=1)
    with pytest.raises(ValueError, match=r"real must have shape \(n_samples, 1\)"):
        ll.train.fit_gan(
            ll.models.Linear(1, 1), ll.models.Linear(1, 1), np.zeros((5, 3)), optimizer=opt, steps=1
        )


def test_divergence_stops_training_with_a_warning():
    opt = {"generator": ll.optim.sgd(lr=1e6), "critic": ll.optim.sgd(lr=1e6)}
    with pytest.warns(RuntimeWarning, match="training diverged"):
        h = ll.train.fit_gan(
            ll.models.Linear(1, 1),
            ll.models.Linear(1, 1),
            real,
            loss="lsgan",
            optimizer=opt,
            n_critic=1,
            steps=200,
            batch_size=8,
            seed=0,
        )
    assert h.diverged and h.n_steps < 200 and "diverged" in h.stop_reason
