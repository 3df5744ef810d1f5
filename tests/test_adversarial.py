"""GAN losses: hand-checked values, extremes, the penalty's chain rule, and a toy WGAN-GP."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losslab as ll
from wgan_toy import train_affine_generator


def test_minimax_discriminator_at_even_odds_is_two_log_two():
    # D(x) = D(G(z)) = sigmoid(0) = 1/2: -log(1/2) - log(1 - 1/2) = 2 log 2.
    assert math.isclose(ll.losses.gan_discriminator([0.0], [0.0]), 2 * math.log(2), rel_tol=1e-15)


def test_generator_forms_and_their_gradients():
    # non-saturating: -log sigmoid(f); saturating: log(1 - sigmoid(f)).
    f = np.array([-2.0, 0.0, 3.0])
    sig = 1 / (1 + np.exp(-f))
    ns, ns_grad = ll.losses.gan_generator.value_and_grad(f, reduction="none")
    sat, sat_grad = ll.losses.gan_generator.value_and_grad(f, reduction="none", saturating=True)
    np.testing.assert_allclose(ns, -np.log(sig), rtol=1e-14)
    np.testing.assert_allclose(sat, np.log(1 - sig), rtol=1e-14)
    np.testing.assert_allclose(ns_grad, sig - 1, rtol=1e-14)
    np.testing.assert_allclose(sat_grad, -sig, rtol=1e-14)
    # The saturating gradient vanishes when D confidently rejects the fakes; the other does not.
    assert abs(ll.losses.gan_generator.grad([-20.0], saturating=True)[0]) < 1e-8
    assert abs(ll.losses.gan_generator.grad([-20.0])[0] + 1) < 1e-8


@pytest.mark.parametrize("logit", [1e4, -1e4])
def test_logit_losses_are_finite_at_extremes(logit):
    for loss in (ll.losses.gan_discriminator,):
        value, (dr, df) = loss.value_and_grad([logit], [logit])
        assert np.isfinite(value) and np.isfinite(dr).all() and np.isfinite(df).all()
    value, grad = ll.losses.gan_generator.value_and_grad(np.float32([logit]))
    assert np.isfinite(value) and np.isfinite(grad).all() and grad.dtype == np.float32


def test_lsgan_wgan_and_hinge_values():
    r, f = np.array([0.5, 2.0]), np.array([-0.5, 1.0])
    # LSGAN a=0, b=1: 1/2 (r-1)^2 + 1/2 f^2 -> [0.125 + 0.125, 0.5 + 0.5].
    np.testing.assert_allclose(ll.losses.lsgan_discriminator(r, f, reduction="none"), [0.25, 1.0])
    np.testing.assert_allclose(ll.losses.lsgan_generator(f, reduction="none"), [1.125, 0.0])
    assert ll.losses.wgan_critic(r, f) == pytest.approx(np.mean(f) - np.mean(r))
    # hinge: max(0, 1 - r) + max(0, 1 + f) -> [0.5 + 0.5, 0 + 2].
    np.testing.assert_allclose(ll.losses.hinge_discriminator(r, f, reduction="none"), [1.0, 2.0])
    assert ll.losses.hinge_generator(f) == pytest.approx(-0.25)


def test_gradient_penalty_values_and_gradient():
    g = np.array([[3.0, 4.0], [0.0, 0.0], [0.6, 0.8]])  # norms 5, 0, 1
    value, grad = ll.losses.gradient_penalty.value_and_grad(g, reduction="none")
    np.testing.assert_allclose(value, [10 * 16, 10 * 1, 0.0])
    np.testing.assert_allclose(grad[0], 2 * 10 * 4 * np.array([0.6, 0.8]))
    np.testing.assert_array_equal(grad[1], [0.0, 0.0])  # subgradient 0 at g = 0
    one_sided = ll.losses.gradient_penalty(g, reduction="none", one_sided=True)
    np.testing.assert_allclose(one_sided, [160.0, 0.0, 0.0])


def test_interpolates_lie_between_real_and_fake():
    real, fake = np.ones((6, 2)), np.zeros((6, 2))
    x_hat, eps = ll.losses.interpolates(real, fake, seed=3)
    np.testing.assert_allclose(x_hat, np.repeat(eps[:, None], 2, axis=1))
    assert ((eps >= 0) & (eps <= 1)).all()
    np.testing.assert_array_equal(eps, ll.losses.interpolates(real, fake, seed=3)[1])
    with pytest.raises(ValueError, match="real and fake must have one shape"):
        ll.losses.interpolates(real, fake[:3])


class TanhCritic:
    """D(x) = sum_k v_k tanh(w_k x + c_k) on inputs of shape (N, 1), with the Critic protocol."""

    def _hidden(self, p, x):
        return np.tanh(x[:, :1] * p["w"] + p["c"])

    def apply(self, p, x):
        return self._hidden(p, x) @ p["v"]

    def params_vjp(self, p, x, cot):
        t = self._hidden(p, x)
        a = cot[:, None] * (1 - t * t) * p["v"]
        return {"v": t.T @ cot, "w": np.sum(a * x[:, :1], axis=0), "c": np.sum(a, axis=0)}

    def input_grad(self, p, x):
        t = self._hidden(p, x)
        return ((1 - t * t) @ (p["v"] * p["w"]))[:, None]

    def input_grad_vjp(self, p, x, cot):
        t = self._hidden(p, x)
        s, ds = 1 - t * t, -2 * (1 - t * t) * t  # sech^2 and its derivative
        c = cot[:, :1]
        return {
            "v": np.sum(c * s * p["w"], axis=0),
            "w": np.sum(c * p["v"] * (s + p["w"] * x[:, :1] * ds), axis=0),
            "c": np.sum(c * p["v"] * p["w"] * ds, axis=0),
        }


def test_wgan_gp_critic_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    critic = TanhCritic()
    params = {"w": rng.normal(size=4), "c": rng.normal(size=4), "v": rng.normal(size=4)}
    real, fake = rng.normal(3, 0.5, (16, 1)), rng.normal(0, 1, (16, 1))
    value, grads = ll.losses.wgan_gp_critic(critic, params, real, fake, seed=1)
    for key in params:
        for j in range(4):

            def at(step, key=key, j=j):
                shifted = {k: v.copy() for k, v in params.items()}
                shifted[key][j] += step
                return ll.losses.wgan_gp_critic(critic, shifted, real, fake, seed=1)[0]

            h = 1e-5
            numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
            assert grads[key][j] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_toy_wgan_gp_learns_the_mean_and_std_of_a_gaussian():
    """A 1-D affine generator a z + b against N(3, 0.5^2) reaches b ~ 3 and |a| ~ 0.5 (within 10%)."""
    rng = np.random.default_rng(0)
    critic_params = {"w": rng.normal(size=16), "c": rng.normal(size=16), "v": np.zeros(16)}
    a, b, _ = train_affine_generator(TanhCritic(), critic_params, rng)
    assert b == pytest.approx(3.0, rel=0.1)
    assert abs(a) == pytest.approx(0.5, rel=0.1)
