r"""skip-connections: filter-normalized 2-D slices of an MLP with and without residual skips.

Li et al. (NeurIPS 2018, arXiv:1712.09913) draw :math:`L(\theta^* + \alpha d_1 + \beta d_2)` around
a trained :math:`\theta^*` along two random filter-normalized directions (each filter, a column
``W[:, j]`` in losslab's ``(n_in, n_out)`` storage, rescaled to the norm of the trained one; biases
zero) and see skip connections turn a chaotic surface into a convex-looking bowl. Here a deep MLP
(``depth`` hidden layers of equal width, ReLU, softmax output) is trained on the two-arm spirals
with and without skips (:math:`h_l = f(z_l) + h_{l-1}`) from the same seed, and each trained network
is sliced on the same :math:`[-1, 1]^2` grid.

Roughness, the slice's non-convexity: at every interior grid point the 2 x 2 Hessian of the slice is
read by central differences of the grid values and its eigenvalues
:math:`\lambda_{min} \le \lambda_{max}` are taken (the in-plane analogue of Li et al.'s
:math:`|\lambda_{min}/\lambda_{max}|` map, Fig. 7);

.. math:: \text{nonconvexity} = \frac{\sum \max(0, -\lambda_{min})}{\sum |\lambda_{max}|},

0 for a convex slice, and it grows with the negative curvature the slice holds. The claim holds
when the no-skip network's non-convexity exceeds the skip network's by more than the standard
error of the paired (same seed) difference. Counterfactual: one hidden layer, where no two consecutive layers
have equal width, so ``skip=True`` adds nothing and the two networks -- and their slices -- are
identical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import losslab as ll
from losslab.experiments._common import train
from losslab.experiments._framework import (
    Claim,
    Criterion,
    Experiment,
    Outcome,
    Result,
    Table,
    VerdictRule,
    mean_sem,
    mean_std,
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

LOSS = "sparse_categorical_cross_entropy"


def slice_curvature(Z: np.ndarray, h1: float, h2: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues ``(lambda_min, lambda_max)`` of the central-difference 2 x 2 Hessian of a grid ``Z[i, j]``
    (``j`` along the first axis, step ``h1``; ``i`` along the second, step ``h2``) at its interior points."""
    zaa = (Z[1:-1, 2:] - 2.0 * Z[1:-1, 1:-1] + Z[1:-1, :-2]) / (h1 * h1)
    zbb = (Z[2:, 1:-1] - 2.0 * Z[1:-1, 1:-1] + Z[:-2, 1:-1]) / (h2 * h2)
    zab = (Z[2:, 2:] - Z[2:, :-2] - Z[:-2, 2:] + Z[:-2, :-2]) / (4.0 * h1 * h2)
    mid, rad = 0.5 * (zaa + zbb), np.hypot(0.5 * (zaa - zbb), zab)
    return mid - rad, mid + rad


def nonconvexity(Z: np.ndarray, h1: float, h2: float) -> tuple[float, float]:
    r""":math:`\sum\max(0,-\lambda_{min}) / \sum|\lambda_{max}|` over the interior, and the share of
    interior points with :math:`\lambda_{min} < 0`."""
    lo, hi = slice_curvature(Z, h1, h2)
    return float(np.sum(np.maximum(0.0, -lo)) / np.sum(np.abs(hi))), float(np.mean(lo < 0.0))


def compute(params: dict[str, Any], seed: int) -> Outcome:
    depth, width, grid = params["depth"], params["width"], params["grid"]
    axis = np.linspace(-params["radius"], params["radius"], grid)
    h = float(axis[1] - axis[0])
    per: dict[str, dict[str, list[float]]] = {
        k: {"nc": [], "share": [], "loss": [], "acc": []} for k in ("skip", "noskip")
    }
    surfaces: dict[str, np.ndarray] = {}
    for i, s in enumerate(seed_list(seed, params["n_seeds"])):
        X, y = ll.data.spirals(n=params["n"], seed=s)
        for key, skip in (("noskip", False), ("skip", True)):
            model = ll.models.MLP([2] + [width] * depth + [2], "relu", output_activation="softmax", skip=skip)
            hist = train(
                model, X, y, loss=LOSS, optimizer=ll.optim.adam(lr=params["lr"]), epochs=params["epochs"], seed=s
            )  # fmt: skip
            obj = model.objective(X, y, loss=LOSS)
            d1 = ll.landscape.random_direction(hist.params, seed=s, normalization="filter", bias="zero")
            d2 = ll.landscape.random_direction(hist.params, seed=s + 1, normalization="filter", bias="zero")
            Z = ll.landscape.slice_2d(obj, hist.params, d1, d2, axis, axis)
            nc, share = nonconvexity(Z, h, h)
            for name, v in (("nc", nc), ("share", share), ("loss", obj.value(hist.params))):
                per[key][name].append(float(v))
            per[key]["acc"].append(obj.accuracy(hist.params))
            if i == 0:
                surfaces[key] = Z
    metrics: dict[str, float] = {}
    for key, d in per.items():
        metrics[f"nonconvexity_{key}"], metrics[f"nonconvexity_{key}_std"] = mean_std(d["nc"])
        metrics[f"negative_share_{key}"], _ = mean_std(d["share"])
        metrics[f"train_loss_{key}"], _ = mean_std(d["loss"])
        metrics[f"train_accuracy_{key}"], _ = mean_std(d["acc"])
    diff = np.subtract(per["noskip"]["nc"], per["skip"]["nc"]).tolist()
    metrics["nonconvexity_reduction"], metrics["nonconvexity_reduction_sem"] = mean_sem(diff)
    table = Table(
        f"Spirals ({params['n']} points), MLP [2, {depth} x {width}, 2] (ReLU), Adam lr {params['lr']}, "
        f"{params['epochs']} epochs; {grid} x {grid} slice on [-{params['radius']}, {params['radius']}]^2",
        ["network", "non-convexity (mean)", "sd over seeds", "share of points with lambda_min < 0",
         "train loss", "train accuracy"],
        [[key, metrics[f"nonconvexity_{key}"], metrics[f"nonconvexity_{key}_std"],
          metrics[f"negative_share_{key}"], metrics[f"train_loss_{key}"], metrics[f"train_accuracy_{key}"]]
         for key in ("noskip", "skip")],
        note="non-convexity = sum max(0, -lambda_min) / sum |lambda_max| of the slice's 2 x 2 Hessian "
        "(central differences) over the interior grid points; 0 for a convex slice",
    )  # fmt: skip
    return Outcome(metrics, [table], {"axis": axis, "surfaces": surfaces})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    a, S = result.data["axis"], result.data["surfaces"]
    mid = a.size // 2
    return {
        "slice without skips": viz.slice_2d(a, a, S["noskip"], log=True, title="No skip connections"),
        "slice with skips": viz.slice_2d(a, a, S["skip"], log=True, title="With skip connections"),
        "1-D cross-sections": viz.slice_1d(
            a, {"no skips": S["noskip"][mid], "skips": S["skip"][mid]}, log=True, title="β = 0 cross-sections"
        ),
    }


EXPERIMENT = Experiment(
    name="skip-connections",
    title="Skip connections smooth the loss landscape (Li et al. slices)",
    claim=Claim(
        quote=(
            "The paper shows that skip connections (as in ResNets) create smoother loss landscapes, "
            "which are easier to optimize. Without skip connections, the landscape is chaotic with many "
            "sharp minima."
        ),
        source="002_21da411b06e8b2bb.txt",
        section="Section 13, R1",
    ),
    setup=(
        "Spirals ({n} points, {n_seeds} seeds); MLP with {depth} ReLU hidden layers of width {width} and "
        "a softmax output, with and without residual skips; full-batch Adam lr {lr}, {epochs} epochs; "
        "{grid} x {grid} filter-normalized slice (biases zero) on [-{radius}, {radius}]^2 around the "
        "trained weights."
    ),
    defaults={
        "n": 300,
        "depth": 8,
        "width": 12,
        "lr": 0.01,
        "epochs": 150,
        "grid": 13,
        "radius": 1.0,
        "n_seeds": 5,
    },  # fmt: skip
    quick={"width": 8, "epochs": 60, "grid": 9, "n_seeds": 3},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "nonconvexity_reduction",
                ">",
                0.0,
                spread="nonconvexity_reduction_sem",
                meaning="slice non-convexity without skips minus with skips (paired by seed)",
            ),
        ),
    ),
    counterfactual={"depth": 1},
    figures=figures,
    order=430,
)
register(EXPERIMENT)
