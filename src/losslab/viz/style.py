"""The one style of every losslab figure: colours, fonts, sizes and resolution.

A loss or an optimizer keeps its colour across all figures: ``mse`` is always the same blue,
``adam`` always the same green. Registered names have fixed colours; any other name gets one
from the palette by a stable hash of the name (the same in every process). Fonts are sized for
slides: a figure stays readable when projected or scaled down to half a page.

Sizes are passed to each artist explicitly (never through ``matplotlib.rcParams``), so a figure
never depends on or changes global state, and figures can be drawn from several threads at once.

>>> loss_color("mse") == loss_color("MSE") == loss_color("mse (δ=1)")
True
>>> optimizer_color("adam") != optimizer_color("sgd")
True
"""

from __future__ import annotations

import re
import textwrap
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from losslab._core.validation import check_positive

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "FIGSIZE",
    "FONT",
    "PALETTE",
    "SAVE_DPI",
    "loss_color",
    "new_figure",
    "optimizer_color",
    "root_figure",
    "style_axes",
]

#: Screen resolution of new figures (dots per inch); :func:`losslab.viz.save` keeps it unless told.
DPI = 100.0
#: Resolution the command line writes figures at.
SAVE_DPI = 150.0
#: Size of one panel in inches (width, height).
FIGSIZE = (7.0, 5.0)
#: Font sizes in points.
FONT = {"title": 15.0, "suptitle": 16.0, "label": 13.0, "tick": 11.0, "legend": 11.0, "annotation": 10.0}

#: Okabe-Ito colours (readable by colour-blind viewers), then darker extras.
PALETTE = (
    "#0072b2",  # blue
    "#d55e00",  # vermilion
    "#009e73",  # bluish green
    "#e69f00",  # orange
    "#cc79a7",  # reddish purple
    "#56b4e9",  # sky blue
    "#8c564b",  # brown
    "#6a3d9a",  # violet
    "#b8860b",  # dark goldenrod
    "#2f4f4f",  # dark slate
)

_LOSS_COLORS = {
    "mse": PALETTE[0],
    "mae": PALETTE[1],
    "huber": PALETTE[2],
    "smooth_l1": PALETTE[3],
    "log_cosh": PALETTE[4],
    "quantile": PALETTE[5],
    "asymmetric_mse": PALETTE[6],
    "asymmetric_huber": PALETTE[7],
    "poisson_nll": PALETTE[8],
    "binary_cross_entropy": PALETTE[0],
    "binary_focal": PALETTE[1],
    "hinge": PALETTE[2],
    "squared_hinge": PALETTE[3],
    "smoothed_hinge": PALETTE[4],
    "categorical_cross_entropy": PALETTE[5],
    "sparse_categorical_cross_entropy": PALETTE[5],
    "categorical_focal": PALETTE[6],
    "multiclass_hinge": PALETTE[7],
    "kl_divergence": PALETTE[8],
    "js_divergence": PALETTE[9],
}
_LOSS_ALIASES = {
    "l2": "mse",
    "l1": "mae",
    "bce": "binary_cross_entropy",
    "log_loss": "binary_cross_entropy",
    "cce": "categorical_cross_entropy",
    "scce": "sparse_categorical_cross_entropy",
    "pinball": "quantile",
    "focal": "binary_focal",
}
_OPTIMIZER_COLORS = {
    "gd": PALETTE[0],
    "sgd": PALETTE[0],
    "momentum": PALETTE[1],
    "nesterov": PALETTE[3],
    "adam": PALETTE[2],
    "adamw": PALETTE[5],
    "rmsprop": PALETTE[4],
    "adagrad": PALETTE[6],
    "newton": PALETTE[7],
}


def _key(name: str) -> str:
    """The leading identifier of a label, lower-cased: ``"Huber (δ=2)"`` -> ``"huber"``."""
    match = re.match(r"\s*([A-Za-z0-9_\-]+)", str(name))
    return (match.group(1) if match else str(name)).lower().replace("-", "_")


def _hashed(name: str) -> str:
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


def loss_color(name: str) -> str:
    """The colour of a loss (by registered name, alias or a label starting with one)."""
    key = _key(name)
    key = _LOSS_ALIASES.get(key, key)
    return _LOSS_COLORS.get(key, _hashed(key))


def optimizer_color(name: str) -> str:
    """The colour of an optimizer (by registered name or a label starting with one)."""
    key = _key(name)
    return _OPTIMIZER_COLORS.get(key, _hashed(key))


def color_for(name: str) -> str:
    """A loss's colour if ``name`` names a loss, else an optimizer's, else a stable hashed one."""
    key = _key(name)
    key = _LOSS_ALIASES.get(key, key)
    if key in _LOSS_COLORS:
        return _LOSS_COLORS[key]
    return _OPTIMIZER_COLORS.get(key, _hashed(key))


def colors_for(labels: Sequence[str]) -> list[str]:
    """One colour per label of a figure: each label's stable colour (:func:`color_for`), except
    that a label whose colour an earlier label already holds gets the first palette colour no
    label holds -- so the same names get the same colours in every figure and no two curves or
    bars of one figure share one (while the palette lasts)."""
    wanted = [color_for(label) for label in labels]
    out: list[str] = []
    for c in wanted:
        if c in out:
            free = [p for p in PALETTE if p not in out and p not in wanted]
            c = free[0] if free else next((p for p in PALETTE if p not in out), c)
        out.append(c)
    return out


LINESTYLES = ("-", "--", ":", "-.")


def distinct_styles(colors: Sequence[str]) -> list[str]:
    """A line style per entry so entries sharing a colour stay distinguishable (solid first)."""
    seen: dict[str, int] = {}
    out = []
    for c in colors:
        k = seen.get(c, 0)
        out.append(LINESTYLES[k % len(LINESTYLES)])
        seen[c] = k + 1
    return out


def check_dpi(where: str, dpi: Any) -> float:
    """``dpi`` as a positive float (``None``: :data:`DPI`)."""
    return DPI if dpi is None else check_positive(where, "dpi", dpi)


def new_figure(
    where: str, *, ncols: int = 1, nrows: int = 1, dpi: Any = None, panel: tuple[float, float] = FIGSIZE
) -> Figure:
    """A blank :class:`~matplotlib.figure.Figure` (no pyplot) sized for ``nrows x ncols`` panels.

    Constrained layout keeps titles, labels and legends from overlapping.
    """
    from matplotlib.figure import Figure

    size = (panel[0] * ncols, panel[1] * nrows)
    return Figure(figsize=size, dpi=check_dpi(where, dpi), layout="constrained")


def suptitle(fig: Figure, text: str) -> None:
    """The figure's title, wrapped at spaces to the figure's width (a long title -- a model's full
    description -- would otherwise run off both edges); spaces inside ``$...$`` math never break."""
    size = FONT["suptitle"]
    per_line = max(20, int(fig.get_figwidth() * 72 / (0.6 * size)))  # average glyph about 0.6 em
    held = re.sub(r"\$[^$]*\$", lambda m: m.group(0).replace(" ", "\0"), text)
    lines = textwrap.wrap(held, per_line, break_long_words=False, break_on_hyphens=False) or [""]
    fig.suptitle("\n".join(line.replace("\0", " ") for line in lines), fontsize=size)


def root_figure(ax: Axes) -> Figure:
    """The top-level figure holding ``ax`` (through sub-figures)."""
    fig: Any = ax.figure
    while getattr(fig, "figure", fig) is not fig:
        fig = fig.figure
    return fig


def check_axes(where: str, ax: Any) -> Axes:
    """``ax`` must be a matplotlib Axes."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"{where}: ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def style_axes(
    ax: Axes,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    grid: bool = True,
) -> None:
    """Slide-sized title, labels and ticks, and a light grid."""
    if title is not None:
        ax.set_title(title, fontsize=FONT["title"])
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=FONT["label"])
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.tick_params(labelsize=FONT["tick"])
    if grid:
        ax.grid(True, alpha=0.3)


def legend(ax: Axes, **kwargs: Any) -> None:
    """A legend in the slide font size (only when something carries a label)."""
    handles, labels = ax.get_legend_handles_labels()
    if labels:
        kwargs.setdefault("fontsize", FONT["legend"])
        kwargs.setdefault("framealpha", 0.9)
        ax.legend(**kwargs)
