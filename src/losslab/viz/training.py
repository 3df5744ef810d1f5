"""Figures of training runs: loss curves, parameter trajectories, fit lines, decision boundaries,
learning-rate schedules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from losslab._core.tree import tree_leaves_with_paths
from losslab._core.validation import check_bool, check_choice, check_int, check_number
from losslab.models import Model
from losslab.train.history import History
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
    suptitle,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "decision_boundary",
    "fit_lines",
    "schedule_label",
    "schedules",
    "training_curves",
    "training_summary",
    "trajectories",
]


def _labelled(where: str, items: Any, kind: type, what: str) -> list[tuple[str, Any]]:
    """One object, a sequence (labelled ``run 1``...) or a mapping label -> object."""
    if isinstance(items, kind):
        return [("", items)]
    if isinstance(items, Mapping):
        pairs = [(str(k), v) for k, v in items.items()]
    elif isinstance(items, Sequence) and not isinstance(items, (str, bytes)):
        pairs = [(f"run {i + 1}", v) for i, v in enumerate(items)]
    else:
        raise TypeError(
            f"{where}: expected a {what}, a list of them or a mapping label -> {what}, got {type(items).__name__}"
        )
    if not pairs:
        raise ValueError(f"{where}: expected at least one {what}")
    for label, v in pairs:
        if not isinstance(v, kind):
            raise TypeError(f"{where}: {label or 'entry'} must be a {what}, got {type(v).__name__}")
    return pairs


def _colors(labels: Sequence[str]) -> list[str]:
    if len(labels) == 1 and not labels[0]:
        return [PALETTE[0]]
    return colors_for(labels)


def _auto_log(arrays: Sequence[np.ndarray]) -> bool:
    data = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
    if data.size == 0 or data.min() <= 0:
        return False
    return bool(data.max() / data.min() > 50.0)


def _metric_keys(histories: Sequence[History]) -> list[str]:
    keys: dict[str, None] = {}
    for h in histories:
        for k in h.epochs:
            if k in ("loss", "val_loss") or k.startswith("val_"):
                continue
            keys[k] = None
    return list(keys)


def training_curves(
    history: History | Mapping[str, History] | Sequence[History],
    *,
    x: str = "epoch",
    log: bool | None = None,
    lr: bool | None = None,
    metrics: bool | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Training loss (and validation loss) against the epoch or the step, the learning rate per
    step and the recorded metrics (the curriculum's 000 cell 4 and 002 lab figures).

    ``history``: a :class:`~losslab.train.History`, or several as a mapping label -> history
    (``{"SGD (bs=1, lr=0.2)": h1, ...}``) to compare runs. ``x``: ``"epoch"`` (mean loss per
    epoch, validation dashed) or ``"step"`` (the mini-batch loss before each step). ``log``:
    log-scaled loss axis (``None``: when the loss spans more than a factor 50). ``lr``: a panel
    with the learning rate per step (``None``: when it changes during training). ``metrics``:
    a panel with the epoch metrics (``None``: when any were recorded). A diverged run ends in a
    cross. With ``ax`` only the loss panel is drawn, into it.

    >>> import losslab as ll
    >>> X, y = ll.data.linear(n=40, seed=0)
    >>> h = ll.train.fit(ll.models.Linear(1), X, y, optimizer=ll.optim.sgd(lr=0.1), epochs=20, seed=0)
    >>> fig = ll.viz.training_curves(h)
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), len(ax.lines[0].get_ydata())
    ('epoch', 20)
    """
    where = "training_curves"
    runs = _labelled(where, history, History, "History")
    check_choice(where, "x", x, ("epoch", "step"))
    hs = [h for _, h in runs]
    for label, h in runs:
        count = h.n_epochs if x == "epoch" else len(h.steps.get("loss", []))
        if count == 0:
            name = f" {label!r}" if label else ""
            raise ValueError(f"{where}: history{name} is empty (no {x}s recorded)")
    lr_series = [
        np.array([np.nan if v is None else v for v in h.steps.get("lr", [])], dtype=np.float64) for h in hs
    ]
    has_lr = any(np.isfinite(s).any() for s in lr_series)
    varies = any(np.isfinite(s).any() and np.nanmax(s) > np.nanmin(s) for s in lr_series)
    show_lr = (has_lr and varies) if lr is None else check_bool(where, "lr", lr) and has_lr
    mkeys = _metric_keys(hs)
    show_metrics = bool(mkeys) if metrics is None else check_bool(where, "metrics", metrics) and bool(mkeys)
    if ax is not None:
        show_lr = show_metrics = False
        fig = root_figure(check_axes(where, ax))
        axes = [ax]
    else:
        n_panels = 1 + show_lr + show_metrics
        fig = new_figure(where, ncols=n_panels, dpi=dpi, panel=(7.0, 4.8) if n_panels == 1 else (5.6, 4.6))
        axes = list(fig.subplots(1, n_panels, squeeze=False)[0])
    labels = [label for label, _ in runs]
    colors = _colors(labels)
    styles = distinct_styles(colors)
    loss_ax = axes[0]
    plotted: list[np.ndarray] = []
    for (label, h), c, s in zip(runs, colors, styles):
        y = h.loss if x == "epoch" else h.step_loss
        t = np.arange(1, y.size + 1) if x == "epoch" else np.arange(y.size)
        name = label or "training"
        if h.diverged:
            name += " (diverged)"
        loss_ax.plot(t, y, color=c, linestyle=s, linewidth=2.0 if x == "epoch" else 1.2, label=name)
        plotted.append(y)
        if h.diverged:
            k = np.flatnonzero(np.isfinite(y))
            if k.size:
                loss_ax.plot(t[k[-1]], y[k[-1]], marker="X", color=c, markersize=11, markeredgecolor="black")
        if x == "epoch" and h.val_loss.size:
            v = h.val_loss
            loss_ax.plot(np.arange(1, v.size + 1), v, color=c, linestyle="--", linewidth=1.8,
                         label=f"{label} validation" if label else "validation")  # fmt: skip
            plotted.append(v)
    use_log = _auto_log(plotted) if log is None else check_bool(where, "log", log)
    if use_log:
        loss_ax.set_yscale("log")
    ylabel = "loss (log scale)" if use_log else "loss"
    style_axes(
        loss_ax,
        title="Loss per epoch" if x == "epoch" else "Mini-batch loss per step",
        xlabel=x,
        ylabel=ylabel,
    )
    legend(loss_ax, loc="best")
    panel = 1
    if show_lr:
        a = axes[panel]
        panel += 1
        for (label, _), series, c, s in zip(runs, lr_series, colors, styles):
            a.plot(np.arange(series.size), series, color=c, linestyle=s, linewidth=2.0, label=label or None)
        style_axes(a, title="Learning rate", xlabel="step", ylabel="learning rate")
        if len(runs) > 1:
            legend(a, loc="best")
    if show_metrics:
        a = axes[panel]
        mstyles = ("-", "--", ":", "-.")
        for (label, h), c in zip(runs, colors):
            for j, key in enumerate(mkeys):
                for val in (False, True):
                    series = h.epochs.get(f"val_{key}" if val else key)
                    if not series:
                        continue
                    name = f"{label} {key}".strip() + (" (validation)" if val else "")
                    a.plot(np.arange(1, len(series) + 1), series, color=c, linestyle=mstyles[(2 * j + val) % 4],
                           linewidth=1.8, label=name)  # fmt: skip
        style_axes(a, title="Metrics", xlabel="epoch", ylabel=", ".join(mkeys))
        legend(a, loc="best")
    if title is not None:
        if ax is None:
            suptitle(fig, title)
        else:
            loss_ax.set_title(title, fontsize=FONT["title"])
    return fig


def _param_names(tree: Any) -> list[str]:
    """Flat names of a parameter tree in :func:`tree_leaves` order: ``W``, ``b`` or ``W[0, 1]``."""
    names: list[str] = []
    for path, leaf in tree_leaves_with_paths(tree):
        base = ".".join(str(p) for p in path) or "θ"
        arr = np.asarray(leaf)
        if arr.size == 1:
            names.append(base)
        else:
            names.extend(f"{base}[{', '.join(map(str, idx))}]" for idx in np.ndindex(arr.shape))
    return names


def _path_of(where: str, label: str, run: Any) -> tuple[np.ndarray, list[str] | None]:
    if isinstance(run, History):
        if run.trajectory is None:
            raise ValueError(
                f"{where}: history {label + ' ' if label else ''}has no trajectory; pass record_params=True to fit"
            )
        return run.path(), _param_names(run.trajectory[0])
    arr = np.asarray(run, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ValueError(f"{where}: a trajectory must have shape (steps + 1, n_params), got {arr.shape}")
    return arr, None


def trajectories(
    history: Any,
    truth: Any = None,
    *,
    coords: tuple[int, int] | None = None,
    max_points: int = 2000,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """Parameter paths, e.g. (w, b) of a linear fit, with the true parameters (000 cell 4).

    ``history``: a :class:`~losslab.train.History` recorded with ``record_params=True``, an array
    ``(steps + 1, n_params)``, or several as a mapping label -> either. ``coords`` picks the two
    flat parameter indices to draw (default ``(0, 1)``); ``truth``: the true parameters, as the
    full flat vector, the two drawn coordinates, or a parameter dict. Paths are thinned to
    ``max_points``. Start points are circles, end points squares, the truth a star.

    >>> import losslab as ll
    >>> X, y = ll.data.linear(n=40, w=2.0, b=1.0, seed=0)
    >>> h = ll.train.fit(ll.models.Linear(1), X, y, optimizer=ll.optim.sgd(lr=0.1), epochs=30,
    ...                  record_params=True, seed=0)
    >>> ax = ll.viz.trajectories({"batch GD": h}, truth=[2.0, 1.0]).axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('W', 'b', ['batch GD', 'start', 'end', 'true (2, 1)'])
    """
    from losslab.viz.surfaces import thin

    where = "trajectories"
    runs = [(str(k), v) for k, v in history.items()] if isinstance(history, Mapping) else [("", history)]
    if not runs:
        raise ValueError(f"{where}: expected at least one trajectory")
    resolved = [(label, *_path_of(where, label, run)) for label, run in runs]
    i, j = (0, 1) if coords is None else (check_int(where, "coords", c, minimum=0) for c in coords)
    dim = resolved[0][1].shape[1]
    if dim < 2 or max(i, j) >= dim or i == j:
        raise ValueError(f"{where}: coords must be two distinct indices below n_params={dim}, got {(i, j)}")
    max_points = check_int(where, "max_points", max_points, minimum=2)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(6.8, 5.6))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    labels = [label for label, _, _ in resolved]
    colors = _colors(labels)
    names = resolved[0][2]
    for (label, path, _), c in zip(resolved, colors):
        if path.shape[1] != dim:
            raise ValueError(
                f"{where}: every trajectory must have {dim} parameters, got {path.shape[1]} ({label})"
            )
        pts = path[thin(len(path), max_points)]
        ax.plot(pts[:, i], pts[:, j], color=c, linewidth=1.8, label=label or None)
        ax.plot(pts[0, i], pts[0, j], marker="o", color=c, markersize=8, markeredgecolor="black")
        ax.plot(pts[-1, i], pts[-1, j], marker="s", color=c, markersize=8, markeredgecolor="black")
    ax.plot([], [], marker="o", color="white", markeredgecolor="black", linestyle="none", label="start")
    ax.plot([], [], marker="s", color="white", markeredgecolor="black", linestyle="none", label="end")
    if truth is not None:
        if isinstance(truth, Mapping):
            from losslab._core.tree import tree_leaves

            t = np.concatenate([np.ravel(leaf) for leaf in tree_leaves(truth)]).astype(np.float64)
        else:
            t = np.ravel(np.asarray(truth, dtype=np.float64))
        if t.size == dim:
            t = t[[i, j]]
        elif t.size != 2:
            raise ValueError(f"{where}: truth must have {dim} values (or the 2 drawn ones), got {t.size}")
        ax.plot(t[0], t[1], marker="*", color="#C00000", markersize=18, markeredgecolor="white",
                linestyle="none", zorder=6, label=f"true ({t[0]:.3g}, {t[1]:.3g})")  # fmt: skip
    xl = names[i] if names else f"θ[{i}]"
    yl = names[j] if names else f"θ[{j}]"
    style_axes(ax, title=title or "Parameter trajectories", xlabel=xl, ylabel=yl)
    legend(ax, loc="best")
    return fig


# --------------------------------------------------------------------------- fitted models


def _predictor(where: str, label: str, spec: Any) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """A function x -> prediction for a fit-lines entry, and a note with w and b when linear."""
    if isinstance(spec, History):
        spec = spec.params
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], Model):
        model, params = spec
        if isinstance(params, History):
            params = params.params
        return (lambda x: np.asarray(model.apply(params, x[:, None]), dtype=np.float64)[:, 0]), ""
    if isinstance(spec, Mapping) and {"W", "b"} <= set(spec):
        W, b = np.asarray(spec["W"], dtype=np.float64), np.asarray(spec["b"], dtype=np.float64)
        if W.size != 1 or b.size != 1:
            raise ValueError(
                f"{where}: {label}: a line needs one weight and one bias, got W {W.shape}, b {b.shape}"
            )
        w0, b0 = float(W.ravel()[0]), float(b.ravel()[0])
        return (lambda x: w0 * x + b0), f"w={w0:.2f}, b={b0:.2f}"
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        w0, b0 = check_number(where, f"{label} w", spec[0]), check_number(where, f"{label} b", spec[1])
        return (lambda x: w0 * x + b0), f"w={w0:.2f}, b={b0:.2f}"
    if callable(spec):
        return (lambda x: np.asarray(spec(x), dtype=np.float64).reshape(x.shape)), ""
    raise TypeError(
        f"{where}: {label}: expected a History, params with W and b, (w, b), (model, params) or a callable, "
        f"got {type(spec).__name__}"
    )


def fit_lines(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    models_or_params: Any,
    outliers: Any = None,
    *,
    truth: tuple[float, float] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """1-D data, highlighted outliers and one fitted line per model (the curriculum's 002 lab).

    ``models_or_params``: a mapping label -> a :class:`~losslab.train.History` of a linear fit,
    its params (``{"W", "b"}``), a pair ``(w, b)``, ``(model, params)`` for any model, or a
    callable ``x -> y``. Labels naming a loss take its colour; linear fits show ``w`` and ``b``.
    ``outliers``: indices or a boolean mask, drawn as red crosses. ``truth``: the true ``(w, b)``,
    drawn dashed.

    >>> import numpy as np, losslab as ll
    >>> X, y = ll.data.outliers()
    >>> fig = ll.viz.fit_lines(X, y, {"mse": (2.4, 2.9), "huber": (2.0, 3.1)}, outliers=[10, 20], truth=(2, 3))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:3]
    ['data', 'outliers', 'mse (w=2.40, b=2.90)']
    """
    where = "fit_lines"
    xa = np.asarray(X, dtype=np.float64)
    if xa.ndim == 2 and xa.shape[1] == 1:
        xa = xa[:, 0]
    if xa.ndim != 1:
        raise ValueError(f"{where}: X must be 1-D data, shape (n,) or (n, 1), got {np.shape(X)}")
    ya = np.asarray(y, dtype=np.float64).ravel()
    if ya.shape != xa.shape:
        raise ValueError(f"{where}: y must have one value per row of X ({xa.size}), got shape {np.shape(y)}")
    if not isinstance(models_or_params, Mapping) or not models_or_params:
        raise TypeError(f"{where}: models_or_params must be a non-empty mapping label -> fitted model")
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.5, 5.4))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    mask = np.zeros(xa.size, dtype=bool)
    if outliers is not None:
        o = np.asarray(outliers)
        if o.dtype == bool:
            if o.shape != xa.shape:
                raise ValueError(f"{where}: an outliers mask must have shape {xa.shape}, got {o.shape}")
            mask = o
        else:
            idx = o.astype(np.int64).ravel()
            if idx.size and (idx.min() < -xa.size or idx.max() >= xa.size):
                raise ValueError(f"{where}: outliers must be indices in [0, {xa.size}), got {idx.tolist()}")
            mask[idx] = True
    ax.scatter(xa[~mask], ya[~mask], color="0.45", alpha=0.7, s=30, label="data")
    if mask.any():
        ax.scatter(
            xa[mask], ya[mask], color="#C00000", marker="x", s=110, linewidths=2.5, label="outliers", zorder=5
        )
    grid = np.linspace(xa.min(), xa.max(), 200)
    labels = [str(k) for k in models_or_params]
    colors = _colors(labels)
    styles = distinct_styles(colors)
    for (label, spec), c, s in zip(models_or_params.items(), colors, styles):
        fn, note = _predictor(where, str(label), spec)
        name = f"{label} ({note})" if note else str(label)
        ax.plot(grid, fn(grid), color=c, linestyle=s, linewidth=2.4, label=name)
    if truth is not None:
        tw, tb = (check_number(where, "truth", v) for v in truth)
        ax.plot(grid, tw * grid + tb, color="black", linestyle="--", linewidth=1.4, alpha=0.7,
                label=f"true (w={tw:.2f}, b={tb:.2f})")  # fmt: skip
    style_axes(ax, title=title or "Fitted lines", xlabel="x", ylabel="y")
    legend(ax, loc="best")
    return fig


def decision_boundary(
    model: Any,
    params: Any,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    threshold: float | None = None,
    resolution: int = 200,
    padding: float = 0.1,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """The model's decision regions and boundary over 2-D data, with the data points.

    A one-output model (logistic, MLP with a sigmoid output) shows its probability of class 1
    as a shaded field and the boundary where it equals ``threshold`` (default 0.5; for a score
    model whose outputs leave [0, 1], such as a linear model trained with the hinge, the
    default is the score 0); a model with ``k`` outputs (softmax) shows the arg-max regions. ``params`` may be a :class:`~losslab.train.History`.

    >>> import numpy as np, losslab as ll
    >>> X, y = ll.data.two_blobs(n=40, seed=0)
    >>> m = ll.models.Logistic(2)
    >>> fig = ll.viz.decision_boundary(m, {"W": np.array([[1.0], [1.0]]), "b": np.zeros(1)}, X, y, resolution=30)
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel(), len(ax.collections) >= 3
    ('x1', 'x2', True)
    """
    where = "decision_boundary"
    if not callable(getattr(model, "apply", None)):
        raise TypeError(
            f"{where}: model must have apply(params, X) (a losslab model), got {type(model).__name__}"
        )
    if isinstance(params, History):
        params = params.params
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2 or Xa.shape[1] != 2:
        raise ValueError(f"{where}: X must have 2 features, shape (n, 2), got {np.shape(X)}")
    ya = np.asarray(y).ravel()
    if ya.shape[0] != Xa.shape[0]:
        raise ValueError(
            f"{where}: y must have one label per row of X ({Xa.shape[0]}), got shape {np.shape(y)}"
        )
    resolution = check_int(where, "resolution", resolution, minimum=2)
    lo, hi = Xa.min(axis=0), Xa.max(axis=0)
    pad = padding * np.maximum(hi - lo, 1e-12)
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution))  # fmt: skip
    out = np.asarray(model.apply(params, np.column_stack([gx.ravel(), gy.ravel()])), dtype=np.float64)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.0, 5.8))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    from matplotlib.colors import ListedColormap

    classes = np.unique(ya)
    if out.ndim == 1 or out.shape[1] == 1:
        p = out.reshape(gx.shape)
        probabilities = bool(p.min() >= 0.0 and p.max() <= 1.0)
        if threshold is None:
            threshold = 0.5 if probabilities else 0.0
        threshold = check_number(where, "threshold", threshold)
        lo, hi = (0.0, 1.0) if probabilities else (float(p.min()), float(p.max()))
        if not probabilities:  # scores: a colour scale centred on the boundary
            half = max(abs(lo - threshold), abs(hi - threshold), 1e-12)
            lo, hi = threshold - half, threshold + half
        field = ax.contourf(gx, gy, p, levels=np.linspace(lo, hi, 21), cmap="RdBu_r", alpha=0.45)
        bar = fig.colorbar(field, ax=ax)
        bar.set_label("predicted P(class 1)" if probabilities else "model score", fontsize=FONT["label"])
        bar.ax.tick_params(labelsize=FONT["tick"])
        if p.min() < threshold < p.max():
            ax.contour(gx, gy, p, levels=[threshold], colors="black", linewidths=2.2)
            what = "p" if probabilities else "score"
            ax.plot([], [], color="black", linewidth=2.2, label=f"boundary ({what} = {threshold:g})")
        colors = {c: ("#0072B2" if i == 0 else "#D55E00") if len(classes) <= 2 else PALETTE[i % 10]
                  for i, c in enumerate(classes)}  # fmt: skip
    else:
        k = out.shape[1]
        region = np.argmax(out, axis=1).reshape(gx.shape)
        cmap = ListedColormap([PALETTE[i % len(PALETTE)] for i in range(k)])
        ax.contourf(gx, gy, region, levels=np.arange(-0.5, k), cmap=cmap, alpha=0.3)
        ax.contour(gx, gy, region, levels=np.arange(0.5, k - 1), colors="black", linewidths=1.5)
        colors = {c: PALETTE[int(c) % len(PALETTE)] for c in classes}
    for c in classes:
        sel = ya == c
        label = f"class {int(c) if float(c).is_integer() else c}"
        ax.scatter(Xa[sel, 0], Xa[sel, 1], color=colors[c], edgecolors="white", linewidths=0.6, s=36,
                   label=label, zorder=4)  # fmt: skip
    style_axes(ax, title=title or "Decision boundary", xlabel="x1", ylabel="x2", grid=False)
    legend(ax, loc="best")
    return fig


def schedules(
    schedules: Any,
    *,
    steps: int = 100,
    log: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    """Learning rate against step for one or several schedules (``k -> lr``).

    ``schedules``: a schedule (``ll.optim.schedules.warmup_cosine(...)``), a list of them
    (labelled by their ``repr``) or a mapping label -> schedule. A schedule's line y-data is
    ``[schedule(k) for k in range(steps + 1)]``.

    >>> import losslab as ll
    >>> s = ll.optim.schedules.step_decay(0.1, step_size=10, gamma=0.5)
    >>> line = ll.viz.schedules(s, steps=30).axes[0].lines[0]
    >>> float(line.get_ydata()[25]), line.get_label()
    (0.025, 'step_decay(lr=0.1, step_size=10, gamma=0.5)')
    """
    where = "schedules"
    if isinstance(schedules, Mapping):
        items = [(str(k), v) for k, v in schedules.items()]
    elif callable(schedules):
        items = [(schedule_label(schedules), schedules)]
    elif isinstance(schedules, Sequence) and not isinstance(schedules, (str, bytes)):
        items = [(schedule_label(s), s) for s in schedules]
    else:
        raise TypeError(
            f"{where}: expected a schedule, a list of them or a mapping label -> schedule, got {schedules!r}"
        )
    if not items:
        raise ValueError(f"{where}: expected at least one schedule")
    steps = check_int(where, "steps", steps, minimum=1)
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.5, 4.8))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    k = np.arange(steps + 1)
    for i, (label, fn) in enumerate(items):
        if not callable(fn):
            raise TypeError(
                f"{where}: {label} must be a schedule (callable step -> lr), got {type(fn).__name__}"
            )
        ax.plot(
            k, [float(fn(int(s))) for s in k], color=PALETTE[i % len(PALETTE)], linewidth=2.2, label=label
        )
    if check_bool(where, "log", log):
        ax.set_yscale("log")
    style_axes(ax, title=title or "Learning-rate schedule", xlabel="step", ylabel="learning rate")
    if max(len(label) for label, _ in items) > 40:
        legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=FONT["legend"] - 1)
    else:
        legend(ax, loc="best")
    return fig


def schedule_label(schedule: Any) -> str:
    """A schedule's ``repr`` with numbers shortened and zero floors dropped.

    >>> import losslab as ll
    >>> schedule_label(ll.optim.schedules.warmup_cosine(0.1, 10, 90))
    'warmup_cosine(lr=0.1, warmup_steps=10, decay_steps=90, start_factor=0.333)'
    """
    import re

    text = repr(schedule)
    text = re.sub(r", eta_min=0(\.0)?(?=[,)])", "", text)
    return re.sub(r"-?\d+\.\d{4,}(e-?\d+)?", lambda m: f"{float(m.group(0)):.3g}", text)


def training_summary(
    history: History,
    model: Any = None,
    X: npt.ArrayLike | None = None,
    y: npt.ArrayLike | None = None,
    *,
    task: str | None = None,
    label: str = "fit",
    log: bool | None = None,
    title: str | None = None,
    dpi: float | None = None,
) -> Figure:
    """The training loss beside what was learned: the fitted curve over 1-D regression data, or
    the decision boundary over 2-D classification data (other data: the loss alone).

    ``task`` is ``"regression"``, ``"binary"`` or ``"multiclass"`` (``None``: classification when
    ``y`` holds a few integer labels). ``label`` names the fitted line.

    >>> import losslab as ll
    >>> X, y = ll.data.linear(n=30, seed=0)
    >>> m = ll.models.Linear(1)
    >>> h = ll.train.fit(m, X, y, optimizer=ll.optim.sgd(lr=0.1), epochs=10, seed=0)
    >>> [ax.get_title() for ax in ll.viz.training_summary(h, m, X, y).axes]
    ['Loss per epoch', 'Fitted lines']
    """
    where = "training_summary"
    if not isinstance(history, History):
        raise TypeError(f"{where}: history must be a History, got {type(history).__name__}")
    panel = None
    if model is not None and X is not None and y is not None:
        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y)
        d = 1 if Xa.ndim == 1 else Xa.shape[1]
        if task is None:
            few = ya.size > 0 and np.all(ya == np.round(ya)) and np.unique(ya).size <= 10
            task = "binary" if few and np.unique(ya).size <= 2 else "multiclass" if few else "regression"
        check_choice(where, "task", task, ("regression", "binary", "multiclass"))
        if task == "regression" and d == 1:
            panel = "fit"
        elif task != "regression" and d == 2:
            panel = "boundary"
    fig = new_figure(where, ncols=2 if panel else 1, dpi=dpi, panel=(7.0, 5.2))
    axes = list(fig.subplots(1, 2 if panel else 1, squeeze=False)[0])
    training_curves(history, log=log, ax=axes[0])
    if panel == "fit":
        fit_lines(X, y, {label: (model, history.params)}, ax=axes[1])  # type: ignore[arg-type]
    elif panel == "boundary":
        decision_boundary(model, history.params, X, y, ax=axes[1])  # type: ignore[arg-type]
    if title is not None:
        suptitle(fig, title)
    return fig
