r"""batch-size-lr: learning rates that crawl, converge, oscillate and diverge; batch GD vs mini-batch vs SGD.

Data: seed 000's SGD cell (:func:`losslab.data.linear`: :math:`y = 1.2x - 0.7 + N(0, 0.3^2)`,
200 points). For MSE the Hessian of the cost is :math:`H = \frac{2}{n} A^\top A` with
:math:`A = [x, 1]`, and full-batch gradient descent is stable exactly when
:math:`\eta < 2/\lambda_{max}(H)`; its component along the top eigenvector is multiplied by
:math:`1 - \eta\lambda_{max}` each step, so it flips sign (oscillates) once
:math:`\eta > 1/\lambda_{max}`. Four rates, as fractions of that critical rate, are run, and each
run is classified from what it did -- not from its rate:

* diverge: the loss ends above where it started;
* oscillate: the step along the top eigenvector flips sign in most steps, and the loss falls;
* converge: the gap to the best loss reached falls below 1e-3 of the initial gap, no flips;
* crawl: more than 10% of the initial gap remains, no flips.

Batch size: the gradient noise :math:`E\|g_B - g\|^2` at the least-squares solution is measured
over all mini-batches of each size (it falls as :math:`1/B`), and one epoch-budget of training per
size shows how often a step raises the full-data loss.
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

REGIMES = ("crawl", "converge", "oscillate", "diverge")
FRACTIONS = (0.002, 0.4, 0.95, 1.05)  # of the critical rate 2 / lambda_max


def _classify(losses: np.ndarray, steps_along: np.ndarray, best: float) -> tuple[str, float, float]:
    flips = (
        float(np.mean(np.sign(steps_along[1:]) != np.sign(steps_along[:-1]))) if steps_along.size > 1 else 0.0
    )
    gap0 = losses[0] - best
    gap_ratio = float((losses[-1] - best) / gap0) if gap0 > 0 else 0.0
    if not np.isfinite(losses[-1]) or losses[-1] > losses[0]:
        return "diverge", flips, gap_ratio
    if flips >= 0.5:
        return "oscillate", flips, gap_ratio
    if gap_ratio < 1e-3:
        return "converge", flips, gap_ratio
    if gap_ratio > 0.1:
        return "crawl", flips, gap_ratio
    return "in between", flips, gap_ratio


def _full_loss(loss: str, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    pred = X[:, 0] * params["W"][0, 0] + params["b"][0]
    return float(ll.losses.get(loss)(pred, y))


def compute(params: dict[str, Any], seed: int) -> Outcome:
    loss = params["loss"]
    X, y = ll.data.linear(n=params["n"], seed=seed + 2)  # seed 0: the curriculum cell's seed 2
    A = np.c_[X[:, 0], np.ones(len(y))]
    H = 2.0 / len(y) * A.T @ A
    eigvals, eigvecs = np.linalg.eigh(H)
    lam_max, top = float(eigvals[-1]), eigvecs[:, -1]
    critical = 2.0 / lam_max
    runs = {}
    for regime, fraction in zip(REGIMES, FRACTIONS):
        lr = fraction * critical * params["lr_scale"]
        with np.errstate(over="ignore", invalid="ignore"):
            h = train(
                ll.models.Linear(1), X, y, loss=loss, optimizer=ll.optim.sgd(lr=lr),
                epochs=params["epochs"], record_params=True,
            )  # fmt: skip
        path = np.c_[h.path("W")[:, 0, 0], h.path("b")[:, 0]]
        losses = np.array([_full_loss(loss, p, X, y) for p in h.trajectory or []])
        runs[regime] = (lr, losses, (np.diff(path, axis=0) @ top))
    best = min(float(np.nanmin(r[1])) for r in runs.values())
    rows, measured = [], []
    for regime, (lr, losses, along) in runs.items():
        kind, flips, gap_ratio = _classify(losses, along, best)
        measured.append(kind)
        rows.append([regime, lr, lr / critical, kind, flips, gap_ratio, losses[-1]])
    metrics: dict[str, float] = {
        "lambda_max": lam_max,
        "critical_lr": critical,
        "lr_regimes_match": float(tuple(measured) == REGIMES),
        "n_regimes_matched": float(sum(m == r for m, r in zip(measured, REGIMES))),
    }
    # batch size: gradient noise at the solution and how often a step raises the loss
    sizes = (1, params["mini_batch"], len(y))
    w_star = np.linalg.lstsq(A, y, rcond=None)[0]
    star = {"W": np.array([[w_star[0]]]), "b": np.array([w_star[1]])}
    model = ll.models.Linear(1)
    _, g_full = model.value_and_grad(star, X, y, loss=loss)
    noise, rises, finals = {}, {}, {}
    order = np.random.default_rng(seed).permutation(len(y))
    for b in sizes:
        sq = []
        for start in range(0, len(y) - b + 1, b):
            idx = order[start : start + b]
            _, g = model.value_and_grad(star, X[idx], y[idx], loss=loss)
            sq.append(sum(float(np.sum((g[k] - g_full[k]) ** 2)) for k in g))
        noise[b] = float(np.mean(sq))
        per_seed_rise, per_seed_final = [], []
        for s in seed_list(seed, params["n_seeds"]):
            h = train(
                ll.models.Linear(1), X, y, loss=loss, optimizer=ll.optim.sgd(lr=params["batch_lr"]),
                epochs=params["batch_epochs"], batch_size=b, seed=s, record_params=True,
            )  # fmt: skip
            full = np.array([_full_loss(loss, p, X, y) for p in h.trajectory or []])
            per_seed_rise.append(float(np.mean(np.diff(full) > 0)))
            per_seed_final.append(float(full[-1]))
        rises[b], _ = mean_sem(per_seed_rise)
        finals[b], _ = mean_sem(per_seed_final)
    n = len(y)
    metrics["noise_ratio_sgd_vs_minibatch"] = noise[1] / noise[params["mini_batch"]]
    metrics["gradient_noise_full_batch"] = noise[n]
    metrics["rise_share_sgd"] = rises[1]
    metrics["rise_share_batch"] = rises[n]
    metrics["final_loss_sgd"], metrics["final_loss_batch"] = finals[1], finals[n]
    lr_table = Table(
        f"Full-batch gradient descent, {params['epochs']} epochs (critical rate 2/lambda_max = {critical:.4g})",
        ["intended regime", "lr", "lr / critical", "measured", "sign-flip share", "gap left", "final loss"],
        rows,
    )
    batch_table = Table(
        f"Batch size at lr {params['batch_lr']} for {params['batch_epochs']} epochs",
        ["batch size", "gradient noise E|g_B - g|^2 at the optimum", "steps raising the loss", "final loss"],
        [[b, noise[b], rises[b], finals[b]] for b in sizes],
        note="the noise is measured at the least-squares solution, where the full gradient is zero",
    )
    data = {"runs": {k: v[1] for k, v in runs.items()}}
    return Outcome(metrics, [lr_table, batch_table], data)


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    return {"loss per epoch for each learning rate": viz.training_curves(result.data["runs"])}


EXPERIMENT = Experiment(
    name="batch-size-lr",
    title="Learning rate and batch size: crawl, converge, oscillate, diverge; noisy vs stable",
    claim=Claim(
        quote="Learning rate (\\(\\eta\\)): too high → oscillation/divergence; too low → slow · Batch "
        "size: small → noisy but explores valleys; large → stable but may get stuck",
        source="000_7a332cbd471173a8.txt",
        section="Training Dynamics: LR, batch size, epochs, and pitfalls",
    ),
    setup=(
        "Seed 000's linear data ({n} points), loss {loss}. Full-batch gradient descent for {epochs} "
        "epochs at 0.002, 0.4, 0.95 and 1.05 times the critical rate 2/lambda_max (times "
        "{lr_scale}); then batch sizes 1, {mini_batch} and {n} at lr {batch_lr} for {batch_epochs} "
        "epochs over {n_seeds} shuffling seeds. The problem is convex: there are no valleys to explore "
        "or get stuck in, so only 'noisy' and 'stable' are tested."
    ),
    defaults={
        "n": 200,
        "loss": "mse",
        "epochs": 100,
        "lr_scale": 1.0,
        "mini_batch": 32,
        "batch_lr": 0.05,
        "batch_epochs": 10,
        "n_seeds": 3,
    },
    quick={"epochs": 60, "batch_epochs": 3, "n_seeds": 2},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "lr_regimes_match",
                ">",
                0.5,
                meaning="1 if the four rates crawl, converge, oscillate, diverge",
            ),
            Criterion(
                "noise_ratio_sgd_vs_minibatch", ">", 10.0, meaning="gradient noise of SGD over mini-batch"
            ),
            Criterion("rise_share_sgd", ">", 0.2, meaning="share of SGD steps that raise the full loss"),
            Criterion("rise_share_batch", "<", 0.01, meaning="share of batch-GD steps that raise it"),
        ),
    ),
    counterfactual={"loss": "mae"},
    figures=figures,
    order=310,
)
register(EXPERIMENT)
