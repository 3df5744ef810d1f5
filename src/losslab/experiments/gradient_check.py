r"""gradient-check: the numerical gradient against the analytic one -- cost and accuracy.

A linear classifier (``ll.models.Linear``, scores :math:`s = XW + b`) on three Gaussian blobs; the
loss is softmax cross-entropy on the scores (smooth), or seed 003's multiclass SVM loss
:math:`L_i = \sum_{j \ne y_i} \max(0, s_j - s_{y_i} + 1)` (``multiclass_hinge``) with the check point
put exactly on one of its kinks. The analytic gradient is the model's backprop; the numerical one
is :func:`losslab.optim.numerical_grad` (forward and central differences over steps
:math:`h = 10^{-1} \dots 10^{-13}`), and :func:`losslab.optim.gradcheck` compares the two with
its default five-point stencil. Cost: evaluations of the loss (``2P`` for central differences over
``P`` parameters) and the best of three wall-clock timings.

The error of a finite difference is truncation (:math:`O(h)` forward, :math:`O(h^2)` central)
plus rounding (:math:`\epsilon_{mach}/h`): the U-shaped curve of the table, lowest near
:math:`h \approx \epsilon_{mach}^{1/3} \approx 10^{-5}` for central differences.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


def _best_time(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def compute(params: dict[str, Any], seed: int) -> Outcome:
    X, y = ll.data.multiclass_blobs(n=params["n"], n_classes=params["n_classes"], seed=seed)
    model = ll.models.Linear(2, params["n_classes"], init="xavier")
    start = model.init(seed)
    loss = "sparse_categorical_cross_entropy"
    kw: dict[str, Any] = {"from_logits": True}
    if params["at_kink"]:  # sample 0's margin for one wrong class exactly at the hinge's kink
        loss, kw = "multiclass_hinge", {}
        s = X @ start["W"] + start["b"]
        j = (int(y[0]) + 1) % params["n_classes"]
        start["b"] = start["b"].copy()
        start["b"][j] -= s[0, j] - s[0, y[0]] + 1.0
    vec, unravel = ll.tree_ravel(start)

    def f(v: np.ndarray) -> float:
        return float(model.loss(unravel(v), X, y, loss, **kw))

    def g(v: np.ndarray) -> np.ndarray:
        return ll.tree_ravel(model.grad(unravel(v), X, y, loss, **kw))[0]

    analytic, t_analytic = _best_time(lambda: g(vec), params["repeats"])
    numerical, t_numerical = _best_time(
        lambda: ll.optim.numerical_grad(f, vec, method="central"), params["repeats"]
    )
    default_error = float(
        np.max(
            np.abs(numerical - analytic) / np.maximum(np.maximum(np.abs(analytic), np.abs(numerical)), 1e-8)
        )
    )
    steps = 10.0 ** -np.arange(1, 14)
    errors: dict[str, list[float]] = {}
    for method in ("forward", "central"):
        errors[method] = []
        for h in steps:
            n = ll.optim.numerical_grad(f, vec, method=method, eps=float(h))
            scale = np.maximum(np.maximum(np.abs(analytic), np.abs(n)), 1e-8)
            errors[method].append(float(np.max(np.abs(n - analytic) / scale)))
    check = ll.optim.gradcheck(f, g, vec)
    best = int(np.argmin(errors["central"]))
    metrics = {
        "n_params": float(vec.size),
        "evaluations_numerical": float(2 * vec.size),
        "time_analytic_s": t_analytic,
        "time_numerical_s": t_numerical,
        "slowdown": t_numerical / t_analytic,
        "best_step_central": float(steps[best]),
        "best_rel_error_central": errors["central"][best],
        "best_rel_error_forward": min(errors["forward"]),
        "rel_error_central_default_step": default_error,
        "gradcheck_rel_error": check.max_rel_error,
    }
    curve = Table(
        "Relative error of the finite-difference gradient against the analytic one",
        ["step h", "forward difference", "central difference"],
        [[f"1e-{k + 1}", fwd, cen] for k, (fwd, cen) in enumerate(zip(errors["forward"], errors["central"]))],
        note="Large h: truncation error (and kinks crossed, for the hinge); small h: rounding error.",
    )
    cost = Table(
        f"Cost of one gradient of {vec.size} parameters",
        ["method", "loss evaluations", "time (ms, best of runs)", "max relative error"],
        [
            ["analytic (backprop)", "1 forward + 1 backward", t_analytic * 1e3, 0.0],
            ["numerical (central, default h)", 2 * vec.size, t_numerical * 1e3, default_error],
            ["gradcheck (five-point)", 4 * vec.size, "", check.max_rel_error],
        ],
        note=f"loss: {loss}" + (" at a kink" if params["at_kink"] else ""),
    )
    return Outcome(metrics, [curve, cost], {"steps": steps, "errors": errors})


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    d = result.data
    log_h = np.log10(np.asarray(d["steps"], dtype=np.float64))
    curves = {f"{kind} difference": list(errors) for kind, errors in d["errors"].items()}
    return {
        "error of the numerical gradient": viz.series(
            curves,
            x=log_h,
            log=True,
            xlabel="log10 of the step h",
            ylabel="relative error against the analytic gradient",
            title="Truncation error against rounding error",
        )
    }


EXPERIMENT = Experiment(
    name="gradient-check",
    title="Numerical against analytic gradients: the gradient check",
    claim=Claim(
        quote="Numerical gradient computation is based on finite difference approximation. · This method "
        "does not require explicit differentiation, making it useful for gradient checking. · Drawbacks : "
        "slow · gives approximate answers, thus may have errors · Requires function evaluation multiple "
        "times · Analytic Gradient · This method is direct and finds the exact gradient value. No "
        "approximation · Very fast · Gradient Check : After doing analytic gradient, check the results "
        "with your results from numeric gradient.",
        source="003_7d7b8fec0c74cf17.txt",
        section="Strategies to optimize the loss function, 2-3",
    ),
    setup=(
        "A linear classifier on {n} points of {n_classes} Gaussian blobs at its initial weights (seed); "
        "gradient of the mean loss by backprop and by finite differences, timed {repeats} times; "
        "check point on a hinge kink: {at_kink}."
    ),
    defaults={"n": 120, "n_classes": 3, "repeats": 3, "at_kink": False},
    quick={"n": 60, "repeats": 2},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion(
                "slowdown", ">", 1.0, meaning="time of the numerical gradient / time of the analytic one"
            ),
            Criterion(
                "best_rel_error_central",
                ">",
                1e-14,
                meaning="smallest relative error of central differences over every step: approximate",
            ),
            Criterion(
                "gradcheck_rel_error",
                "<",
                1e-6,
                meaning="gradcheck's worst relative error: the check confirms the analytic gradient",
            ),
        )
    ),
    figures=figures,
    counterfactual={"at_kink": True},
    order=610,
)
register(EXPERIMENT)
