r"""Optimizer steps by hand: gradients, state (moments, bias corrections, buffers), update.

:func:`optimizer_step` runs one or several steps of an optimizer and writes each one out the way
the curriculum does (seed 003's :math:`L(W) = W^2` steps, seed 000's examples A and B, the
momentum forms of seeds 000/003/004, Adam's bias correction). The numbers shown for the state,
the update and the new parameters are the optimizer's own (``opt.update`` followed by
``apply_updates``); the intermediate quantities (:math:`\hat m`, :math:`\hat v`, the decayed
gradient) are computed here from the hyperparameters the preset was built with
(:func:`losslab.optim.describe`).

The registered presets (``sgd`` and its aliases ``gd``/``momentum``/``nesterov``, ``adagrad``,
``rmsprop``, ``adam``, ``adamw``) get their formulas written out with numbers. Any other
transformation (a hand-built ``chain``, ``ema``, ``velocity_momentum``, a preset with an option
these formulas do not cover) gets the generic walk-through: the gradient, every state field
before and after, the update and the new parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losslab._core.tree import tree_leaves, tree_leaves_with_paths, tree_map, tree_structure_equal
from losslab._core.validation import check_int
from losslab.explain._core import Explanation, Step, fmt, fmt_param
from losslab.optim import transforms as _t
from losslab.optim.base import GradientTransformation, apply_updates
from losslab.optim.optimizers import describe
from losslab.optim.optimizers import get as get_optimizer

__all__ = ["OptimizerExplanation", "optimizer_step"]

#: Parameter entries written out per step; the rest are in the step's values.
MAX_ENTRIES = 6

Tree = Any


@dataclass
class OptimizerExplanation(Explanation):
    """Worked optimizer steps: :class:`Explanation` plus the trajectory.

    ``params`` are the optimizer's hyperparameters (as a loss explanation's are the loss's);
    ``trajectory[k]`` the parameters after ``k`` steps (``trajectory[0]`` the start), ``grads[k]``,
    ``updates[k]`` and ``states[k]`` those of step ``k + 1``; ``value`` is the final parameters.
    """

    optimizer: str = ""
    trajectory: list[Tree] = field(default_factory=list)
    grads: list[Tree] = field(default_factory=list)
    updates: list[Tree] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)

    @property
    def header(self) -> str:
        inner = ", ".join(f"{k}={_hp_text(v)}" for k, v in self.params.items())
        n = len(self.updates)
        return f"{self.optimizer}({inner}): {n} step{'s' if n != 1 else ''}"


def optimizer_step(
    opt: GradientTransformation | str,
    params: Tree,
    grads: Tree | Callable[[Tree], Tree],
    steps: int = 1,
    *,
    extra_args: Mapping[str, Any] | None = None,
    **hyperparams: Any,
) -> OptimizerExplanation:
    r"""One or several optimizer steps worked by hand, with the optimizer's state at each step.

    ``opt`` is an optimizer (``ll.optim.adam(lr=0.1)``, any ``GradientTransformation``) or a
    registered name with its ``hyperparams`` (``optimizer_step("adam", w, g, lr=0.1)``).
    ``params`` is a tree (an array, a number, or a dict/list of them); ``grads`` a tree of the same
    structure, used at every step, or a function ``params -> grads`` evaluated at each step's
    parameters (e.g. ``lambda w: 2 * w`` for :math:`L(w) = w^2`). Each step shows the gradient,
    the state before and after (momentum buffer, moments and their bias corrections,
    accumulators), the update and the new parameters; the numbers are those of ``opt.update``
    and ``apply_updates``. An optimizer that declares ``extra_args`` (Newton's method needs
    ``hessian=``) gets them from ``extra_args``: a value, or a function ``params -> value``
    evaluated at each step's parameters.

    Seed 003's gradient descent on :math:`L(W) = W^2` from :math:`W = 4`, lr 0.3:

    >>> import losslab as ll
    >>> ex = ll.explain.optimizer_step(ll.optim.gd(lr=0.3), 4.0, lambda w: 2 * w, steps=4)
    >>> print(ex.step("Step 2").text)
    g = 3.2
    update = -lr * g = -0.3 * 3.2 = -0.96
    theta = 1.6 + (-0.96) = 0.64
    >>> [round(float(w), 10) for w in ex.trajectory]
    [4.0, 1.6, 0.64, 0.256, 0.1024]

    Adam's bias correction makes the first step :math:`\eta\,\mathrm{sign}(g)`:

    >>> ex = ll.explain.optimizer_step("adam", 4.0, lambda w: 2 * w, lr=0.1)
    >>> print("\n".join(ex.step("Step 1").text.splitlines()[4:7]))
    m_hat = m / (1 - beta1^t) = 0.8 / 0.1 = 8
    v_hat = v / (1 - beta2^t) = 0.064 / 0.001 = 64
    update = -lr * m_hat / (sqrt(v_hat) + eps) = -0.1 * 8 / (8 + 1e-08) = -0.1
    >>> round(float(ex.value), 6)  # 4 - 0.1 * sign(8), up to eps
    3.9
    """
    given_name = opt if isinstance(opt, str) else None
    if isinstance(opt, str):
        opt = get_optimizer(opt, **hyperparams)
    elif hyperparams:
        raise TypeError(
            "optimizer_step: hyperparameters go to the optimizer when it is given by name; "
            f"got an optimizer object and {', '.join(sorted(hyperparams))}"
        )
    if not isinstance(opt, GradientTransformation):
        raise TypeError(
            f"optimizer_step: opt must be an optimizer or a registered name, got {type(opt).__name__}"
        )
    steps = check_int("optimizer_step", "steps", steps, minimum=1)
    extra = dict(extra_args or {})
    missing = sorted(set(opt.extra_args) - set(extra))
    if missing:
        raise ValueError(
            f"optimizer_step: this optimizer needs {', '.join(missing)} at every update; "
            f"pass extra_args={{{missing[0]!r}: value or function of params}}"
        )
    params = tree_map(_as_float, params)
    grad_fn: Callable[[Tree], Tree]
    if callable(grads):
        grad_fn = grads
    else:
        fixed = tree_map(_as_float, grads)
        _check_like(params, fixed)
        grad_fn = lambda p: fixed  # noqa: E731
    description = describe(opt)
    name = description.name if description is not None else given_name or "optimizer"
    hp = {} if description is None else dict(description.hyperparams)
    render = _RENDERERS.get(name)
    if render is not None and not _covered(name, hp):
        render = None

    state = opt.init(params)
    trajectory, all_grads, all_updates, states = [params], [], [], []
    out_steps = [_optimizer_step_intro(name, hp, render is not None, callable(grads))]
    for t in range(1, steps + 1):
        g = tree_map(_as_float, grad_fn(params))
        _check_like(params, g)
        kwargs = {key: value(params) if callable(value) else value for key, value in extra.items()}
        updates, new_state = opt.update(g, state, params, **kwargs)
        new_params = apply_updates(params, updates)
        if render is not None:
            lines, derived = render(hp, t, params, g, state, new_state, updates)
        else:
            lines, derived = _generic(params, g, state, new_state, updates)
        lines += _apply_lines(params, updates, new_params)
        values: dict[str, Any] = {"grads": g, "updates": updates, "params": new_params, "state": new_state}
        values.update(derived)
        out_steps.append(Step(f"Step {t}", "\n".join(lines), values=values))
        trajectory.append(new_params)
        all_grads.append(g)
        all_updates.append(updates)
        states.append(new_state)
        params, state = new_params, new_state
    out_steps.append(_trajectory_step(trajectory, all_grads))
    return OptimizerExplanation(
        loss="",
        params=hp,
        reduction="",
        inputs={"params": trajectory[0], "grads": all_grads[0]},
        steps=out_steps,
        value=params,
        grad=all_grads[-1],
        optimizer=name,
        trajectory=trajectory,
        grads=all_grads,
        updates=all_updates,
        states=states,
    )


# --------------------------------------------------------------------------- helpers


def _as_float(x: Any) -> np.ndarray:
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    return a


def _check_like(params: Tree, grads: Tree) -> None:
    if not tree_structure_equal(params, grads):
        raise ValueError("optimizer_step: grads must have the structure of params")
    for (path, p), g in zip(tree_leaves_with_paths(params), tree_leaves(grads)):
        if np.shape(g) != np.shape(p):
            raise ValueError(
                f"optimizer_step: grads{_path_text(path) or ''} must have shape {np.shape(p)}, got {np.shape(g)}"
            )


def _p(x: Any) -> str:
    """A number for a product or a power: negatives in parentheses, ``(-2)``."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def _hp_text(v: Any) -> str:
    if callable(v):
        return getattr(v, "__name__", "schedule")
    return fmt_param(v)


def _path_text(path: tuple[Any, ...]) -> str:
    return "".join(f"[{k!r}]" if isinstance(k, str) else f"[{k}]" for k in path)


class _Entry:
    """One scalar parameter entry: its label and its index into the flat leaves."""

    def __init__(self, label: str, leaf: int, index: tuple[int, ...]) -> None:
        self.label, self.leaf, self.index = label, leaf, index

    def of(self, tree: Tree) -> float:
        return float(np.asarray(tree_leaves(tree)[self.leaf])[self.index])


def _entries(params: Tree) -> tuple[list[_Entry], int]:
    """The first :data:`MAX_ENTRIES` entries of ``params`` and the total count."""
    out: list[_Entry] = []
    total = 0
    for k, (path, leaf) in enumerate(tree_leaves_with_paths(params)):
        name = ".".join(str(p) for p in path)
        for idx in np.ndindex(*np.shape(leaf)):
            total += 1
            if len(out) < MAX_ENTRIES:
                at = "[" + ", ".join(map(str, idx)) + "]" if idx else ""
                label = f"{name or 'theta'}{at}" if at else name
                out.append(_Entry(label, k, idx))
    return out, total


def _prefixed(entry: _Entry, lines: list[str]) -> list[str]:
    return [f"{entry.label}: {line}" if entry.label else line for line in lines]


def _find(state: Any, kind: type) -> Any:
    """The first state of type ``kind`` inside a (chained) optimizer state, or ``None``."""
    if isinstance(state, kind):
        return state
    if isinstance(state, tuple):
        for child in state:
            found = _find(child, kind)
            if found is not None:
                return found
    return None


def _lr(hp: dict[str, Any], t: int) -> float:
    lr = hp["lr"]
    return float(lr(t - 1)) if callable(lr) else float(lr)


def _more(total: int) -> list[str]:
    return [f"... ({total - MAX_ENTRIES} more entries; see the step's values)"] if total > MAX_ENTRIES else []


def _apply_lines(params: Tree, updates: Tree, new: Tree) -> list[str]:
    entries, total = _entries(params)
    lines = []
    for e in entries:
        lines += _prefixed(e, [f"theta = {fmt(e.of(params))} + {_p(e.of(updates))} = {fmt(e.of(new))}"])
    return lines + _more(total)


def _optimizer_step_intro(name: str, hp: dict[str, Any], known: bool, from_function: bool) -> Step:
    lines = [f"optimizer: {name}"]
    if hp:
        lines.append("hyperparameters: " + ", ".join(f"{k} = {_hp_text(v)}" for k, v in hp.items()))
    if not known:
        lines.append("its state is shown field by field (no worked formula for this transformation)")
    lines.append(
        "gradient: evaluated at each step's parameters"
        if from_function
        else "gradient: the same given gradient at every step"
    )
    return Step(
        "Optimizer", "\n".join(lines), latex=_latex(name, hp, _RENDERERS.get(name) if known else None)
    )


def _trajectory_step(trajectory: list[Tree], grads: list[Tree]) -> Step:
    entries, total = _entries(trajectory[0])
    lines = []
    for t, p in enumerate(trajectory):
        cells = ", ".join(f"{e.label or 'theta'} = {fmt(e.of(p))}" for e in entries)
        g = "" if t == len(grads) else "; g: " + ", ".join(fmt(e.of(grads[t])) for e in entries)
        lines.append(f"t = {t}: {cells}{g}")
    return Step("Trajectory", "\n".join(lines + _more(total)), values={"trajectory": trajectory})


# --------------------------------------------------------------------------- renderers

Rendered = tuple[list[str], dict[str, Any]]
Renderer = Callable[[dict[str, Any], int, Tree, Tree, Any, Any, Tree], Rendered]

#: Hyperparameters each worked form covers; any other one set to a non-default value (an option
#: added to a preset later) falls back to the generic walk-through.
_COVERED: dict[str, set[str]] = {
    "sgd": {"lr", "momentum", "dampening", "nesterov", "weight_decay"},
    "adagrad": {"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"},
    "rmsprop": {"lr", "alpha", "eps", "weight_decay", "momentum", "centered"},
    "adam": {"lr", "betas", "eps", "weight_decay", "amsgrad"},
    "adamw": {"lr", "betas", "eps", "weight_decay", "amsgrad"},
}
_NEUTRAL = (None, False, 0, 0.0, "algorithm1")


def _covered(name: str, hp: dict[str, Any]) -> bool:
    extra = set(hp) - _COVERED.get(name, set())
    return all(any(hp[k] is v or (type(hp[k]) is type(v) and hp[k] == v) for v in _NEUTRAL) for k in extra)


def _decay_line(hp: dict[str, Any], p: float, g: float) -> tuple[list[str], float]:
    wd = float(hp.get("weight_decay", 0.0))
    if not wd or hp.get("_decoupled"):
        return [], g
    g2 = g + wd * p
    return [f"g' = g + weight_decay * theta = {fmt(g)} + {fmt(wd)} * {_p(p)} = {fmt(g2)}"], g2


def _sgd(
    hp: dict[str, Any], t: int, params: Tree, grads: Tree, before: Any, after: Any, updates: Tree
) -> Rendered:
    mu, d, nest = float(hp["momentum"]), float(hp["dampening"]), bool(hp["nesterov"])
    lr = _lr(hp, t)
    trace_before, trace_after = _find(before, _t.TraceState), _find(after, _t.TraceState)
    entries, total = _entries(params)
    lines: list[str] = []
    for e in entries:
        g = e.of(grads)
        out = [f"g = {fmt(g)}"]
        decay, g = _decay_line(hp, e.of(params), g)
        out += decay
        if mu:
            b = e.of(trace_after.buffer)
            if t == 1:
                out.append(f"b = g = {fmt(b)}   (the first step is undampened)")
            else:
                bp = e.of(trace_before.buffer)
                out.append(
                    f"b = momentum * b + (1 - dampening) * g = {fmt(mu)} * {_p(bp)} + {fmt(1 - d)} * {_p(g)} = {fmt(b)}"
                )
            if nest:
                direction = g + mu * b
                out.append(f"d = g + momentum * b = {fmt(g)} + {fmt(mu)} * {_p(b)} = {fmt(direction)}")
                out.append(f"update = -lr * d = -{fmt(lr)} * {_p(direction)} = {fmt(e.of(updates))}")
            else:
                out.append(f"update = -lr * b = -{fmt(lr)} * {_p(b)} = {fmt(e.of(updates))}")
        else:
            sym = "g'" if decay else "g"
            out.append(f"update = -lr * {sym} = -{fmt(lr)} * {_p(g)} = {fmt(e.of(updates))}")
        lines += _prefixed(e, out)
    return lines + _more(total), {}


def _adagrad(
    hp: dict[str, Any], t: int, params: Tree, grads: Tree, before: Any, after: Any, updates: Tree
) -> Rendered:
    lr, eps, lr_decay = _lr(hp, t), float(hp["eps"]), float(hp["lr_decay"])
    s0, s1 = _find(before, _t.ScaleByAdagradState), _find(after, _t.ScaleByAdagradState)
    entries, total = _entries(params)
    lines: list[str] = []
    eta = lr / (1.0 + (t - 1) * lr_decay)
    for e in entries:
        g = e.of(grads)
        out = [f"g = {fmt(g)}"]
        decay, g = _decay_line(hp, e.of(params), g)
        out += decay
        G0, G1 = e.of(s0.sum_of_squares), e.of(s1.sum_of_squares)
        out.append(f"G = G + g^2 = {fmt(G0)} + {_p(g)}^2 = {fmt(G1)}")
        if lr_decay:
            out.append(
                f"lr_t = lr / (1 + (t - 1) * lr_decay) = {fmt(lr)} / {fmt(1 + (t - 1) * lr_decay)} = {fmt(eta)}"
            )
        out.append(
            f"update = -lr_t * g / (sqrt(G) + eps) = -{fmt(eta)} * {_p(g)} / ({fmt(math.sqrt(G1))} + {fmt(eps)})"
            f" = {fmt(e.of(updates))}"
        )
        lines += _prefixed(e, out)
    return lines + _more(total), {}


def _rmsprop(
    hp: dict[str, Any], t: int, params: Tree, grads: Tree, before: Any, after: Any, updates: Tree
) -> Rendered:
    lr, alpha, eps, mu = _lr(hp, t), float(hp["alpha"]), float(hp["eps"]), float(hp["momentum"])
    centered = bool(hp["centered"])
    s0, s1 = _find(before, _t.ScaleByRmsState), _find(after, _t.ScaleByRmsState)
    tr0, tr1 = _find(before, _t.TraceState), _find(after, _t.TraceState)
    entries, total = _entries(params)
    lines: list[str] = []
    for e in entries:
        g = e.of(grads)
        out = [f"g = {fmt(g)}"]
        decay, g = _decay_line(hp, e.of(params), g)
        out += decay
        sq0, sq1 = e.of(s0.mean_square), e.of(s1.mean_square)
        out.append(
            f"s = alpha * s + (1 - alpha) * g^2 = {fmt(alpha)} * {_p(sq0)} + {fmt(1 - alpha)} * {_p(g)}^2 = {fmt(sq1)}"
        )
        var = sq1
        if centered:
            m0, m1 = e.of(s0.mean_grad), e.of(s1.mean_grad)
            out.append(
                f"g_bar = alpha * g_bar + (1 - alpha) * g = {fmt(alpha)} * {_p(m0)} + {fmt(1 - alpha)} * {_p(g)} = {fmt(m1)}"
            )
            var = sq1 - m1 * m1
            out.append(f"s - g_bar^2 = {fmt(sq1)} - {_p(m1)}^2 = {fmt(var)}")
        direction = g / (math.sqrt(var) + eps)
        root = "sqrt(s - g_bar^2)" if centered else "sqrt(s)"
        out.append(
            f"d = g / ({root} + eps) = {fmt(g)} / ({fmt(math.sqrt(var))} + {fmt(eps)}) = {fmt(direction)}"
        )
        if mu:
            b = e.of(tr1.buffer)
            if t == 1:
                out.append(f"b = d = {fmt(b)}")
            else:
                out.append(
                    f"b = momentum * b + d = {fmt(mu)} * {_p(e.of(tr0.buffer))} + {_p(direction)} = {fmt(b)}"
                )
            out.append(f"update = -lr * b = -{fmt(lr)} * {_p(b)} = {fmt(e.of(updates))}")
        else:
            out.append(f"update = -lr * d = -{fmt(lr)} * {_p(direction)} = {fmt(e.of(updates))}")
        lines += _prefixed(e, out)
    return lines + _more(total), {}


def _adam(
    hp: dict[str, Any], t: int, params: Tree, grads: Tree, before: Any, after: Any, updates: Tree
) -> Rendered:
    lr, eps = _lr(hp, t), float(hp["eps"])
    b1, b2 = (float(b) for b in hp["betas"])
    decoupled = hp.get("_decoupled", False)
    wd = float(hp["weight_decay"])
    s0, s1 = _find(before, _t.ScaleByAdamState), _find(after, _t.ScaleByAdamState)
    bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
    entries, total = _entries(params)
    m_hat = tree_map(lambda m: m / bc1, s1.mu)
    v_src = s1.nu_max if hp["amsgrad"] else s1.nu
    v_hat = tree_map(lambda v: v / bc2, v_src)
    lines: list[str] = [f"t = {t}: bias corrections 1 - beta1^t = {fmt(bc1)}, 1 - beta2^t = {fmt(bc2)}"]
    for e in entries:
        g = e.of(grads)
        p = e.of(params)
        out = [f"g = {fmt(g)}"]
        decay, g = _decay_line(hp, p, g)
        out += decay
        m0, m1, v0, v1 = e.of(s0.mu), e.of(s1.mu), e.of(s0.nu), e.of(s1.nu)
        out.append(
            f"m = beta1 * m + (1 - beta1) * g = {fmt(b1)} * {_p(m0)} + {fmt(1 - b1)} * {_p(g)} = {fmt(m1)}"
        )
        out.append(
            f"v = beta2 * v + (1 - beta2) * g^2 = {fmt(b2)} * {_p(v0)} + {fmt(1 - b2)} * {_p(g)}^2 = {fmt(v1)}"
        )
        vname = "v"
        if hp["amsgrad"]:
            vm0 = 0.0 if s0.nu_max is None else e.of(s0.nu_max)
            vm1 = e.of(s1.nu_max)
            out.append(f"v_max = max(v_max, v) = max({fmt(vm0)}, {fmt(v1)}) = {fmt(vm1)}")
            vname = "v_max"
        mh, vh = e.of(m_hat), e.of(v_hat)
        out.append(f"m_hat = m / (1 - beta1^t) = {fmt(m1)} / {fmt(bc1)} = {fmt(mh)}")
        out.append(f"v_hat = {vname} / (1 - beta2^t) = {fmt(e.of(v_src))} / {fmt(bc2)} = {fmt(vh)}")
        root = f"({fmt(math.sqrt(vh))} + {fmt(eps)})"
        if decoupled and wd:
            out.append(
                f"update = -lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * theta) = "
                f"-{fmt(lr)} * ({fmt(mh)} / {root} + {fmt(wd)} * {_p(p)}) = {fmt(e.of(updates))}"
            )
        else:
            out.append(
                f"update = -lr * m_hat / (sqrt(v_hat) + eps) = -{fmt(lr)} * {_p(mh)} / {root} = {fmt(e.of(updates))}"
            )
        lines += _prefixed(e, out)
    return lines + _more(total), {"m_hat": m_hat, "v_hat": v_hat}


def _adamw(hp: dict[str, Any], *args: Any) -> Rendered:
    return _adam({**hp, "_decoupled": True}, *args)


_RENDERERS: dict[str, Renderer] = {
    "sgd": _sgd,
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adam": _adam,
    "adamw": _adamw,
}


def _latex(name: str, hp: dict[str, Any], render: Renderer | None) -> str:
    if render is None:
        return r"\theta \leftarrow \theta + u,\quad (u, s) = \mathrm{update}(g, s, \theta)"
    if name == "sgd":
        if not hp.get("momentum"):
            return r"\theta \leftarrow \theta - \eta\, g"
        if hp.get("nesterov"):
            return r"b_t = \mu b_{t-1} + g_t,\quad \theta \leftarrow \theta - \eta\,(g_t + \mu b_t)"
        return r"b_1 = g_1,\ b_t = \mu b_{t-1} + (1-d)\, g_t,\quad \theta \leftarrow \theta - \eta\, b_t"
    if name == "adagrad":
        return r"G_t = G_{t-1} + g_t^2,\quad \theta \leftarrow \theta - \frac{\eta}{1 + (t-1)\lambda_{lr}}\frac{g_t}{\sqrt{G_t} + \epsilon}"
    if name == "rmsprop":
        return r"s_t = \alpha s_{t-1} + (1-\alpha) g_t^2,\quad \theta \leftarrow \theta - \eta\,\frac{g_t}{\sqrt{s_t} + \epsilon}"
    decay = r" - \eta\lambda\theta" if name == "adamw" else ""
    return (
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad "
        r"\hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t},\quad "
        r"\theta \leftarrow \theta - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}" + decay
    )


# --------------------------------------------------------------------------- generic


def _state_arrays(state: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(label, tree)`` for every array-valued field of every NamedTuple inside ``state``."""
    out: list[tuple[str, Any]] = []
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        label = type(state).__name__
        for name in state._fields:
            child = getattr(state, name)
            if (
                isinstance(child, tuple)
                and not hasattr(child, "_fields")
                and child
                and all(isinstance(c, tuple) and hasattr(c, "_fields") for c in child)
            ):
                for i, c in enumerate(child):
                    out += _state_arrays(c, f"{prefix}{i}.")
            elif isinstance(child, tuple) and hasattr(child, "_fields"):
                out += _state_arrays(child, prefix)
            elif _shown(child):
                out.append((f"{prefix}{label}.{name}", child))
    return out


def _shown(x: Any) -> bool:
    """Whether a state field holds numbers to show (arrays, trees of arrays, counts)."""
    if x is None or callable(x) or isinstance(x, (bool, str)):
        return False
    return not np.isscalar(x) or isinstance(x, (int, float, np.number))


def _generic(params: Tree, grads: Tree, before: Any, after: Any, updates: Tree) -> Rendered:
    entries, total = _entries(params)
    lines: list[str] = []
    fields_before = dict(_state_arrays(before))
    fields_after = _state_arrays(after)
    scalars = [(k, v) for k, v in fields_after if np.ndim(v) == 0 and not isinstance(v, (dict, list))]
    for label, v in scalars:
        old = fields_before.get(label)
        lines.append(f"state {label}: {fmt(old) if old is not None else '-'} -> {fmt(v)}")
    trees = [(k, v) for k, v in fields_after if (k, v) not in scalars]
    for e in entries:
        out = [f"g = {fmt(e.of(grads))}"]
        for label, tree in trees:
            try:
                new = e.of(tree)
            except (IndexError, TypeError, ValueError):
                continue
            old_tree = fields_before.get(label)
            try:
                old = fmt(e.of(old_tree)) if old_tree is not None else "-"
            except (IndexError, TypeError, ValueError):
                old = "-"
            out.append(f"{label}: {old} -> {fmt(new)}")
        out.append(f"update = {fmt(e.of(updates))}")
        lines += _prefixed(e, out)
    return lines + _more(total), {}
