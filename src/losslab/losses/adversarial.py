"""Adversarial (GAN) losses: minimax, non-saturating, LSGAN, WGAN, hinge GAN, gradient penalty.

Discriminator outputs are logits (``*_logits``: sigmoid not applied) or raw scores
(``*_output``/``*_scores``). The cross-entropy forms are evaluated in logit space with softplus, so
logits of +-1e4 give finite values and gradients. Each loss is point-wise over its arrays; "mean"
averages over the elements, as ``torch.nn.BCEWithLogitsLoss`` and the papers' expectations do.

The WGAN-GP penalty needs the critic's gradient with respect to its input at points between real
and fake samples: :func:`interpolates` draws them and :func:`wgan_gp_critic` assembles the whole
critic objective for any critic that gives its input gradient and the matching vector-Jacobian
products (the :class:`Critic` protocol). Every losslab model with one output implements the protocol
(``ll.models.MLP([d, 64, 1], activation="tanh")`` can be passed as ``critic`` directly, or through
``ll.models.as_critic(model)``, whose ``apply`` returns ``(batch,)`` scores); any other critic is
given with its gradient functions as a class with the four methods.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from losslab._core.arrays import as_floats
from losslab._core.validation import check_bool, check_number, check_positive
from losslab.losses._numerics import norm_scale, reduce_like_torch, sigmoid, softplus
from losslab.losses._spec import Loss, Param, PointwiseLoss, Terms, register

__all__ = [
    "Critic",
    "gan_discriminator",
    "gan_generator",
    "gradient_penalty",
    "hinge_discriminator",
    "hinge_generator",
    "interpolates",
    "lsgan_discriminator",
    "lsgan_generator",
    "wgan_critic",
    "wgan_generator",
    "wgan_gp_critic",
]

_GOODFELLOW = "Goodfellow et al. (2014), Generative Adversarial Nets, arXiv:1406.2661"
_ARJOVSKY = "Arjovsky, Chintala, Bottou (2017), Wasserstein GAN, arXiv:1701.07875"
_GULRAJANI = "Gulrajani et al. (2017), Improved Training of Wasserstein GANs, arXiv:1704.00028"
_MAO = "Mao et al. (2017), Least Squares Generative Adversarial Networks, arXiv:1611.04076"
_LIM = "Lim & Ye (2017), Geometric GAN, arXiv:1705.02894; Miyato et al. (2018), arXiv:1802.05957"
_REAL_FAKE = ("real_logits", "fake_logits")


def _bce_logits(torch, logits, target_value, reduction):
    target = torch.full_like(logits, target_value)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction=reduction)


# --------------------------------------------------------------------------- minimax GAN

gan_discriminator = register(
    PointwiseLoss(
        "gan_discriminator",
        task="adversarial",
        inputs=_REAL_FAKE,
        differentiable=_REAL_FAKE,
        value=lambda xp, r, f: softplus(xp, -r) + softplus(xp, f),
        grads=lambda xp, r, f: (sigmoid(xp, r) - 1.0, sigmoid(xp, f)),
        torch_fn=lambda torch, r, f, *, reduction: (
            _bce_logits(torch, r, 1.0, reduction) + _bce_logits(torch, f, 0.0, reduction)
        ),
        info=dict(
            summary="Minimax GAN discriminator loss: binary cross-entropy, real -> 1 and fake -> 0.",
            formula=r"\ell = -\log\sigma(d_r) - \log(1 - \sigma(d_f)) = \operatorname{sp}(-d_r) + \operatorname{sp}(d_f)",
            gradient=r"\partial\ell/\partial d_r = \sigma(d_r) - 1,\ \partial\ell/\partial d_f = \sigma(d_f)",
            convex=True,
            torch="BCEWithLogitsLoss(real, 1) + BCEWithLogitsLoss(fake, 0)",
            keras="BinaryCrossentropy(from_logits=True) on real and fake",
            use_when="Training the discriminator of a standard GAN.",
            conventions="real_logits and fake_logits have one shape; 'mean' averages the summed pair.",
            references=(_GOODFELLOW,),
        ),
    )
)


def _gan_generator_value(xp, f, saturating):
    return -softplus(xp, f) if saturating else softplus(xp, -f)


def _gan_generator_grad(xp, f, saturating):
    return (-sigmoid(xp, f),) if saturating else (sigmoid(xp, f) - 1.0,)


gan_generator = register(
    PointwiseLoss(
        "gan_generator",
        task="adversarial",
        inputs=("fake_logits",),
        differentiable=("fake_logits",),
        params={"saturating": Param(False, check_bool, "minimize log(1 - D(G(z)))")},
        value=_gan_generator_value,
        grads=_gan_generator_grad,
        test_params=({"saturating": False}, {"saturating": True}),
        nonnegative=False,
        torch_fn=lambda torch, f, *, reduction, saturating: (
            -_bce_logits(torch, f, 0.0, reduction) if saturating else _bce_logits(torch, f, 1.0, reduction)
        ),
        info=dict(
            summary="GAN generator loss: non-saturating -log D(G(z)) (default) or saturating log(1 - D(G(z))).",
            formula=r"\ell = -\log\sigma(d_f) \text{ (non-saturating)},\quad \ell = \log(1 - \sigma(d_f)) \text{ (saturating)}",
            gradient=r"\sigma(d_f) - 1 \text{ (non-saturating)},\quad -\sigma(d_f) \text{ (saturating)}",
            torch="BCEWithLogitsLoss(fake, 1)  |  -BCEWithLogitsLoss(fake, 0)",
            use_when="Training a GAN generator; the non-saturating form keeps gradients alive early on.",
            conventions=(
                "The saturating form is the minimax objective (negative values); its gradient vanishes "
                "when the discriminator confidently rejects fakes (Goodfellow et al. section 3)."
            ),
            references=(_GOODFELLOW,),
        ),
    )
)


# --------------------------------------------------------------------------- least squares GAN


def _lsgan_torch(torch, r, f, *, reduction, a, b):
    mse = torch.nn.functional.mse_loss
    return 0.5 * mse(r, torch.full_like(r, b), reduction=reduction) + 0.5 * mse(
        f, torch.full_like(f, a), reduction=reduction
    )


lsgan_discriminator = register(
    PointwiseLoss(
        "lsgan_discriminator",
        task="adversarial",
        inputs=("real_output", "fake_output"),
        differentiable=("real_output", "fake_output"),
        params={
            "a": Param(0.0, check_number, "target for fake samples"),
            "b": Param(1.0, check_number, "target for real samples"),
        },
        value=lambda xp, r, f, a, b: 0.5 * (r - b) ** 2 + 0.5 * (f - a) ** 2,
        grads=lambda xp, r, f, a, b: (r - b, f - a),
        perfect=lambda rng, a, b: (np.full((4, 3), b), np.full((4, 3), a)),
        test_params=({"a": 0.0, "b": 1.0}, {"a": -1.0, "b": 1.0}),
        torch_fn=_lsgan_torch,
        info=dict(
            summary="Least-squares GAN discriminator loss: real outputs pulled to b, fake to a.",
            formula=r"\ell = \tfrac12 (D(x) - b)^2 + \tfrac12 (D(G(z)) - a)^2",
            gradient=r"\partial\ell/\partial D(x) = D(x) - b,\ \partial\ell/\partial D(G(z)) = D(G(z)) - a",
            convex=True,
            torch="0.5 * MSELoss(real, b) + 0.5 * MSELoss(fake, a)",
            use_when="A GAN whose discriminator output is a raw score; smoother gradients than minimax.",
            conventions="The 1/2 factors follow Mao et al.; a=0, b=1, c=1 (or a=-1, b=1, c=0).",
            references=(_MAO,),
        ),
    )
)

lsgan_generator = register(
    PointwiseLoss(
        "lsgan_generator",
        task="adversarial",
        inputs=("fake_output",),
        differentiable=("fake_output",),
        params={"c": Param(1.0, check_number, "the value the generator wants D to output for fakes")},
        value=lambda xp, f, c: 0.5 * (f - c) ** 2,
        grads=lambda xp, f, c: (f - c,),
        perfect=lambda rng, c: (np.full((4, 3), c),),
        test_params=({"c": 1.0}, {"c": 0.0}),
        torch_fn=lambda torch, f, *, reduction, c: (
            0.5 * torch.nn.functional.mse_loss(f, torch.full_like(f, c), reduction=reduction)
        ),
        info=dict(
            summary="Least-squares GAN generator loss: fake outputs pulled to c.",
            formula=r"\ell = \tfrac12 (D(G(z)) - c)^2",
            gradient=r"\partial\ell/\partial D(G(z)) = D(G(z)) - c",
            convex=True,
            torch="0.5 * MSELoss(fake, c)",
            use_when="The generator side of an LSGAN.",
            references=(_MAO,),
        ),
    )
)


# --------------------------------------------------------------------------- Wasserstein GAN

wgan_critic = register(
    PointwiseLoss(
        "wgan_critic",
        task="adversarial",
        inputs=("real_scores", "fake_scores"),
        differentiable=("real_scores", "fake_scores"),
        value=lambda xp, r, f: f - r,
        grads=lambda xp, r, f: (-xp.ones_like(r), xp.ones_like(f)),
        nonnegative=False,
        torch_fn=lambda torch, r, f, *, reduction: reduce_like_torch(f - r, reduction),
        info=dict(
            summary="WGAN critic loss: E[D(G(z))] - E[D(x)], the negated Kantorovich-Rubinstein estimate.",
            formula=r"\ell = D(G(z)) - D(x)",
            gradient=r"\partial\ell/\partial D(x) = -1,\ \partial\ell/\partial D(G(z)) = 1",
            convex=True,
            torch="fake.mean() - real.mean()",
            use_when="Training a Wasserstein critic (with weight clipping or the gradient penalty).",
            conventions="Minimized; -loss estimates W1 only when the critic is 1-Lipschitz.",
            references=(_ARJOVSKY, _GULRAJANI),
        ),
    )
)

wgan_generator = register(
    PointwiseLoss(
        "wgan_generator",
        task="adversarial",
        inputs=("fake_scores",),
        differentiable=("fake_scores",),
        value=lambda xp, f: -f,
        grads=lambda xp, f: (-xp.ones_like(f),),
        nonnegative=False,
        torch_fn=lambda torch, f, *, reduction: reduce_like_torch(-f, reduction),
        info=dict(
            summary="WGAN (and hinge GAN) generator loss: -E[D(G(z))].",
            formula=r"\ell = -D(G(z))",
            gradient=r"\partial\ell/\partial D(G(z)) = -1",
            convex=True,
            torch="-fake.mean()",
            use_when="The generator side of a WGAN, WGAN-GP or hinge GAN.",
            references=(_ARJOVSKY,),
        ),
    )
)


# --------------------------------------------------------------------------- hinge GAN

hinge_discriminator = register(
    PointwiseLoss(
        "hinge_discriminator",
        task="adversarial",
        inputs=_REAL_FAKE,
        differentiable=_REAL_FAKE,
        value=lambda xp, r, f: xp.maximum(1.0 - r, xp.zeros_like(r)) + xp.maximum(1.0 + f, xp.zeros_like(f)),
        grads=lambda xp, r, f: (-xp.astype(r < 1.0, r.dtype), xp.astype(f > -1.0, f.dtype)),
        perfect=lambda rng: (rng.uniform(1.5, 3.0, (4, 3)), rng.uniform(-3.0, -1.5, (4, 3))),
        torch_fn=lambda torch, r, f, *, reduction: reduce_like_torch(
            torch.relu(1 - r) + torch.relu(1 + f), reduction
        ),
        info=dict(
            summary="Hinge GAN discriminator loss: max(0, 1 - D(x)) + max(0, 1 + D(G(z))).",
            formula=r"\ell = \max(0, 1 - D(x)) + \max(0, 1 + D(G(z)))",
            gradient=r"\partial\ell/\partial D(x) = -[D(x) < 1],\ \partial\ell/\partial D(G(z)) = [D(G(z)) > -1]",
            convex=True,
            differentiable=False,
            torch="relu(1 - real).mean() + relu(1 + fake).mean()",
            use_when="SNGAN/BigGAN-style training; pair with hinge_generator (= wgan_generator).",
            conventions="Subgradient 0 at the hinges.",
            references=(_LIM,),
        ),
    )
)

hinge_generator = register(
    PointwiseLoss(
        "hinge_generator",
        task="adversarial",
        inputs=("fake_logits",),
        differentiable=("fake_logits",),
        value=lambda xp, f: -f,
        grads=lambda xp, f: (-xp.ones_like(f),),
        nonnegative=False,
        torch_fn=lambda torch, f, *, reduction: reduce_like_torch(-f, reduction),
        info=dict(
            summary="Hinge GAN generator loss: -E[D(G(z))] (the same objective as the WGAN generator).",
            formula=r"\ell = -D(G(z))",
            gradient=r"\partial\ell/\partial D(G(z)) = -1",
            convex=True,
            torch="-fake.mean()",
            use_when="The generator side of a hinge GAN.",
            references=(_LIM,),
        ),
    )
)


# --------------------------------------------------------------------------- gradient penalty


def _penalty_prepare(xp, input_grads, **params):
    (g,) = as_floats(xp, "gradient_penalty", input_grads=input_grads)
    if g.ndim < 2 or 0 in tuple(g.shape):
        raise ValueError(
            "gradient_penalty: input_grads must have shape (batch, ...) with one critic input gradient "
            f"per sample, got shape {tuple(g.shape)}"
        )
    return (g,)


def _penalty_forward(xp, g, *, need_grad, target, weight, one_sided):
    flat = xp.reshape(g, (g.shape[0], -1))
    scale = norm_scale(xp, flat)  # (1 for ordinary rows; the max |g| where squares would overflow)
    unit = flat / scale
    scaled_norm = xp.sqrt(xp.sum(unit * unit, axis=1))
    norm = scale[:, 0] * scaled_norm
    gap = norm - target
    if one_sided:
        gap = xp.maximum(gap, xp.zeros_like(gap))
    loss = weight * gap * gap
    if not need_grad:
        return Terms(loss)
    # d/dg = 2 w gap g / ||g|| = 2 w gap (g / s) / ||g / s||: bounded factors even where ||g|| overflows
    safe = xp.where(norm > 0, scaled_norm, xp.ones_like(norm))
    factor = xp.where(norm > 0, 2.0 * weight * gap / safe, xp.zeros_like(norm))
    shape = (g.shape[0],) + (1,) * (g.ndim - 1)

    def vjp(cot):
        c = factor * cot
        return (xp.reshape(c, shape) * xp.reshape(unit, tuple(g.shape)),)

    return Terms(loss, vjp=vjp)


gradient_penalty = register(
    Loss(
        "gradient_penalty",
        task="adversarial",
        inputs=("input_grads",),
        differentiable=("input_grads",),
        params={
            "target": Param(1.0, lambda w, n, v: check_positive(w, n, v, strict=False), "target norm"),
            "weight": Param(10.0, lambda w, n, v: check_positive(w, n, v, strict=False), "lambda"),
            "one_sided": Param(False, check_bool, "penalize only norms above the target"),
        },
        prepare=_penalty_prepare,
        forward=_penalty_forward,
        sample=lambda rng, **_: (rng.normal(size=(5, 3)),),
        perfect=lambda rng, target, weight, one_sided: (
            (lambda g: g / np.linalg.norm(g, axis=1, keepdims=True) * target)(rng.normal(size=(5, 3))),
        ),
        test_params=(
            {"target": 1.0, "weight": 10.0},
            {"target": 0.5, "weight": 1.0},
            {"target": 1.5, "weight": 10.0, "one_sided": True},
        ),
        torch_fn=lambda torch, g, *, reduction, target, weight, one_sided: reduce_like_torch(
            weight
            * (
                (torch.linalg.vector_norm(g.reshape(g.shape[0], -1), dim=1) - target).clamp(min=0)
                if one_sided
                else torch.linalg.vector_norm(g.reshape(g.shape[0], -1), dim=1) - target
            )
            ** 2,
            reduction,
        ),
        info=dict(
            summary="WGAN-GP gradient penalty lambda (||grad_x D(x_hat)|| - 1)^2 per interpolated sample.",
            formula=(
                r"\ell_i = \lambda\,(\lVert \nabla_{\hat x} D(\hat x_i) \rVert_2 - t)^2"
                r"\ \text{(one-sided: } \lambda \max(0, \lVert g_i\rVert - t)^2)"
            ),
            gradient=r"\partial\ell_i/\partial g_i = 2\lambda(\lVert g_i\rVert - t)\, g_i / \lVert g_i\rVert",
            torch="weight * (grad.flatten(1).norm(dim=1) - target).pow(2).mean()",
            use_when="Enforcing the critic's 1-Lipschitz constraint softly in WGAN-GP.",
            conventions=(
                "Takes the critic's input gradients (batch, ...) and returns the penalty and its gradient "
                "with respect to them; chain to the critic's parameters with the critic's own "
                "vector-Jacobian product (see wgan_gp_critic). The subgradient at g = 0 is 0. "
                "one_sided=True is the variant Gulrajani et al. mention (penalize only norms above 1): "
                "it lets the critic be flat where the distributions already agree."
            ),
            references=(_GULRAJANI,),
        ),
    )
)


def interpolates(
    real: Any, fake: Any, *, seed: int | None = None, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Random points on the segments between paired real and fake samples (WGAN-GP).

    ``x_hat = eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1]`` per sample; returns
    ``(x_hat, eps)``.
    """
    real_a, fake_a = as_floats(np, "interpolates", real=real, fake=fake)
    if real_a.shape != fake_a.shape or real_a.ndim < 1:
        raise ValueError(
            f"interpolates: real and fake must have one shape (batch, ...), got {real_a.shape} and {fake_a.shape}"
        )
    generator = rng if rng is not None else np.random.default_rng(seed)
    eps = generator.uniform(size=(real_a.shape[0],) + (1,) * (real_a.ndim - 1)).astype(real_a.dtype)
    return eps * real_a + (1.0 - eps) * fake_a, eps.reshape(-1)


class Critic(Protocol):
    """What :func:`wgan_gp_critic` needs of a critic ``D(params, x) -> scores (batch,)``.

    ``apply(params, x)``: the scores. ``params_vjp(params, x, cot)``: gradient with respect to
    ``params`` of ``sum_i cot_i D(x_i)``. ``input_grad(params, x)``: ``dD/dx`` per sample, shaped
    like ``x``. ``input_grad_vjp(params, x, cot)``: gradient with respect to ``params`` of
    ``sum_i <cot_i, dD/dx(x_i)>`` (a mixed second derivative). Parameter gradients are trees shaped
    like ``params``.

    Implemented by every losslab model with one output (:meth:`losslab.models.Model.input_grad`,
    :meth:`~losslab.models.Model.input_grad_vjp`, :meth:`~losslab.models.Model.params_vjp`, by manual
    double backprop through its layers); ``ll.models.as_critic(model)`` adds ``(batch,)`` scores.
    """

    def apply(self, params: Any, x: Any) -> Any: ...

    def params_vjp(self, params: Any, x: Any, cot: Any) -> Any: ...

    def input_grad(self, params: Any, x: Any) -> Any: ...

    def input_grad_vjp(self, params: Any, x: Any, cot: Any) -> Any: ...


def wgan_gp_critic(
    critic: Critic,
    params: Any,
    real: Any,
    fake: Any,
    *,
    weight: float = 10.0,
    one_sided: bool = False,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[float, Any]:
    """The WGAN-GP critic objective and its gradient with respect to the critic's parameters.

    .. math:: L = \\overline{D(\\tilde x)} - \\overline{D(x)} + \\lambda\\,\\overline{(\\lVert\\nabla_{\\hat x}
       D(\\hat x)\\rVert - 1)^2}

    with ``x_hat`` from :func:`interpolates` (Gulrajani et al. 2017, Algorithm 1). Returns
    ``(value, param_grads)``. ``critic`` is any :class:`Critic`, e.g. a losslab model with one
    output or ``ll.models.as_critic(model)``.
    """
    from losslab._core.tree import tree_map

    check_positive("wgan_gp_critic", "weight", weight, strict=False)
    real_a, fake_a = as_floats(np, "wgan_gp_critic", real=real, fake=fake)
    x_hat, _ = interpolates(real_a, fake_a, seed=seed, rng=rng)
    scores_real = critic.apply(params, real_a)
    scores_fake = critic.apply(params, fake_a)
    value_w, (d_real, d_fake) = wgan_critic.value_and_grad(scores_real, scores_fake)
    g = critic.input_grad(params, x_hat)
    value_gp, d_g = gradient_penalty.value_and_grad(g, weight=weight, one_sided=one_sided)
    grads_real = critic.params_vjp(params, real_a, d_real)
    grads_fake = critic.params_vjp(params, fake_a, d_fake)
    grads_gp = critic.input_grad_vjp(params, x_hat, d_g)
    total = tree_map(lambda a, b, c: a + b + c, grads_real, grads_fake, grads_gp)
    return float(value_w + value_gp), total
