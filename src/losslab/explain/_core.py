"""The worked-computation engine: :class:`Explanation`, :class:`Step`, :func:`explain`.

An explanation walks through a loss evaluation the way it is done by hand: the inputs and
parameters, the formula, the intermediate quantity (residual, probability, margin), the branch
taken per element, the per-element values and gradients, the reduction and the result.

Every loss value and gradient shown comes from the loss itself (``loss(..., reduction="none")``,
``loss.grad(..., reduction="none")`` and ``loss.value_and_grad(..., reduction=reduction)``); only
the displayed intermediates (``r = y_pred - y_true``, ``p = sigmoid(z)``, ``p_t``, margins, which
branch) are computed here. Losses with a dedicated explainer (see :func:`explainer_names`) get
their curriculum-style walk-through; every other registered loss gets the generic one, built from
its declaration (formula, gradient, inputs, kind).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from losslab._core.arrays import to_numpy
from losslab._core.validation import check_choice
from losslab.losses._spec import REDUCTIONS, Loss, Reduction, get

__all__ = [
    "Context",
    "Explanation",
    "Step",
    "explain",
    "explainer",
    "explainer_names",
    "fmt",
    "has_explainer",
]

#: Entries listed one per line in text renderings; the rest are summarized.
MAX_LINES = 12


# --------------------------------------------------------------------------- formatting


def fmt(x: Any) -> str:
    """A number as a hand computation writes it: ``2``, ``1.875``, ``0.105361``, ``-inf``."""
    if x is None:
        return "None"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, str):
        return x
    arr = np.asarray(x)
    if arr.ndim > 0:
        return fmt_array(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return str(int(arr))
    if not np.issubdtype(arr.dtype, np.number):
        return str(arr)
    v = float(arr)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0.0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


def fmt_array(a: Any, limit: int = 24) -> str:
    """An array as nested brackets of :func:`fmt` numbers; long axes are elided with ``...``."""
    arr = np.asarray(a)
    if arr.ndim == 0:
        return fmt(arr)
    items = [fmt_array(arr[i], limit) for i in range(min(len(arr), limit))]
    if len(arr) > limit:
        items.append(f"... ({len(arr) - limit} more)")
    return "[" + ", ".join(items) + "]"


def index_label(idx: tuple[int, ...]) -> str:
    """``[0]``, ``[1, 2]``; the empty string for a scalar."""
    return "[" + ", ".join(str(i) for i in idx) + "]" if idx else ""


def signed(x: float) -> str:
    """``(+1)``, ``(-1)`` or ``0`` for a sign."""
    return "(+1)" if x > 0 else "(-1)" if x < 0 else "0"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Step:
    """One step of a worked computation.

    ``title`` names the step; ``text`` is the hand computation in plain text (one line per
    element where it goes element by element); ``latex`` the formula the step applies; ``values``
    the numbers it produced, by name (arrays are NumPy arrays, in full).
    """

    title: str
    text: str = ""
    latex: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Explanation:
    """A step-by-step worked computation of one loss evaluation.

    ``value`` and ``grad`` are exactly ``loss.value_and_grad(*inputs, reduction=reduction,
    **params)``; ``steps`` lead from the inputs to them.
    """

    loss: str
    params: dict[str, Any]
    reduction: str
    inputs: dict[str, np.ndarray]
    steps: list[Step]
    value: Any
    grad: Any
    dedicated: bool = False

    def step(self, title: str) -> Step:
        """The first step whose title starts with ``title`` (case-insensitive)."""
        for s in self.steps:
            if s.title.lower().startswith(title.lower()):
                return s
        titles = ", ".join(s.title for s in self.steps)
        raise KeyError(f"explanation of {self.loss}: no step titled {title!r}; steps: {titles}")

    @property
    def header(self) -> str:
        inner = ", ".join(f"{k}={_param_text(v)}" for k, v in self.params.items())
        return f'{self.loss}({inner}), reduction="{self.reduction}"'

    def to_text(self) -> str:
        """Plain text: a header, then numbered steps with their formula and hand computation."""
        lines = [self.header, ""]
        for k, s in enumerate(self.steps, 1):
            lines.append(f"{k}. {s.title}")
            if s.latex:
                lines.append(f"   formula: {s.latex}")
            lines.extend(f"   {line}" for line in s.text.splitlines())
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def to_markdown(self) -> str:
        """Markdown: a heading, then one numbered section per step (formulas as ``$$`` blocks)."""
        lines = [f"### `{self.header}`", ""]
        for k, s in enumerate(self.steps, 1):
            lines.append(f"**{k}. {s.title}**")
            lines.append("")
            if s.latex:
                lines += [f"$${s.latex}$$", ""]
            if s.text:
                lines += ["```text", s.text, "```", ""]
        return "\n".join(lines).rstrip() + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        """Notebooks show the worked computation as Markdown (:meth:`to_markdown`)."""
        return self.to_markdown()


@dataclass
class Context:
    """What an explainer works from: the inputs, the resolved parameters and the loss's numbers.

    ``per_entry`` is ``loss(..., reduction="none")`` without sample weights; ``per_entry_grad``
    the matching ``loss.grad(..., reduction="none")`` as a tuple over the differentiable inputs.
    Explainers may append ``notes`` (shown with the reduction) and set ``denominator_note`` (why
    ``"mean"`` divides by something other than the number of entries).
    """

    loss: Loss
    inputs: dict[str, np.ndarray]
    params: dict[str, Any]
    reduction: str
    sample_weight: np.ndarray | None
    per_entry: np.ndarray
    per_entry_grad: tuple[np.ndarray, ...]
    notes: list[str] = field(default_factory=list)
    denominator_note: str | None = None

    @property
    def y_pred(self) -> np.ndarray:
        return self.inputs["y_pred"]

    @property
    def y_true(self) -> np.ndarray:
        return self.inputs["y_true"]

    @property
    def grad0(self) -> np.ndarray:
        """The per-entry gradient with respect to the first differentiable input."""
        return self.per_entry_grad[0]

    def lines(self, shape: tuple[int, ...], line: Callable[[tuple[int, ...]], str]) -> str:
        """One line per index of ``shape`` (at most :data:`MAX_LINES`, then a count)."""
        out = []
        n = math.prod(shape)
        for k, idx in enumerate(np.ndindex(*shape)):
            if k == MAX_LINES:
                out.append(f"... ({n - MAX_LINES} more; see the step's values)")
                break
            out.append(line(idx))
        return "\n".join(out)


Explainer = Callable[[Context], list[Step]]


@dataclass(frozen=True)
class _Registered:
    fn: Explainer
    kind: str
    params: tuple[str, ...]


_EXPLAINERS: dict[str, _Registered] = {}


def explainer(name: str, *, kind: str, params: Sequence[str] = ()) -> Callable[[Explainer], Explainer]:
    """Register a dedicated explainer for the loss ``name``.

    It is used only when a loss of that name is registered, has the declared ``kind`` and accepts
    every parameter in ``params``; otherwise the generic explanation is used.
    """

    def wrap(fn: Explainer) -> Explainer:
        if name in _EXPLAINERS:
            raise ValueError(f"explainer: one is already registered for {name!r}")
        _EXPLAINERS[name] = _Registered(fn, kind, tuple(params))
        return fn

    return wrap


def explainer_names() -> list[str]:
    """Loss names with a dedicated explainer (registered or not yet registered losses)."""
    return sorted(_EXPLAINERS)


def _dedicated(loss: Loss) -> _Registered | None:
    entry = _EXPLAINERS.get(loss.name)
    if entry is None or loss.kind != entry.kind or not set(entry.params) <= set(loss.params):
        return None
    return entry


def has_explainer(loss: str | Loss) -> bool:
    """Whether ``loss`` is explained by a dedicated explainer (else by the generic one)."""
    return _dedicated(get(loss) if isinstance(loss, str) else loss) is not None


# --------------------------------------------------------------------------- explain


def explain(
    loss: str | Loss,
    *inputs: Any,
    reduction: str | None = None,
    sample_weight: Any = None,
    generic: bool = False,
    **params: Any,
) -> Explanation:
    """A step-by-step worked computation of ``loss(*inputs, reduction=reduction, **params)``.

    ``loss`` is a registered loss or its name (aliases work). The steps show the inputs, the
    formula, the intermediate quantity (the residual :math:`r = \\hat y - y`, the probability
    :math:`p` and :math:`p_t`, the margin :math:`y f`), the branch taken per element, the
    per-element values and gradients, the reduction and the result. ``value`` and ``grad`` equal
    ``loss.value_and_grad(*inputs, reduction=reduction, sample_weight=sample_weight, **params)``.
    ``generic=True`` gives the declaration-only walk-through even where a dedicated one exists.

    >>> import losslab as ll
    >>> ex = ll.explain.explain("huber", [5.0], [3.0], delta=1.5)
    >>> print(ex.step("Branch").text)
    [0] |r| = 2 > delta = 1.5: linear branch
    >>> float(ex.value), ex.grad.tolist()
    (1.875, [1.5])
    """
    loss = get(loss) if isinstance(loss, str) else loss
    if not isinstance(loss, Loss):
        raise TypeError(f"explain: loss must be a loss name or a registered loss, got {loss!r}")
    if reduction is None:
        reduction = loss.default_reduction
    check_choice("explain", "reduction", reduction, REDUCTIONS)
    if len(inputs) != len(loss.inputs):
        raise TypeError(
            f"explain: {loss.name} takes {len(loss.inputs)} arrays ({', '.join(loss.inputs)}), "
            f"got {len(inputs)}"
        )
    resolved = loss.resolve_params(params)
    mode = cast(Reduction, reduction)
    value, grad = loss.value_and_grad(*inputs, reduction=mode, sample_weight=sample_weight, **params)
    per_entry = to_numpy(loss(*inputs, reduction="none", **params))
    per_entry_grad = loss.grad(*inputs, reduction="none", **params)
    grads = per_entry_grad if len(loss.differentiable) > 1 else (per_entry_grad,)
    ctx = Context(
        loss=loss,
        inputs={n: to_numpy(x) for n, x in zip(loss.inputs, inputs)},
        params=resolved,
        reduction=reduction,
        sample_weight=None if sample_weight is None else np.asarray(to_numpy(sample_weight)),
        per_entry=np.asarray(per_entry),
        per_entry_grad=tuple(np.asarray(to_numpy(g)) for g in grads),
    )
    entry = None if generic else _dedicated(loss)
    middle = entry.fn(ctx) if entry is not None else _generic(ctx)
    value_np = to_numpy(value)
    grad_np: Any = tuple(to_numpy(g) for g in grad) if len(loss.differentiable) > 1 else to_numpy(grad)
    steps = [
        _inputs_step(ctx),
        _formula_step(ctx),
        *middle,
        *_weight_steps(ctx),
        _reduction_step(ctx, value_np, grad_np),
        _result_step(ctx, value_np, grad_np),
    ]
    return Explanation(
        loss=loss.name,
        params=resolved,
        reduction=reduction,
        inputs=ctx.inputs,
        steps=steps,
        value=value_np[()] if isinstance(value_np, np.ndarray) and value_np.ndim == 0 else value_np,
        grad=grad_np,
        dedicated=entry is not None,
    )


# --------------------------------------------------------------------------- shared steps


def _inputs_step(ctx: Context) -> Step:
    lines = [f"{name} = {fmt(x)}" for name, x in ctx.inputs.items()]
    if ctx.params:
        lines.append("parameters: " + ", ".join(f"{k} = {fmt_param(v)}" for k, v in ctx.params.items()))
    if ctx.sample_weight is not None:
        lines.append(f"sample_weight = {fmt(ctx.sample_weight)}")
    values: dict[str, Any] = dict(ctx.inputs)
    values.update(ctx.params)
    return Step("Inputs", "\n".join(lines), values=values)


def _param_text(v: Any) -> str:
    """A parameter as Python would write it in a call (arrays as lists of numbers)."""
    if v is None or isinstance(v, (bool, str, int, float)):
        return repr(v)
    return fmt_param(v)


def fmt_param(v: Any) -> str:
    """A parameter value: numbers with :func:`fmt`, everything else as ``repr``."""
    if v is None or isinstance(v, (bool, str)):
        return repr(v)
    if isinstance(v, (int, float, np.number)) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return fmt(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return fmt(np.asarray(v))
    return repr(v)


def _formula_step(ctx: Context) -> Step:
    info = ctx.loss.info
    text = info.summary or f"The {info.name} loss."
    if info.kind == "class_axis":
        text += "\nThe loss is computed per sample over the last (class) axis of y_pred."
    return Step(
        "Formula",
        text,
        latex=info.formula,
        values={"formula": info.formula, "gradient": info.gradient},
    )


def _entry_word(ctx: Context) -> str:
    return "element" if ctx.loss.kind == "elementwise" else "sample"


def _generic(ctx: Context) -> list[Step]:
    """Per-entry values and gradients straight from the declaration (every loss)."""
    info = ctx.loss.info
    word = _entry_word(ctx)
    shape = ctx.per_entry.shape
    values_text = ctx.lines(shape, lambda i: f"l{index_label(i)} = {fmt(ctx.per_entry[i])}")
    steps = [
        Step(
            f"Per-{word} loss",
            f"{ctx.per_entry.size} {word}(s), computed by the loss with reduction='none':\n" + values_text,
            latex=info.formula,
            values={"loss": ctx.per_entry},
        )
    ]
    grad_lines = []
    for name, g in zip(ctx.loss.differentiable, ctx.per_entry_grad):
        if g.shape[: len(shape)] == shape:
            row = "" if g.shape == shape else "{row}"
            grad_lines.append(ctx.lines(shape, _grad_line(g, name, row)))
        else:
            grad_lines.append(f"d(sum of l)/d{name} = {fmt(g)}")
    steps.append(
        Step(
            f"Per-{word} gradient",
            "\n".join(grad_lines),
            latex=info.gradient,
            values={f"grad_{n}": g for n, g in zip(ctx.loss.differentiable, ctx.per_entry_grad)},
        )
    )
    return steps


def _grad_line(g: np.ndarray, name: str, row: str) -> Callable[[tuple[int, ...]], str]:
    def line(i: tuple[int, ...]) -> str:
        at = row.format(row=index_label(i))
        return f"dl{index_label(i)}/d{name}{at} = {fmt(g[i])}"

    return line


def _weight_steps(ctx: Context) -> list[Step]:
    if ctx.sample_weight is None:
        return []
    w = np.broadcast_to(ctx.sample_weight, ctx.per_entry.shape)
    weighted = w * ctx.per_entry
    word = _entry_word(ctx)
    text = ctx.lines(
        ctx.per_entry.shape,
        lambda i: (
            f"w{index_label(i)} * l{index_label(i)} = {fmt(w[i])} * {fmt(ctx.per_entry[i])} = "
            f"{fmt(weighted[i])}"
        ),
    )
    return [
        Step(
            "Sample weights",
            f"each {word}'s loss (and gradient) is multiplied by its weight:\n{text}",
            latex=r"\ell_i \leftarrow w_i \ell_i",
            values={"weighted_loss": weighted},
        )
    ]


def _reduction_step(ctx: Context, value: Any, grad: Any) -> Step:
    per_entry = ctx.per_entry
    w = None if ctx.sample_weight is None else np.broadcast_to(ctx.sample_weight, per_entry.shape)
    weighted = per_entry if w is None else w * per_entry
    total = float(np.sum(weighted, dtype=np.float64))
    n = per_entry.size
    word = _entry_word(ctx)
    names = ", ".join(ctx.loss.differentiable)
    lw = "l_i" if w is None else "w_i l_i"
    notes = list(ctx.notes)
    if ctx.reduction == "none":
        text = f"reduction='none': the {n} {word} losses are returned as they are."
        text += f"\nthe gradient is that of their sum: d(sum)/d{names}, element by element."
        latex = r"L_i = " + ("" if w is None else "w_i ") + r"\ell_i"
        values: dict[str, Any] = {"sum": total, "n": n}
    elif ctx.reduction == "sum":
        text = f"L = sum_i {lw} = {fmt(total)}"
        text += f"\ndL/d{names} = the per-{word} gradients" + ("" if w is None else " times w_i")
        latex = r"L = \sum_i " + ("" if w is None else "w_i ") + r"\ell_i"
        values = {"sum": total, "n": n}
    else:
        v = float(np.asarray(value))
        denominator: float = float(n)
        tol = 1e-9 if per_entry.dtype == np.float64 else 1e-4
        if not math.isclose(total / n, v, rel_tol=tol, abs_tol=tol * 1e-3):
            if v != 0.0:
                denominator = total / v
                notes.append(
                    ctx.denominator_note
                    or f"the mean divides by the total count weight of the {word}s, W = {fmt(denominator)}"
                    f" (not by n = {n})"
                )
            else:
                notes.append("every entry is excluded from the count: the mean is 0 with a zero gradient")
                denominator = math.inf
        text = f"L = (sum_i {lw}) / {'n' if denominator == n else 'W'} = {fmt(total)} / {fmt(denominator)}"
        text += f" = {fmt(v)}"
        grads = grad if isinstance(grad, tuple) else (grad,)
        for name, g_entry, g in zip(ctx.loss.differentiable, ctx.per_entry_grad, grads):
            scaled = _weighted_grad(g_entry, w)
            text += f"\ndL/d{name} = (per-{word} gradient" + ("" if w is None else " * w_i") + ")"
            text += f" / {fmt(denominator)}"
            if scaled is not None and np.size(g_entry) <= MAX_LINES:
                text += f" = {fmt(scaled)} / {fmt(denominator)} = {fmt(g)}"
        latex = r"L = \frac{1}{n}\sum_i " + ("" if w is None else "w_i ") + r"\ell_i"
        values = {"sum": total, "n": n, "denominator": denominator}
    if notes:
        text += "\n" + "\n".join(f"note: {note}" for note in notes)
    return Step(f"Reduction ({ctx.reduction})", text, latex=latex, values=values)


def _weighted_grad(g: np.ndarray, w: np.ndarray | None) -> np.ndarray | None:
    """The per-entry gradient times the sample weights (``None`` when they do not line up)."""
    if w is None:
        return g
    if w.shape == g.shape:
        return w * g
    if g.shape[: w.ndim] == w.shape:
        return w.reshape(w.shape + (1,) * (g.ndim - w.ndim)) * g
    return None


def _result_step(ctx: Context, value: Any, grad: Any) -> Step:
    names = ctx.loss.differentiable
    grads = grad if isinstance(grad, tuple) else (grad,)
    lines = [f"value = {fmt(value)}"]
    values: dict[str, Any] = {"value": value}
    for name, g in zip(names, grads):
        lines.append(f"grad = dL/d{name} = {fmt(g)}")
        values[f"grad_{name}"] = g
    values["grad"] = grad
    return Step("Result", "\n".join(lines), values=values)
