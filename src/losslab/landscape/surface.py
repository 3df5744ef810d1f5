r"""Loss surfaces over two parameters: grids, linear regression over :math:`(w, b)`, logistic over :math:`(w_1, w_2)`.

Grid order (NumPy's ``meshgrid`` default, ``indexing="xy"``): for axes ``x`` (length :math:`n_x`)
and ``y`` (length :math:`n_y`), ``X, Y = np.meshgrid(x, y)`` have shape :math:`(n_y, n_x)` and
``Z[i, j]`` is the value at ``(x[j], y[i])`` -- rows follow the second axis, columns the first,
which is what ``Axes.contour(X, Y, Z)`` expects.

Surfaces evaluate the loss, not a copy of its formula: MSE over :math:`(w, b)` comes in closed
form from five sufficient statistics (one pass over the data, then a cost independent of the
number of samples :math:`N`); every other loss is streamed: the predictions of a few grid points
at a time (at most ``2**19`` entries, 4 MiB in float64, per block) go through the registered loss,
so memory stays bounded whatever :math:`N` and the grid size. Large :math:`N` use one call of the
loss's own fused ``"sum"`` reduction per grid point on a reused prediction buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.config import config, get_config
from losslab._core.validation import check_int, check_number, check_positive
from losslab.landscape._piecewise import pieces_of, summed_over_offsets
from losslab.losses import Loss
from losslab.losses import get as get_loss

__all__ = ["Grid", "grid", "linear_regression_surface", "logistic_surface"]

#: Most grid points :func:`grid` builds (a 3163 x 3163 grid); more raise ``ValueError``.
MAX_GRID_POINTS = 10_000_000
#: Entries per streamed block of predictions (4 MiB in float64).
BLOCK_ELEMENTS = 1 << 19
#: From this many samples on, each grid point is one call of the loss's fused "sum" reduction.
POINTWISE_SAMPLES = 1 << 16


class Grid(NamedTuple):
    """A 2-D grid: axes ``x`` and ``y`` with labels; ``Z[i, j]`` is at ``(x[j], y[i])``."""

    x: np.ndarray
    y: np.ndarray
    x_label: str = "x"
    y_label: str = "y"

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(y), len(x))``: the shape of ``Z``."""
        return (self.y.size, self.x.size)

    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        """``X, Y = np.meshgrid(x, y)`` (``X[i, j] = x[j]``, ``Y[i, j] = y[i]``)."""
        X, Y = np.meshgrid(self.x, self.y)
        return X, Y

    def points(self) -> np.ndarray:
        """The grid as points on the last axis, shape ``(len(y), len(x), 2)``: ``[i, j] = (x[j], y[i])``."""
        X, Y = self.mesh()
        return np.stack([X, Y], axis=-1)

    @property
    def center(self) -> tuple[float, float]:
        """The centre point, exactly ``(x[len(x) // 2], y[len(y) // 2])``."""
        return (float(self.x[self.x.size // 2]), float(self.y[self.y.size // 2]))


def _axis(where: str, name: str, center: float, radius: float, num: int) -> np.ndarray:
    c = check_number(where, f"{name} center", center)
    r = check_positive(where, f"{name} radius", radius)
    n = check_int(where, f"num ({name})", num, minimum=3)
    if n % 2 == 0:
        raise ValueError(
            f"{where}: num must be odd so the grid contains its centre exactly, got num={n} for {name}"
        )
    m = n // 2
    return c + r * (np.arange(-m, m + 1) / m)


def _pair(value: Any) -> tuple[Any, Any]:
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"grid: expected a scalar or a pair, got {value!r}")
        return value[0], value[1]
    return value, value


def grid(
    center: float | Sequence[float] = 0.0,
    radius: float | Sequence[float] = 1.0,
    num: int | Sequence[int] = 51,
    *,
    limits: Sequence[Sequence[float]] | None = None,
    labels: Sequence[str] = ("x", "y"),
    max_points: int = MAX_GRID_POINTS,
) -> Grid:
    r"""A grid of odd counts around a centre, which it contains exactly.

    Axis :math:`k` holds :math:`c_k + r_k\, t / m` for :math:`t = -m, \dots, m`
    (:math:`n_k = 2m + 1` points), so index :math:`m` is exactly :math:`c_k` (``np.linspace`` can
    miss it by rounding). ``center``, ``radius`` and ``num`` are scalars or ``(x, y)`` pairs;
    ``limits=((x_lo, x_hi), (y_lo, y_hi))`` gives centre and radius instead (e.g. a test
    function's ``limits``). Even counts, or more than ``max_points`` points, raise ``ValueError``.
    ``Z[i, j]`` of a surface on this grid is at ``(x[j], y[i])``.

    >>> g = grid(center=(1.0, -2.0), radius=0.5, num=(5, 3), labels=("w", "b"))
    >>> g.x.tolist(), g.y.tolist(), g.shape, g.center
    ([0.5, 0.75, 1.0, 1.25, 1.5], [-2.5, -2.0, -1.5], (3, 5), (1.0, -2.0))
    """
    where = "grid"
    if limits is not None:
        (x0, x1), (y0, y1) = (tuple(map(float, lim)) for lim in limits)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"{where}: limits must be increasing pairs, got limits={limits!r}")
        centers: tuple[Any, Any] = ((x0 + x1) / 2, (y0 + y1) / 2)
        radii: tuple[Any, Any] = ((x1 - x0) / 2, (y1 - y0) / 2)
    else:
        centers, radii = _pair(center), _pair(radius)
    nx, ny = _pair(num)
    labels = tuple(labels)
    if len(labels) != 2 or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"{where}: labels must be two strings, got labels={labels!r}")
    limit = check_int(where, "max_points", max_points, minimum=1)
    x = _axis(where, labels[0], centers[0], radii[0], nx)
    y = _axis(where, labels[1], centers[1], radii[1], ny)
    if x.size * y.size > limit:
        raise ValueError(
            f"{where}: {x.size} x {y.size} = {x.size * y.size} points is more than max_points={limit}"
        )
    return Grid(x, y, labels[0], labels[1])


# --------------------------------------------------------------------------- streaming engine


def _grid_axis(where: str, name: str, values: npt.ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{where}: {name} must be a non-empty 1-D array of grid values, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: {name} contains NaN or infinite values")
    return arr


def _resolve_loss(where: str, loss: str | Loss, tasks: tuple[str, ...]) -> Loss:
    obj = get_loss(loss) if isinstance(loss, str) else loss
    if not isinstance(obj, Loss):
        raise TypeError(f"{where}: loss must be a registered loss name or a Loss, got {type(loss).__name__}")
    if obj.info.task not in tasks:
        raise ValueError(
            f"{where}: loss {obj.name!r} is a {obj.info.task} loss; expected a {' or '.join(tasks)} loss"
        )
    if len(obj.inputs) != 2:
        raise ValueError(
            f"{where}: loss {obj.name!r} takes {len(obj.inputs)} inputs ({', '.join(obj.inputs)}); surfaces need (y_pred, y_true)"
        )
    return obj


def _stream(
    where: str,
    loss: Loss,
    predict: Callable[[np.ndarray, np.ndarray], None],
    coefficients: np.ndarray,
    y_true: np.ndarray,
    sample_weight: np.ndarray | None,
    params: dict[str, Any],
    *,
    pointwise: bool | None = None,
    block_elements: int | None = None,
) -> np.ndarray:
    """Mean loss at each of ``K`` coefficient rows, evaluated by the loss itself in bounded blocks.

    ``predict(coef_block, out)`` writes the predictions of a block of coefficient rows
    (``(k, p)``) into ``out`` (``(k, N)``). The first block is evaluated with validation on (the
    loss checks ``y_true``, the weights and the predictions); later blocks reuse that check, and a
    non-finite result anywhere raises.
    """
    n = y_true.size
    k_total = coefficients.shape[0]
    out = np.empty(k_total)
    per_point = n >= POINTWISE_SAMPLES if pointwise is None else pointwise
    budget = BLOCK_ELEMENTS if block_elements is None else block_elements
    rows = 1 if per_point else max(1, min(k_total, budget // n))
    buf = np.empty((rows, n))
    y_block = np.broadcast_to(y_true, (rows, n))
    w_block = None if sample_weight is None else np.broadcast_to(sample_weight, (rows, n))
    validate = get_config().validate
    for start in range(0, k_total, rows):
        stop = min(start + rows, k_total)
        k = stop - start
        pred = buf[:k]
        predict(coefficients[start:stop], pred)
        first = start == 0
        # later blocks skip validation; their non-finite results are caught below, not warned about
        quiet = np.errstate() if first else np.errstate(all="ignore")
        with config(validate=validate and first), quiet:
            if per_point:
                out[start] = loss(pred[0], y_true, reduction="mean", sample_weight=sample_weight, **params)
            else:
                yb = y_block[:k]
                wb = None if w_block is None else w_block[:k]
                vals = loss(pred, yb, reduction="none", sample_weight=wb, **params)
                out[start:stop] = np.sum(vals, axis=1) / n
    if not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(
            f"{where}: the loss is not finite at grid point {bad} (coefficients {coefficients[bad].tolist()})"
        )
    return out


# --------------------------------------------------------------------------- linear regression


def _mse_closed_form(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""MSE of :math:`w x + b` from centred sufficient statistics (see :func:`linear_regression_surface`)."""
    xm, ym = float(np.mean(x)), float(np.mean(y))
    xc, yc = x - xm, y - ym
    sxx = float(xc @ xc) / x.size
    if sxx > 0:
        sxy = float(xc @ yc) / x.size
        w_star = sxy / sxx
        r = yc - w_star * xc
        floor = float(r @ r) / x.size  # the least-squares residual, computed directly (no cancellation)
        slope = sxx * (w - w_star) ** 2
    else:
        floor = float(yc @ yc) / x.size
        slope = np.zeros_like(w)
    offset = w[None, :] * xm + b[:, None] - ym
    return floor + slope[None, :] + offset * offset


def linear_regression_surface(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    loss: str | Loss,
    w: npt.ArrayLike,
    b: npt.ArrayLike,
    **loss_params: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The mean loss of the line :math:`\hat y = w x + b` over a grid: ``(W, B, Z)``, ``Z[i, j]`` at ``(w[j], b[i])``.

    ``W, B = np.meshgrid(w, b)`` (shape ``(len(b), len(w))``) and
    :math:`Z_{ij} = \frac1N \sum_n \ell(w_j x_n + b_i, y_n)` for any registered regression loss
    ``loss`` (a name or a :class:`~losslab.losses.Loss`) with its parameters ``loss_params`` --
    the curriculum's 000 cell 1 and 002 §7.3 surfaces. ``x`` has shape ``(N,)`` or ``(N, 1)``.

    MSE (``"mse"``, ``"l2"``) is exact in closed form from the centred statistics
    :math:`\bar x, \bar y, S_{xx} = \overline{(x - \bar x)^2}, S_{xy}` and the least-squares
    residual :math:`R = \overline{(y - \bar y - w^* (x - \bar x))^2}`, :math:`w^* = S_{xy}/S_{xx}`:

    .. math:: \mathrm{MSE}(w, b) = R + S_{xx}(w - w^*)^2 + (w\bar x + b - \bar y)^2,

    a sum of non-negative terms (no cancellation), :math:`O(1)` per grid point. Losses that are
    piecewise quadratic in the error (``mae``, ``huber``, ``smooth_l1``, ``quantile``,
    ``asymmetric_mse``, ``asymmetric_huber``) are exact from one sort of :math:`y - w x` per
    :math:`w` and prefix sums, :math:`O(\log N)` per grid point (:mod:`losslab.landscape._piecewise`).
    Other losses are streamed through the loss's own evaluation in blocks of bounded memory.

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 2.0]); y = 2 * x + 1
    >>> W, B, Z = linear_regression_surface(x, y, "mse", [1.0, 2.0, 3.0], [0.0, 1.0])
    >>> Z.shape, float(Z[1, 1]), float(Z[0, 0])
    ((2, 3), 0.0, 4.666666666666667)
    """
    where = "linear_regression_surface"
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim == 2 and xs.shape[1] == 1:
        xs = xs[:, 0]
    ys = np.asarray(y, dtype=np.float64)
    if ys.ndim == 2 and ys.shape[1] == 1:
        ys = ys[:, 0]
    if xs.ndim != 1 or xs.size == 0:
        raise ValueError(f"{where}: x must have shape (N,) or (N, 1) with N >= 1, got shape {np.shape(x)}")
    if ys.shape != xs.shape:
        raise ValueError(
            f"{where}: x and y must have the same number of samples, got shapes {np.shape(x)} and {np.shape(y)}"
        )
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError(f"{where}: x and y must be finite")
    wv = _grid_axis(where, "w", w)
    bv = _grid_axis(where, "b", b)
    obj = _resolve_loss(where, loss, ("regression",))
    W, B = np.meshgrid(wv, bv)
    if obj.name == "mse":
        obj.resolve_params(loss_params)  # mse has no parameters: unknown ones raise
        return W, B, _mse_closed_form(xs, ys, wv, bv)
    params = obj.resolve_params(loss_params)
    pieces = pieces_of(obj.name, params)
    if pieces is not None:
        Z = np.empty(W.shape)
        for j, wj in enumerate(wv):
            Z[:, j] = summed_over_offsets(ys - wj * xs, bv, pieces) / xs.size
        return W, B, Z
    coef = np.stack([W.reshape(-1), B.reshape(-1)], axis=-1)

    def predict(c: np.ndarray, out: np.ndarray) -> None:
        np.multiply(c[:, 0:1], xs[None, :], out=out)
        out += c[:, 1:2]

    Z = _stream(where, obj, predict, coef, ys, None, params)
    return W, B, Z.reshape(W.shape)


# --------------------------------------------------------------------------- logistic regression


def logistic_surface(
    X: npt.ArrayLike,  # noqa: N803 - design-matrix convention
    y: npt.ArrayLike,
    w1: npt.ArrayLike,
    w2: npt.ArrayLike,
    b: float = 0.0,
    loss: str | Loss = "binary_cross_entropy",
    *,
    sample_weight: npt.ArrayLike | None = None,
    **loss_params: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""A binary loss of :math:`z = w_1 x_1 + w_2 x_2 + b` over a :math:`(w_1, w_2)` grid: ``(W1, W2, Z)``.

    ``W1, W2 = np.meshgrid(w1, w2)`` and ``Z[i, j]`` is the mean loss at ``(w1[j], w2[i])`` with
    the bias fixed at ``b`` (the curriculum's 000 cell 2; "move ``b`` away from 0" is this ``b``).
    ``X`` has shape ``(N, 2)``, ``y`` holds the labels the loss expects. Losses with a
    ``from_logits`` parameter (binary cross-entropy, binary focal) get the logits :math:`z` with
    ``from_logits=True`` unless told otherwise -- exact where the curriculum clips
    :math:`\sigma(z)` to :math:`[10^{-10}, 1]` -- and with ``from_logits=False`` the probabilities
    :math:`\sigma(z)`; margin losses (hinge family) get the score :math:`z`. The class-imbalance
    variants of practice 6 are parameters: ``pos_weight`` (BCE), ``gamma``/``alpha`` (focal), or
    per-sample weights ``sample_weight`` (e.g. class weights ``np.where(y == 1, 5.0, 1.0)``; the
    mean divides by :math:`N`, like ``reduction="mean"``).

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0]]); y = np.array([1.0, 0.0])
    >>> W1, W2, Z = logistic_surface(X, y, [0.0, 1.0, 2.0], [-1.0, 0.0, 1.0])
    >>> round(float(Z[1, 0]), 6), bool(Z[1, 2] < Z[1, 1] < Z[1, 0])   # log 2 at w = 0
    (0.693147, True)
    """
    where = "logistic_surface"
    Xs = np.asarray(X, dtype=np.float64)  # noqa: N806
    if Xs.ndim != 2 or Xs.shape[1] != 2 or Xs.shape[0] == 0:
        raise ValueError(f"{where}: X must have shape (N, 2) with N >= 1, got shape {np.shape(X)}")
    ys = np.asarray(y, dtype=np.float64).reshape(-1)
    if ys.size != Xs.shape[0]:
        raise ValueError(
            f"{where}: X and y must have the same number of samples, got {Xs.shape[0]} and {ys.size}"
        )
    if not np.all(np.isfinite(Xs)):
        raise ValueError(f"{where}: X must be finite")
    bias = check_number(where, "b", b)
    v1 = _grid_axis(where, "w1", w1)
    v2 = _grid_axis(where, "w2", w2)
    obj = _resolve_loss(where, loss, ("binary",))
    params = dict(loss_params)
    probabilities = False
    if "from_logits" in obj.params:
        params.setdefault("from_logits", True)
        probabilities = not params["from_logits"]
    params = obj.resolve_params(params)
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if sw.size != ys.size:
            raise ValueError(
                f"{where}: sample_weight must have one weight per sample ({ys.size}), got {sw.size}"
            )
    W1, W2 = np.meshgrid(v1, v2)  # noqa: N806
    coef = np.stack([W1.reshape(-1), W2.reshape(-1)], axis=-1)
    x1, x2 = Xs[:, 0], Xs[:, 1]

    def predict(c: np.ndarray, out: np.ndarray) -> None:
        np.multiply(c[:, 0:1], x1[None, :], out=out)
        out += c[:, 1:2] * x2[None, :]
        out += bias
        if probabilities:
            np.negative(out, out=out)
            np.exp(out, out=out)
            out += 1.0
            np.reciprocal(out, out=out)

    Z = _stream(where, obj, predict, coef, ys, sw, params)
    return W1, W2, Z.reshape(W1.shape)
