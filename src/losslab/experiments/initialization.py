r"""initialization: symmetric starts never break symmetry; Xavier vs He through deep ReLU stacks.

Symmetry: an MLP with one hidden layer is trained on XOR from a constant start (every hidden unit
with the same incoming and outgoing weights) and from Xavier's random start. With equal weights
every hidden unit computes the same function and receives the same gradient, so they stay equal
for ever: the spread of the hidden units' incoming weight vectors stays exactly 0 and the network
is, in effect, one unit wide. (``MLP(init="zeros")`` refuses this for that reason; the constant
start is passed as ``init_params``.) With one hidden unit (the counterfactual) there is no
symmetry to break and the two starts do equally well.

Scale: at initialization, the standard deviation of the last hidden layer's ReLU activations of a
deep, wide stack, relative to the input's, for zeros-mean Xavier (variance :math:`2/(n_{in} +
n_{out})`, so a ReLU layer halves the second moment) and He (variance :math:`2/n_{in}`, which
keeps it).
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
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _spread(W: np.ndarray) -> float:
    """Largest distance between two hidden units' incoming weight vectors (columns of ``W``)."""
    cols = W.T
    return float(np.max(np.linalg.norm(cols[:, None, :] - cols[None, :, :], axis=-1)))


def _activation_scale(init: str, depth: int, width: int, seed: int) -> float:
    model = ll.models.MLP([width] * (depth + 1) + [1], activation="relu", init=init)
    params = model.init(seed)
    h = np.random.default_rng(seed).normal(size=(512, width))
    x_std = float(h.std())
    for layer in range(1, depth + 1):
        h = np.maximum(h @ params[f"W{layer}"] + params[f"b{layer}"], 0.0)
    return float(np.sqrt(np.mean(h * h))) / x_std


def compute(params: dict[str, Any], seed: int) -> Outcome:
    hidden = params["hidden"]
    acc: dict[str, list[float]] = {"constant": [], "xavier": []}
    spread: dict[str, list[float]] = {"constant": [], "xavier": []}
    histories = {}
    for i, s in enumerate(seed_list(seed, params["n_seeds"])):
        X, y = ll.data.xor(n=params["n"], noise=0.25, seed=s)
        model = ll.models.MLP([2, hidden, 1], activation="tanh", output_activation="sigmoid", init="xavier")
        constant = {"W1": np.full((2, hidden), 0.5), "b1": np.zeros(hidden), "W2": np.full((hidden, 1), 0.5),
                    "b2": np.zeros(1)}  # fmt: skip
        for key, start in (("constant", constant), ("xavier", model.init(s))):
            h = train(
                model, X, y, loss="binary_cross_entropy", optimizer=ll.optim.adam(lr=params["lr"]),
                epochs=params["epochs"], init_params=start, seed=s,
            )  # fmt: skip
            pred = model.apply(h.params, X)[:, 0]
            acc[key].append(float(np.mean((pred > 0.5) == (y > 0.5))))
            spread[key].append(_spread(h.params["W1"]) if hidden > 1 else 0.0)
            if i == 0:
                histories[key] = h
    metrics: dict[str, float] = {}
    for key in acc:
        metrics[f"accuracy_{key}"], metrics[f"accuracy_{key}_sem"] = mean_sem(acc[key])
        metrics[f"unit_spread_{key}"] = float(np.max(spread[key]))
    gains = np.subtract(acc["xavier"], acc["constant"])
    metrics["accuracy_gain"], metrics["accuracy_gain_sem"] = mean_sem(gains.tolist())
    scales = {
        init: _activation_scale(init, params["depth"], params["width"], seed) for init in ("xavier", "he")
    }
    metrics["activation_scale_xavier"], metrics["activation_scale_he"] = scales["xavier"], scales["he"]
    sym = Table(
        f"XOR, MLP [2, {hidden}, 1] (tanh), Adam lr {params['lr']}, {params['epochs']} epochs",
        ["start", "training accuracy", "spread of hidden units' weights"],
        [[k, metrics[f"accuracy_{k}"], metrics[f"unit_spread_{k}"]] for k in acc],
        note="spread 0: every hidden unit still has the same weights after training",
    )
    scale = Table(
        f"Activation scale after {params['depth']} ReLU layers of width {params['width']} (at initialization)",
        ["initializer", "RMS of last hidden activations / input std", "expected"],
        [["xavier", scales["xavier"], 2.0 ** (-params["depth"] / 2)], ["he", scales["he"], 1.0]],
        note="Xavier's variance 2/(n_in + n_out) = 1/n for square layers; each ReLU keeps half the second moment",
    )
    return Outcome(metrics, [sym, scale], {"histories": histories})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    return {"training loss from each start": viz.training_curves(result.data["histories"])}


EXPERIMENT = Experiment(
    name="initialization",
    title="Initialization: breaking the symmetry, and keeping the scale",
    claim=Claim(
        quote="Random initialization breaks symmetry · Prevents all neurons from learning same function",
        source="001_39edf68555263e9d.txt",
        section="7.4 Initialization Effects",
    ),
    setup=(
        "XOR ({n} points, noise 0.25, {n_seeds} seeds); MLP [2, {hidden}, 1] with tanh units from a "
        "constant start (all weights 0.5) and from Xavier's random start; full-batch Adam lr {lr}, "
        "{epochs} epochs. Scale: {depth} ReLU layers of width {width} at initialization."
    ),
    defaults={"n": 200, "hidden": 8, "lr": 0.05, "epochs": 300, "n_seeds": 4, "depth": 10, "width": 256},
    quick={"epochs": 150, "n_seeds": 3, "width": 128},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "unit_spread_constant", "<", 1e-9, meaning="hidden units from the constant start stay equal"
            ),
            Criterion("unit_spread_xavier", ">", 0.1, meaning="hidden units from the random start differ"),
            Criterion(
                "accuracy_gain",
                ">",
                0.1,
                spread="accuracy_gain_sem",
                meaning="training accuracy, random minus constant start",
            ),  # fmt: skip
        ),
    ),
    counterfactual={"hidden": 1},
    figures=figures,
    order=510,
)
register(EXPERIMENT)
