"""Two generic figures for numbers that are neither a loss, a history nor a surface.

:func:`series` draws labelled curves of plain numbers (a learning rate per step, a measured
shift against a weight, a per-step loss that overflowed); :func:`bars` draws grouped bars with
optional error bars (held-out scores of several variants). The experiments' figures use them
where no curriculum figure fits.

>>> import losslab as ll
>>> fig = ll.viz.series({"a": [1.0, 2.0, float("inf")], "b": ([0, 2], [3.0, 1.0])})
>>> [line.get_label() for line in fig.axes[0].lines]
['a (non-finite from x=2)', 'b']
>>> fig = ll.viz.bars({"accuracy": {"hard": 0.9, "smoothed": 0.91}}, errors={"accuracy": {"hard": 0.01}})
>>> [round(float(p.get_height()), 2) for p in fig.axes[0].patches]
[0.9, 0.91]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from losslab._core.validation import check_bool
from losslab.viz.style import FONT, check_axes, colors_for, legend, new_figure, root_figure, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["bars", "series"]


def _axes(where: str, ax: Axes | None, dpi: float | None, panel: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=panel)
        return fig, fig.add_subplot()
    return root_figure(check_axes(where, ax)), ax


def _vector(where: str, name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: {name} must be a sequence of numbers, got {type(value).__name__}"
        ) from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{where}: {name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}"
        )
    return arr


def series(
    curves: Mapping[str, Any],
    *,
    x: Any = None,
    points: Sequence[str] = (),
    log: bool = False,
    xlabel: str = "step",
    ylabel: str = "value",
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Labelled curves :math:`y_k(x)` of plain numbers on one axis.

    ``curves`` maps a label to its y-values, or to an ``(x, y)`` pair when curves have their own
    x. Without a pair, ``x`` (shared by every curve) is used, else the index
    :math:`0, 1, \dots, n-1`. Labels in ``points`` are drawn as markers only (measurements
    against a theory line). Non-finite values (a run that overflowed) and, with ``log=True``,
    non-positive ones are left out, and the label says from which x on the curve stopped being
    finite.

    >>> fig = series({"lr": [0.1, 0.05, 0.025]}, xlabel="epoch", log=True)
    >>> fig.axes[0].get_yscale(), fig.axes[0].get_xlabel()
    ('log', 'epoch')
    """
    where = "series"
    if not isinstance(curves, Mapping):
        raise TypeError(f"{where}: curves must be a mapping label -> values, got {type(curves).__name__}")
    if not curves:
        raise ValueError(f"{where}: curves must hold at least one curve")
    log = check_bool(where, "log", log)
    missing = [p for p in points if p not in curves]
    if missing:
        raise ValueError(
            f"{where}: points names {missing!r}, which are not among the curves {list(curves)!r}"
        )
    shared = None if x is None else _vector(where, "x", x)
    fig, ax = _axes(where, ax, dpi, (7.5, 4.8))
    colors = colors_for([str(label) for label in curves])
    for i, (label, value) in enumerate(curves.items()):
        if isinstance(value, tuple) and len(value) == 2:
            xs, ys = _vector(where, f"{label} x", value[0]), _vector(where, f"{label} y", value[1])
        else:
            ys = _vector(where, str(label), value)
            xs = np.arange(ys.size, dtype=np.float64) if shared is None else shared
        if xs.size != ys.size:
            raise ValueError(f"{where}: {label} has {ys.size} values but {xs.size} x positions")
        finite = np.isfinite(ys)
        text = str(label)
        if not finite.all():
            text += f" (non-finite from x={xs[int(np.argmin(finite))]:g})"
        keep = finite & (ys > 0) if log else finite
        style = (
            {"linestyle": "none", "marker": "o", "markersize": 7} if label in points else {"linewidth": 2.2}
        )
        ax.plot(xs[keep], ys[keep], color=colors[i], label=text, **style)
    if log:
        ax.set_yscale("log")
    style_axes(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    legend(ax, loc="best")
    return fig


def bars(
    groups: Mapping[str, Mapping[str, float]],
    *,
    errors: Mapping[str, Mapping[str, float]] | None = None,
    ylabel: str = "value",
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """Grouped bars: one group per key of ``groups``, one bar per variant inside it.

    ``groups`` maps a group (a score's name) to ``{variant: value}``; a variant keeps its colour
    across groups. ``errors`` has the same shape (any part may be left out) and draws error bars
    (a standard error, say). The value is printed above each bar.

    >>> fig = bars({"recall": {"bce": 0.2, "focal": 0.6}, "precision": {"bce": 0.8, "focal": 0.5}})
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['recall', 'precision']
    """
    where = "bars"
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError(f"{where}: groups must be a non-empty mapping group -> {{variant: value}}")
    variants: list[str] = []
    for g, members in groups.items():
        if not isinstance(members, Mapping) or not members:
            raise ValueError(f"{where}: group {g!r} must be a non-empty mapping variant -> value")
        variants += [str(v) for v in members if str(v) not in variants]
    errors = errors or {}
    fig, ax = _axes(where, ax, dpi, (max(6.0, 1.2 + 0.9 * len(groups) * len(variants)), 4.8))
    width = 0.8 / len(variants)
    colors = colors_for(variants)  # a loss or optimizer keeps its colour from the other figures
    for j, variant in enumerate(variants):
        xs, hs, es = [], [], []
        for i, (g, members) in enumerate(groups.items()):
            if variant in members:
                xs.append(i - 0.4 + width * (j + 0.5))
                hs.append(float(_vector(where, f"{g}/{variant}", [members[variant]])[0]))
                es.append(float(errors.get(g, {}).get(variant, 0.0)))
        drawn = ax.bar(xs, hs, width * 0.92, yerr=es if any(es) else None, capsize=4,
                       color=colors[j], label=variant)  # fmt: skip
        ax.bar_label(drawn, fmt="%.3g", fontsize=FONT["annotation"], padding=2)
    ax.set_xticks(range(len(groups)), [str(g) for g in groups])
    ax.margins(y=0.12)
    style_axes(ax, title=title, ylabel=ylabel)
    ax.grid(False, axis="x")
    legend(ax, loc="best")
    return fig
