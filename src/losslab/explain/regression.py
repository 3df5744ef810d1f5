"""Dedicated explainers of the regression losses: residual, branch, per-element value and slope.

The residual is :math:`r = \\hat y - y` (``y_pred - y_true``); under-prediction is ``r < 0``.
The loss values and gradients shown come from the loss; the residual, its absolute value and the
branch are the displayed intermediates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from losslab.explain._core import Context, Step, explainer, fmt, index_label, signed

__all__: list[str] = []

Index = tuple[int, ...]


def residual_step(ctx: Context) -> tuple[Step, np.ndarray]:
    """``r = y_pred - y_true`` element by element."""
    p, t = ctx.y_pred, ctx.y_true
    r = np.asarray(p, dtype=np.float64) - np.asarray(t, dtype=np.float64)
    text = ctx.lines(r.shape, lambda i: f"r{index_label(i)} = {fmt(p[i])} - {fmt(t[i])} = {fmt(r[i])}")
    return Step("Residual", text, latex=r"r = \hat y - y", values={"residual": r}), r


def loss_step(ctx: Context, latex: str, line: Callable[[Index], str]) -> Step:
    """Per-element values; ``line(i)`` writes the substituted formula, the loss supplies the result."""
    l = ctx.per_entry
    text = ctx.lines(l.shape, lambda i: f"l{index_label(i)} = {line(i)} = {fmt(l[i])}")
    return Step("Per-element loss", text, latex=latex, values={"loss": l})


def grad_step(ctx: Context, latex: str, line: Callable[[Index], str]) -> Step:
    """Per-element derivatives with respect to ``y_pred`` (the gradient of the sum)."""
    g = ctx.grad0
    text = ctx.lines(g.shape, lambda i: f"dl{index_label(i)}/dy_pred = {line(i)} = {fmt(g[i])}")
    return Step("Per-element gradient", text, latex=latex, values={"grad": g})


def branch_step(ctx: Context, branches: np.ndarray, line: Callable[[Index], str], latex: str = "") -> Step:
    text = ctx.lines(branches.shape, lambda i: f"{index_label(i)} {line(i)}".lstrip())
    return Step("Branch", text, latex=latex, values={"branch": branches})


def _side(r: float) -> str:
    return "under-prediction (y_pred < y_true)" if r < 0 else "over-prediction (y_pred > y_true)"


@explainer("mse", kind="elementwise")
def _mse(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    return [
        rs,
        loss_step(ctx, r"\ell = r^2", lambda i: f"r^2 = ({fmt(r[i])})^2"),
        grad_step(ctx, r"\partial\ell/\partial\hat y = 2r", lambda i: f"2r = 2 * {fmt(r[i])}"),
    ]


@explainer("mae", kind="elementwise")
def _mae(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    if np.any(r == 0):
        ctx.notes.append("where r = 0 the loss is not differentiable; the subgradient used is the loss's own")
    return [
        rs,
        loss_step(ctx, r"\ell = |r|", lambda i: f"|r| = |{fmt(r[i])}|"),
        grad_step(
            ctx, r"\partial\ell/\partial\hat y = \operatorname{sign}(r)", lambda i: f"sign({fmt(r[i])})"
        ),
    ]


def _huber_parts(
    ctx: Context, r: np.ndarray, delta: float, name: str = "delta"
) -> tuple[Step, Callable[[Index], str], Callable[[Index], str]]:
    a = np.abs(r)
    quad = a <= delta
    branches = np.where(quad, "quadratic", "linear")

    def why(i: Index) -> str:
        if quad[i]:
            return f"|r| = {fmt(a[i])} <= {name} = {fmt(delta)}: quadratic branch"
        return f"|r| = {fmt(a[i])} > {name} = {fmt(delta)}: linear branch"

    def value(i: Index) -> str:
        if quad[i]:
            return f"0.5 * r^2 = 0.5 * ({fmt(r[i])})^2"
        return f"{name} * (|r| - {name}/2) = {fmt(delta)} * ({fmt(a[i])} - {fmt(delta / 2)})"

    def slope(i: Index) -> str:
        if quad[i]:
            return "r"
        return f"{name} * sign(r) = {fmt(delta)} * {signed(r[i])}"

    latex = r"|r| \le \delta:\ \text{quadratic};\quad |r| > \delta:\ \text{linear}"
    return branch_step(ctx, branches, why, latex), value, slope


@explainer("huber", kind="elementwise", params=("delta",))
def _huber(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    delta = float(ctx.params["delta"])
    bs, value, slope = _huber_parts(ctx, r, delta)
    return [
        rs,
        bs,
        loss_step(ctx, r"\tfrac12 r^2 \ \text{or}\ \delta(|r| - \tfrac12\delta)", lambda i: f"{value(i)}"),
        grad_step(ctx, r"r \ \text{or}\ \delta\operatorname{sign}(r)", slope),
    ]


@explainer("smooth_l1", kind="elementwise", params=("beta",))
def _smooth_l1(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    beta = float(ctx.params["beta"])
    a = np.abs(r)
    quad = a < beta
    branches = np.where(quad, "quadratic", "linear")
    if beta == 0:
        ctx.notes.append("beta = 0: smooth_l1 is the plain L1 loss (PyTorch's convention)")

    def why(i: Index) -> str:
        if quad[i]:
            return f"|r| = {fmt(a[i])} < beta = {fmt(beta)}: quadratic branch"
        return f"|r| = {fmt(a[i])} >= beta = {fmt(beta)}: linear branch"

    def value(i: Index) -> str:
        if quad[i]:
            return f"0.5 * r^2 / beta = 0.5 * ({fmt(r[i])})^2 / {fmt(beta)}"
        return f"|r| - beta/2 = {fmt(a[i])} - {fmt(beta / 2)}"

    def slope(i: Index) -> str:
        return f"r / beta = {fmt(r[i])} / {fmt(beta)}" if quad[i] else f"sign(r) = {signed(r[i])}"

    return [
        rs,
        branch_step(
            ctx, branches, why, r"|r| < \beta:\ \text{quadratic};\quad |r| \ge \beta:\ \text{linear}"
        ),
        loss_step(ctx, r"\tfrac{r^2}{2\beta} \ \text{or}\ |r| - \tfrac{\beta}{2}", value),
        grad_step(ctx, r"r/\beta \ \text{or}\ \operatorname{sign}(r)", slope),
    ]


@explainer("quantile", kind="elementwise", params=("tau",))
def _quantile(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    tau = float(ctx.params["tau"])
    branches = np.where(r < 0, "under", np.where(r > 0, "over", "kink"))

    def why(i: Index) -> str:
        if r[i] == 0:
            return "r = 0: on the kink (the loss is 0; its subgradient is the loss's own choice)"
        weight = f"tau = {fmt(tau)}" if r[i] < 0 else f"1 - tau = {fmt(1 - tau)}"
        return f"r = {fmt(r[i])}: {_side(r[i])}, weight {weight}"

    def value(i: Index) -> str:
        if r[i] < 0:
            return f"tau * (y_true - y_pred) = {fmt(tau)} * {fmt(-r[i])}"
        return f"(1 - tau) * (y_pred - y_true) = {fmt(1 - tau)} * {fmt(r[i])}"

    def slope(i: Index) -> str:
        if r[i] < 0:
            return "-tau"
        if r[i] > 0:
            return "1 - tau"
        return "subgradient at the kink"

    return [
        rs,
        branch_step(ctx, branches, why, r"r < 0:\ \tau(y - \hat y);\quad r > 0:\ (1-\tau)(\hat y - y)"),
        loss_step(ctx, r"\ell = \max(\tau (y - \hat y), (\tau - 1)(y - \hat y))", value),
        grad_step(ctx, r"-\tau \ \text{or}\ 1 - \tau", slope),
    ]


@explainer("log_cosh", kind="elementwise")
def _log_cosh(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    values = loss_step(ctx, r"\ell = \log\cosh r", lambda i: f"log cosh({fmt(r[i])})")
    safe = "evaluated as |r| + log(1 + exp(-2|r|)) - log 2, which cannot overflow\n"
    return [
        rs,
        replace(values, text=safe + values.text),
        grad_step(ctx, r"\partial\ell/\partial\hat y = \tanh r", lambda i: f"tanh({fmt(r[i])})"),
    ]


def _asymmetric_weights(ctx: Context, r: np.ndarray) -> tuple[Step, np.ndarray]:
    under, over = float(ctx.params["under_weight"]), float(ctx.params["over_weight"])
    w = np.where(r < 0, under, over)

    def why(i: Index) -> str:
        if r[i] == 0:
            return "r = 0: exact prediction, the loss is 0"
        name = "under_weight" if r[i] < 0 else "over_weight"
        return f"r = {fmt(r[i])}: {_side(r[i])}, weight {name} = {fmt(w[i])}"

    branches = np.where(r < 0, "under", np.where(r > 0, "over", "exact"))
    return branch_step(ctx, branches, why, r"w = \text{under\_weight if } r < 0 \text{ else over\_weight}"), w


@explainer("asymmetric_mse", kind="elementwise", params=("under_weight", "over_weight"))
def _asymmetric_mse(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    bs, w = _asymmetric_weights(ctx, r)
    return [
        rs,
        bs,
        loss_step(ctx, r"\ell = w r^2", lambda i: f"w * r^2 = {fmt(w[i])} * ({fmt(r[i])})^2"),
        grad_step(ctx, r"\partial\ell/\partial\hat y = 2 w r", lambda i: f"2 * {fmt(w[i])} * {fmt(r[i])}"),
    ]


@explainer("asymmetric_huber", kind="elementwise", params=("delta", "under_weight", "over_weight"))
def _asymmetric_huber(ctx: Context) -> list[Step]:
    rs, r = residual_step(ctx)
    side, w = _asymmetric_weights(ctx, r)
    delta = float(ctx.params["delta"])
    bs, value, slope = _huber_parts(ctx, r, delta)
    side = Step("Side", side.text, side.latex, side.values)
    return [
        rs,
        side,
        bs,
        loss_step(ctx, r"\ell = w\,\mathrm{huber}_\delta(r)", lambda i: f"{fmt(w[i])} * [{value(i)}]"),
        grad_step(
            ctx,
            r"\partial\ell/\partial\hat y = w\operatorname{clip}(r, -\delta, \delta)",
            lambda i: f"{fmt(w[i])} * [{slope(i)}]",
        ),
    ]
