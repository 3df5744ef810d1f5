r"""Surfaces, contours and optimizer paths.

A surface is given as

- a test function (``ll.landscape.functions.get("rosenbrock")``: anything with ``value``
  vectorized over points on the last axis and ``limits``), sampled on a ``resolution`` grid;
- a triple ``(X, Y, Z)`` of meshgrid arrays, as ``ll.landscape.linear_regression_surface``
  returns them;
- a triple ``(x, y, Z)`` of 1-D axes and values with ``Z[i, j]`` at ``(x[j], y[i])`` (NumPy's
  ``meshgrid`` "xy" convention).

Levels are log-spaced above the minimum when the surface's range needs them (most of the
area near the bottom of a steep surface: Rosenbrock, a badly conditioned bowl), so contours stay
visible near the minimum; otherwise evenly spaced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from losslab._core.validation import check_bool, check_choice, check_int
from losslab.viz.style import (
    FONT,
    check_axes,
    distinct_styles,
    legend,
    new_figure,
    optimizer_color,
    root_figure,
    style_axes,
    suptitle,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.contour import QuadContourSet
    from matplotlib.figure import Figure

__all__ = [
    "Grid",
    "animate_race",
    "auto_levels",
    "contour",
    "convergence",
    "grid_of",
    "paths",
    "surface_3d",
    "thin",
]


@dataclass(frozen=True)
class Grid:
    """A sampled surface: axes ``x`` (nx,), ``y`` (ny,), values ``Z`` (ny, nx), its minima and names."""

    x: np.ndarray
    y: np.ndarray
    Z: np.ndarray
    minima: tuple[np.ndarray, ...]
    name: str = ""
    xlabel: str = "w1"
    ylabel: str = "w2"
    #: the surface's known lowest value (a test function's minimum), below the grid's when off-grid
    zmin: float | None = None

    @property
    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        return np.meshgrid(self.x, self.y)


def _is_function(obj: Any) -> bool:
    return callable(getattr(obj, "value", None)) and getattr(obj, "limits", None) is not None


def _axis(where: str, name: str, a: np.ndarray) -> np.ndarray:
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{where}: {name} must be a 1-D axis of at least 2 values, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{where}: {name} must be finite")
    d = np.diff(a)
    if not (np.all(d > 0) or np.all(d < 0)):
        raise ValueError(f"{where}: {name} must be strictly monotonic")
    return a


def grid_of(
    where: str,
    surface: Any,
    *,
    resolution: int = 200,
    limits: Sequence[Sequence[float]] | None = None,
    labels: tuple[str, str] | None = None,
) -> Grid:
    """Any accepted surface (see the module docstring) as a :class:`Grid`."""
    if isinstance(surface, Grid):
        return surface
    if _is_function(surface):
        resolution = check_int(where, "resolution", resolution, minimum=2)
        (x0, x1), (y0, y1) = surface.limits if limits is None else limits
        x = np.linspace(float(x0), float(x1), resolution)
        y = np.linspace(float(y0), float(y1), resolution)
        gx, gy = np.meshgrid(x, y)
        with np.errstate(over="ignore", invalid="ignore"):
            Z = np.asarray(surface.value(np.stack([gx, gy], axis=-1)), dtype=np.float64)
        if Z.shape != gx.shape:
            raise ValueError(
                f"{where}: the function's value must be vectorized over points on the last axis; "
                f"a {gx.shape} grid gave shape {Z.shape}"
            )
        minima = tuple(np.asarray(m, dtype=np.float64) for m in getattr(surface, "minima", ()))
        xl, yl = labels or ("w1", "w2")
        zmin = getattr(surface, "minimum_value", None)
        if zmin is None and minima:
            zmin = min(float(surface.value(m)) for m in minima)
        return Grid(x, y, Z, minima, str(getattr(surface, "name", "")), xl, yl, zmin)
    if isinstance(surface, (tuple, list)) and len(surface) == 3:
        X, Y, Z = (np.asarray(a, dtype=np.float64) for a in surface)
        if Z.ndim != 2:
            raise ValueError(f"{where}: Z must be 2-D (len(y), len(x)), got shape {Z.shape}")
        if X.ndim == 2 and Y.ndim == 2:
            if X.shape != Z.shape or Y.shape != Z.shape:
                raise ValueError(
                    f"{where}: meshgrid arrays X {X.shape}, Y {Y.shape} and Z {Z.shape} must share one shape"
                )
            x, y = X[0, :], Y[:, 0]
            if not (np.allclose(X, x[None, :]) and np.allclose(Y, y[:, None])):
                raise ValueError(
                    f"{where}: X and Y must be a meshgrid in the 'xy' convention (X varies along columns)"
                )
        elif X.ndim == 1 and Y.ndim == 1:
            x, y = X, Y
            if Z.shape != (y.size, x.size):
                raise ValueError(
                    f"{where}: Z must have shape (len(y), len(x)) = ({y.size}, {x.size}) with Z[i, j] at "
                    f"(x[j], y[i]), got {Z.shape}"
                )
        else:
            raise ValueError(
                f"{where}: give (X, Y, Z) as meshgrid arrays or 1-D axes, got X {X.shape} and Y {Y.shape}"
            )
        x, y = _axis(where, "x", x), _axis(where, "y", y)
        finite = np.isfinite(Z)
        if not finite.any():
            raise ValueError(f"{where}: Z has no finite value")
        i, j = np.unravel_index(np.argmin(np.where(finite, Z, np.inf)), Z.shape)
        xl, yl = labels or ("x", "y")
        return Grid(x, y, Z, (np.array([x[j], y[i]]),), "", xl, yl)
    raise TypeError(
        f"{where}: expected a test function (with value and limits), an (X, Y, Z) triple or "
        f"(x, y, Z) axes and values, got {type(surface).__name__}"
    )


def auto_levels(
    Z: np.ndarray, n: int = 30, *, log: bool | None = None, zmin: float | None = None
) -> tuple[np.ndarray, bool]:
    """``n`` contour levels for ``Z`` and whether they are log-spaced above the minimum.

    Log spacing is chosen when more than 40 % of the grid lies in the bottom tenth of the range
    (a steep surface with most of its area near the floor, where even levels would leave the
    region around the minimum empty).
    """
    finite = Z[np.isfinite(Z)]
    lo, hi = float(finite.min()), float(finite.max())
    if zmin is not None and math.isfinite(zmin):
        lo = min(lo, float(zmin))
    span = hi - lo
    if span <= 0:
        return np.array([lo]), False
    shifted = finite - lo
    if log is None:
        log = float(np.mean(shifted < 0.1 * span)) > 0.4
    if log:
        positive = shifted[shifted > 0]
        lowest = float(np.percentile(positive, 0.5)) if positive.size else span
        floor = max(min(lowest, span * 1e-3), span * 1e-7)
        return lo + np.geomspace(floor, span, n), True
    return np.linspace(lo, hi, n + 2)[1:-1], False


def _level_format(levels: np.ndarray) -> Any:
    def fmt(v: float) -> str:
        a = abs(v)
        if a >= 1e5 or (0 < a < 1e-3):
            return f"{v:.1e}"
        if a >= 100:
            return f"{v:.0f}"
        return f"{v:.3g}" if a >= 1 else f"{v:.2g}"

    return fmt


def _draw_contours(
    ax: Axes,
    g: Grid,
    levels: Any,
    log: bool | None,
    *,
    cmap: str,
    labels: bool,
    linewidths: float = 1.0,
    colors: Any = None,
) -> QuadContourSet:
    from matplotlib import colormaps

    Z = np.ma.masked_invalid(g.Z)
    if levels is None or isinstance(levels, (int, np.integer)):
        lv, _ = auto_levels(g.Z, 30 if levels is None else int(levels), log=log, zmin=g.zmin)
    else:
        lv = np.asarray(levels, dtype=np.float64)
    if colors is None:
        # one colour per level, evenly along the colormap: log-spaced levels get the whole range too
        colors = colormaps[cmap](np.linspace(0.0, 0.9, max(len(lv), 1)))
    gx, gy = g.mesh
    kwargs: dict[str, Any] = {"colors": colors}
    cs = ax.contour(gx, gy, Z, levels=lv, linewidths=linewidths, **kwargs)
    drawn = np.asarray(cs.levels)
    if labels and drawn.size > 0:
        # every few levels, skipping the innermost third where small closed contours crowd
        step = max(1, drawn.size // 8)
        ax.clabel(
            cs,
            drawn[drawn.size // 3 :: step],
            inline=True,
            fontsize=FONT["annotation"] - 1,
            fmt=_level_format(drawn),
        )
    return cs


def _mark_minima(ax: Axes, g: Grid, minimum: Any) -> None:
    if minimum is False:
        return
    points = (
        g.minima if minimum is None or minimum is True else tuple(np.atleast_2d(np.asarray(minimum, float)))
    )
    inside = [
        m for m in points if m.shape == (2,) and min(g.x) <= m[0] <= max(g.x) and min(g.y) <= m[1] <= max(g.y)
    ]
    for k, m in enumerate(inside):
        ax.plot(
            m[0], m[1], marker="*", color="#C00000", markersize=18, markeredgecolor="white", linestyle="none",
            zorder=6, label="minimum" if k == 0 else None,
        )  # fmt: skip


def contour(
    surface: Any,
    *,
    levels: int | Sequence[float] | None = None,
    log: bool | None = None,
    labels: bool = True,
    filled: bool = False,
    minimum: Any = None,
    resolution: int = 200,
    limits: Sequence[Sequence[float]] | None = None,
    axis_labels: tuple[str, str] | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Contour lines of a surface with its minimum marked (the curriculum's 000 cells 1-2).

    ``surface``: a test function, ``(X, Y, Z)`` meshgrid arrays or ``(x, y, Z)`` axes (module
    docstring). ``levels``: a count or explicit values; ``log`` forces log-spaced levels on or
    off (``None``: when the range needs them). ``labels`` writes level values on the lines;
    ``filled`` adds a colour fill and a colour bar. ``minimum``: ``None`` marks the function's
    known minima (or the grid's lowest point), ``False`` nothing, or give points ``(k, 2)``.

    >>> import numpy as np, losslab as ll
    >>> w, b = np.linspace(-1, 5, 30), np.linspace(-2, 4, 20)
    >>> W, B = np.meshgrid(w, b)
    >>> fig = ll.viz.contour((W, B, (W - 2) ** 2 + (B - 1) ** 2), axis_labels=("w", "b"))
    >>> ax = fig.axes[0]
    >>> len(ax.collections) > 0, ax.get_xlabel(), ax.get_legend().get_texts()[0].get_text()
    (True, 'w', 'minimum')
    """
    where = "contour"
    g = grid_of(where, surface, resolution=resolution, limits=limits, labels=axis_labels)
    labels = check_bool(where, "labels", labels)
    filled = check_bool(where, "filled", filled)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.5, 6.0))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    if filled:
        n_levels = 30 if levels is None else levels
        if isinstance(n_levels, (int, np.integer)):
            lv, _ = auto_levels(g.Z, int(n_levels), log=log, zmin=g.zmin)
        else:
            lv = np.asarray(n_levels, dtype=np.float64)
        gx, gy = g.mesh
        finite = g.Z[np.isfinite(g.Z)]
        # the fill covers the whole range: the band below the lowest line is coloured too
        bands = np.unique(np.r_[min(float(finite.min()), float(np.min(lv))), np.asarray(lv, dtype=np.float64),
                                max(float(finite.max()), float(np.max(lv)))])  # fmt: skip
        cf = ax.contourf(gx, gy, np.ma.masked_invalid(g.Z), levels=bands, cmap=cmap, alpha=0.85)
        from matplotlib.ticker import FuncFormatter

        bar = fig.colorbar(cf, ax=ax)
        # three significant digits: log-spaced bands near the minimum differ past the third decimal
        bar.formatter = FuncFormatter(lambda value, _: f"{value:.3g}")
        bar.update_ticks()
        bar.ax.tick_params(labelsize=FONT["tick"])
        _draw_contours(ax, g, lv, log, cmap=cmap, labels=labels, colors="black", linewidths=0.5)
    else:
        _draw_contours(ax, g, levels, log, cmap=cmap, labels=labels)
    _mark_minima(ax, g, minimum)
    name = f" of {g.name}" if g.name else ""
    style_axes(ax, title=title or f"Contours{name}", xlabel=g.xlabel, ylabel=g.ylabel, grid=False)
    ax.set_xlim(min(g.x), max(g.x))
    ax.set_ylim(min(g.y), max(g.y))
    legend(ax, loc="upper right")
    return fig


def surface_3d(
    surface: Any,
    *,
    log: bool = False,
    resolution: int = 80,
    limits: Sequence[Sequence[float]] | None = None,
    axis_labels: tuple[str, str] | None = None,
    zlabel: str = "loss",
    title: str | None = None,
    cmap: str = "viridis",
    with_contour: bool = True,
    dpi: float | None = None,
) -> Figure:
    r"""A 3-D surface plot, with the contour view beside it (the curriculum's 002 §7.3 figure).

    ``log=True`` draws :math:`\log_{10}(Z - \min Z + \epsilon)`, which shows a steep surface's
    valley floor. The minimum is marked on both panels.

    >>> import losslab as ll
    >>> fig = ll.viz.surface_3d(ll.landscape.functions.get("quadratic_bowl"), resolution=15)
    >>> fig.axes[0].name, fig.axes[0].get_zlabel()
    ('3d', 'loss')
    """
    where = "surface_3d"
    g = grid_of(where, surface, resolution=resolution, limits=limits, labels=axis_labels)
    fig = new_figure(where, ncols=2 if with_contour else 1, dpi=dpi, panel=(7.0, 5.8))
    ax3 = fig.add_subplot(1, 2 if with_contour else 1, 1, projection="3d")
    gx, gy = g.mesh
    Z = g.Z
    if check_bool(where, "log", log):
        finite = Z[np.isfinite(Z)]
        span = float(finite.max() - finite.min()) or 1.0
        Z = np.log10(Z - finite.min() + 1e-3 * span)
        zlabel = f"log10({zlabel} − min)"
    Zm = np.ma.masked_invalid(Z)
    ax3.plot_surface(gx, gy, Zm, cmap=cmap, linewidth=0, antialiased=True, alpha=0.9)
    for m in g.minima:
        if m.shape == (2,) and min(g.x) <= m[0] <= max(g.x) and min(g.y) <= m[1] <= max(g.y):
            j = int(np.argmin(np.abs(g.x - m[0])))
            i = int(np.argmin(np.abs(g.y - m[1])))
            ax3.scatter([m[0]], [m[1]], [float(Zm.min()) if np.ma.is_masked(Zm[i, j]) else float(Z[i, j])],
                        color="#C00000", marker="*", s=200, depthshade=False)  # fmt: skip
    ax3.set_xlabel(g.xlabel, fontsize=FONT["label"])
    ax3.set_ylabel(g.ylabel, fontsize=FONT["label"])
    ax3.set_zlabel(zlabel, fontsize=FONT["label"], labelpad=10)
    ax3.tick_params(labelsize=FONT["tick"] - 1)
    name = f" of {g.name}" if g.name else ""
    ax3.set_title(f"Surface{name}", fontsize=FONT["title"])
    if with_contour:
        ax2 = fig.add_subplot(1, 2, 2)
        contour(g, ax=ax2, cmap=cmap, title=f"Contours{name} (top-down view)")
    if title is not None:
        suptitle(fig, title)
    return fig


# --------------------------------------------------------------------------- optimizer paths


def _entry_path(where: str, entry: Any) -> np.ndarray:
    path = np.asarray(getattr(entry, "path", None), dtype=np.float64)
    if path.ndim != 2 or path.shape[1] < 2 or path.shape[0] < 1:
        name = getattr(entry, "name", "?")
        raise ValueError(f"{where}: the path of {name!r} must have shape (steps + 1, 2), got {path.shape}")
    return path[:, :2]


def thin(n: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` indices of ``range(n)``, evenly spread, first and last kept."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))


def diverged_step(entry: Any) -> int | None:
    """The step at which a race entry diverged (``None`` when it did not)."""
    if not getattr(entry, "diverged", False):
        return None
    k = getattr(entry, "diverged_step", None)
    return int(k) if k is not None else int(len(entry.path))


def entry_label(
    entry: Any, lrs: Mapping[str, float] | None = None, labels: Mapping[str, str] | None = None
) -> str:
    """``"adam (lr=0.25)"`` (or ``labels[name]``), with ``" — diverged at step k"`` when the run diverged."""
    name = str(getattr(entry, "name", "?"))
    lr = (lrs or {}).get(name, getattr(entry, "lr", None))
    label = name
    if labels and name in labels:
        label = str(labels[name])
    elif lr is not None and "lr=" not in name:
        label = f"{name} (lr={float(lr):g})"
    k = diverged_step(entry)
    if k is not None:
        label += f" — diverged at step {k}"
    return label


def _race_entries(where: str, results: Any) -> list[Any]:
    if isinstance(results, Mapping):
        results = list(results.values())
    if not isinstance(results, Sequence) or isinstance(results, (str, bytes)):
        raise TypeError(f"{where}: race_results must be a list of race entries, got {type(results).__name__}")
    if not results:
        raise ValueError(f"{where}: race_results must hold at least one entry")
    for e in results:
        if not hasattr(e, "name") or not hasattr(e, "path"):
            raise TypeError(f"{where}: each race entry needs name and path fields, got {type(e).__name__}")
    return list(results)


def _draw_paths(
    ax: Axes,
    entries: Sequence[Any],
    paths_: Sequence[np.ndarray],
    *,
    lrs: Mapping[str, float] | None,
    max_points: int,
    labels: Mapping[str, str] | None = None,
) -> list[tuple[Any, Any]]:
    """One line per run (and a cross where a diverged run ends); returns the artists per run."""
    colors = [optimizer_color(str(e.name)) for e in entries]
    styles = distinct_styles(colors)
    artists = []
    for e, c, s in zip(entries, colors, styles):
        (line,) = ax.plot(
            [],
            [],
            color=c,
            linestyle=s,
            linewidth=1.8,
            marker="o",
            markersize=3.5,
            label=entry_label(e, lrs, labels),
            zorder=4,
        )
        cross = None
        if diverged_step(e) is not None:
            (cross,) = ax.plot(
                [],
                [],
                marker="X",
                color=c,
                markersize=12,
                markeredgecolor="black",
                linestyle="none",
                zorder=5,
            )
        artists.append((line, cross))
    _show_upto(artists, paths_, None, max_points)
    return artists


def _show_upto(
    artists: Sequence[tuple[Any, Any]], paths_: Sequence[np.ndarray], upto: int | None, max_points: int
) -> None:
    """Set each run's line to its path up to step ``upto`` (all of it for ``None``), thinned."""
    for (line, cross), path in zip(artists, paths_):
        shown = path if upto is None else path[: upto + 1]
        pts = shown[thin(len(shown), max_points)]
        line.set_data(pts[:, 0], pts[:, 1])
        line.set_markevery(max(1, len(pts) // 40))
        if cross is not None:
            done = upto is None or upto >= len(path) - 1
            cross.set_data(pts[-1:, 0], pts[-1:, 1])
            cross.set_visible(done)


def paths(
    function_or_grid: Any,
    race_results: Any,
    *,
    lrs: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    levels: int | Sequence[float] | None = None,
    log: bool | None = True,
    max_points: int = 500,
    resolution: int = 200,
    limits: Sequence[Sequence[float]] | None = None,
    axis_labels: tuple[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Optimizer paths over the contours of a surface (the curriculum's 000 cell 3).

    ``race_results``: entries with ``name``, ``path`` ``(steps + 1, 2)`` and ``diverged`` (and
    optionally ``diverged_step`` and ``lr``), as :func:`losslab.train.race` and
    :func:`losslab.landscape.race` return them; ``lrs`` maps names to learning rates for the
    legend when the entries do not carry them, ``labels`` replaces a run's legend label
    (``{"momentum": "momentum (lr=0.3, β=0.9)"}``). The start is a black circle, the minimum a star,
    a diverged run ends in a cross and its legend says "diverged at step k". Paths longer than
    ``max_points`` are thinned evenly (first and last points kept). Levels are log-spaced above
    the minimum by default so they stay visible where the paths converge.

    >>> import losslab as ll
    >>> bowl = ll.landscape.functions.get("quadratic_bowl")
    >>> runs = ll.train.race(bowl, {"gd": ll.optim.sgd(lr=0.15), "adam": ll.optim.adam(lr=0.25)}, steps=30)
    >>> fig = ll.viz.paths(bowl, runs, lrs={"gd": 0.15, "adam": 0.25}, resolution=40)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['gd (lr=0.15)', 'adam (lr=0.25)', 'start', 'minimum']
    """
    where = "paths"
    entries = _race_entries(where, race_results)
    max_points = check_int(where, "max_points", max_points, minimum=2)
    g = grid_of(where, function_or_grid, resolution=resolution, limits=limits, labels=axis_labels)
    ps = [_entry_path(where, e) for e in entries]
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.5, 6.2))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    _paths_panel(ax, g, entries, ps, lrs=lrs, levels=levels, log=log, max_points=max_points, labels=labels)
    name = f" on {g.name}" if g.name else ""
    style_axes(ax, title=title or f"Optimizer paths{name}", xlabel=g.xlabel, ylabel=g.ylabel, grid=False)
    return fig


def _paths_panel(
    ax: Axes,
    g: Grid,
    entries: Sequence[Any],
    ps: Sequence[np.ndarray],
    *,
    lrs: Mapping[str, float] | None,
    levels: Any,
    log: bool | None,
    max_points: int,
    legend_outside: bool = False,
    labels: Mapping[str, str] | None = None,
) -> list[tuple[Any, Any]]:
    from matplotlib import colormaps

    lv = levels
    if lv is None or isinstance(lv, (int, np.integer)):
        lv, _ = auto_levels(g.Z, 25 if lv is None else int(lv), log=log, zmin=g.zmin)
    greys = colormaps["Greys"](np.linspace(0.3, 0.75, len(np.atleast_1d(lv))))
    _draw_contours(ax, g, lv, log, cmap="Greys", labels=True, colors=greys, linewidths=0.9)
    artists = _draw_paths(ax, entries, ps, lrs=lrs, max_points=max_points, labels=labels)
    starts = np.unique(np.stack([p[0] for p in ps]), axis=0)
    ax.plot(starts[:, 0], starts[:, 1], marker="o", color="black", markersize=9, linestyle="none",
            zorder=6, label="start")  # fmt: skip
    _mark_minima(ax, g, None)
    ax.set_xlim(min(g.x), max(g.x))
    ax.set_ylim(min(g.y), max(g.y))
    if legend_outside:
        legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        legend(ax, loc="best")
    return artists


def animate_race(
    function_or_grid: Any,
    race_results: Any,
    path: Any,
    *,
    max_frames: int = 60,
    fps: int = 12,
    lrs: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    levels: int | Sequence[float] | None = None,
    log: bool | None = True,
    max_points: int = 500,
    resolution: int = 150,
    limits: Sequence[Sequence[float]] | None = None,
    axis_labels: tuple[str, str] | None = None,
    title: str | None = None,
    dpi: float | None = None,
) -> Any:
    r"""Write a GIF of the race: the paths of :func:`paths` growing step by step.

    At most ``max_frames`` frames (evenly spaced steps, the first and the last included: the
    longest path's ``steps + 1`` when that is fewer), shown ``fps`` frames per second; the
    last frame is the full :func:`paths` figure. Written with matplotlib's Pillow writer to a
    temporary file next to ``path`` (which must end in ``.gif``) and moved into place.
    Returns the path written.

    >>> import os, tempfile, losslab as ll
    >>> bowl = ll.landscape.functions.get("quadratic_bowl")
    >>> runs = ll.train.race(bowl, {"gd": ll.optim.sgd(lr=0.15)}, steps=10)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = ll.viz.animate_race(bowl, runs, os.path.join(d, "race.gif"), max_frames=4,
    ...                               resolution=20, dpi=30)
    ...     out.suffix, out.stat().st_size > 0
    ('.gif', True)
    """
    from matplotlib.animation import PillowWriter

    from losslab.viz.output import atomic_file, check_target

    where = "animate_race"
    target = check_target(where, path, (".gif",))
    entries = _race_entries(where, race_results)
    max_frames = check_int(where, "max_frames", max_frames, minimum=1)
    fps = check_int(where, "fps", fps, minimum=1)
    max_points = check_int(where, "max_points", max_points, minimum=2)
    g = grid_of(where, function_or_grid, resolution=resolution, limits=limits, labels=axis_labels)
    ps = [_entry_path(where, e) for e in entries]
    longest = max(len(p) for p in ps)
    steps = thin(longest, max_frames)
    fig = new_figure(where, dpi=dpi, panel=(10.0, 6.2))
    ax = fig.add_subplot()
    artists = _paths_panel(
        ax,
        g,
        entries,
        ps,
        lrs=lrs,
        levels=levels,
        log=log,
        max_points=max_points,
        legend_outside=True,
        labels=labels,
    )
    heading = title or f"Optimizer paths{f' on {g.name}' if g.name else ''}"
    style_axes(ax, xlabel=g.xlabel, ylabel=g.ylabel, grid=False)
    writer = PillowWriter(fps=fps)
    with atomic_file(target) as tmp, writer.saving(fig, tmp, dpi=fig.dpi):
        for k in steps:
            _show_upto(artists, ps, int(k), max_points)
            ax.set_title(f"{heading}: step {int(k)}", fontsize=FONT["title"])
            writer.grab_frame()
    return target


def convergence(
    race_results: Any,
    *,
    quantity: str = "gap",
    minimum_value: float | None = None,
    lrs: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    log: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""The gap :math:`f(w_t) - f^*` against the step for each run of a race (log scale).

    ``minimum_value`` is :math:`f^*` (default: the entries' ``minimum_value`` when they carry
    one, else 0). ``quantity="grad_norm"`` draws the gradient norm :math:`\lVert\nabla
    f(w_t)\rVert` the entries record (``grad_norms``) instead of the gap. Legends carry the learning rates and "diverged at step k" as in :func:`paths`;
    gaps of exactly 0 are drawn at the smallest positive gap (a log axis cannot show 0).

    >>> import losslab as ll
    >>> bowl = ll.landscape.functions.get("quadratic_bowl")
    >>> runs = ll.train.race(bowl, {"gd": ll.optim.sgd(lr=0.15)}, steps=20)
    >>> ax = ll.viz.convergence(runs, lrs={"gd": 0.15}).axes[0]
    >>> ax.get_yscale(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('log', ['gd (lr=0.15)'])
    """
    where = "convergence"
    entries = _race_entries(where, race_results)
    check_choice(where, "quantity", quantity, ("gap", "grad_norm"))
    log = check_bool(where, "log", log)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.2, 4.8))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    colors = [optimizer_color(str(e.name)) for e in entries]
    gaps = []
    field = "values" if quantity == "gap" else "grad_norms"
    for e in entries:
        recorded = getattr(e, field, None)
        if recorded is None:
            raise ValueError(f"{where}: the entry {e.name!r} records no {field}")
        values = np.asarray(recorded, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(
                f"{where}: the {field} of {e.name!r} must be a non-empty 1-D array, got {values.shape}"
            )
        if quantity == "grad_norm":
            gaps.append(values)
            continue
        f_star = minimum_value if minimum_value is not None else getattr(e, "minimum_value", None)
        gaps.append(values - (0.0 if f_star is None else float(f_star)))
    positive = np.concatenate([g[g > 0] for g in gaps]) if gaps else np.array([])
    floor = float(positive.min()) if positive.size else 1e-16
    for e, gap, c, s in zip(entries, gaps, colors, distinct_styles(colors)):
        shown = np.maximum(gap, floor) if log else gap
        ax.plot(
            np.arange(gap.size), shown, color=c, linestyle=s, linewidth=2.0, label=entry_label(e, lrs, labels)
        )
        if diverged_step(e) is not None:
            ax.plot(gap.size - 1, shown[-1], marker="X", color=c, markersize=11, markeredgecolor="black")
    if log:
        ax.set_yscale("log")
    # a run that blows up would squash the others: show up to 1000 times the largest start gap
    start = max(abs(float(g[0])) for g in gaps)
    if start > 0 and max(float(np.nanmax(np.abs(g))) for g in gaps) > 1e3 * start:
        ax.set_ylim(top=1e3 * start)
    ylabel = (r"$f(w_t) - f^*$" if quantity == "gap" else r"$\|\nabla f(w_t)\|$") + (
        " (log scale)" if log else ""
    )
    default_title = "Convergence" if quantity == "gap" else "Gradient norm per step"
    style_axes(ax, title=title or default_title, xlabel="step t", ylabel=ylabel)
    legend(ax, loc="best")
    return fig
