r"""exploding-gradients: does clipping the gradient norm rescue a network whose gradients explode?

A deep, narrow linear-activation MLP starts with every weight matrix scaled by ``init_gain``
times its Xavier (normal) initialization, which keeps the signal's scale through linear layers: the input-output map, and so the gradient, grows like
``init_gain ** depth``. Plain SGD takes one enormous first step and the loss overflows; the
same SGD after ``clip_by_global_norm(max_norm)`` takes steps of at most ``lr * max_norm`` until
the gradients shrink, then trains normally. Several seeds; the run counts as trained when its
final loss is below a tenth of the targets' variance (90% of it explained). With ``init_gain = 1`` (the
counterfactual) nothing explodes and clipping has nothing to rescue.
"""

from __future__ import annotations

import math
import warnings
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
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _run(
    model: Any, start: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, opt: Any, epochs: int
) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # divergence is an outcome here, not a bug
        return train(
            model, X, y, loss="mse", optimizer=opt, epochs=epochs, init_params=start, batch_size=32, seed=0
        )


def compute(params: dict[str, Any], seed: int) -> Outcome:
    depth, width, gain = params["depth"], params["width"], params["init_gain"]
    sizes = [4] + [width] * depth + [1]
    outcomes: dict[str, list[bool]] = {"sgd": [], "clipped sgd": []}
    first_grad: list[float] = []
    final_loss: dict[str, list[float]] = {"sgd": [], "clipped sgd": []}
    histories: dict[str, Any] = {}
    for i, s in enumerate(seed_list(seed, params["n_seeds"])):
        rng = np.random.default_rng(s)
        X = rng.normal(size=(params["n"], 4))
        y = X @ np.array([1.0, -2.0, 0.5, 1.5]) + 0.1 * rng.normal(size=params["n"])
        model = ll.models.MLP(sizes, activation="linear", init="xavier_normal")
        start = {k: v * (gain if k.startswith("W") else 1.0) for k, v in model.init(s).items()}
        loss0, grads = model.value_and_grad(start, X, y, loss="mse")
        first_grad.append(math.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
        optimizers = {
            "sgd": ll.optim.sgd(lr=params["lr"]),
            "clipped sgd": ll.optim.chain(
                ll.optim.clip_by_global_norm(params["max_norm"]), ll.optim.sgd(lr=params["lr"])
            ),
        }
        for key, opt in optimizers.items():
            h = _run(model, start, X, y, opt, params["epochs"])
            last = float(h.loss[-1]) if h.n_epochs and not h.diverged else math.inf
            outcomes[key].append(bool(last < 0.1 * float(np.var(y))))
            final_loss[key].append(last)
            if i == 0:
                histories[key] = h
    metrics = {
        "trained_share_sgd": float(np.mean(outcomes["sgd"])),
        "trained_share_clipped": float(np.mean(outcomes["clipped sgd"])),
        "initial_grad_norm": float(np.median(first_grad)),
    }
    rows = [
        [key, float(np.mean(outcomes[key])), float(np.median(final_loss[key])),
         sum(math.isinf(v) for v in final_loss[key])]
        for key in outcomes
    ]  # fmt: skip
    table = Table(
        f"MLP {sizes} (linear units) at init gain {gain:g}, SGD lr {params['lr']}, {params['epochs']} epochs",
        ["optimizer", "share of seeds trained", "median final loss", "runs that overflowed"],
        rows,
        note=f"median initial gradient norm {metrics['initial_grad_norm']:.3g}; clipping at global norm "
        f"{params['max_norm']:g}",
    )
    return Outcome(metrics, [table], {"histories": histories})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    return {"training loss": viz.training_curves(result.data["histories"])}


EXPERIMENT = Experiment(
    name="exploding-gradients",
    title="Exploding gradients: clipping the global norm",
    claim=Claim(
        quote="Gradient clipping helps with exploding gradients",
        source="001_39edf68555263e9d.txt",
        section="7.2 Gradient Properties",
    ),
    setup=(
        "Linear regression targets from 4 features ({n} points, {n_seeds} seeds) fitted by an MLP with "
        "{depth} hidden linear layers of width {width}, weights Xavier-initialized times {init_gain}. "
        "Mini-batch SGD (32) lr {lr} for {epochs} epochs, without and with clip_by_global_norm({max_norm})."
    ),
    defaults={
        "n": 256,
        "depth": 6,
        "width": 8,
        "init_gain": 1.6,
        "lr": 0.01,
        "max_norm": 1.0,
        "epochs": 30,
        "n_seeds": 6,
    },
    quick={"epochs": 25, "n_seeds": 4},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion("trained_share_clipped", ">=", 0.75, meaning="share of seeds where clipped SGD trains"),
            Criterion("trained_share_sgd", "<=", 0.25, meaning="share where plain SGD trains"),
        ),
    ),
    counterfactual={"init_gain": 1.0},
    figures=figures,
    order=520,
)
register(EXPERIMENT)
