"""Dedicated explainers of the classification and divergence losses.

Displayed intermediates: the probability :math:`p = \\sigma(z)` (or the softmax row) when
``from_logits``, the smoothed target, :math:`p_t` (the probability given to the true class), the
focal factor :math:`(1 - p_t)^\\gamma` and :math:`\\alpha_t`, the margin :math:`m = y f` of the
hinge family. Loss values and gradients come from the loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from losslab.explain._core import Context, Step, explainer, fmt, fmt_array, index_label
from losslab.explain.regression import grad_step, loss_step

__all__: list[str] = []

Index = tuple[int, ...]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _probability_step(ctx: Context, *, softmax: bool) -> tuple[list[Step], np.ndarray]:
    """``p`` from ``y_pred``: the sigmoid / softmax of logits, or the probabilities themselves."""
    z = np.asarray(ctx.y_pred, dtype=np.float64)
    if not ctx.params.get("from_logits", False):
        return [], z
    if softmax:
        p = _softmax(z)
        text = ctx.lines(
            z.shape[:-1],
            lambda i: f"p{index_label(i)} = softmax({fmt_array(z[i])}) = {fmt_array(p[i])}",
        )
        latex = r"p_k = e^{z_k} / \textstyle\sum_j e^{z_j}"
    else:
        p = _sigmoid(z)
        text = ctx.lines(z.shape, lambda i: f"p{index_label(i)} = sigmoid({fmt(z[i])}) = {fmt(p[i])}")
        latex = r"p = \sigma(z) = 1 / (1 + e^{-z})"
    head = "from_logits=True: y_pred holds logits z (the gradient is with respect to z)\n"
    return [Step("Probabilities", head + text, latex=latex, values={"p": p})], p


def _smoothing_step(ctx: Context, y: np.ndarray, n_classes: int) -> tuple[list[Step], np.ndarray]:
    eps = float(ctx.params.get("label_smoothing") or 0.0)
    if eps == 0.0:
        return [], y
    q = y * (1.0 - eps) + eps / n_classes
    text = f"y' = y * (1 - {fmt(eps)}) + {fmt(eps)}/{n_classes}\n"
    if y.ndim and y.shape[-1] == n_classes and n_classes > 2:
        text += ctx.lines(y.shape[:-1], lambda i: f"y'{index_label(i)} = {fmt_array(q[i])}")
    else:
        text += ctx.lines(y.shape, lambda i: f"y'{index_label(i)} = {fmt(q[i])}")
    latex = r"y' = y(1 - \varepsilon) + \varepsilon / " + str(n_classes)
    return [Step("Label smoothing", text, latex=latex, values={"target": q})], q


def _is_hard(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


# --------------------------------------------------------------------------- binary


@explainer(
    "binary_cross_entropy", kind="elementwise", params=("from_logits", "pos_weight", "label_smoothing")
)
def _binary_cross_entropy(ctx: Context) -> list[Step]:
    steps, p = _probability_step(ctx, softmax=False)
    y = np.asarray(ctx.y_true, dtype=np.float64)
    smooth, q = _smoothing_step(ctx, y, 2)
    steps += smooth
    pw_raw = ctx.params.get("pos_weight")
    pw = None if pw_raw is None else np.broadcast_to(np.asarray(pw_raw, dtype=np.float64), p.shape)
    hard = _is_hard(q)
    pt = q * p + (1 - q) * (1 - p)
    if hard:
        text = ctx.lines(
            p.shape,
            lambda i: (
                f"{index_label(i)} y = {fmt(q[i])}: p_t = "
                + (f"p = {fmt(p[i])}" if q[i] == 1 else f"1 - p = {fmt(pt[i])}")
            ).lstrip(),
        )
        steps.append(
            Step(
                "p_t (probability of the true class)",
                text,
                latex=r"p_t = p \text{ if } y = 1 \text{ else } 1 - p",
                values={"p_t": pt},
            )
        )

    def value(i: Index) -> str:
        w = "" if pw is None else f"{fmt(pw[i])} * "
        if hard and q[i] == 1:
            return f"-{w}log(p_t) = -{w}log({fmt(pt[i])})"
        if hard:
            return f"-log(p_t) = -log({fmt(pt[i])})"
        return f"-[{w}{fmt(q[i])} * log({fmt(p[i])}) + {fmt(1 - q[i])} * log({fmt(1 - p[i])})]"

    latex_value = (
        r"\ell = -[w_+\, y \log p + (1 - y)\log(1 - p)]"
        if pw is not None
        else (r"\ell = -[y \log p + (1 - y)\log(1 - p)]")
    )
    steps.append(loss_step(ctx, latex_value, value))
    if ctx.params.get("from_logits", False):
        if pw is None:
            steps.append(
                grad_step(
                    ctx, r"\partial\ell/\partial z = p - y", lambda i: f"p - y = {fmt(p[i])} - {fmt(q[i])}"
                )
            )
        else:
            steps.append(
                grad_step(
                    ctx,
                    r"\partial\ell/\partial z = (1 + (w_+ - 1) y)\,p - w_+ y",
                    lambda i: (
                        f"(1 + ({fmt(pw[i])} - 1) * {fmt(q[i])}) * {fmt(p[i])} - {fmt(pw[i])} * {fmt(q[i])}"
                    ),
                )
            )
    else:
        steps.append(
            grad_step(
                ctx,
                r"\partial\ell/\partial p = -\frac{w_+ y}{p} + \frac{1 - y}{1 - p}",
                lambda i: (
                    f"-{'' if pw is None else fmt(pw[i]) + ' * '}{fmt(q[i])}/{fmt(p[i])} + "
                    f"{fmt(1 - q[i])}/{fmt(1 - p[i])}"
                ),
            )
        )
    return steps


@explainer("binary_focal", kind="elementwise", params=("gamma", "alpha", "from_logits"))
def _binary_focal(ctx: Context) -> list[Step]:
    steps, p = _probability_step(ctx, softmax=False)
    y = np.asarray(ctx.y_true, dtype=np.float64)
    gamma = float(ctx.params["gamma"])
    alpha = ctx.params["alpha"]
    pt = y * p + (1 - y) * (1 - p)
    at = np.ones_like(pt) if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    factor = (1 - pt) ** gamma
    steps.append(
        Step(
            "p_t (probability of the true class)",
            ctx.lines(pt.shape, lambda i: f"{index_label(i)} y = {fmt(y[i])}: p_t = {fmt(pt[i])}".lstrip()),
            latex=r"p_t = y p + (1 - y)(1 - p)",
            values={"p_t": pt},
        )
    )
    alpha_text = (
        "alpha=None: no class weighting, alpha_t = 1"
        if alpha is None
        else f"alpha_t = alpha = {fmt(alpha)} for positives, 1 - alpha = {fmt(1 - alpha)} for negatives"
    )
    steps.append(
        Step(
            "Focusing factor",
            alpha_text
            + "\n"
            + ctx.lines(
                pt.shape,
                lambda i: (
                    f"(1 - p_t{index_label(i)})^gamma = (1 - {fmt(pt[i])})^{fmt(gamma)} = {fmt(factor[i])}"
                    f", alpha_t = {fmt(at[i])}"
                ),
            ),
            latex=r"(1 - p_t)^\gamma,\quad \alpha_t = \alpha y + (1 - \alpha)(1 - y)",
            values={"modulating_factor": factor, "alpha_t": at},
        )
    )
    steps.append(
        loss_step(
            ctx,
            r"\ell = -\alpha_t (1 - p_t)^\gamma \log p_t",
            lambda i: f"-{fmt(at[i])} * {fmt(factor[i])} * log({fmt(pt[i])})",
        )
    )
    wrt = "z" if ctx.params.get("from_logits", False) else "p"
    steps.append(
        grad_step(
            ctx, rf"\partial\ell/\partial {wrt}", lambda i: f"d/d{wrt} of alpha_t (1 - p_t)^gamma (-log p_t)"
        )
    )
    return steps


def _signed_labels(ctx: Context) -> tuple[list[Step], np.ndarray]:
    y = np.asarray(ctx.y_true, dtype=np.float64)
    if np.any(y == 0) and _is_hard(y):
        s = 2 * y - 1
        text = "labels in {0, 1} are converted to {-1, +1}: y' = 2y - 1\n"
        text += ctx.lines(y.shape, lambda i: f"y'{index_label(i)} = {fmt(s[i])}")
        return [Step("Labels", text, latex=r"y' = 2y - 1", values={"labels": s})], s
    return [], y


def _margin_parts(ctx: Context) -> tuple[list[Step], np.ndarray, np.ndarray, float]:
    steps, y = _signed_labels(ctx)
    f = np.asarray(ctx.y_pred, dtype=np.float64)
    m = y * f
    margin = float(ctx.params.get("margin", 1.0))
    active = m < margin
    steps.append(
        Step(
            "Margin",
            ctx.lines(
                m.shape, lambda i: f"m{index_label(i)} = y * f = {fmt(y[i])} * {fmt(f[i])} = {fmt(m[i])}"
            ),
            latex=r"m = y f",
            values={"margin": m},
        )
    )

    def why(i: Index) -> str:
        head = f"{index_label(i)} m = {fmt(m[i])}".lstrip()
        if active[i]:
            return f"{head} < {fmt(margin)}: inside the margin, the loss is active"
        return f"{head} >= {fmt(margin)}: beyond the margin, zero loss and zero gradient"

    steps.append(
        Step(
            "Branch",
            ctx.lines(m.shape, why),
            latex=r"m \ge 1:\ 0;\quad m < 1:\ \text{active}",
            values={"branch": np.where(active, "active", "zero")},
        )
    )
    return steps, y, m, margin


@explainer("hinge", kind="elementwise")
def _hinge(ctx: Context) -> list[Step]:
    steps, y, m, margin = _margin_parts(ctx)
    steps.append(loss_step(ctx, r"\ell = \max(0, 1 - y f)", lambda i: f"max(0, {fmt(margin)} - {fmt(m[i])})"))
    steps.append(
        grad_step(
            ctx,
            r"\partial\ell/\partial f = -y \text{ if } y f < 1 \text{ else } 0",
            lambda i: "-y" if m[i] < margin else "0",
        )
    )
    return steps


@explainer("squared_hinge", kind="elementwise")
def _squared_hinge(ctx: Context) -> list[Step]:
    steps, y, m, margin = _margin_parts(ctx)
    steps.append(
        loss_step(ctx, r"\ell = \max(0, 1 - y f)^2", lambda i: f"max(0, {fmt(margin)} - {fmt(m[i])})^2")
    )
    steps.append(
        grad_step(
            ctx,
            r"\partial\ell/\partial f = -2y\max(0, 1 - y f)",
            lambda i: f"-2 * {fmt(y[i])} * {fmt(max(0.0, margin - m[i]))}",
        )
    )
    return steps


# --------------------------------------------------------------------------- class axis


def _row_loss_step(ctx: Context, latex: str, line: Any) -> Step:
    l = ctx.per_entry
    text = ctx.lines(l.shape, lambda i: f"l{index_label(i)} = {line(i)} = {fmt(l[i])}")
    return Step("Per-sample loss", text, latex=latex, values={"loss": l})


def _row_grad_step(ctx: Context, latex: str, label: str) -> Step:
    g = ctx.grad0
    shape = g.shape[:-1]
    text = ctx.lines(shape, lambda i: f"dl{index_label(i)}/d{label}{index_label(i)} = {fmt_array(g[i])}")
    return Step("Per-sample gradient", text, latex=latex, values={"grad": g})


def _wrt(ctx: Context) -> str:
    return "z" if ctx.params.get("from_logits", False) else "y_pred"


@explainer(
    "categorical_cross_entropy",
    kind="class_axis",
    params=("from_logits", "label_smoothing", "class_weight"),
)
def _categorical_cross_entropy(ctx: Context) -> list[Step]:
    steps, p = _probability_step(ctx, softmax=True)
    y = np.asarray(ctx.y_true, dtype=np.float64)
    n_classes = p.shape[-1]
    smooth, q = _smoothing_step(ctx, y, n_classes)
    steps += smooth
    cw = ctx.params.get("class_weight")
    w = None if cw is None else np.asarray(cw, dtype=np.float64)
    shape = p.shape[:-1]
    one_hot = _is_hard(q) and bool(np.all(np.sum(q, axis=-1) == 1))
    if one_hot:
        c = np.argmax(q, axis=-1)
        pt = np.take_along_axis(p, c[..., None], axis=-1)[..., 0]
        steps.append(
            Step(
                "p_t (probability of the true class)",
                ctx.lines(
                    shape, lambda i: f"{index_label(i)} class {c[i]}: p_t = p[{c[i]}] = {fmt(pt[i])}".lstrip()
                ),
                latex=r"p_t = p_c,\ c = \text{the true class}",
                values={"class": c, "p_t": pt},
            )
        )

        def value(i: Index) -> str:
            wc = "" if w is None else f"{fmt(w[c[i]])} * "
            return f"-{wc}log(p_t) = -{wc}log({fmt(pt[i])})"

    else:

        def value(i: Index) -> str:
            terms = " + ".join(
                f"{'' if w is None else fmt(w[k]) + ' * '}{fmt(q[i][k])} * log({fmt(p[i][k])})"
                for k in range(n_classes)
                if q[i][k] != 0
            )
            return f"-({terms})"

    steps.append(_row_loss_step(ctx, r"\ell = -\textstyle\sum_k w_k y_k \log p_k", value))
    latex = (
        r"\partial\ell/\partial z = p - y" if _wrt(ctx) == "z" else r"\partial\ell/\partial p_k = -y_k / p_k"
    )
    if w is not None:
        latex = ctx.loss.info.gradient
    steps.append(_row_grad_step(ctx, latex, _wrt(ctx)))
    return steps


@explainer(
    "sparse_categorical_cross_entropy",
    kind="class_axis",
    params=("from_logits", "ignore_index", "label_smoothing", "class_weight"),
)
def _sparse_categorical_cross_entropy(ctx: Context) -> list[Step]:
    steps, p = _probability_step(ctx, softmax=True)
    labels = np.asarray(ctx.y_true).astype(np.int64)
    n_classes = p.shape[-1]
    eps = float(ctx.params.get("label_smoothing") or 0.0)
    ignore = ctx.params.get("ignore_index")
    cw = ctx.params.get("class_weight")
    w = None if cw is None else np.asarray(cw, dtype=np.float64)
    ignored = np.zeros(labels.shape, bool) if ignore is None else labels == ignore
    safe = np.where(ignored, 0, labels)
    pt = np.take_along_axis(p, safe[..., None], axis=-1)[..., 0]

    def pick(i: Index) -> str:
        if ignored[i]:
            return (
                f"{index_label(i)} class {labels[i]} == ignore_index: ignored (loss 0, not counted)".lstrip()
            )
        return f"{index_label(i)} class {labels[i]}: p_t = p[{labels[i]}] = {fmt(pt[i])}".lstrip()

    steps.append(
        Step(
            "p_t (probability of the true class)",
            ctx.lines(labels.shape, pick),
            latex=r"p_t = p_{y}",
            values={"p_t": np.where(ignored, np.nan, pt), "ignored": ignored},
        )
    )

    def value(i: Index) -> str:
        if ignored[i]:
            return "ignored"
        wy = "" if w is None else f"{fmt(w[labels[i]])} * "
        if eps == 0:
            return f"-{wy}log(p_t) = -{wy}log({fmt(pt[i])})"
        return (
            f"(1 - {fmt(eps)}) * -{wy}log(p_t) + {fmt(eps)}/{n_classes} * "
            f"sum_k -{'w_k ' if w is not None else ''}log(p_k)"
        )

    steps.append(_row_loss_step(ctx, r"\ell = -w_y \log p_y", value))
    if w is not None or ignore is not None:
        counted = ~ignored
        denom = float(np.sum(w[safe][counted])) if w is not None else float(np.sum(counted))
        ctx.denominator_note = (
            "PyTorch semantics: the mean divides by "
            + (
                "the sum of the class weights of the counted targets"
                if w is not None
                else "the counted targets"
            )
            + f", {fmt(denom)}"
        )
    latex = (
        r"\partial\ell/\partial z = p - \mathrm{onehot}(y)" if _wrt(ctx) == "z" else ctx.loss.info.gradient
    )
    steps.append(_row_grad_step(ctx, latex, _wrt(ctx)))
    return steps


@explainer("categorical_focal", kind="class_axis", params=("gamma", "alpha", "from_logits"))
def _categorical_focal(ctx: Context) -> list[Step]:
    steps, p = _probability_step(ctx, softmax=True)
    y = np.asarray(ctx.y_true, dtype=np.float64)
    gamma = float(ctx.params["gamma"])
    factor = (1 - p) ** gamma
    steps.append(
        Step(
            "Focusing factor",
            ctx.lines(p.shape[:-1], lambda i: f"(1 - p{index_label(i)})^gamma = {fmt_array(factor[i])}"),
            latex=r"(1 - p_k)^\gamma",
            values={"modulating_factor": factor},
        )
    )

    def value(i: Index) -> str:
        terms = " + ".join(
            f"{fmt(y[i][k])} * {fmt(factor[i][k])} * log({fmt(p[i][k])})"
            for k in range(p.shape[-1])
            if y[i][k] != 0
        )
        return f"-alpha * ({terms})" if ctx.params["alpha"] is not None else f"-({terms})"

    steps.append(
        _row_loss_step(ctx, r"\ell = -\textstyle\sum_k \alpha\, y_k (1 - p_k)^\gamma \log p_k", value)
    )
    steps.append(_row_grad_step(ctx, ctx.loss.info.gradient, _wrt(ctx)))
    return steps


@explainer("multiclass_hinge", kind="class_axis", params=("margin", "variant"))
def _multiclass_hinge(ctx: Context) -> list[Step]:
    s = np.asarray(ctx.y_pred, dtype=np.float64)
    labels = np.asarray(ctx.y_true).astype(np.int64)
    margin = float(ctx.params["margin"])
    variant = ctx.params["variant"]
    sy = np.take_along_axis(s, labels[..., None], axis=-1)[..., 0]
    terms = np.maximum(0.0, s - sy[..., None] + margin)
    mask = np.arange(s.shape[-1]) == labels[..., None]
    terms = np.where(mask, 0.0, terms)

    def row(i: Index) -> str:
        others = [k for k in range(s.shape[-1]) if k != labels[i]]
        if variant == "crammer_singer":
            top = max(others, key=lambda k: s[i][k])
            return (
                f"{index_label(i)} class {labels[i]} (s_y = {fmt(sy[i])}); strongest rival {top} "
                f"(s = {fmt(s[i][top])}): max(0, {fmt(s[i][top])} - {fmt(sy[i])} + {fmt(margin)}) = "
                f"{fmt(terms[i][top])}"
            ).lstrip()
        parts = ", ".join(f"j={k}: {fmt(terms[i][k])}" for k in others)
        head = f"{index_label(i)} class {labels[i]} (s_y = {fmt(sy[i])})".lstrip()
        return f"{head}; max(0, s_j - s_y + {fmt(margin)}): {parts}"

    steps = [
        Step(
            f"Margins ({variant})",
            ctx.lines(labels.shape, row),
            latex=r"\max(0, s_j - s_y + \Delta),\ j \ne y",
            values={"terms": terms, "s_y": sy},
        )
    ]
    if variant == "crammer_singer":
        summary = terms.max(axis=-1)
        word = "the largest term"
    else:
        summary = terms.sum(axis=-1)
        word = "the sum of the terms"
    steps.append(_row_loss_step(ctx, ctx.loss.info.formula, lambda i: f"{word}, {fmt(summary[i])}"))
    steps.append(_row_grad_step(ctx, ctx.loss.info.gradient, "s"))
    return steps


@explainer("kl_divergence", kind="class_axis", params=("from_logits",))
def _kl_divergence(ctx: Context) -> list[Step]:
    steps, p = _probability_step(ctx, softmax=True)
    q = np.asarray(ctx.y_true, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - np.log(p)), 0.0)
    steps.append(
        Step(
            "Terms",
            "D(y_true || y_pred) = sum_k q_k log(q_k / p_k), with 0 log 0 = 0\n"
            + ctx.lines(p.shape[:-1], lambda i: f"q log(q/p){index_label(i)} = {fmt_array(terms[i])}"),
            latex=r"q_k \log(q_k / p_k)",
            values={"terms": terms},
        )
    )
    steps.append(
        _row_loss_step(
            ctx, r"\ell = \textstyle\sum_k q_k \log(q_k/p_k)", lambda i: f"sum {fmt_array(terms[i])}"
        )
    )
    latex = (
        r"\partial\ell/\partial z = p - q" if _wrt(ctx) == "z" else r"\partial\ell/\partial p_k = -q_k / p_k"
    )
    steps.append(_row_grad_step(ctx, latex, _wrt(ctx)))
    return steps
