"""Numerically safe building blocks shared by the loss declarations (array-API generic)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "LOG_CLAMP",
    "PROB_EPS",
    "as_like",
    "clamped_log",
    "clamped_log1m",
    "floor_eps",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "one_hot",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_chain_hvp",
    "softmax_jvp",
    "softplus",
    "take_labels",
    "xlogy",
]


def softplus(xp: ModuleType, x: Any) -> Any:
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(-xp.abs(x)))


def log_sigmoid(xp: ModuleType, x: Any) -> Any:
    """log(sigmoid(x)) = -softplus(-x), finite for |x| = 1e4."""
    return -softplus(xp, -x)


def sigmoid(xp: ModuleType, x: Any) -> Any:
    """1 / (1 + e^-x) evaluated without overflow on either side."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logsumexp(xp: ModuleType, x: Any, axis: int = -1) -> Any:
    """log sum exp over ``axis`` (kept as a size-1 axis), shifted by the max for stability."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return m + xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True))


def xlogy(xp: ModuleType, x: Any, y: Any) -> Any:
    """x * log(y) with 0 * log(0) = 0."""
    safe = xp.where(x == 0, xp.ones_like(y), y)
    return xp.where(x == 0, xp.zeros_like(x), x * xp.log(safe))


# --------------------------------------------------------------------------- probabilities

LOG_CLAMP = -100.0
"""Lower clamp of log-probabilities (PyTorch's ``BCELoss``): log(0) counts as -100, not -inf."""

PROB_EPS = float(np.float32(1e-12))
"""Floor of gradient denominators in probability space: PyTorch's ``BCELoss`` EPSILON, a float32 1e-12."""


def clamped_log(xp: ModuleType, p: Any) -> Any:
    """log(p) clamped below at -100, so p = 0 gives -100 instead of -inf (no warning)."""
    positive = p > 0
    safe = xp.where(positive, p, xp.ones_like(p))
    floor = xp.full_like(p, LOG_CLAMP)
    return xp.where(positive, xp.maximum(xp.log(safe), floor), floor)


def clamped_log1m(xp: ModuleType, p: Any) -> Any:
    """log(1 - p) = log1p(-p) clamped below at -100 (PyTorch's ``BCELoss``)."""
    below = p < 1
    safe = xp.where(below, p, xp.zeros_like(p))
    floor = xp.full_like(p, LOG_CLAMP)
    return xp.where(below, xp.maximum(xp.log1p(-safe), floor), floor)


def floor_eps(xp: ModuleType, x: Any) -> Any:
    """max(x, 1e-12): the denominator floor of probability-space gradients."""
    return xp.maximum(x, xp.full_like(x, PROB_EPS))


def relu(xp: ModuleType, x: Any) -> Any:
    """max(x, 0)."""
    return xp.maximum(x, xp.zeros_like(x))


def log_softmax(xp: ModuleType, x: Any) -> Any:
    """log softmax over the last axis: x - logsumexp(x)."""
    return x - logsumexp(xp, x, axis=-1)


def softmax(xp: ModuleType, x: Any) -> Any:
    """softmax over the last axis, shifted by the row max."""
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def softmax_jvp(xp: ModuleType, q: Any, v: Any) -> Any:
    r"""The Jacobian of ``q = softmax(x)`` (symmetric, :math:`J = \mathrm{diag}(q) - q q^\top`) applied
    to ``v`` over the last axis: :math:`J v = q \odot (v - \langle q, v\rangle)`."""
    return q * (v - xp.sum(q * v, axis=-1, keepdims=True))


def softmax_chain_hvp(xp: ModuleType, q: Any, g: Any, hess_q: Any, v: Any) -> Any:
    r"""Hessian-vector product in logit space of a loss :math:`L(q)`, :math:`q = \mathrm{softmax}(x)`.

    With :math:`g = \nabla_q L`, :math:`\dot q = J v` and ``hess_q(u)`` :math:`= \nabla_q^2 L\, u`,
    the second-order chain rule over the last axis gives

    .. math::

        \nabla_x^2 L\, v = J\, \nabla_q^2 L\, \dot q + \dot q \odot g - \dot q \langle q, g\rangle
        - q \langle \dot q, g\rangle,

    the last three terms being the derivative of :math:`J^\top g` along :math:`v` with :math:`g`
    fixed.
    """
    qd = softmax_jvp(xp, q, v)
    qg = xp.sum(q * g, axis=-1, keepdims=True)
    qdg = xp.sum(qd * g, axis=-1, keepdims=True)
    return softmax_jvp(xp, q, hess_q(qd)) + qd * g - qd * qg - q * qdg


def take_labels(xp: ModuleType, a: Any, labels: Any) -> Any:
    """``a[..., labels]`` row by row: the entry of each row at its integer label."""
    idx = xp.expand_dims(labels, axis=-1)
    return xp.take_along_axis(a, idx, axis=-1)[..., 0]


def one_hot(xp: ModuleType, labels: Any, n_classes: int, like: Any) -> Any:
    """One-hot rows (dtype and device of ``like``) for integer ``labels``."""
    classes = xp.arange(n_classes, device=_device(like))
    return xp.astype(xp.expand_dims(labels, axis=-1) == classes, like.dtype)


def as_like(xp: ModuleType, value: Any, like: Any) -> Any:
    """A parameter array (NumPy or list) in the namespace, dtype and device of ``like``."""
    return xp.asarray(value, dtype=like.dtype, device=_device(like))


def _device(x: Any) -> Any:
    from array_api_compat import device

    return device(x)


def reduce_like_torch(x: Any, reduction: str) -> Any:
    """``x.mean()``, ``x.sum()`` or ``x`` for ``reduction`` "mean", "sum", "none" (torch references)."""
    return x.mean() if reduction == "mean" else x.sum() if reduction == "sum" else x
