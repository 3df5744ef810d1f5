"""The bias-variance figure: bias², variance and noise of a learner across model complexity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from losslab.viz.style import PALETTE, check_axes, legend, new_figure, root_figure, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["bias_variance"]

#: The curves drawn, in legend order: (attribute, label, colour index, line style).
_PARTS = (
    ("bias2", "bias²", 0, "-"),
    ("variance", "variance", 1, "-"),
    ("noise", "noise", 2, ":"),
    ("total", "bias² + variance + noise", 3, "-"),
)


def bias_variance(
    results: Mapping[Any, Any],
    *,
    xlabel: str = "model complexity",
    log_y: bool | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    dpi: float | None = None,
) -> Figure:
    r"""Bias², variance, noise and their sum against model complexity, with the measured error.

    ``results`` maps a complexity (a number: degree, width, 1/lambda; or a label) to the
    :class:`losslab.data.BiasVariance` of that learner. The decomposition
    :math:`E[(y - \hat f(x))^2] = \text{bias}^2 + \text{variance} + \text{noise}` (000) is drawn
    as three curves and their sum; the directly measured expected error is drawn as points with
    bars of :math:`\pm 2` Monte-Carlo standard errors, so the sum should pass through the bars.
    Numeric keys are placed at their values, other keys at equal spacing in the given order.
    ``log_y=None`` takes a log scale when the values span more than a factor 30 (an over-fitted
    learner's variance would flatten the rest); on a log scale a zero (a bias² estimate clipped at
    0) is left out of its curve.

    >>> import numpy as np, losslab as ll
    >>> def data(rng, X=None):
    ...     X = rng.uniform(-1, 1, size=(20, 1)) if X is None else X
    ...     return X, np.sin(3 * X[:, 0]) + rng.normal(0, 0.3, size=len(X))
    >>> def poly(degree):
    ...     def factory(X, y):
    ...         coef = np.polyfit(X[:, 0], y, degree)
    ...         return lambda Xq: np.polyval(coef, Xq[:, 0])
    ...     return factory
    >>> runs = {d: ll.data.bias_variance(poly(d), data, n_draws=10, n_targets=20) for d in (1, 3)}
    >>> fig = ll.viz.bias_variance(runs, xlabel="polynomial degree")
    >>> [line.get_label() for line in fig.axes[0].lines][:4]
    ['bias²', 'variance', 'noise', 'bias² + variance + noise']
    """
    where = "bias_variance"
    if not isinstance(results, Mapping) or not results:
        raise ValueError(f"{where}: results must be a non-empty mapping complexity -> BiasVariance")
    runs = list(results.items())
    for key, run in runs:
        missing = [
            name
            for name in ("bias2", "variance", "noise", "expected_error", "error_se")
            if not hasattr(run, name)
        ]
        if missing:
            raise TypeError(
                f"{where}: results[{key!r}] must be a BiasVariance (ll.data.bias_variance), got {type(run).__name__}"
            )
    keys = [key for key, _ in runs]
    numeric = all(
        isinstance(k, (int, float, np.integer, np.floating)) and not isinstance(k, bool) for k in keys
    )
    x = np.asarray(keys, dtype=np.float64) if numeric else np.arange(len(keys), dtype=np.float64)
    order = np.argsort(x, kind="stable")
    x = x[order]
    ordered = [runs[i][1] for i in order]
    if ax is None:
        fig = new_figure(where, dpi=dpi, panel=(7.0, 5.0))
        ax = fig.add_subplot()
    else:
        fig = root_figure(check_axes(where, ax))
    for attr, label, color, style in _PARTS:
        values = np.array([float(getattr(r, attr)) for r in ordered])
        width = 2.6 if attr == "total" else 1.8
        ax.plot(x, values, style, marker="o", ms=4, lw=width, color=PALETTE[color], label=label)
    measured = np.array([float(r.expected_error) for r in ordered])
    se = np.array([float(r.error_se) for r in ordered])
    ax.errorbar(x, measured, yerr=2.0 * se, fmt="s", ms=6, color="black", capsize=4, lw=1.2,
                label="measured E[(y - f̂(x))²] ± 2 SE")  # fmt: skip
    if not numeric:
        ax.set_xticks(x, [str(keys[i]) for i in order])
    if log_y is None:
        drawn = np.concatenate([[float(getattr(r, a)) for r in ordered for a, *_ in _PARTS], measured])
        positive = drawn[drawn > 0]
        log_y = positive.size > 0 and float(positive.max()) > 30.0 * float(positive.min())
    if log_y:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0.0)
    style_axes(
        ax, title=title or "Bias-variance decomposition", xlabel=xlabel, ylabel="expected squared error"
    )
    legend(ax, loc="best")
    return fig
