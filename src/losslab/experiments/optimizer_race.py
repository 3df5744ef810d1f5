r"""optimizer-race: does momentum beat gradient descent in a narrow ravine? Races on bowls, Rosenbrock, a saddle.

The ravines are quadratic bowls :math:`\tfrac12(w_1^2 + \kappa w_2^2)` of condition :math:`\kappa`
(``condition_low`` and ``condition_high``, the curriculum's ``b = 10`` and ``b = 100``), raced from
:math:`(3.5, 3.5)`. Every method uses the same learning rate :math:`\eta = 1/\lambda_{max} =
1/\kappa` (gradient descent's classic choice, which never oscillates) and the momentum methods
:math:`\beta` = ``beta``; the curriculum's three momentum forms are raced side by side:

* 003's heavy ball, PyTorch's ``SGD(momentum=beta)``: :math:`v = \beta v + g`, :math:`w \mathrel{-}= \eta v`;
* 000's EMA form :math:`v = \beta v + (1 - \beta) g`, :math:`w \mathrel{-}= \eta' v` with
  :math:`\eta' = \eta / (1 - \beta)` (the same iterates, see :func:`losslab.optim.ema_momentum`);
* the classic velocity form :math:`v = \beta v + \eta g`, :math:`w \mathrel{-}= v`;

plus Nesterov (PyTorch's form) and Adam. The score is the number of steps until
:math:`f(w_t) < 10^{-6}`. Rosenbrock and the saddle (from just off its stable manifold) are raced
for the table. Closed forms (:func:`losslab.landscape.momentum_rate`) give the rates behind the
counts: gradient descent's :math:`1 - 1/\kappa`, heavy ball's :math:`\sqrt\beta` here.
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
    Qualifier,
    Result,
    Table,
    VerdictRule,
    register,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

TOL = 1e-6
FORMS = ("heavy ball", "EMA momentum", "velocity momentum")


def _optimizers(lr: float, beta: float, adam_lr: float) -> dict[str, ll.optim.GradientTransformation]:
    O = ll.optim  # noqa: N806
    return {
        "gd": O.sgd(lr=lr),
        "heavy ball": O.sgd(lr=lr, momentum=beta),
        "EMA momentum": O.ema_momentum(lr=lr / (1 - beta), beta=beta),
        "velocity momentum": O.velocity_momentum(lr, beta),
        "nesterov": O.nesterov(lr=lr, beta=beta),
        "adam": O.adam(lr=adam_lr),
    }


def _steps(entry: Any, cap: int) -> float:
    """Steps to tolerance, ``cap + 1`` when never reached (so a ratio stays finite and honest)."""
    return float(entry.steps_to_tol) if entry.steps_to_tol is not None else float(cap + 1)


def compute(params: dict[str, Any], seed: int) -> Outcome:
    beta, steps = params["beta"], params["steps"]
    metrics: dict[str, float] = {}
    rows: list[list[Any]] = []
    races: dict[str, Any] = {}
    for tag, kappa in (("low", params["condition_low"]), ("high", params["condition_high"])):
        bowl = ll.landscape.functions.get("quadratic_bowl", a=1.0, b=kappa)
        lr = 1.0 / kappa
        entries = ll.landscape.race(bowl, _optimizers(lr, beta, params["adam_lr"]), steps=steps, tol=TOL)
        races[f"bowl, condition {kappa:g}"] = (bowl, entries)
        counts = {e.name: _steps(e, steps) for e in entries}
        metrics[f"speedup_{tag}"] = counts["gd"] / counts["heavy ball"]
        metrics[f"gd_steps_{tag}"] = counts["gd"]
        metrics[f"momentum_steps_{tag}"] = counts["heavy ball"]
        # the three forms are one method: their paths agree to rounding
        paths = [e.path for e in entries if e.name in FORMS]
        n = min(p.shape[0] for p in paths)
        metrics[f"forms_gap_{tag}"] = max(float(np.abs(p[:n] - paths[0][:n]).max()) for p in paths)
        rates = (
            ll.landscape.momentum_rate(lr, 0.0, [1.0, kappa]),
            ll.landscape.momentum_rate(lr, beta, [1.0, kappa]),
        )
        for e in entries:
            hit = "-" if e.steps_to_tol is None else e.steps_to_tol
            rate = rates[0] if e.name == "gd" else rates[1] if e.name in FORMS else "-"
            rows.append([f"bowl, condition {kappa:g}", e.name, hit, e.final_value, rate])
    metrics["forms_gap"] = max(metrics["forms_gap_low"], metrics["forms_gap_high"])
    for name, start in (("rosenbrock", None), ("saddle", [1.5, 1e-3])):
        f = ll.landscape.functions.get(name)
        lr = params["rosenbrock_lr"] if name == "rosenbrock" else 0.05
        entries = ll.landscape.race(
            f, _optimizers(lr, beta, params["adam_lr"]), steps=params["other_steps"], start=start, tol=TOL
        )
        races[name] = (f, entries)
        for e in entries:
            hit = "-" if e.steps_to_tol is None else e.steps_to_tol
            final = "diverged" if e.diverged else e.final_value
            rows.append([name, e.name, hit, final, "-"])
    table = Table(
        f"Steps until f < {TOL:g} (at most {steps} on the bowls, {params['other_steps']} elsewhere)",
        ["problem", "optimizer", "steps to tolerance", "final value", "closed-form rate"],
        rows,
        note=f"lr = 1/kappa on the bowls, beta = {beta}; the closed-form rate (ll.landscape.momentum_rate) "
        "is that of gradient descent and heavy-ball momentum on a quadratic (- elsewhere); the saddle "
        "is unbounded below, so it has no tolerance to reach: its final value shows how far each "
        "method got down the escape direction",
    )
    return Outcome(metrics, [table], {"races": races})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    out = {}
    for title, (f, entries) in result.data["races"].items():
        if title.startswith("bowl") or title == "rosenbrock":
            out[f"paths: {title}"] = viz.paths(f, entries, title=f"Optimizer paths: {title}", resolution=120)
    return out


EXPERIMENT = Experiment(
    name="optimizer-race",
    title="Optimizer race: does momentum cross a narrow ravine faster?",
    claim=Claim(
        quote="In regions with high curvature (e.g., narrow ravines), vanilla SGD tends to oscillate "
        "back and forth, slowing convergence. · Momentum dampens these oscillations by averaging past "
        "gradients.",
        source="003_7d7b8fec0c74cf17.txt",
        section="7. SGD with Momentum",
    ),
    setup=(
        "Quadratic bowls of condition {condition_low} and {condition_high} from (3.5, 3.5): gradient "
        "descent and the three momentum forms (beta = {beta}) at lr = 1/condition, Nesterov, and Adam "
        "(lr {adam_lr}), {steps} steps at most; steps until f < 1e-6. Rosenbrock (lr {rosenbrock_lr}) "
        "and the saddle w1^2 - w2^2 for {other_steps} steps."
    ),
    defaults={
        "condition_low": 10.0,
        "condition_high": 100.0,
        "beta": 0.9,
        "steps": 3000,
        "adam_lr": 0.1,
        "rosenbrock_lr": 0.002,
        "other_steps": 1000,
    },
    quick={"condition_high": 50.0, "steps": 400, "other_steps": 100},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "speedup_high",
                ">",
                1.0,
                meaning="gradient descent's steps over heavy ball's on the badly conditioned bowl",
            ),
            Criterion("forms_gap", "<", 1e-9, meaning="largest gap between the three momentum forms' paths"),
        ),
        qualifiers=(
            Qualifier(
                Criterion("speedup_low", ">", 1.0, meaning="the same ratio on the milder bowl"),
                only_when="the ravine is narrow: on the milder bowl gradient descent at lr = 1/L is faster",
            ),
        ),
    ),
    counterfactual={"condition_high": 2.0},
    figures=figures,
    order=320,
)
register(EXPERIMENT)
