r"""loss-surfaces: MSE's bowl over (w, b), MAE's ridges, cross-entropy over (w1, w2) as the bias moves.

Data: seed 000's cells. Regression: 60 points :math:`y = 2x + 1 + N(0, 0.6^2)`,
:math:`x \sim U(-3, 3)` (``n_samples`` of them); the surfaces over the 000 cell-1 window
:math:`w \in [-1.5, 4]`, :math:`b \in [-2, 4]` come from
:func:`losslab.landscape.linear_regression_surface` (MSE in closed form, the robust loss streamed).
A ridge is where the surface's slope jumps: MAE is piecewise linear in :math:`(w, b)`, with a crease
along every line :math:`w x_i + b = y_i`, so its curvature (the second difference along :math:`b`)
is exactly zero on the facets and concentrated on the creases. Measured: the share of grid cells
with zero curvature (relative to the largest) and the ratio of the largest curvature to the mean.
MSE's curvature is the constant :math:`2` along :math:`b`. Classification: 000 cell 2's two
Gaussian blobs, binary cross-entropy over :math:`(w_1, w_2)` with the bias at 0 and at ``b_moved``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import losslab as ll
from losslab.experiments._framework import (
    Claim,
    Criterion,
    Experiment,
    Outcome,
    Result,
    Table,
    VerdictRule,
    register,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _regression(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)  # seed 0: 000 cell 1 exactly
    x = rng.uniform(-3, 3, size=n)
    return x, 2.0 * x + 1.0 + rng.normal(0, 0.6, size=x.shape)


def _classes(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)  # seed 0: 000 cell 2 exactly
    n = 100
    X = np.vstack([rng.normal(1.5, 0.6, size=(n // 2, 2)), rng.normal(-1.5, 0.6, size=(n // 2, 2))])
    return X, np.hstack([np.ones(n // 2), np.zeros(n // 2)])


def _curvature(Z: np.ndarray) -> tuple[float, float, float]:
    """(share of cells with zero curvature along b, max / mean curvature, relative spread)."""
    d2 = np.abs(np.diff(Z, 2, axis=0))
    top = float(d2.max())
    if top == 0:
        return 1.0, 1.0, 0.0
    flat = float(np.mean(d2 <= 1e-9 * top))
    return flat, top / float(d2.mean()), float((d2.max() - d2.min()) / top)


def compute(params: dict[str, Any], seed: int) -> Outcome:
    x, y = _regression(params["n_samples"], seed)
    w = np.linspace(-1.5, 4.0, params["resolution"])
    b = np.linspace(-2.0, 4.0, params["resolution"])
    surfaces: dict[str, Any] = {}
    rows = []
    metrics: dict[str, float] = {}
    robust = params["robust_loss"]
    for tag, loss in (("mse", "mse"), ("robust", robust)):
        W, B, Z = ll.landscape.linear_regression_surface(x, y, loss, w, b)
        surfaces[loss] = (W, B, Z)
        flat, peak, spread = _curvature(Z)
        i, j = np.unravel_index(np.argmin(Z), Z.shape)
        metrics[f"{tag}_flat_share"], metrics[f"{tag}_curvature_peak"], metrics[f"{tag}_curvature_spread"] = (
            flat,
            peak,
            spread,
        )
        rows.append([loss, float(Z.min()), float(w[j]), float(b[i]), flat, peak, spread])
    slope, intercept = np.polyfit(x, y, 1)
    i, j = np.unravel_index(np.argmin(surfaces["mse"][2]), surfaces["mse"][2].shape)
    metrics["mse_minimum_offset"] = float(np.hypot(w[j] - slope, b[i] - intercept))
    reg_table = Table(
        f"Surfaces over (w, b), {params['resolution']} x {params['resolution']}, {params['n_samples']} samples",
        [
            "loss",
            "lowest value",
            "at w",
            "at b",
            "cells with zero curvature",
            "peak / mean curvature",
            "curvature spread",
        ],
        rows,
        note=f"least squares: w = {slope:.4f}, b = {intercept:.4f}; the MSE grid minimum is "
        f"{metrics['mse_minimum_offset']:.3f} from it (the grid spacing bounds the gap)",
    )
    X, yc = _classes(seed)
    v = np.linspace(-4.0, 4.0, params["resolution"])
    ce_rows = []
    for bias in (0.0, params["b_moved"]):
        W1, W2, Z = ll.landscape.logistic_surface(X, yc, v, v, b=bias)
        surfaces[f"ce b={bias:g}"] = (W1, W2, Z)
        i, j = np.unravel_index(np.argmin(Z), Z.shape)
        ce_rows.append([bias, float(Z.min()), float(v[j]), float(v[i]), float(Z[v.size // 2, v.size // 2])])
    Z0, Z1 = surfaces["ce b=0"][2], surfaces[f"ce b={params['b_moved']:g}"][2]
    metrics["ce_change_at_origin"] = float(Z1[v.size // 2, v.size // 2] - Z0[v.size // 2, v.size // 2])
    ce_table = Table(
        "Cross-entropy over (w1, w2) with the bias fixed",
        ["b", "lowest value", "at w1", "at w2", "value at w = 0"],
        ce_rows,
        note="at w = 0 every logit is b: the loss is softplus(b) - b mean(y) = log 2 at b = 0",
    )
    return Outcome(metrics, [reg_table, ce_table], {"surfaces": surfaces, "robust": robust})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    s = result.data["surfaces"]
    out = {}
    for name, surface in s.items():
        labels = ("w1", "w2") if name.startswith("ce") else ("w", "b")
        out[f"{name} contours"] = viz.contour(surface, axis_labels=labels, title=f"{name.upper()} surface")
    return out


EXPERIMENT = Experiment(
    name="loss-surfaces",
    title="Loss surfaces: MSE's bowl, MAE's ridges, cross-entropy as the bias moves",
    claim=Claim(
        quote='Compare MSE vs MAE landscapes — MAE will have "ridges" due to the non-smooth gradient.',
        source="002_21da411b06e8b2bb.txt",
        section="Section 13, C2",
    ),
    setup=(
        "000 cell 1's data ({n_samples} points on y = 2x + 1), MSE and {robust_loss} over a "
        "{resolution} x {resolution} (w, b) grid; 000 cell 2's blobs, cross-entropy over (w1, w2) "
        "with b = 0 and b = {b_moved}."
    ),
    defaults={"n_samples": 60, "resolution": 121, "b_moved": 2.0, "robust_loss": "mae"},
    quick={"resolution": 61},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "robust_flat_share",
                ">",
                0.2,
                meaning="share of the robust loss's grid cells with zero curvature (facets between creases)",
            ),
            Criterion("robust_curvature_peak", ">", 5.0, meaning="its peak curvature over the mean: creases"),
            Criterion(
                "mse_curvature_spread", "<", 1e-6, meaning="MSE's curvature varies by this share: none"
            ),
        ),
    ),
    counterfactual={"robust_loss": "log_cosh"},
    figures=figures,
    order=420,
)
register(EXPERIMENT)
