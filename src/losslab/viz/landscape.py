r"""Figures of loss landscapes: 1-D and 2-D slices, Hessian spectra and critical points.

They take the arrays :mod:`losslab.landscape` computes (``slice_1d`` values against the step
sizes :math:`\alpha`, ``slice_2d`` values ``(len(betas), len(alphas))``, eigenvalues, a
spectral density, critical points) and draw them; nothing is computed here but the picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_bool, check_positive
from losslab.viz.style import (
    FONT,
    PALETTE,
    check_axes,
    colors_for,
    distinct_styles,
    legend,
    new_figure,
    root_figure,
    style_axes,
)
from losslab.viz.surfaces import contour, grid_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["critical_points", "eigenvalues", "slice_1d", "slice_2d", "spectral_density"]


def _series(where: str, values: Any, n: int) -> list[tuple[str, np.ndarray]]:
    if isinstance(values, Mapping):
        items = [(str(k), np.asarray(v, dtype=np.float64)) for k, v in values.items()]
    else:
        arr = np.asarray(values, dtype=np.float64)
        items = [("", arr)] if arr.ndim == 1 else [(f"direction {i + 1}", row) for i, row in enumerate(arr)]
    if not items:
        raise ValueError(f"{where}: values must hold at least one curve")
    for label, v in items:
        if v.shape != (n,):
            name = f" {label!r}" if label else ""
            raise ValueError(
                f"{where}: values{name} must have one value per alpha ({n}), got shape {v.shape}"
            )
    return items


def _is_slice(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("alphas", "betas", "loss"))


def _slice_curves(where: str, s: Any) -> dict[str, np.ndarray]:
    """The curves of a ``ll.landscape.slice_metrics`` result: train and (when measured) test loss."""
    if s.betas is not None:
        raise ValueError(f"{where}: the slice is 2-D (it has betas); draw it with slice_2d")
    curves = {"train": np.asarray(s.loss, dtype=np.float64)}
    if getattr(s, "test_loss", None) is not None:
        curves["test"] = np.asarray(s.test_loss, dtype=np.float64)
    return curves if len(curves) > 1 else {"": curves["train"]}


def slice_1d(
    alphas: Any,
    values: Any = None,
    *,
    log: bool = False,
    xlabel: str = "α (step along the direction)",
    ylabel: str = "loss",
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""The loss along one or several directions, :math:`\alpha \mapsto L(\theta + \alpha d)`.

    ``values``: ``ll.landscape.slice_1d``'s array ``(len(alphas),)``, several as rows
    ``(k, len(alphas))``, or a mapping label -> array (e.g. one per loss or per direction
    normalization). A ``ll.landscape.slice_metrics`` result may stand alone in place of
    ``alphas`` (its train loss, and its test loss when measured). The dotted vertical line is
    :math:`\alpha = 0`, the parameters themselves.

    >>> import numpy as np, losslab as ll
    >>> a = np.linspace(-1, 1, 5)
    >>> line = ll.viz.slice_1d(a, {"mse": a**2}).axes[0].lines[0]
    >>> line.get_ydata().tolist(), line.get_label()
    ([1.0, 0.25, 0.0, 0.25, 1.0], 'mse')
    """
    where = "slice_1d"
    if _is_slice(alphas):
        if values is not None:
            raise TypeError(f"{where}: give a Slice alone, or alphas and values")
        alphas, values = alphas.alphas, _slice_curves(where, alphas)
    elif values is None:
        raise TypeError(f"{where}: values is required with an array of alphas")
    a = np.asarray(alphas, dtype=np.float64)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{where}: alphas must be a 1-D array of at least 2 values, got shape {a.shape}")
    items = _series(where, values, a.size)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.0, 4.8))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    labels = [label for label, _ in items]
    colors = colors_for(labels) if all(labels) else [PALETTE[i % len(PALETTE)] for i in range(len(items))]
    styles = distinct_styles(colors)
    if labels == ["train", "test"]:  # a slice's held-out loss often lies on the train loss: dash it
        styles = ["-", "--"]
    for (label, v), c, s in zip(items, colors, styles):
        ax.plot(a, v, color=c, linestyle=s, linewidth=2.2, label=label or None)
    if a.min() <= 0.0 <= a.max():
        ax.axvline(0.0, color="0.3", linestyle=":", linewidth=1.2)
    if check_bool(where, "log", log):
        ax.set_yscale("log")
    style_axes(ax, title=title or "Loss along a direction", xlabel=xlabel, ylabel=ylabel)
    legend(ax, loc="best")
    return fig


def slice_2d(
    alphas: Any,
    betas: npt.ArrayLike | None = None,
    values: npt.ArrayLike | None = None,
    *,
    levels: int | Sequence[float] | None = None,
    log: bool | None = None,
    filled: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Contours of :math:`L(\theta + \alpha d_1 + \beta d_2)` (``ll.landscape.slice_2d``'s
    ``(len(betas), len(alphas))`` array), with the parameters themselves (the origin) marked.
    A 2-D ``ll.landscape.slice_metrics`` result may stand alone in place of ``alphas`` (its
    train loss is drawn).

    >>> import numpy as np, losslab as ll
    >>> a = b = np.linspace(-1, 1, 9)
    >>> A, B = np.meshgrid(a, b)
    >>> ax = ll.viz.slice_2d(a, b, A**2 + 3 * B**2).axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('α (direction 1)', 'β (direction 2)')
    """
    where = "slice_2d"
    if _is_slice(alphas):
        if betas is not None or values is not None:
            raise TypeError(f"{where}: give a Slice alone, or alphas, betas and values")
        if alphas.betas is None:
            raise ValueError(f"{where}: the slice is 1-D (no betas); draw it with slice_1d")
        alphas, betas, values = alphas.alphas, alphas.betas, alphas.loss
    elif betas is None or values is None:
        raise TypeError(f"{where}: betas and values are required with an array of alphas")
    g = grid_of(where, (alphas, betas, values), labels=("α (direction 1)", "β (direction 2)"))
    fig = contour(
        g,
        levels=levels,
        log=log,
        filled=filled,
        minimum=False,
        title=title or "Loss on a 2-D slice",
        ax=ax,
        dpi=dpi,
    )
    axes = ax if ax is not None else fig.axes[0]
    axes.plot(
        0.0, 0.0, marker="o", color="black", markersize=9, linestyle="none", label="θ (α = β = 0)", zorder=6
    )
    legend(axes, loc="upper right")
    return fig


def eigenvalues(
    values: npt.ArrayLike,
    *,
    log: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Hessian eigenvalues as bars, largest first; negative ones (directions of descent at a
    saddle) in red. The title gives the condition number :math:`\lambda_{max}/\lambda_{min}`
    when every eigenvalue is positive.

    >>> import losslab as ll
    >>> ax = ll.viz.eigenvalues([1.0, 10.0]).axes[0]
    >>> [round(float(p.get_height()), 1) for p in ax.patches], ax.get_title()
    ([10.0, 1.0], 'Hessian eigenvalues (condition number 10)')
    """
    where = "eigenvalues"
    v = np.sort(np.ravel(np.asarray(values, dtype=np.float64)))[::-1]
    if v.size == 0:
        raise ValueError(f"{where}: values must hold at least one eigenvalue")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{where}: values must be finite")
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(max(6.8, min(12.0, 2.5 + 0.35 * v.size)), 4.6))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    colors = [PALETTE[0] if x >= 0 else "#c00000" for x in v]
    ax.bar(np.arange(1, v.size + 1), v, color=colors, edgecolor="black", linewidth=0.6)
    ax.axhline(0.0, color="black", linewidth=0.8)
    if check_bool(where, "log", log):
        if v.min() <= 0:
            raise ValueError(f"{where}: log=True needs positive eigenvalues, got min {v.min():g}")
        ax.set_yscale("log")
    if title is None:
        title = "Hessian eigenvalues"
        if v.min() > 0:
            title += f" (condition number {v.max() / v.min():.3g})"
        elif v.min() < 0 < v.max():
            title += f" ({int(np.sum(v < 0))} negative: a saddle)"
    ax.set_xticks(np.arange(1, v.size + 1) if v.size <= 20 else ax.get_xticks())
    ax.set_xlim(0.3, v.size + 0.7)
    style_axes(ax, title=title, xlabel="index i (largest first)", ylabel="eigenvalue λᵢ")
    return fig


def spectral_density(
    spectrum: Any,
    *,
    sigma: float | None = None,
    n: int = 400,
    log: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""The Hessian's eigenvalue density :math:`\phi(\lambda)`.

    ``spectrum``: a computed density, as a pair ``(grid, density)`` or an object with ``grid``
    and ``density`` (e.g. from stochastic Lanczos quadrature), drawn as given; or eigenvalues,
    broadened into :math:`\phi(\lambda) = \frac1n \sum_i \mathcal N(\lambda; \lambda_i,
    \sigma^2)` (``sigma`` default: 1 % of the spectrum's range). ``log=True`` scales the density
    axis logarithmically, which shows the few outliers next to the bulk (Ghorbani et al., 2019).

    >>> import numpy as np, losslab as ll
    >>> line = ll.viz.spectral_density(np.array([0.0, 1.0]), sigma=0.1, n=3, log=False).axes[0].lines[0]
    >>> line.get_xdata().tolist()
    [-0.5, 0.5, 1.5]
    """
    where = "spectral_density"
    grid = getattr(spectrum, "grid", None)
    density = getattr(spectrum, "density", None)
    if grid is None and isinstance(spectrum, tuple) and len(spectrum) == 2:
        grid, density = spectrum
    if grid is not None:
        x = np.asarray(grid, dtype=np.float64)
        d = np.asarray(density, dtype=np.float64)
        if x.ndim != 1 or d.shape != x.shape:
            raise ValueError(
                f"{where}: grid and density must be 1-D of one length, got {x.shape} and {d.shape}"
            )
        eig = None
    else:
        eig = np.ravel(np.asarray(spectrum, dtype=np.float64))
        if eig.size == 0 or not np.all(np.isfinite(eig)):
            raise ValueError(f"{where}: eigenvalues must be a non-empty finite array")
        span = float(eig.max() - eig.min()) or max(abs(float(eig.max())), 1.0)
        s = 0.01 * span if sigma is None else check_positive(where, "sigma", sigma)
        x = np.linspace(eig.min() - 5 * s, eig.max() + 5 * s, n)
        d = np.exp(-0.5 * ((x[:, None] - eig[None, :]) / s) ** 2).sum(axis=1) / (
            eig.size * s * np.sqrt(2 * np.pi)
        )
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.0, 4.6))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    ax.plot(x, d, color=PALETTE[0], linewidth=2.0, label="density")
    ax.fill_between(x, d, color=PALETTE[0], alpha=0.2)
    if eig is not None and eig.size <= 200:
        ax.plot(eig, np.full_like(eig, 0.03), linestyle="none", marker="|", markersize=14, color="black",
                transform=ax.get_xaxis_transform(), label="eigenvalues")  # fmt: skip

    if check_bool(where, "log", log):
        positive = d[d > 0]
        ax.set_yscale("log")
        if positive.size:
            ax.set_ylim(max(positive.min(), positive.max() * 1e-8), positive.max() * 2)
    style_axes(ax, title=title or "Hessian spectral density", xlabel="eigenvalue λ", ylabel="density φ(λ)")
    legend(ax, loc="best")
    return fig


_KIND_MARKERS = {
    "minimum": ("*", "#c00000", 18),
    "maximum": ("^", "#6a3d9a", 12),
    "saddle": ("X", "#e69f00", 13),
    "degenerate": ("D", "#2f4f4f", 10),
}


def _location(point: Any) -> np.ndarray:
    for attr in ("point", "x", "location", "w"):
        value = getattr(point, attr, None)
        if value is not None:
            return np.asarray(value, dtype=np.float64)
    return np.asarray(point, dtype=np.float64)


def _kind_from_hessian(function: Any, x: np.ndarray, tol: float = 1e-8) -> str:
    eig = np.linalg.eigvalsh(np.asarray(function.hessian(x), dtype=np.float64))
    scale = max(1.0, float(np.max(np.abs(eig))))
    if np.any(np.abs(eig) <= tol * scale):
        return "degenerate"
    if np.all(eig > 0):
        return "minimum"
    if np.all(eig < 0):
        return "maximum"
    return "saddle"


def critical_points(
    function: Any,
    points: Any = None,
    *,
    resolution: int = 200,
    levels: int | Sequence[float] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """Contours of a test function with its critical points marked by kind.

    ``points``: classified critical points (objects with ``kind`` and a location ``point``/``x``,
    as ``ll.landscape.classify_critical_point`` returns), a mapping kind -> points, or plain
    points, classified here by the signs of the function's Hessian eigenvalues; default: the
    function's ``critical_points`` (else its ``minima``). Minima are stars, saddles crosses,
    maxima triangles, degenerate points diamonds.

    >>> import losslab as ll
    >>> bowl = ll.landscape.functions.get("quadratic_bowl")
    >>> ax = ll.viz.critical_points(bowl, [[0.0, 0.0]], resolution=20).axes[0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['minimum (1)']
    """
    where = "critical_points"
    if points is None:
        points = getattr(function, "critical_points", None) or getattr(function, "minima", ())
    groups: dict[str, list[np.ndarray]] = {}
    if isinstance(points, Mapping):
        for kind, pts in points.items():
            groups.setdefault(str(kind), []).extend(np.atleast_2d(np.asarray(pts, dtype=np.float64)))
    else:
        for p in points:
            x = _location(p)
            if x.shape != (2,):
                raise ValueError(f"{where}: a critical point must be a 2-D location, got shape {x.shape}")
            kind = getattr(p, "kind", None) or _kind_from_hessian(function, x)
            groups.setdefault(str(kind), []).append(x)
    fig = contour(function, levels=levels, resolution=resolution, minimum=False, labels=False, ax=ax, dpi=dpi,
                  title=title or f"Critical points of {getattr(function, 'name', 'the function')}")  # fmt: skip
    axes = ax if ax is not None else fig.axes[0]
    for kind, pts in groups.items():
        marker, color, size = _KIND_MARKERS.get(kind, ("o", "black", 10))
        arr = np.stack(pts)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"{where}: {kind} points must be 2-D locations, got shape {arr.shape[1:]}")
        axes.plot(arr[:, 0], arr[:, 1], marker=marker, color=color, markersize=size, markeredgecolor="white",
                  linestyle="none", zorder=6, label=f"{kind} ({len(arr)})")  # fmt: skip
    legend(axes, loc="upper right", fontsize=FONT["legend"])
    return fig
