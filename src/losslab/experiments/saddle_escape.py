r"""saddle-escape: gradient descent stalls at a saddle; gradient noise carries it away.

The saddle is :math:`f(w) = w_1^2 - w_2^2` in ``dim`` dimensions (:math:`\sum_{i<n} w_i^2 - w_n^2`,
one escape direction), started at :math:`(1.5, \dots, 1.5, 0)`, on its stable manifold: the
gradient never has a component along :math:`w_n`, so gradient descent (and momentum) converge to
the saddle exactly. Noisy gradient descent sees :math:`\nabla f + \sigma\xi_t` with
:math:`\xi_t \sim \mathcal N(0, I)` (``noise`` :math:`= \sigma`, the stand-in for mini-batch
noise). A run *escapes* when :math:`f(w_t) < -1` within ``steps`` steps (it has slid a unit down
the escape direction); each noise seed is an independent run. The 1-D ``anatomy`` curve's shelf
(a stationary inflection point) is raced the same way, from between its maximum and the shelf.
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
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

ESCAPED = -1.0


class _Saddle:
    """:math:`\\sum_{i<n} w_i^2 - w_n^2`: ``value`` and ``grad`` on points with coordinates last."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.signs = np.r_[np.ones(dim - 1), -1.0]
        self.start = np.r_[np.full(dim - 1, 1.5), 0.0]
        self.minima: tuple[np.ndarray, ...] = ()
        self.minimum_value = None
        self.name = "saddle"
        self.limits = ((-2.0, 2.0), (-2.0, 2.0))

    def value(self, w: Any) -> Any:
        w = np.asarray(w, dtype=np.float64)
        return np.sum(self.signs * w * w, axis=-1)

    def grad(self, w: Any) -> np.ndarray:
        return 2.0 * self.signs * np.asarray(w, dtype=np.float64)


def _escape_step(entry: Any) -> int | None:
    below = np.flatnonzero(entry.values < ESCAPED)
    if below.size:
        return int(below[0])
    return entry.diverged_step  # ran off to infinity down the escape direction


def compute(params: dict[str, Any], seed: int) -> Outcome:
    f = ll.landscape.functions.get("saddle") if params["dim"] == 2 else _Saddle(params["dim"])
    lr, steps, sigma = params["lr"], params["steps"], params["noise"]
    opts = {"gd": ll.optim.sgd(lr=lr), "momentum": ll.optim.sgd(lr=lr, momentum=0.9)}
    clean = ll.landscape.race(f, opts, steps=steps)
    seeds = seed_list(seed, params["n_seeds"])
    noisy = [
        ll.landscape.race(f, {"noisy gd": ll.optim.sgd(lr=lr)}, steps=steps, noise=sigma, seed=s)[0]
        for s in seeds
    ]
    escapes = [_escape_step(e) for e in noisy]
    escaped = [s for s in escapes if s is not None]
    metrics = {
        "gd_escape_fraction": float(_escape_step(clean[0]) is not None),
        "momentum_escape_fraction": float(_escape_step(clean[1]) is not None),
        "gd_distance_to_saddle": float(np.linalg.norm(clean[0].path[-1])),
        "noisy_escape_fraction": len(escaped) / len(escapes),
        "noisy_median_escape_step": float(np.median(escaped)) if escaped else float(steps + 1),
    }
    metrics["escape_gain"] = metrics["noisy_escape_fraction"] - metrics["gd_escape_fraction"]
    rows = [
        ["gd", 0.0, 1, metrics["gd_escape_fraction"], "-", metrics["gd_distance_to_saddle"]],
        ["momentum (beta 0.9)", 0.0, 1, metrics["momentum_escape_fraction"], "-", float(np.linalg.norm(clean[1].path[-1]))],
        ["noisy gd", sigma, len(seeds), metrics["noisy_escape_fraction"],
         metrics["noisy_median_escape_step"] if escaped else "-", float(np.median([np.linalg.norm(e.path[-1]) for e in noisy]))],
    ]  # fmt: skip
    saddle_table = Table(
        f"Escaping the saddle (dim {params['dim']}): f < {ESCAPED:g} within {steps} steps",
        ["method", "noise sigma", "runs", "escape fraction", "median escape step", "final |w| (median)"],
        rows,
        note="gd and momentum start on the stable manifold and converge to the saddle itself",
    )
    # the 1-D shelf of the anatomy curve: a stationary inflection point
    a = ll.landscape.functions.get("anatomy")
    shelf_clean = ll.landscape.race(a, {"gd": ll.optim.sgd(lr=0.05)}, steps=steps)[0]
    shelf_noisy = [
        ll.landscape.race(a, {"gd": ll.optim.sgd(lr=0.05)}, steps=steps, noise=30 * sigma, seed=s)[0]
        for s in seeds
    ]
    passed = [float(e.path[-1, 0] > 0.5) for e in shelf_noisy]
    metrics["shelf_gd_final"] = float(shelf_clean.path[-1, 0])
    metrics["shelf_noisy_pass_fraction"] = float(np.mean(passed))
    shelf_table = Table(
        "The anatomy curve's shelf at 0 (a 1-D saddle): where gradient descent ends from -0.75",
        ["method", "noise sigma", "final theta (median)", "fraction past the shelf (theta > 0.5)"],
        [
            ["gd", 0.0, metrics["shelf_gd_final"], float(shelf_clean.path[-1, 0] > 0.5)],
            [
                "noisy gd",
                30 * sigma,
                float(np.median([e.path[-1, 0] for e in shelf_noisy])),
                metrics["shelf_noisy_pass_fraction"],
            ],
        ],  # fmt: skip
        note="without noise the step shrinks like theta^2 near the shelf: gradient descent creeps toward 0 and stops",
    )
    data = {"function": f, "clean": clean, "noisy": noisy[:3]}
    return Outcome(metrics, [saddle_table, shelf_table], data)


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    d = result.data
    if getattr(d["function"], "dim", 2) != 2:
        return {}
    runs = [d["clean"][0], *[e._replace(name=f"noisy gd #{i + 1}") for i, e in enumerate(d["noisy"])]]
    return {
        "paths": viz.paths(
            d["function"], runs, title="Gradient descent at a saddle, with and without noise", resolution=120
        )
    }


EXPERIMENT = Experiment(
    name="saddle-escape",
    title="Saddle escape: gradient descent stalls, noise carries it away",
    claim=Claim(
        quote="SGD's inherent noise helps escape saddle points.",
        source="002_21da411b06e8b2bb.txt",
        section="Section 15, Key Takeaways",
    ),
    setup=(
        "The saddle sum w_i^2 - w_n^2 in {dim} dimensions from its stable manifold (escape coordinate "
        "0); gradient descent, momentum and noisy gradient descent (sigma = {noise}, {n_seeds} seeds), "
        "lr {lr}, {steps} steps; escaped when f < -1."
    ),
    defaults={"dim": 2, "noise": 0.01, "lr": 0.05, "steps": 400, "n_seeds": 10},
    quick={"n_seeds": 5, "steps": 300},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "escape_gain",
                ">=",
                0.8,
                meaning="escape fraction with noise minus without",
            ),
        ),
    ),
    counterfactual={"noise": 0.0},
    figures=figures,
    order=410,
)
register(EXPERIMENT)
