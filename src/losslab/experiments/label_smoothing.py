r"""label-smoothing: do soft targets keep an over-fitting classifier from being over-confident?

An MLP much larger than its small, noisy training set (overlapping Gaussian blobs, three classes)
is trained long enough to memorize it, with hard labels and with label smoothing
(:math:`y' = (1 - \varepsilon)\,y + \varepsilon/K`, ``sparse_categorical_cross_entropy``'s
``label_smoothing``). On a large held-out set from the same distribution, over-confidence is the
mean top-class probability minus the accuracy (0 for a calibrated model); the expected
calibration error (ECE, 10 equal-width confidence bins) and the held-out negative log-likelihood
are reported too. Several seeds; mean and standard error.
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
    mean_sem,
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE: the bin-size-weighted mean of |accuracy - confidence| over equal-width confidence bins."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.mean() * abs(correct[members].mean() - conf[members].mean())
    return float(total)


def _scores(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    acc = float(np.mean(probs.argmax(axis=1) == y))
    conf = float(np.mean(probs.max(axis=1)))
    nll = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-300, None))))
    return {"accuracy": acc, "confidence": conf, "overconfidence": conf - acc,
            "ece": expected_calibration_error(probs, y), "nll": nll}  # fmt: skip


def compute(params: dict[str, Any], seed: int) -> Outcome:
    variants = {"hard labels": 0.0, f"smoothing {params['label_smoothing']:g}": params["label_smoothing"]}
    per: dict[str, dict[str, list[float]]] = {k: {} for k in variants}
    for s in seed_list(seed, params["n_seeds"]):
        blobs = dict(n_classes=3, radius=params["radius"], std=1.0)
        X, y = ll.data.multiclass_blobs(n=params["n_train"], seed=s, **blobs)
        Xt, yt = ll.data.multiclass_blobs(n=params["n_test"], seed=s + 1, **blobs)
        h = params["hidden"]
        for key, eps in variants.items():
            model = ll.models.MLP([2, h, h, 3], activation="relu", output_activation="softmax", init="he")
            history = train(
                model, X, y, loss="sparse_categorical_cross_entropy",
                loss_params={"label_smoothing": eps}, optimizer=ll.optim.adam(lr=params["lr"]),
                epochs=params["epochs"], seed=s,
            )  # fmt: skip
            for name, value in _scores(model.apply(history.params, Xt), yt).items():
                per[key].setdefault(name, []).append(value)
    metrics: dict[str, float] = {}
    rows = []
    for tag, key in zip(("hard", "smooth"), variants):
        for name, values in per[key].items():
            metrics[f"{name}_{tag}"], metrics[f"{name}_{tag}_sem"] = mean_sem(values)
        rows.append(
            [
                key,
                *(metrics[f"{n}_{tag}"] for n in ("accuracy", "confidence", "overconfidence", "ece", "nll")),
            ]
        )
    drop = np.subtract(per[next(iter(variants))]["overconfidence"], per[list(variants)[1]]["overconfidence"])
    metrics["overconfidence_drop"], metrics["overconfidence_drop_sem"] = mean_sem(drop.tolist())
    metrics["accuracy_change"] = metrics["accuracy_smooth"] - metrics["accuracy_hard"]
    table = Table(
        f"Held-out calibration ({params['n_test']} points, mean over {params['n_seeds']} seeds)",
        ["targets", "accuracy", "mean confidence", "over-confidence", "ECE", "NLL"],
        rows,
        note="over-confidence: mean top-class probability minus accuracy",
    )
    return Outcome(metrics, [table], {"per_seed": per})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    m = result.metrics
    return {
        "over-confidence": viz.training_curves(
            {"hard labels": [m["overconfidence_hard"]], "smoothed": [m["overconfidence_smooth"]]}
        )
    }


EXPERIMENT = Experiment(
    name="label-smoothing",
    title="Label smoothing: soft targets against over-confidence",
    claim=Claim(
        quote="Instead of strict one-hot labels, assign small probabilities to other classes. Helps "
        "prevent overconfidence in predictions.",
        source="004_b23234c41dd00fb0.txt",
        section="Cross-Entropy with Label Smoothing",
    ),
    setup=(
        "Three overlapping Gaussian blobs (radius {radius}, std 1): {n_train} training and {n_test} "
        "held-out points, {n_seeds} seeds. MLP [2, {hidden}, {hidden}, 3] (ReLU, He init), full-batch "
        "Adam lr {lr} for {epochs} epochs, sparse categorical cross-entropy with label_smoothing 0 "
        "and {label_smoothing}."
    ),
    defaults={
        "n_train": 90,
        "n_test": 3000,
        "radius": 1.5,
        "hidden": 64,
        "lr": 0.01,
        "epochs": 400,
        "label_smoothing": 0.1,
        "n_seeds": 4,
    },
    quick={"epochs": 200, "n_seeds": 2, "n_test": 1500, "hidden": 32},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "overconfidence_drop",
                ">",
                0.02,
                spread="overconfidence_drop_sem",
                meaning="hard labels' over-confidence minus the smoothed model's",
            ),  # fmt: skip
        ),
        qualifiers=(
            Qualifier(
                Criterion("accuracy_change", ">", -0.02, meaning="held-out accuracy, smoothed minus hard"),
                only_when="one accepts a lower accuracy: the smoothed model is less confident but also less accurate",
            ),
        ),
    ),
    counterfactual={"label_smoothing": 0.0},
    figures=figures,
    order=240,
)
register(EXPERIMENT)
