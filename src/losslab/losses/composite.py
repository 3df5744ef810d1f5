"""Composite and training-level losses.

Weighted sums of losses, homoscedastic-uncertainty weighting (Kendall et al. 2018), self-paced
example weighting (Kumar et al. 2010; Jiang et al. 2014), knowledge distillation (Hinton et al.
2015) and consistency losses for semi-supervised and structured prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from losslab._core.arrays import as_floats, as_int
from losslab._core.validation import check_choice, check_in_range, check_number, check_positive
from losslab.losses._numerics import log_softmax, reduce_like_torch
from losslab.losses._spec import (
    NONNEGATIVE,
    Loss,
    Param,
    PointwiseLoss,
    Terms,
    get,
    register,
)

__all__ = [
    "consistency_kl",
    "consistency_mse",
    "distillation",
    "grid_neighbors",
    "self_paced",
    "self_paced_threshold",
    "self_paced_weights",
    "spatial_consistency",
    "temporal_consistency",
    "uncertainty_weighting",
    "weighted_sum",
]


# --------------------------------------------------------------------------- weighted sum


class WeightedSum(Loss):
    """``sum_k w_k L_k(y_pred, y_true)`` over losses sharing the same inputs; built by :func:`weighted_sum`."""

    kind = "composite"

    def __init__(self, components: Sequence[tuple[Loss, dict[str, Any]]], weights: Sequence[float]) -> None:
        self.components = list(components)
        self.weights = [float(w) for w in weights]
        first = self.components[0][0]
        label = " + ".join(f"{w:g}*{loss.name}" for (loss, _), w in zip(self.components, self.weights))
        super().__init__(
            f"weighted_sum({label})",
            task="composite",
            inputs=first.inputs,
            differentiable=first.differentiable,
            info=dict(
                summary=f"Weighted sum {label}.",
                formula=r"L = \sum_k w_k L_k",
                gradient=r"\nabla L = \sum_k w_k \nabla L_k",
                convex=all(loss.info.convex for loss, _ in self.components) and min(self.weights) >= 0,
                use_when="Multi-objective training with fixed task weights.",
            ),
        )

    def _evaluate(self, inputs, reduction, sample_weight, params, need_grad):
        if params:
            raise TypeError(
                f"{self.name}: parameters are fixed per component in weighted_sum(...); got {sorted(params)}"
            )
        total: Any = None
        grads: Any = None
        for (loss, loss_params), w in zip(self.components, self.weights):
            if need_grad:
                value, grad = loss.value_and_grad(
                    *inputs, reduction=reduction, sample_weight=sample_weight, **loss_params
                )
                grad = tuple(w * g for g in grad) if isinstance(grad, tuple) else w * grad
                grads = grad if grads is None else _add(grads, grad)
            else:
                value = loss(*inputs, reduction=reduction, sample_weight=sample_weight, **loss_params)
            total = w * value if total is None else total + w * value
        return total, grads


def _add(a: Any, b: Any) -> Any:
    return tuple(x + y for x, y in zip(a, b)) if isinstance(a, tuple) else a + b


def weighted_sum(
    losses: Sequence[str | Loss | tuple[str | Loss, Mapping[str, Any]]], weights: Sequence[float]
) -> WeightedSum:
    """Combine losses on the same inputs into ``L = sum_k w_k L_k`` (value and gradient).

    Each entry of ``losses`` is a name, a loss, or ``(loss, params)``; every component is evaluated
    with the caller's ``reduction`` and ``sample_weight``.

    >>> import losslab as ll
    >>> combo = ll.losses.weighted_sum(["mse", ("huber", {"delta": 0.5})], [1.0, 2.0])
    >>> float(combo([3.0], [1.0]))  # (3-1)^2 + 2 * 0.5 * (2 - 0.25)
    5.75
    """
    if len(losses) == 0:
        raise ValueError("weighted_sum: losses must name at least one loss, got none")
    if len(losses) != len(weights):
        raise ValueError(
            f"weighted_sum: one weight per loss expected, got {len(losses)} losses and {len(weights)} weights"
        )
    components = []
    for entry in losses:
        loss_like, params = entry if isinstance(entry, tuple) else (entry, {})
        loss = get(loss_like)
        loss.resolve_params(params)
        components.append((loss, dict(params)))
    for w in weights:
        check_number("weighted_sum", "weights", w)
    inputs = {loss.inputs for loss, _ in components}
    if len(inputs) > 1:
        raise ValueError(f"weighted_sum: all losses must take the same inputs, got {sorted(inputs)}")
    return WeightedSum(components, weights)


# --------------------------------------------------------------------------- uncertainty weighting

uncertainty_weighting = register(
    PointwiseLoss(
        "uncertainty_weighting",
        task="composite",
        inputs=("task_losses", "log_vars"),
        differentiable=("task_losses", "log_vars"),
        domains={"task_losses": NONNEGATIVE},
        value=lambda xp, loss, s: 0.5 * xp.exp(-s) * loss + 0.5 * s,
        grads=lambda xp, loss, s: (0.5 * xp.exp(-s), 0.5 - 0.5 * xp.exp(-s) * loss),
        nonnegative=False,
        torch_fn=lambda torch, loss, s, *, reduction: reduce_like_torch(
            0.5 * torch.exp(-s) * loss + 0.5 * s, reduction
        ),
        info=dict(
            summary="Homoscedastic uncertainty weighting of task losses with learned s_t = log sigma_t^2.",
            formula=r"L = \sum_t \tfrac12 e^{-s_t} L_t + \tfrac12 s_t,\quad s_t = \log\sigma_t^2",
            gradient=(
                r"\partial L/\partial L_t = \tfrac12 e^{-s_t},\ "
                r"\partial L/\partial s_t = \tfrac12 - \tfrac12 e^{-s_t} L_t"
            ),
            torch="(0.5 * exp(-s) * L + 0.5 * s).sum()",
            use_when="Multi-task learning where task scales differ and fixed weights are hard to tune.",
            conventions=(
                "Use reduction='sum' for Kendall et al.'s objective (the default 'mean' divides by the "
                "number of tasks). For fixed L_t the optimum is s_t = log L_t. The curriculum's "
                "1/(2 sigma^2) L + log sigma is the same function of sigma."
            ),
            references=(
                "Kendall, Gal, Cipolla (2018), Multi-Task Learning Using Uncertainty, arXiv:1705.07115",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- self-paced learning


def self_paced_weights(losses: Any, threshold: float, regime: str = "hard") -> np.ndarray:
    """Optimal self-paced example weights ``v_i`` for per-sample losses at age ``threshold``.

    Minimizing ``sum_i v_i l_i + f(v, lambda)`` over ``v in [0, 1]^n`` gives, in closed form,
    ``"hard"`` (Kumar et al. 2010, f = -lambda sum v): ``v_i = [l_i < lambda]``;
    ``"linear"`` (Jiang et al. 2014, f = lambda sum (v^2/2 - v)): ``v_i = max(0, 1 - l_i / lambda)``.

    >>> self_paced_weights([0.1, 0.5, 2.0], threshold=1.0, regime="linear").tolist()
    [0.9, 0.5, 0.0]
    """
    check_choice("self_paced_weights", "regime", regime, ("hard", "linear"))
    lam = check_positive("self_paced_weights", "threshold", threshold)
    (losses_a,) = as_floats(np, "self_paced_weights", losses=losses)
    if regime == "hard":
        return (losses_a < lam).astype(losses_a.dtype)
    return np.maximum(0.0, 1.0 - losses_a / lam)


def self_paced_threshold(step: int, initial: float, growth: float = 1.1) -> float:
    """The model's age ``lambda_t = initial * growth^t``: more examples admitted as training goes on."""
    check_positive("self_paced_threshold", "initial", initial)
    check_in_range("self_paced_threshold", "growth", growth, 1.0, math.inf, closed="left")
    if step < 0:
        raise ValueError(f"self_paced_threshold: step must be >= 0, got step={step!r}")
    return float(initial) * float(growth) ** int(step)


def _self_paced_value(xp: ModuleType, losses: Any, threshold: float, regime: str) -> Any:
    zero = xp.zeros_like(losses)
    if regime == "hard":
        return xp.minimum(losses - threshold, zero)
    u = xp.maximum(1.0 - losses / threshold, zero)
    return -0.5 * threshold * u * u


def _self_paced_grad(xp: ModuleType, losses: Any, threshold: float, regime: str) -> tuple[Any]:
    if regime == "hard":
        return (xp.astype(losses < threshold, losses.dtype),)
    return (xp.maximum(1.0 - losses / threshold, xp.zeros_like(losses)),)


self_paced = register(
    PointwiseLoss(
        "self_paced",
        task="composite",
        inputs=("sample_losses",),
        differentiable=("sample_losses",),
        domains={"sample_losses": NONNEGATIVE},
        params={
            "threshold": Param(1.0, check_positive, "the model's age lambda"),
            "regime": Param(
                "hard", lambda w, n, v: check_choice(w, n, v, ("hard", "linear")), "hard or linear weights"
            ),
        },
        value=_self_paced_value,
        grads=_self_paced_grad,
        nonnegative=False,
        test_params=({"threshold": 1.0, "regime": "hard"}, {"threshold": 2.5, "regime": "linear"}),
        info=dict(
            summary="Self-paced objective min_v sum v_i l_i + f(v, lambda); its gradient is the weights v.",
            formula=(
                r"\ell_i = \min_{v\in[0,1]} v\,l_i + f(v,\lambda):\ \min(l_i - \lambda, 0) \text{ (hard)},\ "
                r"-\tfrac{\lambda}{2}\max(0, 1 - l_i/\lambda)^2 \text{ (linear)}"
            ),
            gradient=r"\partial\ell_i/\partial l_i = v_i^* = [l_i<\lambda] \text{ or } \max(0, 1 - l_i/\lambda)",
            use_when="Curriculum-style training: easy examples first, harder ones as lambda grows.",
            conventions=(
                "By the envelope theorem the gradient with respect to each per-sample loss is the optimal "
                "weight v_i*, so back-propagating this objective weights every example's gradient by v_i*. "
                "Grow lambda with self_paced_threshold."
            ),
            references=(
                "Kumar, Packer, Koller (2010), Self-Paced Learning for Latent Variable Models",
                "Jiang et al. (2014), Easy Samples First: Self-paced Reranking",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- distillation


def _distillation_prepare(xp, student_logits, teacher_logits, labels, **params):
    student, teacher = as_floats(
        xp, "distillation", student_logits=student_logits, teacher_logits=teacher_logits
    )
    y = as_int(xp, labels, "labels", "distillation")
    if student.ndim != 2 or tuple(teacher.shape) != tuple(student.shape):
        raise ValueError(
            "distillation: student_logits and teacher_logits must both have shape (batch, classes), got "
            f"{tuple(student.shape)} and {tuple(teacher.shape)}"
        )
    if tuple(y.shape) != (student.shape[0],) or student.shape[0] == 0:
        raise ValueError(
            f"distillation: labels must hold one class index per sample, shape ({student.shape[0]},), "
            f"got {tuple(y.shape)}"
        )
    if bool(xp.any(y < 0)) or bool(xp.any(y >= student.shape[1])):
        raise ValueError(f"distillation: labels must be class indices in [0, {student.shape[1]})")
    return student, teacher, y


def _series(xp, c, coefficients):
    """``sum_k a_k c^k`` by Horner's rule."""
    out = xp.zeros_like(c) + coefficients[-1]
    for a in coefficients[-2::-1]:
        out = out * c + a
    return out


_PHI = tuple(1.0 / math.factorial(k + 2) for k in range(9))  # (e^c - 1 - c) / c^2
_PSI = tuple(1.0 / math.factorial(k + 1) for k in range(9))  # (e^c - 1) / c
_SERIES_BELOW = 0.05


def _tempered_kl(xp, student, teacher, t):
    r"""``T^2 KL(q_T || p_T)`` per row and its gradient ``T (p_T - q_T)`` for any temperature.

    With :math:`c = ((s - z) - E_q[s - z]) / T` (student ``s``, teacher ``z``, centered under
    :math:`q_T`), :math:`KL = \log E_q[e^c]` and :math:`m = E_q[e^c - 1 - c] = E_q[e^c] - 1`, so
    :math:`T^2 KL = (T^2 m) \log(1 + m) / m` with :math:`T^2 m = E_q[(Tc)^2 arphi(c)]`,
    :math:`arphi(c) = (e^c - 1 - c)/c^2`; and :math:`T(p - q) = q (Tc\,\psi(c) - T m)/(1 + m)`,
    :math:`\psi(c) = (e^c - 1)/c`. Every factor is bounded, so a huge temperature gives the exact
    limit :math:`	frac12 \mathrm{Var}_q[s - z]` instead of :math:`\infty \cdot 0`.
    """
    log_q = log_softmax(xp, teacher / t)
    q = xp.exp(log_q)
    diff = student - teacher
    tc = diff - xp.sum(q * diff, axis=-1, keepdims=True)  # T c, finite whatever T
    c = tc / t
    # Rows with some |c| > 1 (a temperature small against the logit gaps) take the direct form
    # T^2 sum q (log q - log p), exact there; the bounded form takes the others.
    direct = xp.max(xp.abs(c), axis=-1, keepdims=True) > 1.0
    tc = xp.where(direct, xp.zeros_like(tc), tc)
    c = xp.where(direct, xp.zeros_like(c), c)
    small = xp.abs(c) < _SERIES_BELOW
    safe_c = xp.where(small, xp.ones_like(c), c)
    phi = xp.where(small, _series(xp, c, _PHI), (xp.expm1(safe_c) - safe_c) / (safe_c * safe_c))
    psi = xp.where(small, _series(xp, c, _PSI), xp.expm1(safe_c) / safe_c)
    t2m = xp.sum(q * tc * tc * phi, axis=-1)  # T^2 m >= 0
    m = t2m / (t * t)
    pos = m > 0
    ratio = xp.where(pos, xp.log1p(m) / xp.where(pos, m, xp.ones_like(m)), xp.ones_like(m))
    value = t2m * ratio
    grad = q * (tc * psi - (t2m / t)[..., None]) / (1.0 + m)[..., None]
    log_p = log_softmax(xp, student / t)
    kl = xp.where(direct[..., 0], xp.sum(q * (log_q - log_p), axis=-1), xp.zeros_like(value))
    value = xp.where(direct[..., 0], (t * kl) * t, value)  # (t * 0 * t = 0: no inf * 0 elsewhere)
    grad = xp.where(direct, t * (xp.exp(log_p) - q), grad)
    return value, grad


def _distillation_forward(xp, student, teacher, labels, *, need_grad, alpha, temperature):
    t = temperature
    n_classes = student.shape[1]
    one_hot = xp.astype(
        xp.reshape(labels, (-1, 1)) == xp.reshape(xp.arange(n_classes), (1, -1)), student.dtype
    )
    log_p = log_softmax(xp, student)
    hard = -xp.sum(one_hot * log_p, axis=-1)
    soft, soft_grad = _tempered_kl(xp, student, teacher, t)
    loss = alpha * hard + (1.0 - alpha) * soft
    if not need_grad:
        return Terms(loss)
    local = alpha * (xp.exp(log_p) - one_hot) + (1.0 - alpha) * soft_grad

    def vjp(cot):
        return (local * (cot if isinstance(cot, float) else cot[:, None]),)

    return Terms(loss, vjp=vjp)


def _distillation_sample(rng, **_):
    return rng.normal(size=(5, 4)), 2.0 * rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)


def _distillation_torch(torch, s, t, y, *, reduction, alpha, temperature):
    f = torch.nn.functional
    hard = f.cross_entropy(s, y, reduction="none")
    soft = f.kl_div(
        f.log_softmax(s / temperature, dim=-1), f.softmax(t / temperature, dim=-1), reduction="none"
    ).sum(-1)
    return reduce_like_torch(alpha * hard + (1 - alpha) * temperature**2 * soft, reduction)


distillation = register(
    Loss(
        "distillation",
        task="composite",
        inputs=("student_logits", "teacher_logits", "labels"),
        differentiable=("student_logits",),
        params={
            "alpha": Param(0.5, lambda w, n, v: check_in_range(w, n, v, 0.0, 1.0), "weight of the hard loss"),
            "temperature": Param(2.0, check_positive, "softmax temperature T"),
        },
        prepare=_distillation_prepare,
        forward=_distillation_forward,
        sample=_distillation_sample,
        test_params=({"alpha": 0.5, "temperature": 2.0}, {"alpha": 0.1, "temperature": 4.0}),
        torch_fn=_distillation_torch,
        info=dict(
            summary="Knowledge distillation: hard-label CE plus T^2-scaled KL to the teacher's softened softmax.",
            formula=(
                r"\ell = \alpha\,\mathrm{CE}(\mathrm{softmax}(s), y) + (1-\alpha)\,T^2\,"
                r"\mathrm{KL}(\mathrm{softmax}(t/T)\,\Vert\,\mathrm{softmax}(s/T))"
            ),
            gradient=(
                r"\partial\ell/\partial s = \alpha(\mathrm{softmax}(s) - y) + (1-\alpha)\,T\,"
                r"(\mathrm{softmax}(s/T) - \mathrm{softmax}(t/T))"
            ),
            torch="alpha * cross_entropy(s, y) + (1 - alpha) * T**2 * kl_div(log_softmax(s/T), softmax(t/T))",
            use_when="Training a small student network to mimic a larger teacher.",
            conventions=(
                "alpha weights the hard loss (some texts weight the soft one). The T^2 factor keeps the "
                "soft gradients' scale independent of T (Hinton et al. section 2). 'mean' averages over "
                "samples (PyTorch's batchmean for the KL part). Only the student receives a gradient."
            ),
            references=(
                "Hinton, Vinyals, Dean (2015), Distilling the Knowledge in a Neural Network, arXiv:1503.02531",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- consistency

consistency_mse = register(
    PointwiseLoss(
        "consistency_mse",
        task="composite",
        inputs=("view_a", "view_b"),
        differentiable=("view_a", "view_b"),
        value=lambda xp, a, b: (a - b) * (a - b),
        grads=lambda xp, a, b: (2.0 * (a - b), 2.0 * (b - a)),
        perfect=lambda rng: (lambda v: (v, v.copy()))(rng.normal(size=(4, 3))),
        torch_fn=lambda torch, a, b, *, reduction: torch.nn.functional.mse_loss(a, b, reduction=reduction),
        info=dict(
            summary="Two-view consistency: squared difference between predictions on two augmentations.",
            formula=r"\ell = (f(x') - f(x''))^2",
            gradient=r"\partial\ell/\partial f(x') = 2(f(x') - f(x'')) = -\partial\ell/\partial f(x'')",
            convex=True,
            torch="MSELoss(view_a, view_b)",
            use_when="Semi-supervised learning (Pi-model, mean teacher): L = L_sup + lambda * L_consistency.",
            conventions=(
                "Both views receive a gradient; a mean-teacher setup treats view_b as a constant target "
                "and uses only the first gradient."
            ),
            references=("Laine & Aila (2017), Temporal Ensembling, arXiv:1610.02242",),
        ),
    )
)


def _consistency_kl_prepare(xp, logits, target_logits, **params):
    a, b = as_floats(xp, "consistency_kl", logits=logits, target_logits=target_logits)
    if a.ndim < 1 or tuple(a.shape) != tuple(b.shape) or 0 in tuple(a.shape):
        raise ValueError(
            "consistency_kl: logits and target_logits must have one non-empty shape (..., classes), "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return a, b


def _consistency_kl_forward(xp, logits, target_logits, *, need_grad):
    log_p = log_softmax(xp, logits)
    log_q = log_softmax(xp, target_logits)
    q = xp.exp(log_q)
    kl = xp.sum(q * (log_q - log_p), axis=-1)
    if not need_grad:
        return Terms(kl)
    d_logits = xp.exp(log_p) - q
    d_target = q * (log_q - log_p - kl[..., None])

    def vjp(cot):
        c = cot if isinstance(cot, float) else cot[..., None]
        return (d_logits * c, d_target * c)

    return Terms(kl, vjp=vjp)


consistency_kl = register(
    Loss(
        "consistency_kl",
        task="composite",
        inputs=("logits", "target_logits"),
        differentiable=("logits", "target_logits"),
        prepare=_consistency_kl_prepare,
        forward=_consistency_kl_forward,
        sample=lambda rng: (rng.normal(size=(5, 4)), rng.normal(size=(5, 4))),
        perfect=lambda rng: (lambda v: (v, v + 3.0))(rng.normal(size=(5, 4))),
        torch_fn=lambda torch, a, b, *, reduction: reduce_like_torch(
            torch.nn.functional.kl_div(
                torch.log_softmax(a, -1), torch.log_softmax(b, -1), reduction="none", log_target=True
            ).sum(-1),
            reduction,
        ),
        info=dict(
            summary="Two-view KL consistency KL(softmax(target) || softmax(logits)) per sample.",
            formula=r"\ell = \sum_c q_c (\log q_c - \log p_c),\ p = \mathrm{softmax}(z),\ q = \mathrm{softmax}(z_t)",
            gradient=(
                r"\partial\ell/\partial z = p - q,\ "
                r"\partial\ell/\partial z_t = q \odot (\log q - \log p - \ell)"
            ),
            torch="kl_div(log_softmax(logits), log_softmax(target_logits), log_target=True).sum(-1)",
            use_when="Semi-supervised consistency on class distributions (UDA, VAT-style targets).",
            conventions=(
                "'mean' averages over samples (PyTorch's batchmean). Invariant to adding a constant to "
                "either logit row. Usually the target view is held constant: use the first gradient only."
            ),
            references=("Xie et al. (2020), Unsupervised Data Augmentation, arXiv:1904.12848",),
        ),
    )
)


def _temporal_prepare(xp, outputs, **params):
    (f,) = as_floats(xp, "temporal_consistency", outputs=outputs)
    if f.ndim < 1 or f.shape[0] < 2:
        raise ValueError(
            f"temporal_consistency: outputs must have shape (time, ...) with at least 2 steps, got {tuple(f.shape)}"
        )
    return (f,)


def _temporal_forward(xp, f, *, need_grad):
    diff = f[:-1] - f[1:]
    flat = xp.reshape(diff, (diff.shape[0], -1))
    loss = xp.sum(flat * flat, axis=1)
    if not need_grad:
        return Terms(loss)
    shape = (diff.shape[0],) + (1,) * (f.ndim - 1)

    def vjp(cot):
        c = 2.0 * diff * (cot if isinstance(cot, float) else xp.reshape(cot, shape))
        zero = xp.zeros_like(f[:1])
        return (xp.concat([c, zero], axis=0) - xp.concat([zero, c], axis=0),)

    return Terms(loss, vjp=vjp)


temporal_consistency = register(
    Loss(
        "temporal_consistency",
        task="composite",
        inputs=("outputs",),
        differentiable=("outputs",),
        prepare=_temporal_prepare,
        forward=_temporal_forward,
        sample=lambda rng: (rng.normal(size=(5, 3)),),
        perfect=lambda rng: (np.repeat(rng.normal(size=(1, 3)), 5, axis=0),),
        torch_fn=lambda torch, f, *, reduction: reduce_like_torch(
            ((f[1:] - f[:-1]) ** 2).reshape(f.shape[0] - 1, -1).sum(1), reduction
        ),
        info=dict(
            summary="Temporal consistency: squared change of the outputs between consecutive time steps.",
            formula=r"\ell_t = \lVert f(x_t) - f(x_{t+1}) \rVert^2,\ t = 1..T-1",
            gradient=r"\partial\ell_t/\partial f(x_t) = 2(f(x_t) - f(x_{t+1})) = -\partial\ell_t/\partial f(x_{t+1})",
            convex=True,
            torch="((f[1:] - f[:-1]) ** 2).flatten(1).sum(1)",
            use_when="Video or sequential outputs that should change smoothly over time.",
            conventions="Axis 0 is time; one unreduced entry per consecutive pair; 'sum' is the curriculum's sum.",
        ),
    )
)


def grid_neighbors(height: int, width: int) -> np.ndarray:
    """4-neighbour pairs ``(i, j)`` of an ``height x width`` grid in row-major flat indices.

    >>> grid_neighbors(2, 2).tolist()
    [[0, 1], [2, 3], [0, 2], [1, 3]]
    """
    index = np.arange(height * width).reshape(height, width)
    horizontal = np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1)
    vertical = np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1)
    return np.concatenate([horizontal, vertical], axis=0)


def _spatial_prepare(xp, outputs, pairs, **params):
    (f,) = as_floats(xp, "spatial_consistency", outputs=outputs)
    p = as_int(xp, pairs, "pairs", "spatial_consistency")
    if f.ndim < 1 or f.shape[0] == 0:
        raise ValueError(f"spatial_consistency: outputs must have shape (sites, ...), got {tuple(f.shape)}")
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ValueError(f"spatial_consistency: pairs must have shape (n_pairs, 2), got {tuple(p.shape)}")
    if bool(xp.any(p < 0)) or bool(xp.any(p >= f.shape[0])):
        raise ValueError(f"spatial_consistency: pairs must index sites in [0, {f.shape[0]})")
    return f, p


def _spatial_forward(xp, f, pairs, *, need_grad):
    i, j = pairs[:, 0], pairs[:, 1]
    diff = xp.take(f, i, axis=0) - xp.take(f, j, axis=0)
    flat = xp.reshape(diff, (diff.shape[0], -1))
    loss = xp.sum(flat * flat, axis=1)
    if not need_grad:
        return Terms(loss)
    shape = (diff.shape[0],) + (1,) * (f.ndim - 1)

    def vjp(cot):
        c = 2.0 * diff * (cot if isinstance(cot, float) else xp.reshape(cot, shape))
        return (_scatter_add(xp, f, i, c) - _scatter_add(xp, f, j, c),)

    return Terms(loss, vjp=vjp)


def _scatter_add(xp: ModuleType, like: Any, index: Any, values: Any) -> Any:
    """Rows of ``values`` added into zeros shaped like ``like`` at ``index`` (repeats accumulate)."""
    one_hot = xp.astype(
        xp.reshape(xp.arange(like.shape[0]), (-1, 1)) == xp.reshape(index, (1, -1)), like.dtype
    )
    flat = xp.reshape(values, (values.shape[0], -1))
    return xp.reshape(one_hot @ flat, tuple(like.shape))


spatial_consistency = register(
    Loss(
        "spatial_consistency",
        task="composite",
        inputs=("outputs", "pairs"),
        differentiable=("outputs",),
        prepare=_spatial_prepare,
        forward=_spatial_forward,
        sample=lambda rng: (rng.normal(size=(6, 2)), grid_neighbors(2, 3)),
        perfect=lambda rng: (np.repeat(rng.normal(size=(1, 2)), 6, axis=0), grid_neighbors(3, 2)),
        torch_fn=lambda torch, f, p, *, reduction: reduce_like_torch(
            ((f[p[:, 0]] - f[p[:, 1]]) ** 2).reshape(p.shape[0], -1).sum(1), reduction
        ),
        info=dict(
            summary="Spatial consistency: squared difference of outputs at neighbouring sites.",
            formula=r"\ell_{ij} = \lVert f(x_i) - f(x_j) \rVert^2,\ (i, j) \in \text{pairs}",
            gradient=r"\partial\ell_{ij}/\partial f(x_i) = 2(f(x_i) - f(x_j)) = -\partial\ell_{ij}/\partial f(x_j)",
            convex=True,
            torch="((f[i] - f[j]) ** 2).flatten(1).sum(1)",
            use_when="Structured prediction (segmentation maps, graphs) whose outputs should vary smoothly.",
            conventions="pairs is an integer (n_pairs, 2) array; grid_neighbors(h, w) builds 4-neighbour pairs.",
        ),
    )
)
