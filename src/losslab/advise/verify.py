r"""Checking advice on the user's data: a seeded k-fold comparison of the top candidates.

Each candidate trains the task's simplest model (``Linear``, ``Logistic`` or ``Softmax``) with
``ll.train.fit`` on ``k - 1`` folds (features standardized with the training folds' mean and
standard deviation; regression targets too, with Huber's :math:`\delta` rescaled, except counts)
and is scored on the held-out fold:

* regression: the mean absolute error, or with an asymmetric cost :math:`c` the mean cost
  :math:`c\,(y - \hat y)^+ + (\hat y - y)^+` (lower is better);
* binary: the F1 score of the minority class at threshold 0.5 when the classes are imbalanced,
  else the accuracy (higher is better);
* multiclass: the macro-averaged F1 score.

The rule's choice is contradicted when another candidate is better on average by more than two
standard errors of the paired per-fold differences and by more than 1% of the rule's score; then
the ranking follows the evidence, and a note says so with the numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab.advise._types import Advice, Candidate, Reason
from losslab.advise.data import _check_data
from losslab.advise.rules import IMBALANCED
from losslab.losses._spec import get as get_loss
from losslab.models import Linear, Logistic, Softmax
from losslab.optim.optimizers import get as get_optimizer
from losslab.train import metrics
from losslab.train.loop import fit

__all__ = ["verify"]

#: The smallest relative improvement over the rule's choice that counts as evidence against it.
MIN_RELATIVE = 0.01

_BASELINES = ("mse", "binary_cross_entropy", "sparse_categorical_cross_entropy", "categorical_cross_entropy")


def _folds(y: np.ndarray, k: int, rng: np.random.Generator, stratify: bool) -> list[np.ndarray]:
    """``k`` disjoint index sets; stratified by label for classification (every fold has each class)."""
    order = rng.permutation(y.size)
    if not stratify:
        return [order[i::k] for i in range(k)]
    parts: list[list[int]] = [[] for _ in range(k)]
    start = 0
    for label in np.unique(y):
        members = order[y[order] == label]
        for j, idx in enumerate(members):
            parts[(start + j) % k].append(int(idx))
        start += members.size
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]


def _metric(advice: Advice, y: np.ndarray) -> tuple[str, bool]:
    if advice.task == "regression":
        cost = advice.situation.get("asymmetric_cost")
        if cost not in (None, 1.0):
            return f"asymmetric cost (under-prediction x{cost:g})", False
        return "MAE", False
    if advice.task == "binary":
        share = min(np.mean(y == 1), np.mean(y == 0))
        return ("F1 of the minority class", True) if share < IMBALANCED else ("accuracy", True)
    return "macro F1", True


def _score(name: str, advice: Advice, pred: np.ndarray, y: np.ndarray) -> float:
    if advice.task == "regression":
        r = y - pred
        if name.startswith("asymmetric"):
            c = float(advice.situation["asymmetric_cost"])
            return float(np.mean(c * np.maximum(r, 0.0) + np.maximum(-r, 0.0)))
        return float(np.mean(np.abs(r)))
    if advice.task == "binary":
        p = pred.reshape(-1)
        if name == "accuracy":
            return metrics.accuracy(p, y)
        if np.mean(y == 1) > 0.5:  # the minority is class 0: score it as the positive class
            return metrics.f1(1.0 - p, 1.0 - y)
        return metrics.f1(p, y)
    return metrics.f1(pred, y, average="macro")


def _fit_predict(
    advice: Advice, c: Candidate, Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, seed: int, epochs: int
) -> np.ndarray:
    mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
    std[std == 0] = 1.0
    Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    params = dict(c.params)
    loss = get_loss(c.loss)
    d = Xtr.shape[1]
    y_mean, y_scale = 0.0, 1.0
    if advice.task == "regression":
        model: Any = Linear(d)
        if "counts" not in loss.info.traits:
            y_mean, y_scale = float(ytr.mean()), float(ytr.std()) or 1.0
            if "delta" in params:
                params["delta"] = params["delta"] / y_scale
        target: Any = (ytr - y_mean) / y_scale
    elif advice.task == "binary":
        model, target = Logistic(d), ytr
    else:
        k = int(advice.profile["classes"][-1]) + 1 if advice.profile else int(ytr.max()) + 1
        model = Softmax(d, k)
        labels = ytr.astype(np.int64)
        target = np.eye(k)[labels] if getattr(loss, "targets", "labels") == "probabilities" else labels
    opt = get_optimizer(c.optimizer.name, lr=c.optimizer.lr[1], **c.optimizer.hyperparams)
    history = fit(
        model,
        Xtr,
        target,
        loss=c.loss,
        loss_params=params,
        optimizer=opt,
        epochs=epochs,
        batch_size=None,
        seed=seed,
        progress=False,
    )
    out = model.apply(history.params, Xte)
    if advice.task == "regression":
        out = out[:, 0]
        if c.loss == "poisson_nll" and params.get("log_input", True):
            out = np.exp(out)
        return out * y_scale + y_mean
    return out


def verify(
    advice: Advice,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    seed: int = 0,
    folds: int = 5,
    epochs: int = 300,
    top: int = 3,
) -> Advice:
    """Score the ``top`` candidates (and the plain baseline) by ``folds``-fold cross-validation.

    Fills ``advice.verification``, each scored candidate's ``evidence`` and a ``"verified"``
    reason; re-ranks by the evidence and adds a note when it contradicts the rule (see the module
    docstring). Returns ``advice``.
    """
    Xa, ya = _check_data(X, y)
    if ya.size < 2 * folds:
        raise ValueError(f"advise.verify: {folds} folds need at least {2 * folds} samples, got {ya.size}")
    chosen = list(advice.ranked[:top])
    for c in advice.ranked[top:]:
        if c.loss in _BASELINES and not c.params:
            chosen.append(c)
            break
    name, higher = _metric(advice, ya)
    stratify = advice.task != "regression"
    if stratify and np.unique(ya, return_counts=True)[1].min() < folds:
        raise ValueError(f"advise.verify: every class needs at least {folds} samples for {folds} folds")
    index = _folds(ya, folds, np.random.default_rng(seed), stratify)
    scores = np.empty((len(chosen), folds))
    for f, test in enumerate(index):
        train = np.setdiff1d(np.arange(ya.size), test)
        for i, c in enumerate(chosen):
            pred = _fit_predict(advice, c, Xa[train], ya[train], Xa[test], seed, epochs)
            scores[i, f] = _score(name, advice, pred, ya[test])
    means = scores.mean(axis=1)
    stds = scores.std(axis=1, ddof=1)
    sign = 1.0 if higher else -1.0
    order = np.argsort(-sign * means, kind="stable")
    best, rule = int(order[0]), 0
    diff = sign * (scores[best] - scores[rule])
    se = float(diff.std(ddof=1) / math.sqrt(folds))
    gain = float(diff.mean())
    material = gain > MIN_RELATIVE * max(abs(float(means[rule])), 1e-12)
    contradicts = best != rule and gain > 2.0 * se and material
    for rank, i in enumerate(order, 1):
        c = chosen[int(i)]
        c.evidence = {
            "metric": name,
            "mean": float(means[i]),
            "std": float(stds[i]),
            "scores": scores[i].tolist(),
            "rank": rank,
        }
        c.reasons.append(
            Reason(
                f"held-out {name} {means[i]:.4g} +/- {stds[i]:.2g} over {folds} folds (rank {rank} of {len(chosen)})",
                "verified",
            )
        )
    b, r = chosen[best], chosen[rule]
    if contradicts:
        advice.notes.append(
            f"the held-out evidence contradicts the rule: {b} ({b.label}) scores {name} {means[best]:.4g} against "
            f"{means[rule]:.4g} for the rule's choice {r} (paired difference {diff.mean():.3g} > 2 standard errors "
            f"{2 * se:.3g}, {folds} folds); ranked by the evidence"
        )
        verified = [chosen[int(i)] for i in order]
        advice.ranked = verified + [c for c in advice.ranked if all(c is not v for v in verified)]
    elif best == rule:
        advice.notes.append(
            f"the held-out evidence agrees with the rule: {r} has the best {name} ({means[rule]:.4g})"
        )
    else:
        advice.notes.append(
            f"the held-out evidence does not separate {b} ({means[best]:.4g}) from the rule's choice {r} "
            f"({means[rule]:.4g}): the difference {diff.mean():.3g} is within 2 standard errors ({2 * se:.3g}) "
            "or under 1%"
        )
    advice.verification = {
        "metric": name,
        "higher_is_better": higher,
        "folds": folds,
        "seed": seed,
        "epochs": epochs,
        "model": {"regression": "Linear", "binary": "Logistic", "multiclass": "Softmax"}[advice.task],
        "candidates": [
            {
                "loss": c.loss,
                "params": c.params,
                "label": c.label,
                "scores": scores[i].tolist(),
                "mean": float(means[i]),
                "std": float(stds[i]),
            }
            for i, c in enumerate(chosen)
        ],  # fmt: skip
        "rule_choice": str(r),
        "evidence_choice": str(b),
        "contradicts": bool(contradicts),
        "difference": float(diff.mean()),
        "standard_error": se,
    }
    return advice
