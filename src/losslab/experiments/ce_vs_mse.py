r"""ce-vs-mse: the gradient at a confidently wrong sigmoid output, and what it does to training.

For one positive sample (:math:`y = 1`) and a logit :math:`z`, the gradients with respect to the
logit are, through the sigmoid :math:`p = \sigma(z)`,

* MSE: :math:`\partial (p - 1)^2 / \partial z = 2 (p - 1)\, p (1 - p)` -- the factor
  :math:`\sigma'(z) = p(1-p)` vanishes as :math:`p \to 0`;
* BCE: :math:`\partial [-\log p] / \partial z = p - 1` -- close to :math:`-1` however wrong.

Both are computed by the logistic model's own backprop (``model.value_and_grad``), over a sweep of
logits. Then a logistic model on two blobs is started confidently wrong (its weights negated from
a good solution, scaled up) and trained with each loss: the epochs until held-out accuracy
reaches 90% show whether the vanishing gradient stops learning or only slows it.
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
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _logit_grad(model: ll.models.Logistic, z: float, loss: str) -> float:
    params = {"W": np.zeros((1, 1)), "b": np.array([z])}
    _, grads = model.value_and_grad(params, np.ones((1, 1)), np.ones(1), loss=loss)
    return float(grads["b"][0])


def _epochs_to(history: ll.train.History, target: float) -> int:
    """First epoch (1-based) at which the training accuracy reaches ``target``; 0 if never."""
    acc = np.asarray(history.epochs["accuracy"])
    hit = np.flatnonzero(acc >= target)
    return int(hit[0]) + 1 if hit.size else 0


def compute(params: dict[str, Any], seed: int) -> Outcome:
    model = ll.models.Logistic(1)
    c = params["confidence_logit"]
    logits = np.linspace(-params["sweep_max"], 0.0, 41)
    sweep = {loss: np.array([_logit_grad(model, z, loss) for z in logits]) for loss in ("mse", "bce")}
    g_mse, g_ce = _logit_grad(model, -c, "mse"), _logit_grad(model, -c, "bce")
    metrics = {
        "p_wrong": float(1 / (1 + np.exp(c))),
        "grad_mse_at_wrong": abs(g_mse),
        "grad_ce_at_wrong": abs(g_ce),
        "grad_ratio": abs(g_ce) / abs(g_mse),
        "ce_grad_min_when_wrong": float(np.abs(sweep["bce"]).min()),
    }
    # training from a confidently wrong start
    X, y = ll.data.two_blobs(n=params["n"], distance=3.0, seed=seed)
    w_good = np.array([[1.0], [1.0]]) / np.sqrt(2.0)
    start = {"W": -c * w_good, "b": np.zeros(1)}
    epochs = {}
    curves = {}
    for loss in ("mse", "bce"):
        history = train(
            ll.models.Logistic(2),
            X,
            y,
            loss=loss,
            optimizer=ll.optim.sgd(lr=params["lr"]),
            epochs=params["epochs"],
            init_params=start,
            metrics=["accuracy"],
        )
        epochs[loss] = _epochs_to(history, 0.9)
        curves[loss] = history
    budget = params["epochs"]
    metrics["epochs_to_90_ce"] = float(epochs["bce"] or budget + 1)
    metrics["epochs_to_90_mse"] = float(epochs["mse"] or budget + 1)
    metrics["mse_never_learns"] = float(epochs["mse"] == 0)
    rows = [
        [f"{z:.1f}", float(1 / (1 + np.exp(-z))), abs(gm), abs(gc), abs(gc) / abs(gm)]
        for z, gm, gc in zip(logits[::8], sweep["mse"][::8], sweep["bce"][::8])
    ]
    table = Table(
        "Gradient with respect to the logit, one positive sample",
        ["logit z", "p = sigmoid(z)", "|dMSE/dz|", "|dBCE/dz|", "ratio BCE/MSE"],
        rows,
    )
    training = Table(
        "Training from a confidently wrong start",
        ["loss", f"epochs to 90% accuracy (budget {budget})"],
        [["mse", epochs["mse"] or "never"], ["bce", epochs["bce"] or "never"]],
    )
    data = {"logits": logits, "grads": sweep, "histories": curves}
    return Outcome(metrics, [table, training], data)


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    return {"training from a wrong start": viz.training_curves(result.data["histories"])}


EXPERIMENT = Experiment(
    name="ce-vs-mse",
    title="Cross-entropy vs MSE on a sigmoid: the gradient when confidently wrong",
    claim=Claim(
        quote="With sigmoid output and MSE, the gradient includes a σ'(z) = σ(z)(1−σ(z)) term that "
        "goes to zero when σ is near 0 or 1. This means when the model is confidently WRONG, the "
        "gradient vanishes — the model can't learn! With cross-entropy, the gradient is simply "
        "(ŷ − y), which is large when the model is wrong, regardless of confidence.",
        source="002_21da411b06e8b2bb.txt",
        section="Section 11, Q2",
    ),
    setup=(
        "Gradients with respect to the logit for a positive sample at logits from -{sweep_max} to "
        "0; the decision point is the logit -{confidence_logit}. Training: logistic regression on "
        "{n} points of two blobs, started at weights -{confidence_logit} times a good direction, "
        "plain gradient descent lr {lr} for {epochs} epochs with each loss."
    ),
    defaults={"confidence_logit": 6.0, "sweep_max": 10.0, "n": 400, "lr": 0.5, "epochs": 400},
    quick={"n": 200, "epochs": 150},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion("grad_ratio", ">", 10.0, meaning="|BCE gradient| / |MSE gradient| at the wrong output"),
            Criterion(
                "ce_grad_min_when_wrong",
                ">=",
                0.5,
                meaning="smallest |BCE gradient| over the wrong outputs (p <= 0.5)",
            ),
        ),
        qualifiers=(
            Qualifier(
                Criterion("mse_never_learns", ">", 0.5, meaning="1 if MSE never reached 90% accuracy"),
                only_when="'can't learn' is read as 'learns much more slowly': MSE does recover "
                "from the wrong start, only later than cross-entropy",
            ),
        ),
    ),
    counterfactual={"confidence_logit": 0.5},
    figures=figures,
    order=220,
)
register(EXPERIMENT)
