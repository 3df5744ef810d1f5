"""Test cases drawn from the loss registry: one per (loss, declared test parameters)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import losslab as ll


def case_id(loss: ll.losses.Loss, params: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return f"{loss.name}({inner})"


def all_cases(predicate: Any = None) -> list[Any]:
    """``pytest.param(loss, params)`` for every registered loss and its declared test params."""
    out = []
    for name in ll.losses.names():
        loss = ll.losses.get(name)
        if predicate is not None and not predicate(loss):
            continue
        for params in loss.test_params:
            out.append(pytest.param(loss, dict(params), id=case_id(loss, params)))
    return out


def differentiable_positions(loss: ll.losses.Loss) -> list[int]:
    return [loss.inputs.index(n) for n in loss.differentiable]


def as_tuple(grads: Any, loss: ll.losses.Loss) -> tuple[Any, ...]:
    return (grads,) if len(loss.differentiable) == 1 else tuple(grads)


def central_difference(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """4th-order central differences of a scalar function, element by element."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat = grad.reshape(-1)
    for i in range(x.size):

        def at(step: float, i: int = i) -> float:
            y = x.copy().reshape(-1)
            y[i] += step
            return float(f(y.reshape(x.shape)))

        flat[i] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return grad
