r"""The curriculum's synthetic datasets, seeded: same seed, same arrays.

Every generator returns a :class:`Dataset` ``(X, y)`` with ``X`` of shape ``(n, d)`` (float64)
and ``y`` of shape ``(n,)`` (float64 targets or 0/1 labels; int64 class indices for multiclass
sets).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_choice, check_in_range, check_int, check_number, check_positive

__all__ = [
    "OUTLIER_INDEX",
    "OUTLIER_SHIFT",
    "Dataset",
    "circles",
    "get",
    "imbalanced",
    "info",
    "linear",
    "multiclass_blobs",
    "names",
    "outliers",
    "spirals",
    "two_blobs",
    "xor",
]


class Dataset(NamedTuple):
    """Features ``X`` ``(n, d)`` and targets ``y`` ``(n,)``; unpacks as ``X, y = dataset``."""

    X: np.ndarray
    y: np.ndarray


class DatasetInfo(NamedTuple):
    """A registered dataset: its generator, task and one-line description."""

    name: str
    task: str
    description: str
    make: Callable[..., Dataset]


_REGISTRY: dict[str, DatasetInfo] = {}


Maker = Callable[..., Dataset]


#: The most entries (samples times features) a generator makes: more would exhaust memory.
MAX_ENTRIES = 10**8


def _register(name: str, task: str, description: str) -> Callable[[Maker], Maker]:
    def deco(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        checked = _checked_arguments(name, fn)
        _REGISTRY[name] = DatasetInfo(name, task, description, checked)
        return checked

    return deco


def _checked_arguments(where: str, fn: Maker) -> Maker:
    """``fn`` with the checks every generator shares, read from its signature: float parameters
    finite real numbers (or finite numeric arrays where a vector is allowed), integer ones
    integers, at most :data:`MAX_ENTRIES` entries and no more classes than samples; the
    generator's own checks follow."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def generator(*args: object, **kwargs: object) -> Dataset:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{where}: {err}") from None
        bound.apply_defaults()
        for key, value in bound.arguments.items():
            default = sig.parameters[key].default
            if key == "seed":
                continue
            if isinstance(default, float):
                if "ArrayLike" in str(sig.parameters[key].annotation) and isinstance(
                    value, (list, tuple, np.ndarray)
                ):
                    _finite_array(where, key, value)
                else:
                    check_number(where, key, value)
            elif isinstance(default, int) and not isinstance(default, bool):
                check_int(where, key, value)
            elif isinstance(default, tuple):
                _finite_array(where, key, value)
        n = int(bound.arguments.get("n", 1))
        width = int(bound.arguments.get("n_features", 2))
        if n * max(width, 1) > MAX_ENTRIES:
            raise ValueError(f"{where}: n * n_features must be at most {MAX_ENTRIES:.0e}, got n={n}")
        k = bound.arguments.get("n_classes")
        if isinstance(k, int) and k > max(n, 2):
            raise ValueError(
                f"{where}: n_classes must be at most n={n} (a sample per class), got n_classes={k}"
            )
        return fn(*bound.args, **bound.kwargs)

    return generator


def _finite_array(where: str, name: str, value: object) -> None:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must hold real numbers, got {name}={value!r}") from None
    if not np.isfinite(a).all():
        raise ValueError(f"{where}: {name} must hold finite numbers, got {name}={value!r}")


def names(task: str | None = None) -> list[str]:
    """Registered dataset names, optionally only those of one ``task``."""
    if task is not None:
        check_choice("names", "task", task, sorted({d.task for d in _REGISTRY.values()}))
    return sorted(n for n, d in _REGISTRY.items() if task is None or d.task == task)


def get(name: str) -> Callable[..., Dataset]:
    """The generator registered under ``name`` (call it, with keywords, to get ``(X, y)``)."""
    return info(name).make


def info(name: str) -> DatasetInfo:
    """Name, task (``"regression"``, ``"binary"``, ``"multiclass"``) and description of a dataset."""
    if not isinstance(name, str) or name.strip().lower().replace("-", "_") not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name.strip().lower().replace("-", "_")]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got seed={seed!r}")
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an integer or a numpy Generator, got {seed!r}")


# --------------------------------------------------------------------------- regression


@_register("linear", "regression", "y = X w + b + Gaussian noise (the curriculum's SGD vs batch GD cell)")
def linear(
    n: int = 200,
    w: float | npt.ArrayLike = 1.2,
    b: float = -0.7,
    noise: float = 0.3,
    seed: int | np.random.Generator | None = 2,
    *,
    low: float = -2.0,
    high: float = 2.0,
) -> Dataset:
    r"""Linear data :math:`y = Xw + b + \varepsilon`, :math:`X_{ij} \sim U(\text{low}, \text{high})`,
    :math:`\varepsilon \sim N(0, \text{noise}^2)`.

    ``w`` is a scalar (one feature) or a vector (one weight per feature). The defaults and the
    draw order (``x = rng.uniform(-2, 2, n)``, then the noise) reproduce the curriculum's cell
    ``rng = np.random.default_rng(2)``, ``y = 1.2x - 0.7 + rng.normal(0, 0.3, n)``.
    """
    n = check_int("linear", "n", n, minimum=1)
    noise = check_positive("linear", "noise", noise, strict=False)
    weights = np.atleast_1d(np.asarray(w, dtype=np.float64))
    if weights.ndim != 1:
        raise ValueError(f"linear: w must be a number or a 1-D vector, got shape {weights.shape}")
    rng = _rng(seed)
    d = weights.size
    X = rng.uniform(low, high, size=n if d == 1 else (n, d)).reshape(n, d)
    y = X @ weights + check_number("linear", "b", b) + rng.normal(0.0, noise, size=n)
    return Dataset(X, y)


#: Indices and shifts of the outlier-regression lab's five outliers.
OUTLIER_INDEX = (10, 20, 30, 40, 45)
OUTLIER_SHIFT = (15.0, -12.0, 18.0, -10.0, 20.0)


@_register("outliers", "regression", "50 points on y = 2x + 3 with noise 1.5 and 5 gross outliers")
def outliers(
    seed: int = 42,
    *,
    n: int = 50,
    w: float = 2.0,
    b: float = 3.0,
    noise: float = 1.5,
    outlier_index: Sequence[int] = OUTLIER_INDEX,
    outlier_shift: Sequence[float] = OUTLIER_SHIFT,
) -> Dataset:
    r"""The outlier-regression lab: ``x = linspace(0, 10, 50)``, :math:`y = 2x + 3 + 1.5\,\varepsilon`,
    then ``y[[10, 20, 30, 40, 45]] += [15, -12, 18, -10, 20]``.

    The noise is drawn exactly as the lab does (``np.random.seed(42); np.random.randn(50)``, i.e.
    the legacy ``RandomState(seed)``), so ``seed=42`` gives the lab's arrays bit for bit.
    """
    n = check_int("outliers", "n", n, minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"outliers: seed must be an integer, got seed={seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"outliers: seed must be in [0, 2**32), got seed={seed!r}")
    noise = check_positive("outliers", "noise", noise, strict=False)
    raw = np.asarray(outlier_index, dtype=np.float64)  # (finite, checked by the wrapper)
    if not np.all(raw == np.round(raw)) or (raw.size and np.abs(raw).max() >= 2**62):
        raise ValueError(f"outliers: outlier_index must hold integer indices, got {outlier_index!r}")
    idx = raw.astype(np.int64)
    shift = np.asarray(outlier_shift, dtype=np.float64)
    if idx.shape != shift.shape:
        raise ValueError(
            f"outliers: outlier_index and outlier_shift must have the same length, "
            f"got {idx.size} and {shift.size}"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"outliers: outlier_index must lie in [0, {n}), got {idx.tolist()}")
    x = np.linspace(0.0, 10.0, n)
    y = w * x + b + np.random.RandomState(int(seed)).randn(n) * noise
    y[idx] += shift
    return Dataset(x[:, None], y)


# --------------------------------------------------------------------------- binary


@_register("two_blobs", "binary", "two Gaussian blobs in 2-D, labels 0/1")
def two_blobs(
    n: int = 200, distance: float = 3.0, std: float = 1.0, seed: int | np.random.Generator | None = 0
) -> Dataset:
    r"""Two isotropic Gaussian blobs centred at :math:`\pm(\text{distance}/2)(1, 1)/\sqrt 2`; half the
    points in each (label 1 for the positive centre)."""
    n = check_int("two_blobs", "n", n, minimum=2)
    std = check_positive("two_blobs", "std", std)
    rng = _rng(seed)
    n1 = n // 2
    y = np.concatenate([np.zeros(n - n1), np.ones(n1)])
    centre = distance / 2.0 / math.sqrt(2.0)
    X = rng.normal(0.0, std, size=(n, 2)) + np.where(y[:, None] == 1, centre, -centre)
    return _shuffled(rng, X, y)


@_register("imbalanced", "binary", "imbalanced binary classification: 95% negatives, 5% positives")
def imbalanced(
    n: int = 1000,
    positive_fraction: float = 0.05,
    separation: float = 2.0,
    n_features: int = 2,
    seed: int | np.random.Generator | None = 0,
) -> Dataset:
    r"""Imbalanced labels (the curriculum's ``y = [0]*950 + [1]*50`` for the defaults): negatives
    :math:`\sim N(0, I)`, positives :math:`\sim N(\text{separation}\cdot\mathbf 1/\sqrt d, I)`.
    ``round(n * positive_fraction)`` positives; rows are shuffled."""
    n = check_int("imbalanced", "n", n, minimum=2)
    frac = check_in_range("imbalanced", "positive_fraction", positive_fraction, 0.0, 1.0, closed="neither")
    d = check_int("imbalanced", "n_features", n_features, minimum=1)
    rng = _rng(seed)
    n_pos = max(1, int(round(n * frac)))
    y = np.concatenate([np.zeros(n - n_pos), np.ones(n_pos)])
    X = rng.normal(size=(n, d)) + y[:, None] * (separation / math.sqrt(d))
    return _shuffled(rng, X, y)


@_register("xor", "binary", "XOR: four noisy clusters, label 1 where the coordinates' signs differ")
def xor(n: int = 200, noise: float = 0.3, seed: int | np.random.Generator | None = 0) -> Dataset:
    r"""Points around the corners :math:`(\pm1, \pm1)` plus :math:`N(0, \text{noise}^2)` noise,
    label 1 for the corners whose signs differ (:math:`x_1 x_2 < 0` at the corner): not linearly
    separable."""
    n = check_int("xor", "n", n, minimum=4)
    noise = check_positive("xor", "noise", noise, strict=False)
    rng = _rng(seed)
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    which = np.arange(n) % 4
    X = corners[which] + rng.normal(0.0, noise, size=(n, 2))
    y = (corners[which, 0] * corners[which, 1] < 0).astype(np.float64)
    return _shuffled(rng, X, y)


@_register("circles", "binary", "two concentric circles, label 1 on the inner one")
def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | np.random.Generator | None = 0
) -> Dataset:
    r"""An outer circle of radius 1 (label 0) and an inner one of radius ``factor`` (label 1), angles
    evenly spaced, plus :math:`N(0, \text{noise}^2)` noise (as scikit-learn's ``make_circles``)."""
    n = check_int("circles", "n", n, minimum=2)
    noise = check_positive("circles", "noise", noise, strict=False)
    factor = check_in_range("circles", "factor", factor, 0.0, 1.0, closed="neither")
    rng = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        [np.c_[np.cos(t_out), np.sin(t_out)], factor * np.c_[np.cos(t_in), np.sin(t_in)]]
    ) + rng.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _shuffled(rng, X, y)


# --------------------------------------------------------------------------- multiclass


@_register("multiclass_blobs", "multiclass", "Gaussian blobs around evenly spaced centres, integer labels")
def multiclass_blobs(
    n: int = 300,
    n_classes: int = 3,
    radius: float = 3.0,
    std: float = 1.0,
    seed: int | np.random.Generator | None = 0,
) -> Dataset:
    r"""``n_classes`` Gaussian blobs (std ``std``) centred on a circle of radius ``radius``; labels are
    int64 class indices ``0..n_classes-1``."""
    n = check_int("multiclass_blobs", "n", n, minimum=1)
    std = check_positive("multiclass_blobs", "std", std, strict=False)
    k = check_int("multiclass_blobs", "n_classes", n_classes, minimum=2)
    rng = _rng(seed)
    y = np.arange(n) % k
    angles = 2 * np.pi * np.arange(k) / k
    centres = radius * np.c_[np.cos(angles), np.sin(angles)]
    X = centres[y] + rng.normal(0.0, std, size=(n, 2))
    return _shuffled(rng, X, y.astype(np.int64))


@_register("spirals", "multiclass", "interleaved spirals (CS231n), integer labels")
def spirals(
    n: int = 300, n_classes: int = 2, noise: float = 0.2, seed: int | np.random.Generator | None = 0
) -> Dataset:
    r"""``n_classes`` interleaved spiral arms: arm :math:`k` has radii :math:`r` evenly spaced in
    :math:`[0, 1]`, angles :math:`\theta = 2\pi k/K + 4r + \text{noise}\cdot\varepsilon` and points
    :math:`r(\sin\theta, \cos\theta)` (the CS231n recipe); int64 labels."""
    n = check_int("spirals", "n", n, minimum=2)
    k = check_int("spirals", "n_classes", n_classes, minimum=2)
    noise = check_positive("spirals", "noise", noise, strict=False)
    rng = _rng(seed)
    y = np.arange(n) % k
    r = np.empty(n)
    for c in range(k):
        members = y == c
        r[members] = np.linspace(0.0, 1.0, int(members.sum()))
    theta = y * (2 * np.pi / k) + 4.0 * r + rng.normal(0.0, noise, size=n)
    X = np.c_[r * np.sin(theta), r * np.cos(theta)]
    return _shuffled(rng, X, y.astype(np.int64))


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> Dataset:
    order = rng.permutation(len(y))
    return Dataset(X[order], y[order])
