r"""Evaluation metrics for classification and regression.

Argument order is ``(y_pred, y_true)`` as everywhere in losslab (scikit-learn uses
``(y_true, y_pred)``). ``y_pred`` holds what a model's ``apply`` returns: probabilities or scores
``(n,)``/``(n, 1)`` for binary tasks (thresholded with ``> threshold``, as Keras'
``binary_accuracy``), class probabilities ``(n, C)`` for multiclass tasks (``argmax``), or values
for regression. A ratio with a zero denominator is 0 (scikit-learn's ``zero_division=0``).

======================= ==========================================================================
metric                  definition
======================= ==========================================================================
accuracy                fraction of correct predicted labels
precision               :math:`TP / (TP + FP)`
recall                  :math:`TP / (TP + FN)`
f1                      :math:`2PR / (P + R)`
roc_auc                 area under the ROC curve = :math:`P(s_+ > s_-) + \tfrac12 P(s_+ = s_-)`
                        (Mann-Whitney U with average ranks; equals the trapezoidal area)
pr_auc                  average precision :math:`\sum_k (R_k - R_{k-1}) P_k` over the distinct
                        score thresholds (scikit-learn's ``average_precision_score``; no
                        interpolation)
confusion_matrix        :math:`C_{ij}` = number of samples of true class :math:`i` predicted as
                        :math:`j` (rows true, columns predicted: scikit-learn's layout)
r2                      :math:`1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` (1 for a perfect fit
                        of a constant target, 0 for an imperfect one, as scikit-learn)
mae                     :math:`\frac1n \sum |\hat y - y|`
rmse                    :math:`\sqrt{\frac1n \sum (\hat y - y)^2}`
======================= ==========================================================================

``precision``, ``recall`` and ``f1`` take ``average``: ``"auto"`` (default: ``"binary"`` -- class
1 -- for one score per sample, ``"macro"`` for class probabilities), ``"binary"``, ``"macro"``
(unweighted mean over the classes), ``"micro"`` (from the pooled counts), or ``None``: one value
per class :math:`0, \dots, K-1` (scikit-learn's ``average=None``; 002 §11 Q3's per-class recall).
The metrics ``precision_per_class``, ``recall_per_class``, ``f1_per_class`` and
``confusion_matrix`` return arrays; :func:`~losslab.train.fit` keeps array-valued metrics per
epoch in ``history.arrays``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_choice, check_int, check_number

__all__ = [
    "accuracy",
    "average_precision",
    "confusion_matrix",
    "f1",
    "f1_per_class",
    "get",
    "mae",
    "names",
    "pr_auc",
    "precision",
    "precision_per_class",
    "r2",
    "recall",
    "recall_per_class",
    "rmse",
    "roc_auc",
]

Average = Literal["auto", "binary", "macro", "micro"]


def _real(where: str, name: str, x: npt.ArrayLike) -> np.ndarray:
    """``x`` as a finite real array (``TypeError`` for non-numbers, ``ValueError`` for NaN/inf)."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be array-like of numbers, got {type(x).__name__}") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{where}: {name} must hold real numbers, got dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{where}: {name} must be real, got dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"{where}: {name} contains NaN or infinite values")
    return a


def _arrays(where: str, y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = _real(where, "y_pred", y_pred).astype(np.float64, copy=False)
    t = _real(where, "y_true", y_true)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if p.shape[0:1] != t.shape[0:1] or p.size == 0:
        raise ValueError(
            f"{where}: y_pred and y_true must hold the same (non-zero) number of samples, "
            f"got shapes {p.shape} and {t.shape}"
        )
    return p, t


def _labels(
    where: str, y_pred: npt.ArrayLike, y_true: npt.ArrayLike, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and true integer labels (argmax over a class axis, else ``y_pred > threshold``)."""
    threshold = check_number(where, "threshold", threshold)
    p, t = _arrays(where, y_pred, y_true)
    if p.ndim == 2:
        pred = p.argmax(axis=1)
        true = t.argmax(axis=1) if t.ndim == 2 else t
    else:
        pred = (p > threshold).astype(np.int64)
        true = t
    true = np.asarray(true)
    if true.shape != pred.shape:
        raise ValueError(f"{where}: y_true must hold one label per sample, got shape {np.shape(y_true)}")
    if not np.all(true == np.round(true)):
        raise ValueError(f"{where}: y_true must hold integer labels (or one-hot rows)")
    low, high = (float(true.min()), float(true.max())) if true.size else (0.0, 0.0)
    if not (low >= 0 and high < 2**31):
        raise ValueError(
            f"{where}: y_true must hold class labels in [0, 2**31), got labels from {low:g} to {high:g}"
        )
    return pred, true.astype(np.int64)


def accuracy(y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted label equals ``y_true``."""
    pred, true = _labels("accuracy", y_pred, y_true, threshold)
    return float(np.mean(pred == true))


def _n_classes(y_pred: npt.ArrayLike, pred: np.ndarray, true: np.ndarray) -> int:
    shape = np.shape(y_pred)
    if len(shape) == 2 and shape[1] > 1:
        return int(shape[1])
    return max(int(pred.max(initial=0)), int(true.max(initial=0)), 1) + 1


#: The most classes a confusion matrix (``K x K`` counts) is built for.
MAX_CLASSES = 4096


def confusion_matrix(
    y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5, n_classes: int | None = None
) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j``, shape ``(K, K)``.

    ``K`` = ``n_classes``, else the number of columns of class probabilities, else the largest
    label + 1 (at least 2).

    >>> confusion_matrix([0.9, 0.2, 0.7, 0.1], [1, 0, 0, 1]).tolist()
    [[1, 1], [1, 1]]
    """
    pred, true = _labels("confusion_matrix", y_pred, y_true, threshold)
    if n_classes is None:
        k = _n_classes(y_pred, pred, true)
        if k > MAX_CLASSES:
            raise ValueError(
                f"confusion_matrix: y_true's largest label implies {k} classes, more than {MAX_CLASSES}"
            )
    else:
        k = check_int("confusion_matrix", "n_classes", n_classes, minimum=1)
        if k > MAX_CLASSES:
            raise ValueError(f"confusion_matrix: n_classes must be at most {MAX_CLASSES}, got n_classes={k}")
    if pred.size and (
        max(int(pred.max()), int(true.max())) >= k or min(int(pred.min()), int(true.min())) < 0
    ):
        raise ValueError(
            f"confusion_matrix: y_true and predicted labels must be in [0, {k}), got {sorted(set(true.tolist()))}"
        )
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def _counts(pred: np.ndarray, true: np.ndarray, cls: int) -> tuple[int, int, int]:
    tp = int(np.sum((pred == cls) & (true == cls)))
    fp = int(np.sum((pred == cls) & (true != cls)))
    fn = int(np.sum((pred != cls) & (true == cls)))
    return tp, fp, fn


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _prf(
    where: str,
    y_pred: npt.ArrayLike,
    y_true: npt.ArrayLike,
    threshold: float,
    average: Average | None,
) -> tuple[Any, Any, Any]:
    pred, true = _labels(where, y_pred, y_true, threshold)
    multiclass = np.ndim(y_pred) == 2 and np.shape(y_pred)[1] > 1
    if average is None:
        C = confusion_matrix(y_pred, y_true, threshold=threshold).astype(np.float64)
        hits = np.diag(C)
        with np.errstate(invalid="ignore", divide="ignore"):
            pc = np.where(C.sum(axis=0) > 0, hits / C.sum(axis=0), 0.0)
            rc = np.where(C.sum(axis=1) > 0, hits / C.sum(axis=1), 0.0)
            fc = np.where(pc + rc > 0, 2 * pc * rc / (pc + rc), 0.0)
        return pc, rc, fc
    if average == "auto":
        average = "macro" if multiclass else "binary"
    check_choice(where, "average", average, ("auto", "binary", "macro", "micro", None))
    if average == "binary":
        tp, fp, fn = _counts(pred, true, 1)
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return p, r, _ratio(2 * p * r, p + r)
    classes = np.union1d(pred, true)
    counts = np.array([_counts(pred, true, int(c)) for c in classes], dtype=np.float64)
    if average == "micro":
        tp, fp, fn = counts.sum(axis=0)
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return p, r, _ratio(2 * p * r, p + r)
    ps = [_ratio(tp, tp + fp) for tp, fp, _ in counts]
    rs = [_ratio(tp, tp + fn) for tp, _, fn in counts]
    fs = [_ratio(2 * p * r, p + r) for p, r in zip(ps, rs)]
    return float(np.mean(ps)), float(np.mean(rs)), float(np.mean(fs))


def precision(
    y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5, average: Average | None = "auto"
) -> Any:
    """:math:`TP/(TP+FP)` for the positive class 1 (``average="macro"``/``"micro"`` for several
    classes).

    ``average=None``: one value per class (an array), as scikit-learn.
    """
    return _prf("precision", y_pred, y_true, threshold, average)[0]


def precision_per_class(
    y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5
) -> np.ndarray:
    """``precision(..., average=None)``: one value per class :math:`0, \\dots, K-1`."""
    return np.asarray(_prf("precision", y_pred, y_true, threshold, None)[0])


def recall(
    y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5, average: Average | None = "auto"
) -> Any:
    """:math:`TP/(TP+FN)` for the positive class 1 (``average="macro"``/``"micro"`` for several
    classes).

    ``average=None``: one value per class (an array), as scikit-learn.
    """
    return _prf("recall", y_pred, y_true, threshold, average)[1]


def recall_per_class(y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5) -> np.ndarray:
    """``recall(..., average=None)``: one value per class :math:`0, \\dots, K-1`."""
    return np.asarray(_prf("recall", y_pred, y_true, threshold, None)[1])


def f1(
    y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5, average: Average | None = "auto"
) -> Any:
    """Harmonic mean of precision and recall, :math:`2PR/(P+R)`.

    ``average=None``: one value per class (an array), as scikit-learn.
    """
    return _prf("f1", y_pred, y_true, threshold, average)[2]


def f1_per_class(y_pred: npt.ArrayLike, y_true: npt.ArrayLike, *, threshold: float = 0.5) -> np.ndarray:
    """``f1(..., average=None)``: one value per class :math:`0, \\dots, K-1`."""
    return np.asarray(_prf("f1", y_pred, y_true, threshold, None)[2])


def _binary_scores(
    where: str, y_score: npt.ArrayLike, y_true: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    s, t = _arrays(where, y_score, y_true)
    if s.ndim != 1:
        raise ValueError(f"{where}: y_pred must hold one score per sample (binary task), got shape {s.shape}")
    t = np.asarray(t, dtype=np.float64)
    if not np.all((t == 0) | (t == 1)):
        raise ValueError(f"{where}: y_true must hold binary labels 0 or 1")
    n_pos = int(t.sum())
    if n_pos == 0 or n_pos == t.size:
        raise ValueError(f"{where}: y_true must contain both classes; the score is undefined otherwise")
    return s, t


def roc_auc(y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> float:
    r"""Area under the ROC curve (Mann-Whitney, average ranks for ties):

    .. math:: \mathrm{AUC} = \Big(\sum_{i: y_i=1} \mathrm{rank}(s_i) - n_+(n_+ + 1)/2\Big) / (n_+ n_-)
    """
    s, t = _binary_scores("roc_auc", y_pred, y_true)
    from scipy.stats import rankdata  # (scipy.stats is slow to import: only when used)

    ranks = rankdata(s)  # average ranks for ties
    n_pos = t.sum()
    n_neg = t.size - n_pos
    return float((ranks[t == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> float:
    r"""Average precision :math:`\sum_k (R_k - R_{k-1}) P_k` over the distinct score thresholds."""
    s, t = _binary_scores("average_precision", y_pred, y_true)
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # the last index of each tie group
    tps = np.cumsum(t)[last]
    fps = (last + 1) - tps
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


pr_auc = average_precision


def _regression(where: str, y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p, t = _arrays(where, y_pred, y_true)
    t = np.asarray(t, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"{where}: y_pred and y_true must have the same shape, got {p.shape} and {t.shape}")
    return p, t


def r2(y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> float:
    r"""Coefficient of determination :math:`1 - SS_{res}/SS_{tot}` (averaged over output columns)."""
    p, t = _regression("r2", y_pred, y_true)
    p2, t2 = p.reshape(p.shape[0], -1), t.reshape(t.shape[0], -1)
    ss_res = np.sum((t2 - p2) ** 2, axis=0)
    ss_tot = np.sum((t2 - t2.mean(axis=0)) ** 2, axis=0)
    scores = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), (ss_res == 0) * 1.0)
    return float(np.mean(scores))


def mae(y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> float:
    r"""Mean absolute error :math:`\frac1n\sum|\hat y - y|`."""
    p, t = _regression("mae", y_pred, y_true)
    return float(np.mean(np.abs(p - t)))


def rmse(y_pred: npt.ArrayLike, y_true: npt.ArrayLike) -> float:
    r"""Root mean squared error :math:`\sqrt{\frac1n\sum(\hat y - y)^2}`."""
    p, t = _regression("rmse", y_pred, y_true)
    return float(np.sqrt(np.mean((p - t) ** 2)))


_METRICS: dict[str, Callable[..., Any]] = {
    "accuracy": accuracy,
    "precision": precision,
    "recall": recall,
    "f1": f1,
    "precision_per_class": precision_per_class,
    "recall_per_class": recall_per_class,
    "f1_per_class": f1_per_class,
    "confusion_matrix": confusion_matrix,
    "roc_auc": roc_auc,
    "pr_auc": average_precision,
    "average_precision": average_precision,
    "r2": r2,
    "mae": mae,
    "rmse": rmse,
}

#: The metrics reported by default for each task.
DEFAULTS: dict[str, tuple[str, ...]] = {
    "regression": ("r2", "mae", "rmse"),
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"),
    "multiclass": ("accuracy", "f1"),
}


def names() -> list[str]:
    """The metric names."""
    return sorted(_METRICS)


def get(name: str | Callable[..., Any]) -> Callable[..., float]:
    """The metric called ``name`` (a callable ``(y_pred, y_true) -> float`` passes through)."""
    if callable(name):
        return name
    check_choice("metrics", "name", name, sorted(_METRICS))
    return _METRICS[name]
