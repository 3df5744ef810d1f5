"""Figures for the class-imbalance lessons: the confusion matrix and the precision-recall curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_choice, check_number
from losslab.train import metrics as _metrics
from losslab.viz.style import (
    FONT,
    PALETTE,
    check_axes,
    colors_for,
    legend,
    new_figure,
    root_figure,
    style_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["confusion_matrix", "pr_curve", "precision_recall_points"]


def confusion_matrix(
    y_pred: npt.ArrayLike,
    y_true: npt.ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    normalize: str | None = None,
    threshold: float = 0.5,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Counts :math:`C_{ij}` of samples of true class :math:`i` predicted as class :math:`j`.

    Predicted labels follow :func:`losslab.train.metrics.accuracy`: the arg-max of a class axis,
    else ``y_pred > threshold`` (probabilities or scores of class 1). ``normalize="true"``
    divides each row by its class count (each row is then the recall of that class),
    ``"pred"`` each column, ``"all"`` the total (scikit-learn's convention). Each cell shows its
    value; ``labels`` name the classes.

    >>> import numpy as np, losslab as ll
    >>> fig = ll.viz.confusion_matrix(np.array([0.9, 0.2, 0.7, 0.1]), np.array([1, 0, 0, 0]))
    >>> fig.axes[0].images[0].get_array().tolist()
    [[2, 1], [0, 1]]
    """
    where = "confusion_matrix"
    pred, true = _metrics._labels(where, y_pred, y_true, check_number(where, "threshold", threshold))
    if normalize is not None:
        check_choice(where, "normalize", normalize, ("true", "pred", "all"))
    k = int(max(pred.max(), true.max())) + 1
    if labels is not None:
        if len(labels) < k:
            raise ValueError(f"{where}: labels must name all {k} classes, got {len(labels)}")
        k = len(labels)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (true, pred), 1)
    shown: np.ndarray = counts
    if normalize is not None:
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        total = counts.sum(axis=axis, keepdims=axis is not None)
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = np.where(total > 0, counts / np.where(total == 0, 1, total), 0.0)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(5.6 + 0.2 * k, 4.8 + 0.2 * k))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    bar = fig.colorbar(image, ax=ax)
    bar.ax.tick_params(labelsize=FONT["tick"])
    names = list(labels) if labels is not None else [str(i) for i in range(k)]
    top = float(shown.max()) if shown.size else 0.0
    for i in range(k):
        for j in range(k):
            v = shown[i, j]
            text = f"{v:.2f}" if normalize is not None else str(int(v))
            ax.text(j, i, text, ha="center", va="center", fontsize=FONT["label"],
                    color="white" if v > 0.5 * top else "black")  # fmt: skip
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    suffix = {None: "", "true": " (rows: recall)", "pred": " (columns: precision)", "all": " (fraction)"}[
        normalize
    ]
    style_axes(
        ax,
        title=title or f"Confusion matrix{suffix}",
        xlabel="predicted class",
        ylabel="true class",
        grid=False,
    )
    return fig


def precision_recall_points(y_score: npt.ArrayLike, y_true: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision at the score thresholds where recall rises, highest threshold first.

    The points behind :func:`losslab.train.metrics.average_precision`
    (:math:`\\sum_k (R_k - R_{k-1}) P_k`), starting from recall 0 at precision 1.

    >>> import numpy as np
    >>> r, p = precision_recall_points(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 0, 1, 0]))
    >>> r.tolist(), p.round(3).tolist()
    ([0.0, 0.5, 1.0], [1.0, 1.0, 0.667])
    """
    s, t = _metrics._binary_scores("pr_curve", y_score, y_true)
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(t)[last]
    precision = np.r_[1.0, tps / (last + 1)]
    recall = np.r_[0.0, tps / tps[-1]]
    rises = np.r_[True, np.diff(recall) > 0]  # thresholds that add no positive add no area
    return recall[rises], precision[rises]


def pr_curve(
    y_score: Any,
    y_true: npt.ArrayLike,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """Precision against recall over every threshold, with the average precision in the legend.

    ``y_score``: scores or probabilities of class 1, or a mapping label -> scores to compare
    models (``{"bce": p1, "focal": p2}``). The dashed line is the positive rate, the precision of
    a classifier that guesses. Steps follow the average-precision convention: precision
    :math:`P_k` over the recall interval :math:`(R_{k-1}, R_k]`.

    >>> import numpy as np, losslab as ll
    >>> fig = ll.viz.pr_curve(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 0, 1, 0]))
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'AP = 0.833'
    """
    where = "pr_curve"
    runs = [(str(k), v) for k, v in y_score.items()] if isinstance(y_score, Mapping) else [("", y_score)]
    if not runs:
        raise ValueError(f"{where}: y_score must hold at least one set of scores")
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(6.6, 5.4))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    t = np.asarray(y_true, dtype=np.float64).ravel()
    colors = colors_for([label for label, _ in runs]) if runs[0][0] else [PALETTE[0]]
    for i, (label, scores) in enumerate(runs):
        recall, precision = precision_recall_points(scores, y_true)
        ap = _metrics.average_precision(scores, y_true)
        color = colors[i]
        name = f"{label} (AP = {ap:.3f})" if label else f"AP = {ap:.3f}"
        ax.step(recall, precision, where="pre", color=color, linewidth=2.2, label=name)
    rate = float(t.mean())
    ax.axhline(rate, color="0.4", linestyle="--", linewidth=1.2, label=f"chance (positive rate {rate:.3g})")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.03)
    style_axes(ax, title=title or "Precision-recall curve", xlabel="recall", ylabel="precision")
    legend(ax, loc="best")
    return fig
