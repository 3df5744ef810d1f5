r"""Data preparation: standardization, train/test splits, class resampling, bias-variance decomposition.

Everything random takes ``seed`` (an integer or a ``np.random.Generator``): same seed, same arrays.

>>> import numpy as np, losslab as ll
>>> X, y = ll.data.imbalanced(n=200, positive_fraction=0.1, seed=0)
>>> X_tr, X_te, y_tr, y_te = ll.data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
>>> Xs, scaler = ll.data.standardize(X_tr)
>>> bool(np.allclose(scaler.inverse_transform(Xs), X_tr))
True
>>> X_res, y_res = ll.data.resample(X_tr, y_tr, method="smote", seed=0)
>>> np.bincount(y_res.astype(int)).tolist()
[135, 135]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from losslab._core.arrays import as_float
from losslab._core.validation import check_bool, check_choice, check_int, check_number

__all__ = ["BiasVariance", "Scaler", "bias_variance", "resample", "standardize", "train_test_split"]

Seed = int | np.random.Generator | None


def _rng(where: str, seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"{where}: seed must be an integer or a numpy Generator, got seed={seed!r}")


def _features(where: str, X: npt.ArrayLike, name: str = "X") -> np.ndarray:
    arr = as_float(np, X, name, where)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{where}: {name} must have shape (n_samples, n_features), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: {name} contains NaN or infinite values")
    return arr


def _targets(where: str, y: npt.ArrayLike, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"{where}: y must have one entry per row of X ({n}), got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------- standardization


@dataclass(frozen=True)
class Scaler:
    r"""A fitted standardization :math:`z = (x - \mu) / s` per column (see :func:`standardize`).

    ``mean`` is :math:`\mu`, ``scale`` is :math:`s` (the standard deviation, 1 for a constant
    column), ``constant`` marks the zero-variance columns.
    """

    mean: np.ndarray
    scale: np.ndarray
    constant: np.ndarray

    def transform(self, X: npt.ArrayLike) -> np.ndarray:
        """Standardize new data (a test set) with the training set's :math:`\\mu` and :math:`s`."""
        arr = _features("Scaler.transform", X)
        self._check_width("transform", arr)
        return (arr - self.mean) / self.scale

    def inverse_transform(self, Z: npt.ArrayLike) -> np.ndarray:
        """Undo :meth:`transform`: :math:`x = z s + \\mu` (exact to rounding)."""
        arr = _features("Scaler.inverse_transform", Z, "Z")
        self._check_width("inverse_transform", arr)
        return arr * self.scale + self.mean

    def _check_width(self, what: str, arr: np.ndarray) -> None:
        if arr.shape[1] != self.mean.size:
            raise ValueError(
                f"Scaler.{what}: X must have {self.mean.size} columns (as the training data), got {arr.shape[1]}"
            )


def standardize(
    X: npt.ArrayLike, *, ddof: int = 0, zero_variance: Literal["center", "raise"] = "center"
) -> tuple[np.ndarray, Scaler]:
    r"""Standardize the columns of a training set: :math:`z_{ij} = (x_{ij} - \mu_j) / s_j`.

    :math:`\mu_j` is the column mean and :math:`s_j = \sqrt{\tfrac{1}{n - \text{ddof}}\sum_i
    (x_{ij} - \mu_j)^2}` (``ddof=0``: the population deviation, as scikit-learn's
    ``StandardScaler``). Returns ``(Z, scaler)``; apply the *training* statistics to a test set
    with ``scaler.transform(X_test)`` (fitting them on the test set would leak it) and undo with
    ``scaler.inverse_transform``.

    A zero-variance column cannot be scaled: with ``zero_variance="center"`` (default, as
    scikit-learn) it is only centred (:math:`s_j = 1`, so it becomes 0) and flagged in
    ``scaler.constant``; ``"raise"`` refuses it with a ``ValueError`` naming the columns. 000's
    advice "standardize features" is what makes one learning rate fit every direction of the
    loss surface.

    >>> Z, scaler = standardize([[1.0, 5.0], [3.0, 5.0]])
    >>> Z.tolist(), scaler.constant.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [False, True])
    """
    where = "standardize"
    arr = _features(where, X)
    ddof = check_int(where, "ddof", ddof, minimum=0)
    check_choice(where, "zero_variance", zero_variance, ("center", "raise"))
    if arr.shape[0] <= ddof:
        raise ValueError(f"{where}: X needs more than ddof={ddof} rows, got {arr.shape[0]}")
    mean = arr.mean(axis=0)
    std = arr.std(axis=0, ddof=ddof)
    # a column is constant when its spread is at rounding level of its magnitude
    constant = std <= 10 * np.finfo(arr.dtype).eps * np.maximum(np.abs(mean), 1.0)
    if constant.any() and zero_variance == "raise":
        cols = np.flatnonzero(constant).tolist()
        raise ValueError(f"{where}: X has zero-variance columns {cols}; they cannot be scaled")
    scale = np.where(constant, 1.0, std)
    scaler = Scaler(mean, scale, constant)
    return (arr - mean) / scale, scaler


# --------------------------------------------------------------------------- splitting


def _n_test(where: str, test_size: Any, n: int) -> int:
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        k = int(test_size)
        if not 1 <= k < n:
            raise ValueError(
                f"{where}: an integer test_size must be in [1, {n - 1}], got test_size={test_size}"
            )
        return k
    frac = check_number(where, "test_size", test_size)
    if not 0.0 < frac < 1.0:
        raise ValueError(
            f"{where}: test_size must be in (0, 1) or an integer count, got test_size={test_size!r}"
        )
    k = math.ceil(frac * n)
    if not 1 <= k < n:
        raise ValueError(f"{where}: test_size={test_size!r} leaves an empty split for {n} samples")
    return k


def train_test_split(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    test_size: float | int = 0.25,
    seed: Seed = 0,
    stratify: bool = False,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Split ``(X, y)`` into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction (the test set gets :math:`\lceil f n \rceil` samples, as
    scikit-learn) or a count. ``stratify=True`` keeps each class's share in both parts: class
    :math:`c` with :math:`n_c` samples gives :math:`\approx n_c \cdot n_{test} / n` of them to the
    test set (largest remainders, so the counts add up to :math:`n_{test}` exactly), drawn at random
    within the class. ``shuffle=False`` takes the last rows as the test set (not with ``stratify``).

    >>> X_tr, X_te, y_tr, y_te = train_test_split(np.arange(8.0), [0, 0, 0, 0, 0, 0, 1, 1], test_size=0.5,
    ...                                           seed=0, stratify=True)
    >>> sorted(y_te.tolist()), X_tr.shape
    ([0, 0, 0, 1], (4, 1))
    """
    where = "train_test_split"
    Xa = _features(where, X)
    n = Xa.shape[0]
    ya = _targets(where, y, n)
    k = _n_test(where, test_size, n)
    stratify = check_bool(where, "stratify", stratify)
    shuffle = check_bool(where, "shuffle", shuffle)
    rng = _rng(where, seed)
    if stratify:
        if not shuffle:
            raise ValueError(f"{where}: stratify=True needs shuffle=True")
        test = _stratified_test(rng, ya, k)
    elif shuffle:
        test = rng.permutation(n)[:k]
    else:
        test = np.arange(n - k, n)
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    train_idx = np.flatnonzero(~mask)
    test_idx = np.sort(test) if not shuffle else test
    if shuffle:
        train_idx = rng.permutation(train_idx)
    return Xa[train_idx], Xa[test_idx], ya[train_idx], ya[test_idx]


def _stratified_test(rng: np.random.Generator, y: np.ndarray, k: int) -> np.ndarray:
    labels = y if y.ndim == 1 else y.reshape(y.shape[0], -1).argmax(axis=1)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    exact = counts * (k / labels.size)
    share = np.floor(exact).astype(int)
    for c in np.argsort(-(exact - share), kind="stable")[: k - share.sum()]:
        share[c] += 1
    picks = [rng.permutation(np.flatnonzero(inverse == c))[: share[c]] for c in range(classes.size)]
    return rng.permutation(np.concatenate(picks))


# --------------------------------------------------------------------------- resampling


def _class_labels(where: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if y.ndim != 1:
        raise ValueError(f"{where}: y must be 1-D class labels, got shape {y.shape}")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise ValueError(f"{where}: y must hold at least two classes, got {classes.tolist()}")
    return classes, inverse, counts


def resample(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    method: Literal["oversample", "undersample", "smote"] = "smote",
    seed: Seed = 0,
    k_neighbors: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Balance the classes of ``(X, y)``: every class ends with as many samples as the largest
    (``"oversample"``, ``"smote"``) or the smallest (``"undersample"``).

    ``"oversample"`` repeats random samples of each smaller class (drawn with replacement);
    ``"undersample"`` keeps a random subset of each larger class (without replacement);
    ``"smote"`` (Chawla et al. 2002) creates synthetic samples: for a random sample :math:`x_i`
    of the class, one of its ``k_neighbors`` nearest neighbours *of the same class* by Euclidean
    distance, :math:`x_{nn}`, and :math:`u \sim U[0, 1)`, the new point is
    :math:`x_i + u\,(x_{nn} - x_i)` -- on the segment between them. Fewer neighbours are used when
    the class is smaller than ``k_neighbors + 1``; a class of one sample cannot be SMOTEd.

    The originals come first in their order (for ``"undersample"``, the kept ones), then the new
    samples; labels keep their dtype.

    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [6.0, 5.0], [6.0, 6.0]])
    >>> X_res, y_res = resample(X, [0, 0, 0, 1, 1, 1, 1], method="smote", seed=0)
    >>> X_res.shape, y_res.tolist()
    ((8, 2), [0, 0, 0, 1, 1, 1, 1, 0])

    Reference: N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer (2002), SMOTE: Synthetic
    Minority Over-sampling Technique, JAIR 16, arXiv:1106.1813.
    """
    where = "resample"
    check_choice(where, "method", method, ("oversample", "undersample", "smote"))
    Xa = _features(where, X)
    ya = _targets(where, y, Xa.shape[0])
    k_neighbors = check_int(where, "k_neighbors", k_neighbors, minimum=1)
    rng = _rng(where, seed)
    classes, inverse, counts = _class_labels(where, ya)
    members = [np.flatnonzero(inverse == c) for c in range(classes.size)]
    if method == "undersample":
        target = counts.min()
        keep = [np.sort(rng.choice(idx, size=target, replace=False)) for idx in members]
        kept = np.sort(np.concatenate(keep))
        return Xa[kept], ya[kept]
    target = counts.max()
    new_X, new_y = [Xa], [ya]
    for c, idx in enumerate(members):
        extra = target - idx.size
        if extra == 0:
            continue
        if method == "oversample":
            pick = rng.choice(idx, size=extra, replace=True)
            new_X.append(Xa[pick])
        else:
            new_X.append(_smote_class(where, rng, Xa[idx], extra, k_neighbors, classes[c]))
        new_y.append(np.full(extra, classes[c], dtype=ya.dtype))
    return np.concatenate(new_X), np.concatenate(new_y)


def nearest_neighbors(points: np.ndarray, k: int) -> np.ndarray:
    """Indices ``(n, k)`` of each point's ``k`` nearest other points by Euclidean distance (ties by index)."""
    sq = np.sum(points * points, axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * points @ points.T
    np.fill_diagonal(d2, np.inf)
    return np.argsort(d2, axis=1, kind="stable")[:, :k]


def _smote_class(
    where: str, rng: np.random.Generator, points: np.ndarray, extra: int, k_neighbors: int, label: Any
) -> np.ndarray:
    if points.shape[0] < 2:
        raise ValueError(
            f"{where}: SMOTE needs at least two samples of class {_item(label)!r}, got {points.shape[0]}"
        )
    k = min(k_neighbors, points.shape[0] - 1)
    nn = nearest_neighbors(points, k)
    base = rng.integers(0, points.shape[0], size=extra)
    partner = nn[base, rng.integers(0, k, size=extra)]
    gap = rng.random((extra, 1))
    return points[base] + gap * (points[partner] - points[base])


# --------------------------------------------------------------------------- bias-variance


@dataclass(frozen=True)
class BiasVariance:
    r"""The decomposition :math:`E[(y - \hat f(x))^2] = \text{bias}^2 + \text{variance} + \text{noise}`.

    Averaged over the test inputs: ``bias2`` :math:`= \overline{(E_D[\hat f(x)] - f(x))^2}`,
    ``variance`` :math:`= \overline{\mathrm{Var}_D[\hat f(x)]}`, ``noise`` :math:`=
    \overline{\mathrm{Var}[y \mid x]}`; ``expected_error`` is the squared error measured directly on
    fresh targets, ``error_se`` its Monte-Carlo standard error (so ``total`` should lie within a few
    ``error_se`` of it). ``predictions`` holds the draws' predictions ``(n_draws, n_test)``.
    """

    bias2: float
    variance: float
    noise: float
    expected_error: float
    error_se: float
    n_draws: int
    predictions: np.ndarray

    @property
    def total(self) -> float:
        """``bias2 + variance + noise``."""
        return self.bias2 + self.variance + self.noise


def bias_variance(
    model_factory: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], Any]],
    data_factory: Callable[..., tuple[Any, Any]],
    *,
    n_draws: int = 50,
    seed: Seed = 0,
    X_test: npt.ArrayLike | None = None,
    n_targets: int = 200,
) -> BiasVariance:
    r"""Decompose a learner's expected squared error into bias², variance and noise (000's claim).

    ``data_factory(rng)`` draws a training set ``(X, y)`` of the problem; ``data_factory(rng, X)``
    draws fresh noisy targets ``y`` at given inputs ``X``. ``model_factory(X, y)`` trains a model
    and returns its prediction function ``X -> y_pred``. The test inputs are ``X_test`` (default:
    the inputs of one extra draw). Then

    - :math:`f(x)` and the noise :math:`\sigma^2(x)` are estimated from ``n_targets`` target draws
      at the test inputs (mean and unbiased variance);
    - ``n_draws`` training sets give predictions :math:`\hat f_d(x)`, with ``variance`` the
      unbiased variance over the draws and ``bias2`` :math:`= (\bar f(x) - \hat f(x))^2` minus the
      known Monte-Carlo inflation :math:`\text{variance}/D + \sigma^2/M` (clipped at 0);
    - ``expected_error`` :math:`= \frac1D \sum_d \overline{(y_d - \hat f_d(x))^2}` on fresh targets
      :math:`y_d`, independent of the training sets.

    >>> import numpy as np, losslab as ll
    >>> def data(rng, X=None):
    ...     X = rng.uniform(-1, 1, size=(30, 1)) if X is None else X
    ...     return X, np.sin(3 * X[:, 0]) + rng.normal(0.0, 0.3, size=len(X))
    >>> def line(X, y):
    ...     coef = np.polyfit(X[:, 0], y, 1)
    ...     return lambda Xq: np.polyval(coef, Xq[:, 0])
    >>> r = ll.data.bias_variance(line, data, n_draws=100, seed=0)
    >>> abs(r.total - r.expected_error) < 4 * r.error_se, r.bias2 > r.variance
    (True, True)
    """
    where = "bias_variance"
    if not callable(model_factory) or not callable(data_factory):
        raise TypeError(f"{where}: model_factory and data_factory must be callables")
    n_draws = check_int(where, "n_draws", n_draws, minimum=2)
    n_targets = check_int(where, "n_targets", n_targets, minimum=2)
    rng = _rng(where, seed)
    test_rng, target_rng, *draw_rngs = [np.random.default_rng(s) for s in _seeds(rng, n_draws + 2)]
    Xt = _features(where, data_factory(test_rng)[0] if X_test is None else X_test, "X_test")
    targets = np.stack([_flat(where, data_factory(target_rng, Xt)[1]) for _ in range(n_targets)])
    truth = targets.mean(axis=0)
    noise_x = targets.var(axis=0, ddof=1)
    preds, errors = [], []
    for r in draw_rngs:
        X_train, y_train = data_factory(r)
        predict = model_factory(np.asarray(X_train), np.asarray(y_train))
        p = _flat(where, predict(Xt))
        if p.shape != truth.shape:
            raise ValueError(f"{where}: predictions have shape {p.shape}, the targets {truth.shape}")
        fresh = _flat(where, data_factory(r, Xt)[1])
        preds.append(p)
        errors.append(float(np.mean((fresh - p) ** 2)))
    P = np.stack(preds)
    var_x = P.var(axis=0, ddof=1)
    bias_x = (P.mean(axis=0) - truth) ** 2 - var_x / n_draws - noise_x / n_targets
    err = np.asarray(errors)
    return BiasVariance(
        bias2=max(float(bias_x.mean()), 0.0),
        variance=float(var_x.mean()),
        noise=float(noise_x.mean()),
        expected_error=float(err.mean()),
        error_se=float(err.std(ddof=1) / math.sqrt(n_draws)),
        n_draws=n_draws,
        predictions=P,
    )


def _seeds(rng: np.random.Generator, k: int) -> list[int]:
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=k)]


def _flat(where: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: predictions or targets contain NaN or infinite values")
    return arr


def _item(x: Any) -> Any:
    """A NumPy scalar as the Python number it holds (for messages)."""
    return x.item() if isinstance(x, np.generic) else x
