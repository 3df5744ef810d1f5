r"""distillation: does a student learn more from a teacher's soft targets than from hard labels?

Four Gaussian classes in the plane (centres on a circle of radius 2, unit noise). The student is a
softmax regression trained on a small set of ``n_train`` points, by Adam, with two losses:
cross-entropy on the hard labels, and the teacher-student loss of seed 001 §6.2,
:math:`L = \alpha\,\mathrm{CE}(s, y) + (1-\alpha)\,T^2\,\mathrm{KL}(\mathrm{softmax}(t/T)\,\|\,
\mathrm{softmax}(s/T))` (``ll.losses.distillation``; Hinton et al. 2015). The teacher is the
Bayes classifier of the blobs (its logits :math:`-\lVert x - c_k\rVert^2/2`: the best any model
can do), or an untrained one (random linear logits). The training labels are flipped to a random
class with probability ``label_noise``; the same runs with clean labels tell whether the gain
needs the noise. Held-out accuracy on 2000 points, several seeds.
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
    mean_std,
    register,
    seed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

N_CLASSES, RADIUS, STD = 4, 2.0, 1.0


def _blobs(rng: np.random.Generator, n: int, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, len(centres), n)
    return centres[y] + rng.normal(0.0, STD, size=(n, 2)), y


def _fit(
    X: np.ndarray, y: np.ndarray, teacher: np.ndarray | None, params: dict[str, Any]
) -> dict[str, np.ndarray]:
    p = {"W": np.zeros((2, N_CLASSES)), "b": np.zeros(N_CLASSES)}
    opt = ll.optim.adam(lr=params["lr"])
    state = opt.init(p)
    with ll.config(validate=False):
        for _ in range(params["epochs"]):
            s = X @ p["W"] + p["b"]
            if teacher is None:
                g = ll.losses.sparse_categorical_cross_entropy.grad(s, y, from_logits=True)
            else:
                g = ll.losses.distillation.grad(
                    s, teacher, y, alpha=params["alpha"], temperature=params["temperature"]
                )
            p, state = ll.optim.step(opt, {"W": X.T @ g, "b": g.sum(axis=0)}, state, p)
    return p


def _one(params: dict[str, Any], seed: int) -> tuple[dict[str, float], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(N_CLASSES) / N_CLASSES
    centres = RADIUS * np.c_[np.cos(angles), np.sin(angles)]
    X, y = _blobs(rng, params["n_train"], centres)
    Xte, yte = _blobs(rng, 2000, centres)
    if params["teacher"] == "bayes":

        def logits(Z: np.ndarray) -> np.ndarray:
            return -((Z[:, None, :] - centres[None]) ** 2).sum(axis=-1) / (2 * STD**2)
    else:
        W = rng.normal(0.0, 1.0, size=(2, N_CLASSES))

        def logits(Z: np.ndarray) -> np.ndarray:
            return Z @ W

    noisy = y.copy()
    flip = rng.random(y.size) < params["label_noise"]
    noisy[flip] = rng.integers(0, N_CLASSES, int(flip.sum()))
    t = logits(X)

    def acc(p: dict[str, np.ndarray]) -> float:
        return float(np.mean(np.argmax(Xte @ p["W"] + p["b"], axis=1) == yte))

    hard, distilled = _fit(X, noisy, None, params), _fit(X, noisy, t, params)
    scores = {
        "teacher": float(np.mean(np.argmax(logits(Xte), axis=1) == yte)),
        "hard": acc(hard),
        "distilled": acc(distilled),
        "hard_clean": acc(_fit(X, y, None, params)),
        "distilled_clean": acc(_fit(X, y, t, params)),
    }
    return scores, {"X": X, "y": noisy, "hard": hard, "distilled": distilled}


def compute(params: dict[str, Any], seed: int) -> Outcome:
    pairs = [_one(params, s) for s in seed_list(seed, params["n_seeds"])]
    runs = [scores for scores, _ in pairs]
    stat = {key: mean_std([r[key] for r in runs]) for key in runs[0]}
    gain = mean_std([r["distilled"] - r["hard"] for r in runs])
    gain_clean = mean_std([r["distilled_clean"] - r["hard_clean"] for r in runs])
    metrics = {
        "teacher_accuracy": stat["teacher"][0],
        "hard_accuracy": stat["hard"][0],
        "distilled_accuracy": stat["distilled"][0],
        "gain": gain[0],
        "gain_std": gain[1],
        "gain_clean": gain_clean[0],
        "gain_clean_std": gain_clean[1],
    }
    rows = [
        ["teacher", stat["teacher"][0], stat["teacher"][1], stat["teacher"][0], stat["teacher"][1]],
        [
            "student, hard labels",
            stat["hard"][0],
            stat["hard"][1],
            stat["hard_clean"][0],
            stat["hard_clean"][1],
        ],
        [
            "student, distilled",
            stat["distilled"][0],
            stat["distilled"][1],
            stat["distilled_clean"][0],
            stat["distilled_clean"][1],
        ],
    ]
    table = Table(
        f"Held-out accuracy ({params['n_seeds']} seeds; {params['teacher']} teacher)",
        [
            "model",
            f"labels {params['label_noise']:.0%} noisy: mean",
            "std",
            "clean labels: mean",
            "std",
        ],
        rows,
    )
    return Outcome(metrics, [table], {"runs": runs, "first_seed": pairs[0][1]})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    first = result.data["first_seed"]
    model = ll.models.Softmax(2, N_CLASSES)
    return {
        f"student trained on {label}": viz.decision_boundary(
            model,
            first[key],
            first["X"],
            first["y"],
            resolution=120,
            title=f"Student on {label} (noisy training labels shown)",
        )  # fmt: skip
        for key, label in (("hard", "hard labels"), ("distilled", "soft targets"))
    }


EXPERIMENT = Experiment(
    name="distillation",
    title="Knowledge distillation: soft targets from a teacher against hard labels",
    claim=Claim(
        quote="Teacher-Student Loss: · L = α·L_hard + (1-α)·L_soft · where L_soft uses teacher predictions",
        source="001_39edf68555263e9d.txt",
        section="6.2 Progressive Training Losses",
    ),
    setup=(
        "A softmax-regression student on {n_train} points of 4 Gaussian classes, labels flipped with "
        "probability {label_noise}; Adam lr {lr}, {epochs} epochs; distillation with alpha = {alpha}, "
        "T = {temperature} from a {teacher} teacher; held-out accuracy over {n_seeds} seeds."
    ),
    defaults={
        "n_train": 60,
        "label_noise": 0.3,
        "teacher": "bayes",
        "alpha": 0.3,
        "temperature": 3.0,
        "lr": 0.05,
        "epochs": 120,
        "n_seeds": 4,
    },
    quick={"epochs": 60, "n_seeds": 2},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "gain",
                ">",
                0.0,
                spread="gain_std",
                meaning="held-out accuracy of the distilled student minus the hard-label student's",
            ),
        ),
        qualifiers=(
            Qualifier(
                Criterion(
                    "gain_clean", ">", 0.0, spread="gain_clean_std", meaning="the same gain with clean labels"
                ),
                only_when="the hard labels are noisy (with clean labels the teacher adds nothing the labels lack)",
            ),
        ),
    ),
    counterfactual={"teacher": "random"},
    figures=figures,
    order=700,
)
register(EXPERIMENT)
