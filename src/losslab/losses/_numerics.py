"""Numerically safe building blocks shared by the loss declarations (array-API generic)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["log_sigmoid", "logsumexp", "sigmoid", "softplus", "xlogy"]


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
