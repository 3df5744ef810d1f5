r"""backprop-by-hand: the curriculum's 2-2-1 network, every intermediate number, printed vs correct.

Seed 004 works one forward pass, the binary cross-entropy, the backward pass and one
gradient-descent step of a 2-2-1 sigmoid network by hand. :func:`losslab.explain.backprop`
repeats every step (its numbers are the model's own ``value_and_grad``, checked here against
finite differences too), and each printed number is compared with the correct one at the printed
precision: it matches when they differ by at most half a unit of its last printed digit. Each
printed step is also recomputed from the printed numbers before it, which locates the slip the
rest inherits.

Names: the curriculum's :math:`w_{ij}` joins input :math:`i` to hidden unit :math:`j` (``W1[i-1,
j-1]``), :math:`w_{13}, w_{23}` are ``W2``, :math:`a_1, a_2` the hidden outputs ``h1`` and
:math:`z_3` the output logit ``z2``.
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
    Result,
    Table,
    VerdictRule,
    register,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: The numbers as seed 004 prints them (strings keep the printed precision).
PRINTED = {
    "z1": "0.3",
    "a1 = sigma(z1)": "0.574",
    "z2": "0.5",
    "a2 = sigma(z2)": "0.622",
    "z3": "1.086",
    "y_hat = sigma(z3)": "0.748",
    "L = -log y_hat": "0.289",
    "delta3 = y_hat - y": "-0.252",
    "dL/dw13": "-0.145",
    "dL/dw23": "-0.157",
    "dL/db3": "-0.252",
    "sigma'(z1)": "0.244",
    "delta1": "-0.043",
    "sigma'(z2)": "0.235",
    "delta2": "-0.030",
    "dL/dw11": "-0.043",
    "dL/dw21": "0",
    "dL/db1": "-0.043",
    "dL/dw12": "-0.030",
    "dL/dw22": "0",
    "dL/db2": "-0.030",
    "w13 after one step": "0.7145",
}

#: The corrected values of docs/curriculum-errata.md (tests/test_errata.py recomputes them).
ERRATA = {
    "z3": "1.0133",
    "y_hat = sigma(z3)": "0.7337",
    "L = -log y_hat": "0.3097",
    "delta3 = y_hat - y": "-0.2663",
    "w13 after one step": "0.7153",
}

#: The weights of the worked example: w11 = 0.2, w21 = 0.4, b1 = 0.1, w12 = 0.3, w22 = 0.1, b2 = 0.2,
#: w13 = 0.7, w23 = 0.5, b3 = 0.3.
WEIGHTS = {
    "W1": np.array([[0.2, 0.3], [0.4, 0.1]]),
    "b1": np.array([0.1, 0.2]),
    "W2": np.array([[0.7], [0.5]]),
    "b2": np.array([0.3]),
}


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _correct(ex: Any) -> dict[str, float]:
    f, d, g = ex.forward, ex.deltas, ex.grad
    a1, a2 = (float(v) for v in f[0]["h"][0])
    return {
        "z1": f[0]["z"][0, 0],
        "a1 = sigma(z1)": a1,
        "z2": f[0]["z"][0, 1],
        "a2 = sigma(z2)": a2,
        "z3": f[1]["z"][0, 0],
        "y_hat = sigma(z3)": f[1]["h"][0, 0],
        "L = -log y_hat": float(ex.value),
        "delta3 = y_hat - y": d[1][0, 0],
        "dL/dw13": g["W2"][0, 0],
        "dL/dw23": g["W2"][1, 0],
        "dL/db3": g["b2"][0],
        "sigma'(z1)": a1 * (1 - a1),
        "delta1": d[0][0, 0],
        "sigma'(z2)": a2 * (1 - a2),
        "delta2": d[0][0, 1],
        "dL/dw11": g["W1"][0, 0],
        "dL/dw21": g["W1"][1, 0],
        "dL/db1": g["b1"][0],
        "dL/dw12": g["W1"][0, 1],
        "dL/dw22": g["W1"][1, 1],
        "dL/db2": g["b1"][1],
        "w13 after one step": ex.new_params["W2"][0, 0],
    }


def compute(params: dict[str, Any], seed: int) -> Outcome:
    model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    X, y, lr = np.array([[params["x1"], params["x2"]]]), np.array([[params["y"]]]), params["lr"]
    ex = ll.explain.backprop(model, WEIGHTS, X, y, loss="binary_cross_entropy", lr=lr)
    correct = _correct(ex)
    shown = PRINTED if params["printed"] == "curriculum" else ERRATA
    rows: list[list[Any]] = []
    matches: list[bool] = []
    errors: list[float] = []
    for name, text in shown.items():
        value = float(correct[name])
        ok = abs(float(text) - value) <= 0.5 * 10.0 ** -_decimals(text) + 1e-12
        matches.append(ok)
        rows.append([name, text, round(value, 6), "yes" if ok else "no"])
        errors.append(abs(float(text) - value))
    # each printed step redone from the printed numbers before it
    p = {k: float(v) for k, v in PRINTED.items()}
    redo = [
        ("z3 = 0.7 a1 + 0.5 a2 + 0.3", p["z3"], 0.7 * p["a1 = sigma(z1)"] + 0.5 * p["a2 = sigma(z2)"] + 0.3),
        ("y_hat = sigma(z3)", p["y_hat = sigma(z3)"], 1.0 / (1.0 + math.exp(-p["z3"]))),
        ("L = -log y_hat", p["L = -log y_hat"], -math.log(p["y_hat = sigma(z3)"])),
        ("delta3 = y_hat - 1", p["delta3 = y_hat - y"], p["y_hat = sigma(z3)"] - 1.0),
        ("dL/dw13 = delta3 a1", p["dL/dw13"], p["delta3 = y_hat - y"] * p["a1 = sigma(z1)"]),
        ("delta1 = w13 delta3 sigma'(z1)", p["delta1"], 0.7 * p["delta3 = y_hat - y"] * p["sigma'(z1)"]),
        ("w13' = 0.7 - 0.1 dL/dw13", p["w13 after one step"], 0.7 - 0.1 * p["dL/dw13"]),
    ]
    chain = [
        [step, printed, round(again, 6), "yes" if abs(printed - again) <= 6e-4 else "no"]
        for step, printed, again in redo
    ]
    vec, unravel = ll.tree_ravel(WEIGHTS)
    check = ll.optim.gradcheck(
        lambda v: float(model.loss(unravel(v), X, y, "binary_cross_entropy")),
        lambda v: ll.tree_ravel(model.grad(unravel(v), X, y, "binary_cross_entropy"))[0],
        vec,
    )
    stepped = ex.new_params
    assert stepped is not None  # lr was given
    update = [
        [f"{k}{list(idx)}", float(WEIGHTS[k][idx]), float(ex.grad[k][idx]), float(stepped[k][idx])]
        for k in WEIGHTS
        for idx in np.ndindex(*WEIGHTS[k].shape)
    ]
    n_match = int(sum(matches))
    metrics = {
        "n_quantities": float(len(rows)),
        "n_match": float(n_match),
        "share_match": n_match / len(rows),
        "max_abs_error": max(errors),
        "n_chain_breaks": float(sum(r[3] == "no" for r in chain)),
        "gradcheck_rel_error": check.max_rel_error,
        "loss": float(ex.value),
    }
    tables = [
        Table(
            "Every number of the worked example, "
            + ("as printed" if shown is PRINTED else "as in the errata"),
            ["quantity", "printed", "correct", "matches at the printed precision"],
            rows,
            note="The correct numbers are losslab's backprop; a finite-difference gradient check agrees to "
            f"{check.max_rel_error:.1e}.",
        ),
        Table(
            "Each printed step redone from the printed numbers before it",
            ["step", "printed", "from the printed inputs", "consistent"],
            chain,
            note="z3 is where the printed chain breaks: 0.7 x 0.574 + 0.5 x 0.622 + 0.3 = 1.0128, not 1.086; "
            "the steps after it follow from the wrong z3 (up to one more rounding slip in L).",
        ),
        Table(
            "One gradient-descent step of every parameter",
            ["parameter", "before", "dL/dparam", "after"],
            update,
        ),
    ]
    return Outcome(metrics, tables, {"explanation": ex.to_markdown()})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    rows = result.tables[0].rows
    error = [abs(float(printed) - float(correct)) for _, printed, correct, _ in rows]
    return {
        "printed against correct": viz.series(
            {"|printed - correct|": error},
            points=["|printed - correct|"],
            log=True,
            xlabel="quantity, in the order of the first table",
            ylabel="abs. error of the printed number",
            title="Where the worked example's printed numbers go wrong",
        )
    }


EXPERIMENT = Experiment(
    name="backprop-by-hand",
    title="Backprop by hand through the 2-2-1 network: the printed numbers against the correct ones",
    claim=Claim(
        quote="z_3 = (0.7)(0.574) + (0.5)(0.622) + 0.3 ≈ 1.086 · ŷ = σ(1.086) ≈ 0.748 · "
        "L = −log(0.748) ≈ 0.289 · δ_3 = ŷ − y = 0.748 − 1 = −0.252 · "
        "w_13^new = w_13 − η · ∂L/∂w_13 = 0.7 − 0.1(−0.145) = 0.7145",
        source="004_b23234c41dd00fb0.txt",
        section="Worked Example: A Tiny Neural Network, steps 3-6",
    ),
    setup=(
        "The 2-2-1 sigmoid network of the example (its nine weights), input x = ({x1}, {x2}), label "
        "y = {y}, binary cross-entropy, one gradient-descent step with learning rate {lr}; the "
        "{printed} numbers are checked against losslab's backprop at their printed precision."
    ),
    defaults={"x1": 1.0, "x2": 0.0, "y": 1.0, "lr": 0.1, "printed": "curriculum"},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "share_match",
                ">=",
                1.0,
                meaning="share of the printed numbers that match the correct ones at their printed precision",
            ),
        )
    ),
    figures=figures,
    counterfactual={"printed": "errata"},
    order=600,
)
register(EXPERIMENT)
