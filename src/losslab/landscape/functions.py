r"""Test functions for optimizers: value, gradient, Hessian, minima, a suggested start and plot limits.

Every function takes points ``w`` with the coordinates on the last axis (shape ``(2,)`` or
``(..., 2)``, e.g. a grid ``np.stack([W1, W2], axis=-1)``); ``grad`` returns the same shape and
``hessian`` shape ``(..., 2, 2)``.

``quadratic_bowl`` (the curriculum's ill-conditioned bowl)
    :math:`f(w) = \tfrac12(a w_1^2 + b w_2^2)`, :math:`\nabla f = (a w_1, b w_2)`,
    :math:`H = \mathrm{diag}(a, b)`, condition number :math:`b/a`; defaults :math:`a = 1`,
    :math:`b = 10`, start :math:`(3.5, 3.5)`, minimum :math:`0` at the origin.
``rosenbrock`` (Rosenbrock, 1960)
    :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`, :math:`\nabla f = (-2(a - x) - 4bx(y - x^2),\;
    2b(y - x^2))`, :math:`H = \begin{pmatrix} 2 - 4b(y - x^2) + 8bx^2 & -4bx \\ -4bx & 2b
    \end{pmatrix}`; defaults :math:`a = 1`, :math:`b = 100`, minimum :math:`0` at :math:`(a, a^2)`,
    start :math:`(-1.5, 2)`.

>>> import losslab as ll
>>> f = ll.landscape.functions.get("rosenbrock")
>>> float(f.value([1.0, 1.0])), float(f.value([-1.5, 2.0]))
(0.0, 12.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_positive

__all__ = ["TestFunction", "get", "names", "quadratic_bowl", "register", "rosenbrock"]


@dataclass(frozen=True)
class TestFunction:
    """A 2-D test function with its derivatives and plotting hints."""

    __test__ = False  # not a pytest test class

    name: str
    value: Callable[[npt.ArrayLike], Any]
    grad: Callable[[npt.ArrayLike], np.ndarray]
    hessian: Callable[[npt.ArrayLike], np.ndarray]
    minima: tuple[np.ndarray, ...]
    minimum_value: float
    start: np.ndarray
    limits: tuple[tuple[float, float], tuple[float, float]]
    formula: str = ""
    description: str = ""
    params: dict[str, float] = field(default_factory=dict)

    def __call__(self, w: npt.ArrayLike) -> Any:
        return self.value(w)


def _points(w: npt.ArrayLike, where: str) -> np.ndarray:
    arr = np.asarray(w, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{where}: w must have its 2 coordinates on the last axis, got shape {arr.shape}")
    return arr


def _scalar(x: np.ndarray) -> Any:
    return x[()] if x.ndim == 0 else x


def quadratic_bowl(a: float = 1.0, b: float = 10.0) -> TestFunction:
    r""":math:`f(w) = \tfrac12(a w_1^2 + b w_2^2)` (see the module docstring)."""
    a = check_positive("quadratic_bowl", "a", a)
    b = check_positive("quadratic_bowl", "b", b)
    name = "quadratic_bowl"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        return _scalar(0.5 * (a * p[..., 0] ** 2 + b * p[..., 1] ** 2))

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return np.stack([a * p[..., 0], b * p[..., 1]], axis=-1)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return np.broadcast_to(np.diag([a, b]), (*p.shape[:-1], 2, 2)).copy()

    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.zeros(2),),
        minimum_value=0.0,
        start=np.array([3.5, 3.5]),
        limits=((-4.0, 4.0), (-4.0, 4.0)),
        formula=r"\tfrac12(a w_1^2 + b w_2^2)",
        description=f"ill-conditioned quadratic bowl, condition number b/a = {b / a:g}",
        params={"a": a, "b": b},
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> TestFunction:
    r""":math:`f(x, y) = (a - x)^2 + b(y - x^2)^2` (see the module docstring)."""
    b = check_positive("rosenbrock", "b", b)
    a = float(a)
    name = "rosenbrock"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _scalar((a - x) ** 2 + b * (y - x * x) ** 2)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        r = y - x * x
        return np.stack([-2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r], axis=-1)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        hxx = 2.0 - 4.0 * b * (y - x * x) + 8.0 * b * x * x
        hxy = -4.0 * b * x
        hyy = np.full_like(x, 2.0 * b)
        return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)

    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.array([a, a * a]),),
        minimum_value=0.0,
        start=np.array([-1.5, 2.0]),
        limits=((-2.0, 2.0), (-1.0, 3.0)),
        formula=r"(a - x)^2 + b(y - x^2)^2",
        description="Rosenbrock's banana valley: a curved, flat-bottomed ravine",
        params={"a": a, "b": b},
    )


_REGISTRY: dict[str, Callable[..., TestFunction]] = {}


def register(name: str, factory: Callable[..., TestFunction]) -> None:
    """Add a test-function factory (called with keyword parameters by :func:`get`)."""
    if name in _REGISTRY:
        raise ValueError(f"register: a test function named {name!r} is already registered")
    _REGISTRY[name] = factory


register("quadratic_bowl", quadratic_bowl)
register("rosenbrock", rosenbrock)


def names() -> list[str]:
    """Registered test-function names."""
    return sorted(_REGISTRY)


def get(name: str, **params: float) -> TestFunction:
    """The test function ``name``, with optional parameters (``get("quadratic_bowl", b=100)``)."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"unknown test function {name!r}; valid names: {', '.join(names())}")
    return _REGISTRY[key](**params)
