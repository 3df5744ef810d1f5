r"""Loss and derivative curves, drawn from the registry's own formulas.

Every curve is the registered loss evaluated element-wise (``reduction="none"``) and its
derivative is the loss's analytic ``grad``; nothing is re-derived here.

Axes
    ``"error"`` (regression): :math:`e = \hat y - y` with :math:`y = 0`, so :math:`\ell(e)` and
    :math:`d\ell/de = \partial\ell/\partial\hat y`.
    ``"logit"`` (classification): the score :math:`z` of the true class (:math:`y = 1`; for
    margin losses such as the hinge this is the margin :math:`y\,f(x)`); probability losses are
    evaluated with ``from_logits=True``, or at :math:`p = \sigma(z)` with
    :math:`d\ell/dz = d\ell/dp \cdot p(1 - p)`.
    ``"p_t"`` (classification): the probability of the true class; score losses are evaluated at
    :math:`z = \log(p / (1 - p))` with :math:`d\ell/dp = (d\ell/dz) / (p (1 - p))`.
    Class-axis losses see two classes, ``[z, 0]`` (or ``[p, 1 - p]``), with class 0 true, and the
    derivative is the partial derivative with respect to class 0's input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from losslab._core.validation import check_choice, check_int, check_number
from losslab.losses import Loss, get
from losslab.viz.style import (
    FONT,
    check_axes,
    distinct_styles,
    legend,
    loss_color,
    new_figure,
    root_figure,
    style_axes,
    suptitle,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["focal_effect", "loss_curves", "loss_label"]

Axis = Literal["error", "logit", "p_t"]
_AXES = ("error", "logit", "p_t")
_PANELS = ("value", "derivative")
_GREEK = {"delta": "δ", "beta": "β", "tau": "τ", "gamma": "γ", "alpha": "α", "margin": "m"}
_HIDDEN = {"eps", "from_logits", "full", "log_input", "reduction"}
_TASK_TITLE = {
    "regression": "Regression losses",
    "binary": "Binary classification losses",
    "multiclass": "Multiclass losses",
    "distribution": "Distribution losses",
}


@dataclass(frozen=True)
class _Entry:
    loss: Loss
    params: dict[str, Any]
    label: str


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def loss_label(loss: str | Loss, params: Mapping[str, Any] | None = None) -> str:
    """A legend label carrying the hyperparameters that shape the curve: ``huber (δ=1.5)``.

    Numeric parameters are shown (given or default), except switches and numerical guards
    (``eps``, ``from_logits``) and defaults of zero (``label_smoothing=0``).

    >>> loss_label("huber", {"delta": 1.5}), loss_label("mse"), loss_label("quantile")
    ('huber (δ=1.5)', 'mse', 'quantile (τ=0.5)')
    """
    obj = get(loss)
    given = dict(params or {})
    resolved = obj.resolve_params(given)
    parts = []
    for key, value in resolved.items():
        if key in _HIDDEN or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value == 0 and key not in given:
            continue
        parts.append(f"{_GREEK.get(key, key)}={_format(value)}")
    return f"{obj.name} ({', '.join(parts)})" if parts else obj.name


def _entries(where: str, losses: Any) -> list[_Entry]:
    """Names, loss objects, ``(loss, params)`` pairs or a mapping ``{loss: params}``."""
    if isinstance(losses, (str, Loss)):
        items: list[Any] = [losses]
    elif isinstance(losses, Mapping):
        items = [(k, v) for k, v in losses.items()]
    elif isinstance(losses, Sequence):
        items = list(losses)
    else:
        raise TypeError(
            f"{where}: losses must be a loss name, a loss, a list of them or a mapping name -> params, "
            f"got {type(losses).__name__}"
        )
    if not items:
        raise ValueError(f"{where}: losses must name at least one loss, got an empty {type(losses).__name__}")
    out = []
    for item in items:
        params: Any = {}
        if isinstance(item, tuple) and len(item) == 2:
            item, params = item
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise TypeError(f"{where}: the parameters of {item!r} must be a mapping, got {params!r}")
        obj = get(item)
        obj.resolve_params(dict(params))
        out.append(_Entry(obj, dict(params), loss_label(obj, params)))
    return out


def _probability_native(loss: Loss) -> bool:
    """Whether the loss takes probabilities (rather than scores) without ``from_logits``."""
    domain = getattr(loss, "y_pred_domain", None)
    return domain is not None and domain.low == 0.0 and domain.high == 1.0


def _class_axis(loss: Loss) -> bool:
    return loss.info.kind == "class_axis"


def _check_drawable(where: str, entry: _Entry, axis: str) -> None:
    loss = entry.loss
    if loss.inputs != ("y_pred", "y_true") or loss.info.kind not in ("elementwise", "class_axis"):
        raise ValueError(
            f"{where}: {loss.name} is not a loss of one prediction and one target "
            f"(inputs {', '.join(loss.inputs)}); it has no curve against {axis}"
        )
    if axis == "error":
        domain = getattr(loss, "y_true_domain", None)
        if loss.info.task != "regression":
            raise ValueError(
                f"{where}: {loss.name} ({loss.info.task}) cannot be drawn against the error; "
                "use x='logit' or x='p_t' for classification losses"
            )
        if domain is None or not domain.unbounded:
            raise ValueError(
                f"{where}: {loss.name} is not a function of the error y_pred - y_true "
                f"(y_true must be {domain.description if domain else 'special'}); it has no error curve"
            )
    elif loss.info.task == "regression":
        raise ValueError(
            f"{where}: {loss.name} is a regression loss; draw it against x='error', not x={axis!r}"
        )


def _call(entry: _Entry, y_pred: np.ndarray, **extra: Any) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise value and derivative with respect to the first prediction coordinate."""
    loss, params = entry.loss, {**entry.params, **extra}
    if _class_axis(loss):
        y_true: Any = np.zeros_like(y_pred)
        y_true[:, 0] = 1.0
        if getattr(loss, "targets", "probabilities") == "labels":
            y_true = np.zeros(len(y_pred), dtype=np.int64)
        value, grad = loss.value_and_grad(y_pred, y_true, reduction="none", **params)
        return np.asarray(value, dtype=np.float64), np.asarray(grad, dtype=np.float64)[:, 0]
    value, grad = loss.value_and_grad(y_pred, np.ones_like(y_pred), reduction="none", **params)
    return np.asarray(value, dtype=np.float64), np.asarray(grad, dtype=np.float64)


def _curve(entry: _Entry, axis: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loss and its derivative along ``x`` (see the module docstring)."""
    loss = entry.loss
    if axis == "error":
        return tuple(
            np.asarray(a, dtype=np.float64)
            for a in loss.value_and_grad(x, np.zeros_like(x), reduction="none", **entry.params)
        )  # type: ignore[return-value]
    two = _class_axis(loss)
    has_logits = "from_logits" in loss.params
    if axis == "logit":
        if has_logits or not _probability_native(loss):
            extra = {"from_logits": True} if has_logits else {}
            y_pred = np.stack([x, np.zeros_like(x)], axis=-1) if two else x
            return _call(entry, y_pred, **extra)
        p = 1.0 / (1.0 + np.exp(-x))
        value, dp = _call(entry, np.stack([p, 1.0 - p], axis=-1) if two else p)
        return value, dp * p * (1.0 - p)
    # axis == "p_t"
    if has_logits or _probability_native(loss):
        extra = {"from_logits": False} if has_logits else {}
        return _call(entry, np.stack([x, 1.0 - x], axis=-1) if two else x, **extra)
    z = np.log(x) - np.log1p(-x)
    value, dz = _call(entry, np.stack([z, np.zeros_like(z)], axis=-1) if two else z)
    return value, dz / (x * (1.0 - x))


def _robust_limits(arrays: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """y-limits that keep a few extreme values (1/p near p = 0) from flattening the curves."""
    data = np.concatenate([a[np.isfinite(a)] for a in arrays])
    if data.size == 0:
        return None
    lo, hi = float(data.min()), float(data.max())
    qlo, qhi = (float(q) for q in np.percentile(data, [3.0, 97.0]))
    if hi - lo > 4.0 * max(qhi - qlo, 1e-12):
        lo, hi = min(qlo, 0.0) if lo >= 0 else qlo, qhi
    pad = 0.06 * max(hi - lo, 1e-12)
    return lo - pad, hi + pad


def _axes_list(where: str, ax: Any, n: int) -> list[Axes] | None:
    if ax is None:
        return None
    axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
    if len(axes) != n:
        raise ValueError(f"{where}: ax must hold one Axes per panel ({n}), got {len(axes)}")
    return [check_axes(where, a) for a in axes]


def _short_name(loss: Loss) -> str:
    """The loss's name as its summary starts: ``"Huber loss"``, ``"Categorical cross-entropy"``."""
    head = re.split(r":| with |;| \(| D\(| over | for | on |,|\.", loss.info.summary)[0].strip()
    return head or loss.name


def loss_curves(
    losses: Any,
    *,
    x: Axis | None = None,
    limits: tuple[float, float] | None = None,
    n: int = 401,
    panels: Sequence[str] = _PANELS,
    ax: Any = None,
    title: str | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Each loss and its derivative, side by side (the curriculum's 002 §7.2 and §8.2 figures).

    ``losses``: names (``"huber"``), loss objects, ``(name, params)`` pairs
    (``("huber", {"delta": 1.5})``) or a mapping ``{"huber": {"delta": 1.5}}``. ``x`` is
    ``"error"`` (default for regression losses), ``"p_t"`` (default for classification losses
    that take probabilities) or ``"logit"`` (default otherwise); see the module docstring for
    the exact evaluation. ``limits`` is the x-range (defaults: error ``(-3, 3)``, logit
    ``(-4, 4)``, p_t ``(0.001, 0.999)``), ``n`` the number of points. ``panels`` picks
    ``"value"`` and/or ``"derivative"``; ``ax`` draws into given axes (one per panel).
    Legends carry the parameters (``huber (δ=1.5)``); the title comes from the losses'
    ``info``.

    >>> import numpy as np, losslab as ll
    >>> fig = ll.viz.loss_curves([("huber", {"delta": 1.5}), "mse"], n=7)
    >>> line = fig.axes[0].lines[0]
    >>> line.get_label()
    'huber (δ=1.5)'
    >>> e = line.get_xdata()
    >>> bool(np.allclose(line.get_ydata(), ll.losses.huber(e, 0 * e, reduction="none", delta=1.5)))
    True
    """
    where = "loss_curves"
    entries = _entries(where, losses)
    n = check_int(where, "n", n, minimum=2)
    chosen = [check_choice(where, "panels", p, _PANELS) for p in panels]
    if not chosen:
        raise ValueError(f"{where}: panels must name at least one of {', '.join(_PANELS)}")
    tasks = {e.loss.info.task for e in entries}
    if x is None:
        if tasks == {"regression"}:
            x = "error"
        elif all("from_logits" in e.loss.params or _probability_native(e.loss) for e in entries):
            x = "p_t"
        else:
            x = "logit"
    check_choice(where, "x", x, _AXES)
    for e in entries:
        _check_drawable(where, e, x)
    default = {"error": (-3.0, 3.0), "logit": (-4.0, 4.0), "p_t": (1e-3, 1.0 - 1e-3)}[x]
    lo, hi = default if limits is None else (check_number(where, "limits", v) for v in limits)
    if not lo < hi:
        raise ValueError(f"{where}: limits must be increasing (low, high), got {limits!r}")
    if x == "p_t" and not (lo > 0.0 and hi < 1.0):
        raise ValueError(f"{where}: limits on the p_t axis must lie inside (0, 1), got {limits!r}")
    grid = np.linspace(lo, hi, n)
    curves = [_curve(e, x, grid) for e in entries]

    axes = _axes_list(where, ax, len(chosen))
    if axes is None:
        fig = new_figure(where, ncols=len(chosen), dpi=dpi)
        axes = list(fig.subplots(1, len(chosen), squeeze=False)[0])
    else:
        fig = root_figure(axes[0])
    colors = [loss_color(e.loss.name) for e in entries]
    styles = distinct_styles(colors)
    xlabel = {
        "error": "error e = ŷ − y",
        "logit": "score z of the true class (logit / margin)",
        "p_t": r"$p_t$: predicted probability of the true class",
    }[x]
    dname = {"error": "e", "logit": "z", "p_t": "$p_t$"}[x]
    for a, panel in zip(axes, chosen):
        k = 0 if panel == "value" else 1
        for e, curve, c, s in zip(entries, curves, colors, styles):
            a.plot(grid, curve[k], color=c, linestyle=s, linewidth=2.2, label=e.label)
        if panel == "derivative":
            a.axhline(0.0, color="black", linewidth=0.8)
        limits_y = _robust_limits([c[k] for c in curves])
        if limits_y is not None:
            a.set_ylim(*limits_y)
        style_axes(
            a,
            title="Loss value" if panel == "value" else "Derivative (gradient)",
            xlabel=xlabel,
            ylabel="loss ℓ" if panel == "value" else f"dℓ/d{dname}",
        )
        legend(a, loc="best")
    if title is None:
        if len(entries) == 1:
            title = entries[0].loss.info.summary.rstrip(".")
        else:
            names = ", ".join(dict.fromkeys(_short_name(e.loss) for e in entries))
            title = f"{_TASK_TITLE.get(sorted(tasks)[0], 'Losses') if len(tasks) == 1 else 'Losses'}: {names}"
    if ax is None:
        suptitle(fig, title)
    return fig


def focal_effect(
    gammas: Sequence[float] = (0, 1, 2, 5),
    *,
    alpha: float | None = None,
    n: int = 400,
    ax: Any = None,
    dpi: float | None = None,
) -> Figure:
    r"""The focal loss against :math:`p_t` for several :math:`\gamma` (Lin et al., 2017, figure 1).

    Left: :math:`FL(p_t) = -\alpha_t (1 - p_t)^\gamma \log p_t` (``binary_focal`` with
    ``y_true = 1``; :math:`\gamma = 0` is the cross-entropy). Right: the factor by which the
    focal term scales the cross-entropy, :math:`FL / CE = \alpha_t (1 - p_t)^\gamma`, on a log
    scale -- easy examples (:math:`p_t > 0.6`, shaded) are down-weighted by orders of magnitude.
    ``alpha=None`` (default) draws the unweighted loss.

    >>> import losslab as ll
    >>> fig = ll.viz.focal_effect((0, 2), n=5)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['γ=0 (cross-entropy)', 'γ=2']
    """
    where = "focal_effect"
    if isinstance(gammas, (int, float)):
        gammas = (gammas,)
    values = [check_number(where, "gammas", g) for g in gammas]
    if not values:
        raise ValueError(f"{where}: gammas must hold at least one value")
    for g in values:
        if g < 0:
            raise ValueError(f"{where}: gammas must be >= 0, got gamma={g!r}")
    n = check_int(where, "n", n, minimum=2)
    axes = _axes_list(where, ax, 2)
    if axes is None:
        fig = new_figure(where, ncols=2, dpi=dpi)
        axes = list(fig.subplots(1, 2, squeeze=False)[0])
    else:
        fig = root_figure(axes[0])
    focal = get("binary_focal")
    p = np.linspace(0.01, 1.0, n)
    ones = np.ones_like(p)
    ce = np.asarray(focal(p, ones, reduction="none", gamma=0.0, alpha=None), dtype=np.float64)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    for i, g in enumerate(values):
        fl = np.asarray(focal(p, ones, reduction="none", gamma=g, alpha=alpha), dtype=np.float64)
        color = cmap(0.85 * i / max(len(values) - 1, 1))
        label = f"γ={g:g}" + (" (cross-entropy)" if g == 0 and alpha is None else "")
        axes[0].plot(p, fl, color=color, linewidth=2.2, label=label)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ce > 0, fl / ce, np.nan)
        axes[1].plot(p[:-1], ratio[:-1], color=color, linewidth=2.2, label=label)
    for a, y_text, va in zip(axes, (0.97, 0.03), ("top", "bottom")):
        a.axvspan(0.6, 1.0, color="0.85", alpha=0.5, zorder=0)
        a.text(
            0.8, y_text, "well-classified", transform=a.get_xaxis_transform(), ha="center", va=va,
            fontsize=FONT["annotation"],
        )  # fmt: skip
    axes[1].set_yscale("log")
    axes[1].set_ylim(bottom=1e-6, top=3.0)
    weight = r"$\alpha_t (1 - p_t)^\gamma$" if alpha is not None else r"$(1 - p_t)^\gamma$"
    style_axes(axes[0], title="Focal loss", xlabel=r"$p_t$: probability of the true class", ylabel="loss")
    style_axes(
        axes[1], title=f"Down-weighting: FL / CE = {weight}", xlabel=r"$p_t$", ylabel="FL / CE (log scale)"
    )
    legend(axes[0], loc="upper center")
    legend(axes[1], loc="lower left")
    if ax is None:
        suffix = "" if alpha is None else f", α={alpha:g}"
        suptitle(fig, r"Focal loss: easy examples down-weighted by $(1 - p_t)^\gamma$" + suffix)
    return fig
