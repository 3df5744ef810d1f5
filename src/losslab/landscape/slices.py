r"""1-D and 2-D slices of an objective through parameter space (Li et al. 2018, arXiv:1712.09913).

:math:`f(\alpha) = L(\theta + \alpha d)` and :math:`f(\alpha, \beta) = L(\theta + \alpha d_1 + \beta
d_2)` with directions from :mod:`losslab.landscape.directions`. Grid order: ``slice_2d`` returns
``Z`` of shape ``(len(betas), len(alphas))`` with ``Z[i, j]`` at ``(alphas[j], betas[i])`` -- NumPy's
``meshgrid`` order, so ``Z`` plots directly against ``np.meshgrid(alphas, betas)``.

An axis is an array of finite values, or an odd count ``m`` meaning ``np.linspace(-1, 1, m)`` (odd,
so that the grid holds :math:`\alpha = 0`, the point itself, exactly; an even count raises).

Many grid points go through one batched forward pass: the points' parameter sets are stacked
(every leaf with a leading axis) and given to ``obj.values`` (model objectives:
:meth:`losslab.models.Objective.values`); objects without ``values`` are evaluated point by point.
Memory stays bounded: at most ``max_bytes`` of stacked parameters per pass (and the objective bounds
its activations the same way); a grid of more than ``max_points`` points raises.

>>> import numpy as np, losslab as ll
>>> model = ll.models.Linear(1)
>>> obj = model.objective(np.array([[1.0], [2.0]]), np.array([1.0, 2.0]), loss="mse")
>>> params = {"W": np.array([[1.0]]), "b": np.array([0.0])}       # the exact fit
>>> d = {"W": np.array([[1.0]]), "b": np.array([0.0])}
>>> ll.landscape.slice_1d(obj, params, d, [-1.0, 0.0, 1.0]).tolist()   # mean((alpha x)^2)
[2.5, 0.0, 2.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_int
from losslab.landscape._flat import Flat

__all__ = ["DEFAULT_MAX_POINTS", "Slice", "model_surface", "slice_1d", "slice_2d", "slice_metrics"]

DEFAULT_MAX_POINTS = 1_000_000
DEFAULT_MAX_BYTES = 64 << 20


def _axis(where: str, name: str, values: npt.ArrayLike | int) -> np.ndarray:
    """A grid axis: finite 1-D values, or an odd count for ``linspace(-1, 1, count)``."""
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        count = check_int(where, name, values, minimum=1)
        if count % 2 == 0:
            raise ValueError(
                f"{where}: {name}={count} must be an odd count, so that the grid holds 0 (the point "
                "itself) exactly"
            )
        return np.linspace(-1.0, 1.0, count)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{where}: {name} must be a non-empty 1-D array of coefficients, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: {name} contains NaN or infinite values")
    return arr


def _check_points(where: str, total: int, max_points: int) -> None:
    max_points = check_int(where, "max_points", max_points, minimum=1)
    if total > max_points:
        raise ValueError(
            f"{where}: the grid has {total} points, more than max_points={max_points}; use fewer "
            "points or raise max_points"
        )


def _evaluate(F: Flat, coefficients: np.ndarray, directions: list[np.ndarray], max_bytes: int) -> np.ndarray:
    """Values at :math:`x_0 + \\sum_i c_{pi} d_i` for every row ``p`` of ``coefficients``, in chunks."""
    max_bytes = check_int("slice", "max_bytes", max_bytes, minimum=1)
    D = np.stack(directions)  # (m, n)
    total = coefficients.shape[0]
    step = max(1, min(total, max_bytes // (8 * F.n)))
    out = np.empty(total)
    for start in range(0, total, step):
        c = coefficients[start : start + step]
        out[start : start + step] = F.values(F.x0[None, :] + c @ D)
    return out


def slice_1d(
    obj: Any,
    params: Any,
    d: Any,
    alphas: npt.ArrayLike | int,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    r""":math:`L(\theta + \alpha d)` for every ``alpha`` in ``alphas``, shape ``(len(alphas),)``."""
    F = Flat(obj, params, "slice_1d")
    u = F.ravel(d, "d")
    a = _axis("slice_1d", "alphas", alphas)
    _check_points("slice_1d", a.size, max_points)
    return _evaluate(F, a[:, None], [u], max_bytes)


def slice_2d(
    obj: Any,
    params: Any,
    d1: Any,
    d2: Any,
    alphas: npt.ArrayLike | int,
    betas: npt.ArrayLike | int,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    r""":math:`L(\theta + \alpha_j d_1 + \beta_i d_2)` as ``Z[i, j]``, shape ``(len(betas), len(alphas))``."""
    F = Flat(obj, params, "slice_2d")
    u, w = F.ravel(d1, "d1"), F.ravel(d2, "d2")
    a = _axis("slice_2d", "alphas", alphas)
    b = _axis("slice_2d", "betas", betas)
    _check_points("slice_2d", a.size * b.size, max_points)
    A, B = np.meshgrid(a, b)
    coefficients = np.stack([A.ravel(), B.ravel()], axis=1)
    return _evaluate(F, coefficients, [u, w], max_bytes).reshape(b.size, a.size)


def model_surface(
    objective: Any,
    params: Any,
    directions: Sequence[Any],
    alphas: npt.ArrayLike | int,
    betas: npt.ArrayLike | int,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, B, Z)`` with ``A, B = np.meshgrid(alphas, betas)`` and ``Z = slice_2d(...)`` along the
    two ``directions``: the network counterpart of ``linear_regression_surface``'s ``(W, B, Z)``."""
    if isinstance(directions, dict) or len(directions) != 2:
        raise ValueError("model_surface: directions must be a pair (d1, d2) of trees like params")
    a = _axis("model_surface", "alphas", alphas)
    b = _axis("model_surface", "betas", betas)
    Z = slice_2d(objective, params, directions[0], directions[1], a, b, **kwargs)
    A, B = np.meshgrid(a, b)
    return A, B, Z


@dataclass(frozen=True)
class Slice:
    """A slice with everything measured on it: ``loss`` (train), ``test_loss`` (when a test objective
    is given), ``accuracy``/``test_accuracy`` (classification losses). 1-D: arrays of shape
    ``(len(alphas),)`` and ``betas=None``; 2-D: ``(len(betas), len(alphas))``."""

    alphas: np.ndarray
    betas: np.ndarray | None
    loss: np.ndarray
    test_loss: np.ndarray | None = None
    accuracy: np.ndarray | None = None
    test_accuracy: np.ndarray | None = None


def slice_metrics(
    obj: Any,
    params: Any,
    directions: Sequence[Any],
    alphas: npt.ArrayLike | int,
    betas: npt.ArrayLike | int | None = None,
    *,
    test: Any = None,
    max_points: int = DEFAULT_MAX_POINTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Slice:
    """The richer slice: train loss, test loss (``test``: an objective on held-out data, e.g.
    ``obj.with_data(X_test, y_test)``) and accuracies where the objective has them
    (``obj.has_accuracy``). One direction and no ``betas`` for 1-D; two and ``betas`` for 2-D."""
    dirs = list(directions)
    if len(dirs) != (1 if betas is None else 2):
        raise ValueError(
            f"slice_metrics: give one direction for a 1-D slice or two with betas, got {len(dirs)}"
            f"{' and betas' if betas is not None else ''}"
        )
    a = _axis("slice_metrics", "alphas", alphas)
    b = None if betas is None else _axis("slice_metrics", "betas", betas)

    def run(o: Any) -> np.ndarray:
        if b is None:
            return slice_1d(o, params, dirs[0], a, max_points=max_points, max_bytes=max_bytes)
        return slice_2d(o, params, dirs[0], dirs[1], a, b, max_points=max_points, max_bytes=max_bytes)

    def accuracy(o: Any) -> np.ndarray | None:
        if not getattr(o, "has_accuracy", False):
            return None
        return run(_Accuracy(o))

    return Slice(
        a,
        b,
        run(obj),
        None if test is None else run(test),
        accuracy(obj),
        None if test is None else accuracy(test),
    )


class _Accuracy:
    """An objective's accuracy seen as the value to slice."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def value(self, params: Any) -> float:
        return float(self.obj.accuracy(params))

    def values(self, stacked: Any) -> np.ndarray:
        return np.asarray(self.obj.accuracies(stacked))
