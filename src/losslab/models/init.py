r"""Weight initializers: ``(rng, fan_in, fan_out, dtype) -> array`` of shape ``(fan_in, fan_out)``.

Conventions follow PyTorch's ``torch.nn.init`` (weights stored as ``(fan_in, fan_out)`` because the
forward pass is ``X @ W + b``; PyTorch stores ``(fan_out, fan_in)``, the fans are the same):

``xavier`` (Glorot & Bengio, 2010, uniform)
    :math:`W_{ij} \sim U(-a, a)`, :math:`a = \sqrt{6 / (\mathrm{fan\_in} + \mathrm{fan\_out})}`
    (``torch.nn.init.xavier_uniform_``).
``xavier_normal``
    :math:`W_{ij} \sim N(0, 2 / (\mathrm{fan\_in} + \mathrm{fan\_out}))`.
``he`` (He et al., 2015, normal, fan-in mode)
    :math:`W_{ij} \sim N(0, 2 / \mathrm{fan\_in})` (``torch.nn.init.kaiming_normal_`` with
    ``nonlinearity="relu"``).
``he_uniform``
    :math:`W_{ij} \sim U(-a, a)`, :math:`a = \sqrt{6 / \mathrm{fan\_in}}`.
``normal``
    :math:`W_{ij} \sim N(0, 0.01^2)` (the classic small random start).
``pytorch``
    :math:`U(-1/\sqrt{\mathrm{fan\_in}}, 1/\sqrt{\mathrm{fan\_in}})`: ``torch.nn.Linear``'s default
    for both weights and biases.
``zeros``
    all zeros (fine for convex models such as linear and logistic regression; it never breaks the
    symmetry between hidden units, so it is refused for hidden layers of an MLP).

Biases start at zero except with ``pytorch``.

References: X. Glorot, Y. Bengio (2010), *Understanding the difficulty of training deep
feedforward neural networks*; K. He et al. (2015), *Delving deep into rectifiers*, arXiv:1502.01852.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab._core.validation import check_choice

__all__ = ["INITIALIZERS", "as_rng", "get", "initialize", "names"]


def _xavier(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _xavier_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def _he(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def _he_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.normal(0.0, 0.01, size=(fan_in, fan_out))


def _pytorch(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _zeros(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return np.zeros((fan_in, fan_out))


INITIALIZERS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "xavier": _xavier,
    "xavier_normal": _xavier_normal,
    "he": _he,
    "he_uniform": _he_uniform,
    "normal": _normal,
    "pytorch": _pytorch,
    "zeros": _zeros,
}


def names() -> list[str]:
    """The initializer names."""
    return sorted(INITIALIZERS)


def get(name: str) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    """The initializer registered under ``name``."""
    check_choice("init", "init", name, sorted(INITIALIZERS))
    return INITIALIZERS[name]


def as_rng(rng: Any, where: str = "init") -> np.random.Generator:
    """A ``np.random.Generator`` from a Generator, an integer seed or ``None`` (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"{where}: rng must be a numpy Generator or an integer seed, got {rng!r}")


def initialize(
    name: str, rng: np.random.Generator, fan_in: int, fan_out: int, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` for a dense layer ``X @ W + b`` with the named initializer."""
    W = get(name)(rng, fan_in, fan_out).astype(dtype)
    if name == "pytorch":
        bound = 1.0 / math.sqrt(fan_in)
        b = rng.uniform(-bound, bound, size=fan_out).astype(dtype)
    else:
        b = np.zeros(fan_out, dtype=dtype)
    return W, b
