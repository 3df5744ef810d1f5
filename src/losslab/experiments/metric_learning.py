r"""metric-learning: triplet mining strategies for the triplet loss.

Four classes live in two informative dimensions of an 8-dimensional input (centres on a circle of
radius 3, unit noise); six more dimensions are loud noise (standard deviation 3). A linear
embedding :math:`e = xW` into the plane is trained with the triplet loss
:math:`\max(0, d(a, p) - d(a, n) + m)` (``ll.losses.batch_triplet``) on random batches, the
triplets of each batch chosen by a mining strategy (:func:`losslab.losses.mine_triplets`:
``random`` one random positive and negative per anchor, ``semi_hard`` negatives beyond the positive
but within the margin, ``batch_hard`` each anchor's farthest positive and nearest negative, ...).
The embedding is judged by 1-nearest-neighbour accuracy on held-out points.

The claim's mechanism is measured directly: once the embedding has learned something, how many
random triplets still violate the margin -- the only ones with a gradient? The counterfactual is an
untrained embedding, where most do.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

import losslab as ll
from losslab.experiments._framework import (
    Claim,
    Criterion,
    Experiment,
    Outcome,
    Qualifier,
    Result,
    Table,
    VerdictRule,
    mean_std,
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

N_CLASSES, NUISANCE = 4, 6


def _data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % N_CLASSES
    angles = 2 * np.pi * np.arange(N_CLASSES) / N_CLASSES
    X = np.zeros((n, 2 + NUISANCE))
    X[:, :2] = 3.0 * np.c_[np.cos(angles), np.sin(angles)][y] + rng.normal(size=(n, 2))
    X[:, 2:] = rng.normal(0.0, 3.0, size=(n, NUISANCE))
    return X, y


def _knn(E: np.ndarray, y: np.ndarray, Et: np.ndarray, yt: np.ndarray) -> float:
    d = ((Et[:, None, :] - E[None, :, :]) ** 2).sum(axis=-1)
    return float(np.mean(y[np.argmin(d, axis=1)] == yt))


def _active_share(E: np.ndarray, y: np.ndarray, margin: float) -> float:
    """Share of all valid triplets whose loss is positive (the only ones with a gradient)."""
    a, p, n = ll.losses.mine_triplets(E, y, "all", margin=math.inf)
    m = np.linalg.norm(E[a] - E[n], axis=1) - np.linalg.norm(E[a] - E[p], axis=1)
    return float(np.mean(m < margin))


def _one(params: dict[str, Any], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    X, y = _data(rng, 300)
    Xte, yte = _data(rng, 300)
    W0 = rng.normal(0.0, 0.3, size=(X.shape[1], 2))
    probe = slice(0, 64)
    out = {"knn_start": _knn(X @ W0, y, Xte @ W0, yte)}
    for strategy in params["strategies"].split(","):
        r = np.random.default_rng(seed + 1)  # the same batches for every strategy
        W, opt = W0.copy(), ll.optim.adam(lr=params["lr"])
        state = opt.init(W)
        for t in range(params["steps"]):
            idx = r.choice(len(y), params["batch"], replace=False)
            _, g = ll.losses.batch_triplet.value_and_grad(
                X[idx] @ W, y[idx], strategy=strategy, margin=params["margin"], seed=t
            )
            W, state = ll.optim.step(opt, X[idx].T @ g, state, W)
        out[f"knn_{strategy}"] = _knn(X @ W, y, Xte @ W, yte)
        out[f"active_{strategy}"] = _active_share(X[probe] @ W, y[probe], params["margin"])
    return out


def compute(params: dict[str, Any], seed: int) -> Outcome:
    strategies = params["strategies"].split(",")
    if "random" not in strategies:
        raise ValueError("metric-learning: strategies must include 'random' (the baseline)")
    runs = [_one(params, s) for s in seed_list(seed, params["n_seeds"])]
    stat = {key: mean_std([r[key] for r in runs]) for key in runs[0]}
    mined = [s for s in strategies if s != "random"]
    best = max(mined, key=lambda s: stat[f"knn_{s}"][0]) if mined else "random"
    gain = mean_std([r[f"knn_{best}"] - r["knn_random"] for r in runs])
    metrics = {
        "knn_start": stat["knn_start"][0],
        "knn_random": stat["knn_random"][0],
        "knn_best_mined": stat[f"knn_{best}"][0],
        "mined_gain": gain[0],
        "mined_gain_std": gain[1],
        "inactive_share_random": 1.0 - stat["active_random"][0],
    }
    rows = [[s, stat[f"knn_{s}"][0], stat[f"knn_{s}"][1], stat[f"active_{s}"][0]] for s in strategies]
    rows.insert(0, ["(untrained embedding)", stat["knn_start"][0], stat["knn_start"][1], ""])
    table = Table(
        f"1-NN held-out accuracy of the embedding after {params['steps']} steps ({params['n_seeds']} seeds)",
        [
            "mining strategy",
            "accuracy (mean)",
            "accuracy (std)",
            "share of triplets still violating the margin",
        ],
        rows,
        note=f"best mined strategy: {best}; chance is {1 / N_CLASSES:.2f}.",
    )
    return Outcome(metrics, [table], {"runs": runs})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    run = result.data["runs"][0]
    strategies = [s for s in ("random", "semi_hard", "batch_hard") if f"knn_{s}" in run]
    knn = {"untrained": run["knn_start"], **{s.replace("_", " "): run[f"knn_{s}"] for s in strategies}}
    active = {s.replace("_", " "): run[f"active_{s}"] for s in strategies}
    return {
        "mining strategies": viz.bars(
            {"kNN accuracy": knn, "share of active random triplets": active},
            ylabel="value after training (first seed)",
            title="Triplet mining strategies",
        )
    }


EXPERIMENT = Experiment(
    name="metric-learning",
    title="Triplet loss: do the mining strategies matter?",
    claim=Claim(
        quote="Anchor should be closer to positive than negative · Requires triplet mining strategies · "
        "Mining Strategies: · Random: Random negative selection · Hard: Hardest negative in batch · "
        "Semi-hard: Negative closer than positive but within margin",
        source="001_39edf68555263e9d.txt",
        section="4.2 Triplet Loss",
    ),
    setup=(
        "A linear embedding of 8-D inputs (4 classes in 2 informative dimensions, 6 noisy ones) into the "
        "plane; triplet loss with margin {margin}, batches of {batch}, {steps} Adam steps (lr {lr}); "
        "strategies {strategies}; {n_seeds} seeds."
    ),
    defaults={
        "strategies": "random,semi_hard,hard,batch_hard",
        "margin": 1.0,
        "batch": 32,
        "steps": 100,
        "lr": 0.05,
        "n_seeds": 2,
    },
    quick={"strategies": "random,semi_hard,batch_hard", "batch": 24, "steps": 40, "n_seeds": 1},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "inactive_share_random",
                ">",
                0.5,
                meaning="share of random triplets with zero loss (no gradient) once the embedding is trained",
            ),
        ),
        qualifiers=(
            Qualifier(
                Criterion(
                    "mined_gain",
                    ">",
                    0.0,
                    spread="mined_gain_std",
                    meaning="1-NN accuracy of the best mined strategy minus random triplets'",
                ),
                only_when="'requires' means 'wastes most random triplets': at this budget random triplets "
                "still train an embedding as good as the mined ones",
            ),
        ),
    ),
    figures=figures,
    counterfactual={"steps": 0},
    order=710,
)
register(EXPERIMENT)
