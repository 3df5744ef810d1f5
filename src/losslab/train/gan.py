r"""Adversarial training: ``fit_gan(generator, critic, real, loss=...)`` alternates critic and generator steps.

Each of the ``steps`` generator steps is preceded by ``n_critic`` critic steps (Arjovsky et al.
2017; Gulrajani et al. 2017, Algorithm 1). With :math:`x` a batch of real samples,
:math:`z \sim N(0, I)` latent codes and :math:`\tilde x = G(z)`:

- critic step: minimize the family's critic loss :math:`L_D(D(x), D(\tilde x))` over the critic's
  parameters (plus the gradient penalty for ``"wgan_gp"``, then weight clipping for ``"wgan"``);
- generator step: minimize :math:`L_G(D(G(z)))` over the generator's parameters, back-propagated
  through the critic's input gradient, :math:`\partial L_G/\partial\tilde x_i = \ell_G'(D(\tilde
  x_i))\,\nabla_x D(\tilde x_i)`, and then through the generator (``generator.params_vjp``).

======== =========================== =========================================== ====================
loss     critic loss                 generator loss                              extra
======== =========================== =========================================== ====================
gan      ``gan_discriminator``       ``gan_generator(saturating=True)`` (minimax)
nsgan    ``gan_discriminator``       ``gan_generator`` (non-saturating)
lsgan    ``lsgan_discriminator``     ``lsgan_generator``                         ``a``, ``b``, ``c``
wgan     ``wgan_critic``             ``wgan_generator``                          ``clip_value`` 0.01
wgan_gp  ``wgan_gp_critic``          ``wgan_generator``                          ``weight`` 10,
                                                                                 ``one_sided``
hinge    ``hinge_discriminator``     ``hinge_generator``
======== =========================== =========================================== ====================

``generator`` is a losslab model from latent codes (``n_in`` of them) to samples, ``critic`` a
losslab model with one output (raw scores or logits: a linear output). Both may have dropout
(masks drawn per step from ``seed``; a critic step uses one mask set for its real, fake and
interpolated batches). ``real`` is an array of samples (batches drawn without replacement) or a
sampler ``real(rng, n) -> (n, d)``.

The history records, per generator step, both losses and the batch's generated mean and spread
(standard deviation per dimension) against the real batch's, and at the end the same statistics
on ``n_eval`` fresh samples. Mode collapse -- the generated spread shrinking to a fraction of the
data's -- is flagged when ``spread_ratio`` (mean generated std over mean real std) falls below
``collapse_ratio``; divergence (a non-finite loss or parameter) stops training with a
``RuntimeWarning``.

>>> import numpy as np, losslab as ll
>>> real = lambda rng, n: rng.normal(3.0, 0.5, size=(n, 1))      # the 1-D toy: N(3, 0.5^2)
>>> generator = ll.models.Linear(1, 1)                              # G(z) = a z + b, from a = 1, b = 0
>>> critic = ll.models.MLP([1, 8, 1], activation="tanh")
>>> h = ll.train.fit_gan(generator, critic, real, loss="wgan_gp", n_critic=5, steps=60, batch_size=64,
...                      optimizer=ll.optim.adam(lr=0.05, betas=(0.5, 0.9)), loss_params={"one_sided": True},
...                      generator_init={"W": [[1.0]], "b": [0.0]}, seed=0)
>>> h.n_steps, round(float(h.fake_mean[0]), 1), h.mode_collapse    # b -> 3 (a longer run fits the spread)
(60, 3.0, False)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.arrays import as_float
from losslab._core.tree import tree_map
from losslab._core.validation import check_choice, check_int, check_positive
from losslab.losses import adversarial as adv
from losslab.losses._spec import Loss
from losslab.models._base import Model
from losslab.models.critic import as_critic
from losslab.optim.base import GradientTransformation
from losslab.optim.base import step as optimizer_step

__all__ = ["GAN_FAMILIES", "GanFamily", "GanHistory", "fit_gan", "generator_value_and_grad"]


class GanFamily(NamedTuple):
    """A GAN family: critic and generator losses, fixed generator parameters, extra options."""

    critic_loss: Loss
    generator_loss: Loss
    generator_params: dict[str, Any]
    options: dict[str, Any]  # the family's own options and their defaults


GAN_FAMILIES: dict[str, GanFamily] = {
    "gan": GanFamily(adv.gan_discriminator, adv.gan_generator, {"saturating": True}, {}),
    "nsgan": GanFamily(adv.gan_discriminator, adv.gan_generator, {"saturating": False}, {}),
    "lsgan": GanFamily(adv.lsgan_discriminator, adv.lsgan_generator, {}, {}),
    "wgan": GanFamily(adv.wgan_critic, adv.wgan_generator, {}, {"clip_value": 0.01}),
    "wgan_gp": GanFamily(adv.wgan_critic, adv.wgan_generator, {}, {"weight": 10.0, "one_sided": False}),
    "hinge": GanFamily(adv.hinge_discriminator, adv.hinge_generator, {}, {}),
}


@dataclass
class GanHistory:
    """The record of :func:`fit_gan` (see the module docstring)."""

    generator_params: Any = None
    critic_params: Any = None
    steps: dict[str, list[Any]] = field(
        default_factory=lambda: {
            "critic_loss": [],
            "generator_loss": [],
            "fake_mean": [],
            "fake_std": [],
            "real_mean": [],
            "real_std": [],
        }
    )
    fake_mean: np.ndarray | None = None
    fake_std: np.ndarray | None = None
    real_mean: np.ndarray | None = None
    real_std: np.ndarray | None = None
    spread_ratio: float = math.nan
    mode_collapse: bool = False
    diverged: bool = False
    stop_reason: str | None = None

    @property
    def n_steps(self) -> int:
        """Generator steps taken."""
        return len(self.steps["generator_loss"])

    @property
    def critic_loss(self) -> np.ndarray:
        """Per generator step: the mean critic loss of the preceding critic steps."""
        return np.asarray(self.steps["critic_loss"], dtype=np.float64)

    @property
    def generator_loss(self) -> np.ndarray:
        """Per generator step: the generator loss."""
        return np.asarray(self.steps["generator_loss"], dtype=np.float64)

    @property
    def spread_ratios(self) -> np.ndarray:
        """Per generator step: the batch's generated spread over the real batch's."""
        fake = np.asarray(self.steps["fake_std"]).reshape(self.n_steps, -1).mean(axis=1)
        real = np.asarray(self.steps["real_std"]).reshape(self.n_steps, -1).mean(axis=1)
        return np.asarray(fake / real)

    def __repr__(self) -> str:
        return (
            f"GanHistory(steps={self.n_steps}, spread_ratio={self.spread_ratio:.3g}, "
            f"mode_collapse={self.mode_collapse}, diverged={self.diverged})"
        )


def _split_options(where: str, family: GanFamily, loss_params: Mapping[str, Any]) -> tuple[dict, dict, dict]:
    critic_kw, generator_kw, options = {}, dict(family.generator_params), dict(family.options)
    for key, value in loss_params.items():
        if key in family.options:
            options[key] = value
        elif key in family.critic_loss.params:
            critic_kw[key] = value
        elif key in family.generator_loss.params and key not in family.generator_params:
            generator_kw[key] = value
        else:
            valid = sorted(
                {*family.options, *family.critic_loss.params, *family.generator_loss.params}
                - set(family.generator_params)
            )
            raise TypeError(f"{where}: unknown loss parameter {key!r}; valid: {', '.join(valid) or 'none'}")
    family.critic_loss.resolve_params(critic_kw)
    family.generator_loss.resolve_params(generator_kw)
    if "clip_value" in options:
        options["clip_value"] = check_positive(where, "clip_value", options["clip_value"])
    if "weight" in options:
        options["weight"] = check_positive(where, "weight", options["weight"], strict=False)
    return critic_kw, generator_kw, options


def _optimizers(where: str, optimizer: Any) -> tuple[GradientTransformation, GradientTransformation]:
    if isinstance(optimizer, GradientTransformation):
        pair = (optimizer, optimizer)
    elif isinstance(optimizer, Mapping) and set(optimizer) == {"generator", "critic"}:
        pair = (optimizer["generator"], optimizer["critic"])
    elif isinstance(optimizer, (tuple, list)) and len(optimizer) == 2:
        pair = (optimizer[0], optimizer[1])
    else:
        raise TypeError(
            f"{where}: optimizer must be a GradientTransformation or a pair / dict "
            "{'generator': ..., 'critic': ...} of them"
        )
    for name, opt in zip(("generator", "critic"), pair):
        if not isinstance(opt, GradientTransformation):
            raise TypeError(
                f"{where}: the {name} optimizer must be a GradientTransformation, got {type(opt).__name__}"
            )
        if opt.extra_args:
            raise ValueError(
                f"{where}: the {name} optimizer needs {sorted(opt.extra_args)}, which fit_gan cannot provide"
            )
    return pair[0], pair[1]


def _real_sampler(where: str, real: Any, d: int) -> Callable[[np.random.Generator, int], np.ndarray]:
    if callable(real):

        def sample_fn(rng: np.random.Generator, n: int) -> np.ndarray:
            batch = as_float(np, real(rng, n), "real", where)
            if batch.shape != (n, d):
                raise ValueError(f"{where}: real(rng, {n}) must return shape ({n}, {d}), got {batch.shape}")
            return batch

        return sample_fn
    data = as_float(np, real, "real", where)
    if data.ndim == 1 and d == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] != d or data.shape[0] < 2:
        raise ValueError(
            f"{where}: real must have shape (n_samples, {d}) (the critic's input), got {data.shape}"
        )
    if not np.isfinite(data).all():
        raise ValueError(f"{where}: real contains NaN or infinite values")

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return data[rng.choice(data.shape[0], size=n, replace=n > data.shape[0])]

    return draw


def fit_gan(
    generator: Model,
    critic: Model,
    real: npt.ArrayLike | Callable[[np.random.Generator, int], npt.ArrayLike],
    *,
    loss: str = "wgan_gp",
    optimizer: GradientTransformation | Mapping[str, GradientTransformation] | tuple[Any, Any],
    n_critic: int = 5,
    steps: int = 2000,
    batch_size: int = 64,
    seed: int | None = None,
    loss_params: Mapping[str, Any] | None = None,
    generator_init: Mapping[str, Any] | None = None,
    critic_init: Mapping[str, Any] | None = None,
    collapse_ratio: float = 0.25,
    n_eval: int = 2000,
) -> GanHistory:
    """Train ``generator`` against ``critic`` on ``real`` data; return a :class:`GanHistory` (module docstring).

    ``optimizer`` is one optimizer (the same hyperparameters for both players, separate states)
    or ``{"generator": ..., "critic": ...}``. ``loss_params`` holds the family's parameters
    (``{"weight": 10.0, "one_sided": True}`` for WGAN-GP, ``{"clip_value": 0.01}`` for WGAN, LSGAN's
    targets ``a``, ``b``, ``c``). Initial parameters come from ``seed`` unless given.
    """
    where = "fit_gan"
    if not isinstance(generator, Model) or not isinstance(critic, Model):
        raise TypeError(f"{where}: generator and critic must be losslab models (ll.models.*)")
    check_choice(where, "loss", loss, tuple(GAN_FAMILIES))
    family = GAN_FAMILIES[loss]
    n_critic = check_int(where, "n_critic", n_critic, minimum=1)
    steps = check_int(where, "steps", steps, minimum=0)
    batch_size = check_int(where, "batch_size", batch_size, minimum=1)
    n_eval = check_int(where, "n_eval", n_eval, minimum=2)
    collapse_ratio = check_positive(where, "collapse_ratio", collapse_ratio, strict=False)
    critic._check_scalar_output(where)
    if generator.n_out != critic.n_in:
        raise ValueError(
            f"{where}: the generator makes samples of {generator.n_out} features, the critic reads {critic.n_in}"
        )
    critic_kw, generator_kw, options = _split_options(where, family, dict(loss_params or {}))
    gen_opt, critic_opt = _optimizers(where, optimizer)
    sample_real = _real_sampler(where, real, critic.n_in)
    seeds = np.random.SeedSequence(seed).spawn(3)
    init_rng, data_rng = np.random.default_rng(seeds[0]), np.random.default_rng(seeds[1])
    mask_rng = np.random.default_rng(seeds[2])
    g_params = generator.init(init_rng) if generator_init is None else generator.check_params(generator_init)
    c_params = critic.init(init_rng) if critic_init is None else critic.check_params(critic_init)
    g_state, c_state = gen_opt.init(g_params), critic_opt.init(c_params)
    history = GanHistory()
    log = history.steps
    latent = generator.n_in

    def generate(params: Any, z: np.ndarray, masks: Any = None) -> np.ndarray:
        return generator.apply(params, z, masks=masks)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(steps):
            critic_values = []
            for _ in range(n_critic):
                x = sample_real(data_rng, batch_size)
                z = data_rng.normal(size=(batch_size, latent))
                fake = generate(g_params, z, generator.dropout_masks(mask_rng, batch_size))
                D = as_critic(critic, critic.dropout_masks(mask_rng, batch_size))
                value, grads = _critic_step(family, loss, D, c_params, x, fake, critic_kw, options, data_rng)
                if not _finite(value, grads):
                    _diverge(history, f"the critic loss became {value} at generator step {t + 1}")
                    break
                c_params, c_state = optimizer_step(critic_opt, grads, c_state, c_params)
                if "clip_value" in options:
                    c_params = tree_map(lambda p, c=options["clip_value"]: np.clip(p, -c, c), c_params)
                critic_values.append(value)
            if history.diverged:
                break
            z = data_rng.normal(size=(batch_size, latent))
            g_masks = generator.dropout_masks(mask_rng, batch_size)
            fake = generate(g_params, z, g_masks)
            D = as_critic(critic, critic.dropout_masks(mask_rng, batch_size))
            g_value, g_grads = generator_value_and_grad(
                generator, g_params, D, c_params, z, family.generator_loss, generator_kw, g_masks
            )
            if not _finite(float(g_value), g_grads):
                _diverge(history, f"the generator loss became {float(g_value)} at generator step {t + 1}")
                break
            g_params, g_state = optimizer_step(gen_opt, g_grads, g_state, g_params)
            log["critic_loss"].append(float(np.mean(critic_values)))
            log["generator_loss"].append(float(g_value))
            log["fake_mean"].append(fake.mean(axis=0))
            log["fake_std"].append(fake.std(axis=0))
            log["real_mean"].append(x.mean(axis=0))
            log["real_std"].append(x.std(axis=0))
    history.generator_params, history.critic_params = g_params, c_params
    if all(np.isfinite(p).all() for p in g_params.values()):
        fake = generate(g_params, data_rng.normal(size=(n_eval, latent)))
        x = sample_real(data_rng, n_eval)
        history.fake_mean, history.fake_std = fake.mean(axis=0), fake.std(axis=0)
        history.real_mean, history.real_std = x.mean(axis=0), x.std(axis=0)
        history.spread_ratio = float(history.fake_std.mean() / max(float(history.real_std.mean()), 1e-300))
        history.mode_collapse = history.spread_ratio < collapse_ratio
    return history


def generator_value_and_grad(
    generator: Model,
    params: Any,
    critic: Any,
    critic_params: Any,
    z: np.ndarray,
    loss: Loss,
    loss_params: Mapping[str, Any],
    masks: Any = None,
) -> tuple[float, Any]:
    r"""The generator loss :math:`L_G(D(G(z)))` and its gradient with respect to the generator's parameters.

    Chain rule through the critic's input: :math:`\partial L_G / \partial \tilde x_i =
    \ell_G'(D(\tilde x_i))\, \nabla_x D(\tilde x_i)`, then ``generator.params_vjp`` with that
    cotangent. ``critic`` is a :class:`~losslab.losses.Critic` (e.g. ``ll.models.as_critic(model)``).
    """
    fake = generator.apply(params, z, masks=masks)
    value, d_scores = loss.value_and_grad(critic.apply(critic_params, fake), **loss_params)
    cot = np.asarray(d_scores)[:, None] * critic.input_grad(critic_params, fake)
    return float(value), generator.params_vjp(params, z, cot, masks=masks)


def _critic_step(
    family: GanFamily,
    loss: str,
    D: Any,
    params: Any,
    x: np.ndarray,
    fake: np.ndarray,
    critic_kw: dict[str, Any],
    options: dict[str, Any],
    rng: np.random.Generator,
) -> tuple[float, Any]:
    if loss == "wgan_gp":
        return adv.wgan_gp_critic(
            D, params, x, fake, weight=options["weight"], one_sided=options["one_sided"], rng=rng
        )
    value, (d_real, d_fake) = family.critic_loss.value_and_grad(
        D.apply(params, x), D.apply(params, fake), **critic_kw
    )
    g_real = D.params_vjp(params, x, d_real)
    g_fake = D.params_vjp(params, fake, d_fake)
    return float(value), tree_map(lambda a, b: a + b, g_real, g_fake)


def _finite(value: float, grads: Any) -> bool:
    return math.isfinite(value) and all(np.isfinite(g).all() for g in grads.values())


def _diverge(history: GanHistory, what: str) -> None:
    history.diverged = True
    history.stop_reason = f"training diverged: {what}; lower the learning rates"
    warnings.warn(history.stop_reason, RuntimeWarning, stacklevel=3)
