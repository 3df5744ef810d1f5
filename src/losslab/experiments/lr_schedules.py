r"""lr-schedules: constant rate vs step, exponential, cosine, warm restarts and plateau reduction.

Mini-batch SGD on noisy linear regression: with a constant rate the iterates settle into a noise
ball around the least-squares solution whose size grows with the rate; a schedule that ends at a
small rate shrinks it. The figure of merit is the excess loss -- full-data MSE minus the
least-squares minimum -- after the last epoch, averaged over seeds. Every schedule starts at the
same rate; the decaying ones end near 1% of it, warm restarts run four cosine cycles, and the
plateau rule cuts the rate by 0.3 when the mini-batch loss stops improving.

Without label noise (the counterfactual) every mini-batch gradient vanishes at the solution, the
constant rate converges geometrically, and decaying the rate only slows it down.
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
    Qualifier,
    Result,
    Table,
    VerdictRule,
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

TINY = 1e-300  # floor for ratios of excess losses that reach exactly zero


def _optimizers(lr: float, total: int, epochs_steps: int) -> dict[str, ll.optim.GradientTransformation]:
    s = ll.optim.schedules
    final = 0.01
    return {
        "constant": ll.optim.sgd(lr=lr),
        "step": ll.optim.sgd(lr=s.step_decay(lr, step_size=max(1, total // 3), gamma=0.1)),
        "exponential": ll.optim.sgd(lr=s.exponential_decay(lr, gamma=final ** (1.0 / total))),
        "cosine": ll.optim.sgd(lr=s.cosine_decay(lr, T_max=total, eta_min=final * lr)),
        "warm restarts": ll.optim.sgd(
            lr=s.cosine_warm_restarts(lr, T_0=max(1, total // 4), eta_min=final * lr)
        ),
        "plateau": ll.optim.chain(
            ll.optim.sgd(lr=lr),
            ll.optim.reduce_on_plateau(lr=lr, factor=0.3, patience=2 * epochs_steps, min_lr=final * lr),
        ),
    }


def compute(params: dict[str, Any], seed: int) -> Outcome:
    excess: dict[str, list[float]] = {}
    curves: dict[str, Any] = {}
    lr_paths: dict[str, list[Any]] = {}
    for i, s in enumerate(seed_list(seed, params["n_seeds"])):
        X, y = ll.data.linear(n=params["n"], w=[1.5, -2.0], b=0.5, noise=params["noise"], seed=s)
        A = np.c_[X, np.ones(len(y))]
        coef = np.linalg.lstsq(A, y, rcond=None)[0]
        best = float(np.mean((A @ coef - y) ** 2))
        steps_per_epoch = -(-len(y) // params["batch_size"])
        total = steps_per_epoch * params["epochs"]
        for name, opt in _optimizers(params["lr"], total, steps_per_epoch).items():
            h = train(
                ll.models.Linear(2), X, y, loss="mse", optimizer=opt, epochs=params["epochs"],
                batch_size=params["batch_size"], seed=s, validation_data=(X, y),
            )  # fmt: skip
            excess.setdefault(name, []).append(max(float(h.val_loss[-1]) - best, 0.0))
            if i == 0:
                curves[name] = h
                lr_paths[name] = list(h.steps["lr"])
    mean = {k: float(np.mean(v)) for k, v in excess.items()}
    gains = {k: mean["constant"] / max(mean[k], TINY) for k in mean if k != "constant"}
    metrics: dict[str, float] = {f"excess_{k.replace(' ', '_')}": v for k, v in mean.items()}
    metrics.update({f"gain_{k.replace(' ', '_')}": v for k, v in gains.items()})
    metrics["better_share"] = float(np.mean([g > 1.5 for g in gains.values()]))
    metrics["best_gain"] = max(gains.values())
    metrics["worst_gain"] = min(gains.values())
    table = Table(
        f"Excess loss after {params['epochs']} epochs (mean over {params['n_seeds']} seeds)",
        ["schedule", "excess loss", "gain over constant", "final lr"],
        [
            [k, mean[k], gains.get(k, 1.0), lr_paths[k][-1] if lr_paths[k][-1] is not None else "-"]
            for k in mean
        ],
        note="excess loss: full-data MSE minus the least-squares minimum; gain: constant's excess / the schedule's",
    )
    return Outcome(metrics, [table], {"histories": curves, "lr": lr_paths})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    return {
        "learning rate per step": viz.schedules(result.data["lr"]),
        "validation loss per epoch": viz.training_curves(result.data["histories"]),
    }


EXPERIMENT = Experiment(
    name="lr-schedules",
    title="Learning-rate schedules: does adjusting the rate during training help?",
    claim=Claim(
        quote="Adjusting learning rate dynamically improves training",
        source="003_7d7b8fec0c74cf17.txt",
        section="Learning Rate Scheduling",
    ),
    setup=(
        "Linear regression y = 1.5 x1 - 2 x2 + 0.5 + N(0, {noise}^2), {n} points, {n_seeds} seeds; "
        "mini-batch SGD (batch {batch_size}) from lr {lr} for {epochs} epochs with a constant rate, "
        "step decay (x0.1 every third), exponential and cosine decay to 1%, cosine warm restarts "
        "(4 cycles) and plateau reduction (x0.3 after two epochs without improvement)."
    ),
    defaults={"n": 512, "noise": 0.5, "lr": 0.05, "batch_size": 32, "epochs": 30, "n_seeds": 3},
    quick={"n": 256, "epochs": 30, "n_seeds": 2},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "better_share",
                ">",
                0.5,
                meaning="share of schedules with 1.5x less excess loss than constant",
            ),
        ),
        qualifiers=(
            Qualifier(
                Criterion("worst_gain", ">", 1.0, meaning="the least helpful schedule's gain over constant"),
                only_when="each schedule's decay suits the length of training: one that decays too early "
                "stops short of the solution and loses to the constant rate",
            ),
        ),
    ),
    counterfactual={"noise": 0.0},
    figures=figures,
    order=330,
)
register(EXPERIMENT)
