r"""loss-zoo: how the regression losses' gradients grow with the error.

Seed 002's §7.5 prints the gradients of MSE, MAE and Huber (δ = 1.5) for errors from -3 to 3 and
draws three conclusions: MSE's gradient grows linearly, MAE's is a constant ±1, Huber's is
proportional for small errors and capped at ±δ for large ones. The gradients here come from the
registry's analytic ``grad`` (``reduction="none"``: the per-element derivative); the printed table
is checked cell by cell. Every regression loss of the zoo is then probed on a wide range of errors
to measure whether its gradient is bounded, and the measurement is set against the loss's
declared ``robust`` flag.
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

ERRORS = (-3.0, -2.0, -1.0, -0.1, 0.0, 0.1, 1.0, 2.0, 3.0)
#: Seed 002 §7.5's printed gradients (error -> MSE, MAE, Huber with delta 1.5).
PRINTED = {
    -3.0: (-6.00, -1.00, -1.50),
    -2.0: (-4.00, -1.00, -1.50),
    -1.0: (-2.00, -1.00, -1.00),
    -0.1: (-0.20, -1.00, -0.10),
    0.0: (0.00, 0.00, 0.00),
    0.1: (0.20, 1.00, 0.10),
    1.0: (2.00, 1.00, 1.00),
    2.0: (4.00, 1.00, 1.50),
    3.0: (6.00, 1.00, 1.50),
}
#: Losses whose second argument is not a plain target or that need positive predictions.
_SKIP_PROBE = ("gaussian_nll", "poisson_nll")


def _grad(name: str, errors: np.ndarray, **params: Any) -> np.ndarray:
    loss = ll.losses.get(name)
    return np.asarray(loss.grad(errors, np.zeros_like(errors), reduction="none", **params))


def compute(params: dict[str, Any], seed: int) -> Outcome:
    delta = params["delta"]
    e = np.asarray(ERRORS)
    g = {"mse": _grad("mse", e), "mae": _grad("mae", e), "huber": _grad("huber", e, delta=delta)}
    rows, deviation = [], 0.0
    for i, err in enumerate(ERRORS):
        printed = PRINTED[err]
        computed = [float(g[k][i]) for k in ("mse", "mae", "huber")]
        deviation = max(deviation, *(abs(round(c, 2) - p) for c, p in zip(computed, printed)))
        rows.append([err, *computed, *printed])
    nonzero = e != 0
    large = np.abs(e) > delta
    metrics = {
        "mse_linearity_error": float(np.max(np.abs(g["mse"] - 2 * e))),
        "mae_constant_error": float(np.max(np.abs(np.abs(g["mae"][nonzero]) - 1.0))),
        "huber_small_error_gap": float(np.max(np.abs(g["huber"][~large] - e[~large]))),
        "huber_capped_share": float(np.mean(np.isclose(np.abs(g["huber"][nonzero]), delta))),
        "huber_max_grad": float(np.max(np.abs(g["huber"]))),
        "printed_table_deviation": deviation,
    }
    zoo_rows, mismatches = _probe_zoo(params["probe_max"])
    metrics["robust_flag_mismatches"] = float(mismatches)
    gradients = Table(
        f"Gradients dL/de at the errors of §7.5 (Huber delta = {delta:g})",
        ["error", "MSE", "MAE", "Huber", "printed MSE", "printed MAE", "printed Huber (delta 1.5)"],
        rows,
    )
    zoo = Table(
        f"Every regression loss: is the gradient bounded? (|grad| at errors 1 and {params['probe_max']:g})",
        ["loss", "|grad| at 1", f"|grad| at {params['probe_max']:g}", "measured bounded", "declared robust"],
        zoo_rows,
        note="bounded: |grad| at the largest error at most twice |grad| at 1",
    )
    return Outcome(metrics, [gradients, zoo], {"errors": e, "gradients": g, "delta": delta})


def _probe_zoo(probe_max: float) -> tuple[list[list[Any]], int]:
    rows, mismatches = [], 0
    for name in ll.losses.names(task="regression"):
        if name in _SKIP_PROBE:
            continue
        loss = ll.losses.get(name)
        g1 = float(np.max(np.abs(_grad(name, np.array([-1.0, 1.0])))))
        gbig = float(np.max(np.abs(_grad(name, np.array([-probe_max, probe_max])))))
        bounded = gbig <= 2 * g1
        robust = bool(loss.info.robust)
        mismatches += bounded != robust
        rows.append([name, g1, gbig, "yes" if bounded else "no", "yes" if robust else "no"])
    return rows, mismatches


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    return {"losses and gradients": viz.loss_curves(["mse", "mae", "huber", "log_cosh", "quantile"])}


EXPERIMENT = Experiment(
    name="loss-zoo",
    title="The loss zoo: how each regression loss's gradient grows with the error",
    claim=Claim(
        quote="MSE gradient grows linearly — large errors get enormous gradients (can cause "
        "instability) · MAE gradient is constant ±1 — even tiny errors get the same magnitude push "
        "(noisy near optimum) · Huber gradient — proportional for small errors (like MSE), capped "
        "at ±δ for large errors (best of both)",
        source="002_21da411b06e8b2bb.txt",
        section="Section 7.5, Comparing Gradient Behaviors",
    ),
    setup=(
        "Analytic per-element gradients of MSE, MAE and Huber (delta = {delta}) at the errors "
        "-3, -2, -1, -0.1, 0, 0.1, 1, 2, 3; every regression loss of the registry probed at errors "
        "1 and {probe_max}."
    ),
    defaults={"delta": 1.5, "probe_max": 1000.0},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion("mse_linearity_error", "<", 1e-9, meaning="max |dMSE/de - 2e|"),
            Criterion("mae_constant_error", "<", 1e-12, meaning="max ||dMAE/de| - 1| for e != 0"),
            Criterion("huber_small_error_gap", "<", 1e-12, meaning="max |dHuber/de - e| for |e| <= delta"),
            Criterion(
                "huber_capped_share",
                ">",
                0.0,
                meaning="share of the tested errors where |dHuber/de| = delta",
            ),
        ),
    ),
    counterfactual={"delta": 10.0},
    figures=figures,
    order=100,
)
register(EXPERIMENT)
