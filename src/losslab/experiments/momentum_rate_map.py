r"""momentum-rate-map: measured convergence rates over (lr, beta) against Distill's closed forms.

On the quadratic :math:`\tfrac12(\mu w_1^2 + L w_2^2)` (:math:`\mu = 1`, :math:`L` =
``condition``), heavy-ball momentum (``ll.optim.sgd(lr, momentum=beta)``) is run over a grid of
learning rates and momenta, and its rate :math:`\rho` (the error shrinks like :math:`\rho^k`) is
read off the run (:func:`losslab.landscape.momentum_rate_map`). The closed forms
(:func:`losslab.landscape.momentum_rate`; Goh, "Why Momentum Really Works", Distill 2017) predict
every cell; gradient descent is the row :math:`\beta = 0`. The claim tested: accumulated
momentum accelerates -- the best rate with :math:`\beta > 0` beats gradient descent's best,
:math:`(\sqrt\kappa - 1)/(\sqrt\kappa + 1)` against :math:`(\kappa - 1)/(\kappa + 1)` in theory.
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


def compute(params: dict[str, Any], seed: int) -> Outcome:
    kappa = float(params["condition"])
    lam = [1.0, kappa]
    lrs = np.linspace(0.02, 2.2, params["n_lr"]) / kappa  # up to past gradient descent's 2/L
    betas = np.linspace(0.0, 0.95, params["n_beta"])
    m = ll.landscape.momentum_rate_map(lam, lrs, betas, steps=params["steps"])
    converging = m.predicted < 0.999
    rel = np.abs(m.measured - m.predicted) / m.predicted
    best_gd = float(m.measured[0].min())
    best_momentum = float(m.measured[1:].min())
    i, j = np.unravel_index(np.argmin(m.measured[1:]), m.measured[1:].shape)
    sk = np.sqrt(kappa)
    metrics = {
        "max_rel_error": float(rel[converging].max()),
        "median_rel_error": float(np.median(rel[converging])),
        "best_gd_rate": best_gd,
        "best_momentum_rate": best_momentum,
        "acceleration": float(np.log(best_momentum) / np.log(best_gd))
        if 0 < best_gd < 1 and best_momentum > 0
        else 0.0,
        "rate_advantage": best_gd - best_momentum,
        "theory_gd_rate": (kappa - 1) / (kappa + 1),
        "theory_momentum_rate": (sk - 1) / (sk + 1),
        "diverging_cells_agree": float(np.mean((m.measured > 1) == (m.predicted > 1))),
    }
    table = Table(
        f"Best rates on the grid (condition {kappa:g}): measured, and the closed forms' optimum",
        ["method", "best measured rate", "at lr", "at beta", "theoretical optimum"],
        [
            [
                "gradient descent (beta = 0)",
                best_gd,
                float(lrs[int(np.argmin(m.measured[0]))]),
                0.0,
                metrics["theory_gd_rate"],
            ],
            [
                "heavy ball (beta > 0)",
                best_momentum,
                float(lrs[j]),
                float(betas[1:][i]),
                metrics["theory_momentum_rate"],
            ],
        ],  # fmt: skip
        note=f"measured and closed-form rates agree to {metrics['max_rel_error']:.2%} at worst over the "
        f"{int(converging.sum())} converging cells (median {metrics['median_rel_error']:.2%}); the "
        "optimum lies between grid points, so the measured best is a little above it",
    )
    return Outcome(metrics, [table], {"map": m, "condition": kappa})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    m = result.data["map"]
    shown = np.minimum(m.measured, 1.2)  # diverging cells capped so the converging ones keep their contrast
    return {
        "measured rate map": viz.contour(
            (m.lrs, m.betas, shown), axis_labels=("learning rate", "momentum β"), filled=True, minimum=False,
            title=f"Measured rate of heavy ball (condition {result.data['condition']:g}; capped at 1.2)",
        ),
    }  # fmt: skip


EXPERIMENT = Experiment(
    name="momentum-rate-map",
    title="Momentum's rate map: measured convergence against the closed forms",
    claim=Claim(
        quote="When moving in a consistent direction, momentum accumulates past gradients, effectively "
        "accelerating progress.",
        source="003_7d7b8fec0c74cf17.txt",
        section="7. SGD with Momentum",
    ),
    setup=(
        "Heavy ball on 0.5 (w1^2 + {condition} w2^2) over {n_lr} learning rates (up to 2.2 / L) and "
        "{n_beta} momenta in [0, 0.95]; rates measured over {steps} steps against Distill's closed forms."
    ),
    defaults={"condition": 100.0, "n_lr": 40, "n_beta": 20, "steps": 300},
    quick={"n_lr": 24, "n_beta": 12, "steps": 200},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion("max_rel_error", "<", 0.03, meaning="worst gap between measured and closed-form rates"),
            Criterion(
                "rate_advantage",
                ">",
                0.01,
                meaning="gradient descent's best measured rate minus heavy ball's (lower is faster)",
            ),
        ),
    ),
    counterfactual={"condition": 1.0},
    figures=figures,
    order=330,
)
register(EXPERIMENT)
