r"""Cards of the named optimizers and schedules: formula, hyperparameters, equivalents elsewhere.

One declaration per name (:data:`OPTIMIZERS`, :data:`SCHEDULES`); the hyperparameters and their
defaults come from the factory's real signature. ``losslab show adam`` prints the card, and the
factory's docstring (``help(ll.optim.adam)``) ends with it.

>>> c = card("adam")
>>> c.hyperparameters[0], c.torch
(('lr', 0.001, 'learning rate (a float or a schedule step -> lr)'), 'torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)')
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from losslab.optim import optimizers as _optimizers
from losslab.optim import schedules as _schedules
from losslab.optim import transforms as _transforms

__all__ = ["OPTIMIZERS", "SCHEDULES", "Card", "card", "names"]

_REQUIRED = "(required)"


@dataclass(frozen=True)
class _Declared:
    summary: str
    formula: str
    meanings: dict[str, str]
    torch: str
    optax: str
    keras: str
    conventions: str = ""


@dataclass(frozen=True)
class Card:
    """Everything ``losslab show`` prints about an optimizer or a schedule."""

    name: str
    kind: str  # "optimizer" or "schedule"
    summary: str
    formula: str
    hyperparameters: tuple[tuple[str, Any, str], ...]  # (name, default or "(required)", meaning)
    torch: str
    optax: str
    keras: str
    conventions: str

    def to_text(self) -> str:
        """Plain text: what ``help()`` appends to the factory's docstring."""
        hyper = "; ".join(
            f"{k}={v!r}: {m}" if v != _REQUIRED else f"{k} {v}: {m}" for k, v, m in self.hyperparameters
        )
        lines = [
            f"Card of {self.name} ({self.kind}).",
            f"Formula: {self.formula}",
            f"Hyperparameters: {hyper}.",
            f"PyTorch: {self.torch}.",
            f"Optax: {self.optax}.",
            f"Keras: {self.keras}.",
        ]
        if self.conventions:
            lines.append(f"Conventions: {self.conventions}")
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """Markdown for notebooks and docs."""
        out = [f"### `{self.name}` ({self.kind})", "", self.summary, "", f"$${self.formula}$$", ""]
        out += ["| hyperparameter | default | meaning |", "|---|---|---|"]
        out += [f"| `{k}` | `{v!r}` | {m} |" for k, v, m in self.hyperparameters]
        out += [
            "",
            f"- **PyTorch:** `{self.torch}`",
            f"- **Optax:** `{self.optax}`",
            f"- **Keras:** `{self.keras}`",
        ]
        if self.conventions:
            out.append(f"- **Conventions:** {self.conventions}")
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


_LR = "learning rate (a float or a schedule step -> lr)"
_WD = "coupled L2 weight decay added to the gradient"
_SGD = "g \\leftarrow g + \\lambda\\theta,\\ b_t = \\mu b_{t-1} + (1-d) g_t,\\ \\theta \\leftarrow \\theta - \\eta b_t"
_KERAS_SGD = (
    "Keras keeps the rate inside its velocity (v = mu v - lr g, w += v): the same steps for a constant "
    "rate, different ones under a schedule"
)

OPTIMIZERS: dict[str, _Declared] = {
    "sgd": _Declared(
        "Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.",
        _SGD + " (Nesterov: \\theta \\leftarrow \\theta - \\eta(g_t + \\mu b_t))",
        {
            "lr": _LR,
            "momentum": "momentum factor mu",
            "dampening": "dampening d of the momentum buffer",
            "nesterov": "Nesterov's look-ahead form (needs momentum > 0, dampening 0)",
            "weight_decay": _WD,
        },
        "torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)",
        "optax.sgd(learning_rate, momentum, nesterov) (no dampening; weight decay: chain add_decayed_weights)",
        "keras.optimizers.SGD(learning_rate, momentum, nesterov)",
        _KERAS_SGD + ".",
    ),
    "gd": _Declared(
        "Plain gradient descent.",
        "\\theta \\leftarrow \\theta - \\eta\\nabla L(\\theta)",
        {"lr": _LR},
        "torch.optim.SGD(params, lr)",
        "optax.sgd(learning_rate)",
        "keras.optimizers.SGD(learning_rate)",
    ),
    "momentum": _Declared(
        "Heavy-ball momentum in PyTorch's form (Polyak 1964).",
        "b_t = \\beta b_{t-1} + g_t,\\ \\theta \\leftarrow \\theta - \\eta b_t",
        {"lr": _LR, "beta": "momentum factor"},
        "torch.optim.SGD(params, lr, momentum=beta)",
        "optax.sgd(learning_rate, momentum=beta)",
        "keras.optimizers.SGD(learning_rate, momentum=beta)",
        "The same method as velocity (v = eta b) and as ema_momentum with lr / (1 - beta). "
        + _KERAS_SGD
        + ".",
    ),
    "nesterov": _Declared(
        "Nesterov momentum in PyTorch's form (the gradient at the iterate).",
        "b_t = \\beta b_{t-1} + g_t,\\ \\theta \\leftarrow \\theta - \\eta(g_t + \\beta b_t)",
        {"lr": _LR, "beta": "momentum factor"},
        "torch.optim.SGD(params, lr, momentum=beta, nesterov=True)",
        "optax.sgd(learning_rate, momentum=beta, nesterov=True)",
        "keras.optimizers.SGD(learning_rate, momentum=beta, nesterov=True)",
        "Sutskever's look-ahead form (ll.optim.sutskever_nesterov) is the same method: PyTorch's "
        "iterates are its look-ahead points.",
    ),
    "sutskever_nesterov": _Declared(
        "Nesterov momentum in Sutskever et al.'s look-ahead form (2013): the gradient at x + beta v.",
        "v_{t+1} = \\beta v_t - \\eta\\nabla f(x_t + \\beta v_t),\\ x_{t+1} = x_t + v_{t+1}",
        {"lr": _LR, "beta": "momentum factor"},
        "torch.optim.SGD(params, lr, momentum=beta, nesterov=True) (its iterates are the look-ahead points)",
        "optax.sgd(learning_rate, momentum=beta, nesterov=True) (the same change of variables)",
        "keras.optimizers.SGD(learning_rate, momentum=beta, nesterov=True) (the same change of variables)",
        "Take the gradient at ll.optim.nesterov_lookahead(params, state, beta); ll.train.race does.",
    ),
    "ema_momentum": _Declared(
        "EMA momentum, the curriculum's first form: an exponential moving average of gradients.",
        "v_t = \\beta v_{t-1} + (1-\\beta) g_t,\\ \\theta \\leftarrow \\theta - \\eta v_t",
        {"lr": _LR, "beta": "EMA decay", "debias": "divide v_t by 1 - beta^t (Adam's first moment)"},
        "torch.optim.SGD(params, lr=lr * (1 - beta), momentum=beta) (constant lr)",
        "optax.chain(optax.ema(beta, debias=False), optax.scale(-lr))",
        "keras.optimizers.SGD(learning_rate=lr * (1 - beta), momentum=beta) (constant lr)",
        "For the same lr its steps are 1 - beta times those of PyTorch's momentum.",
    ),
    "velocity": _Declared(
        "Classic velocity momentum: the rate sits inside the velocity.",
        "v_t = \\beta v_{t-1} + \\eta g_t,\\ \\theta \\leftarrow \\theta - v_t",
        {"lr": _LR, "beta": "momentum factor"},
        "torch.optim.SGD(params, lr, momentum=beta) (constant lr)",
        "optax.sgd(learning_rate, momentum=beta) (constant lr)",
        "keras.optimizers.SGD(learning_rate, momentum=beta) (this form, also under a schedule)",
        "Under a schedule the rates of past steps stay inside v (as in Keras, unlike PyTorch).",
    ),
    "adagrad": _Declared(
        "AdaGrad: per-coordinate rates from the sum of squared gradients, as torch.optim.Adagrad.",
        "G_t = G_{t-1} + g_t^2,\\ \\theta \\leftarrow \\theta - \\frac{\\eta}{1 + (t-1)\\lambda_{lr}}"
        "\\frac{g_t}{\\sqrt{G_t} + \\epsilon}",
        {
            "lr": _LR,
            "lr_decay": "rate decay lambda_lr per step",
            "weight_decay": _WD,
            "initial_accumulator_value": "G_0",
            "eps": "added to the root",
            "full_matrix": "precondition with the full G = sum g g^T (O(n^2) memory, O(n^3) a step)",
        },
        "torch.optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps)",
        "optax.adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7)",
        "keras.optimizers.Adagrad(learning_rate, initial_accumulator_value=0.1, epsilon=1e-7)",
        "Optax and Keras start the accumulator at 0.1 (PyTorch and here: 0) and use another eps.",
    ),
    "newton": _Declared(
        "Damped Newton's method: the gradient solved against the exact Hessian (passed as hessian=).",
        "\\theta \\leftarrow \\theta - \\eta\\,(H + \\lambda I)^{-1} \\nabla L(\\theta)",
        {"lr": _LR + " (1: the pure Newton step)", "damping": "lambda added to the Hessian's diagonal"},
        "torch.optim has no Newton method (torch.optim.LBFGS is quasi-Newton)",
        "optax has no Newton method (optax.lbfgs is quasi-Newton)",
        "keras has no Newton method",
        "The Hessian is an extra argument of update (declared in extra_args); race and fit pass it.",
    ),
    "rmsprop": _Declared(
        "RMSProp: gradients divided by the root of an EMA of their squares, as torch.optim.RMSprop.",
        "s_t = \\alpha s_{t-1} + (1-\\alpha) g_t^2,\\ \\theta \\leftarrow \\theta - \\eta\\frac{g_t}{\\sqrt{s_t} + \\epsilon}",
        {
            "lr": _LR,
            "alpha": "EMA decay of the squared gradients",
            "eps": "added to the root",
            "weight_decay": _WD,
            "momentum": "momentum on the scaled step",
            "centered": "subtract the EMA of the gradients (variance)",
        },
        "torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered)",
        "optax.rmsprop(learning_rate, decay=alpha, eps, centered, momentum)",
        "keras.optimizers.RMSprop(learning_rate, rho=alpha, momentum, epsilon=eps, centered)",
        "Optax adds eps inside the root by default (scale_by_rms(eps_in_sqrt=True) gives that form "
        "here); Optax and Keras default to decay/rho 0.9 (PyTorch: alpha 0.99).",
    ),
    "adam": _Declared(
        "Adam: bias-corrected EMAs of the gradient and its square (Kingma & Ba 2015).",
        "m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t,\\ v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2,\\ "
        "\\theta \\leftarrow \\theta - \\eta\\frac{m_t/(1-\\beta_1^t)}{\\sqrt{v_t/(1-\\beta_2^t)} + \\epsilon}",
        {
            "lr": _LR,
            "betas": "(beta1, beta2): EMA decays of the moments",
            "eps": "added to the corrected root",
            "weight_decay": _WD + " (use adamw for decoupled decay)",
            "amsgrad": "use the running max of v_t",
            "eps_placement": "'algorithm1' (PyTorch), 'keras' (epsilon hat) or 'inside' the root (003's form)",
        },
        "torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)",
        "optax.adam(learning_rate, b1, b2, eps) (the same eps placement)",
        "keras.optimizers.Adam(learning_rate, beta_1, beta_2, epsilon=1e-7, amsgrad)",
        "Keras adds epsilon to the uncorrected root (scale_by_adam(eps_placement='keras') here) and "
        "defaults to 1e-7.",
    ),
    "adamw": _Declared(
        "AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).",
        "\\theta \\leftarrow \\theta - \\eta\\lambda\\theta - \\eta\\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon}",
        {
            "lr": _LR,
            "betas": "(beta1, beta2): EMA decays of the moments",
            "eps": "added to the corrected root",
            "weight_decay": "decoupled decay lambda (multiplied by lr)",
            "amsgrad": "use the running max of v_t",
        },
        "torch.optim.AdamW(params, lr, betas, eps, weight_decay=1e-2, amsgrad)",
        "optax.adamw(learning_rate, b1, b2, eps, weight_decay=1e-4)",
        "keras.optimizers.AdamW(learning_rate, weight_decay=0.004, beta_1, beta_2, epsilon=1e-7)",
        "All three multiply the decay by the rate; the default decays differ (1e-2, 1e-4, 0.004).",
    ),
}

SCHEDULES: dict[str, _Declared] = {
    "constant": _Declared(
        "A constant rate.", "\\eta_k = \\eta", {"lr": "the rate"},
        "no scheduler (or ConstantLR(factor=1))", "optax.constant_schedule(lr)", "a float learning_rate",
    ),
    "step_decay": _Declared(
        "Multiply the rate by gamma every step_size steps.",
        "\\eta_k = \\eta\\,\\gamma^{\\lfloor k/s \\rfloor}",
        {"lr": "initial rate", "step_size": "steps between decays s", "gamma": "decay factor"},
        "torch.optim.lr_scheduler.StepLR(step_size, gamma)",
        "optax.exponential_decay(lr, transition_steps=step_size, decay_rate=gamma, staircase=True)",
        "keras.optimizers.schedules.ExponentialDecay(lr, decay_steps=step_size, decay_rate=gamma, staircase=True)",
    ),
    "multistep_decay": _Declared(
        "Multiply the rate by gamma at each milestone.",
        "\\eta_k = \\eta\\,\\gamma^{\\#\\{m \\in M: m \\le k\\}}",
        {"lr": "initial rate", "milestones": "steps M where the rate drops", "gamma": "decay factor"},
        "torch.optim.lr_scheduler.MultiStepLR(milestones, gamma)",
        "optax.piecewise_constant_schedule(lr, {m: gamma for m in milestones})",
        "keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)",
        "Keras' boundaries are inclusive (the rate changes one step after a PyTorch milestone).",
    ),
    "exponential_decay": _Declared(
        "Multiply the rate by gamma every step.",
        "\\eta_k = \\eta\\,\\gamma^k",
        {"lr": "initial rate", "gamma": "decay factor per step"},
        "torch.optim.lr_scheduler.ExponentialLR(gamma)",
        "optax.exponential_decay(lr, transition_steps=1, decay_rate=gamma)",
        "keras.optimizers.schedules.ExponentialDecay(lr, decay_steps=1, decay_rate=gamma)",
    ),
    "cosine_decay": _Declared(
        "Cosine annealing from lr to eta_min over T_max steps, then held.",
        "\\eta_k = \\eta_{min} + (\\eta - \\eta_{min})\\frac{1 + \\cos(\\pi k/T)}{2}",
        {"lr": "initial rate", "T_max": "length T of the decay", "eta_min": "final rate"},
        "torch.optim.lr_scheduler.CosineAnnealingLR(T_max, eta_min)",
        "optax.cosine_decay_schedule(lr, decay_steps=T_max, alpha=eta_min / lr)",
        "keras.optimizers.schedules.CosineDecay(lr, decay_steps=T_max, alpha=eta_min / lr)",
        "PyTorch keeps following the cosine after T_max (the rate rises again); Optax and Keras take "
        "the final rate as a fraction alpha of lr.",
    ),
    "linear_warmup": _Declared(
        "Linear warm-up from start_factor * lr to end_factor * lr over warmup_steps.",
        "\\eta_k = \\eta\\,(f_0 + (f_1 - f_0)\\min(k, W)/W)",
        {"lr": "base rate", "warmup_steps": "length W of the warm-up", "start_factor": "f_0",
         "end_factor": "f_1"},
        "torch.optim.lr_scheduler.LinearLR(start_factor, end_factor, total_iters=warmup_steps)",
        "optax.linear_schedule(start_factor * lr, end_factor * lr, transition_steps=warmup_steps)",
        "keras.optimizers.schedules.CosineDecay(..., warmup_target, warmup_steps) (warm-up part)",
        "PyTorch requires start_factor > 0; 0 is allowed here.",
    ),
    "warmup_cosine": _Declared(
        "Linear warm-up, then cosine decay over decay_steps (then held at eta_min).",
        "\\eta_k = \\text{warm-up for } k < W, \\text{ else cosine decay at } k - W",
        {"lr": "peak rate", "warmup_steps": "length W of the warm-up", "decay_steps": "length of the decay",
         "start_factor": "warm-up start as a fraction of lr", "eta_min": "final rate"},
        "SequentialLR([LinearLR(start_factor, total_iters=W), CosineAnnealingLR(T_max=decay_steps, eta_min)], milestones=[W])",
        "optax.warmup_cosine_decay_schedule(init_value, peak_value=lr, warmup_steps, decay_steps, end_value)",
        "keras.optimizers.schedules.CosineDecay(initial_learning_rate, decay_steps, alpha, warmup_target=lr, warmup_steps)",
        "Optax's decay_steps include the warm-up; here (and in PyTorch's SequentialLR) they follow it.",
    ),
    "cosine_warm_restarts": _Declared(
        "SGDR: cosine cycles of length T_0 T_mult^i, restarting at lr.",
        "\\eta_k = \\eta_{min} + (\\eta - \\eta_{min})\\frac{1 + \\cos(\\pi T_{cur}/T_i)}{2}",
        {"lr": "rate at each restart", "T_0": "first cycle length", "T_mult": "cycle growth factor",
         "eta_min": "lowest rate"},
        "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)",
        "optax.sgdr_schedule([...]) (one dict per cycle)",
        "keras.optimizers.schedules.CosineDecayRestarts(lr, first_decay_steps=T_0, t_mul=T_mult, alpha=eta_min / lr)",
    ),
}  # fmt: skip


def _factory(name: str) -> Callable[..., Any]:
    if name in _optimizers._REGISTRY:
        return _optimizers._REGISTRY[name]
    if name in SCHEDULES:
        return getattr(_schedules, name)
    return getattr(_transforms, name)


#: Registered optimizers whose card has only their docstring's summary (no declaration yet).
OPTIMIZERS_UNDECLARED: set[str] = set()


def names(kind: str | None = None) -> list[str]:
    """Names with a card: ``kind="optimizer"``, ``"schedule"`` or both (``None``)."""
    out = [] if kind == "schedule" else sorted({*OPTIMIZERS, *_optimizers._REGISTRY})
    out += [] if kind == "optimizer" else list(SCHEDULES)
    return sorted(out)


def card(name: str) -> Card:
    """The card of a registered optimizer or schedule.

    >>> card("cosine_decay").torch
    'torch.optim.lr_scheduler.CosineAnnealingLR(T_max, eta_min)'
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else name
    declared = OPTIMIZERS.get(key) or SCHEDULES.get(key)
    if declared is None and key in _optimizers._REGISTRY:  # registered without a declaration yet
        doc = inspect.getdoc(_optimizers._REGISTRY[key]) or key
        declared = _Declared(doc.splitlines()[0], "", {}, "-", "-", "-")
        OPTIMIZERS_UNDECLARED.add(key)
    if declared is None:
        close = difflib.get_close_matches(str(key), names(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown optimizer or schedule {name!r}.{hint} Valid names: {', '.join(names())}")
    sig = inspect.signature(_factory(key))
    hyper = tuple(
        (
            p.name,
            _REQUIRED if p.default is inspect.Parameter.empty else p.default,
            declared.meanings.get(p.name, "-"),
        )
        for p in sig.parameters.values()
    )
    return Card(
        name=key,
        kind="schedule" if key in SCHEDULES else "optimizer",
        summary=declared.summary,
        formula=declared.formula,
        hyperparameters=hyper,
        torch=declared.torch,
        optax=declared.optax,
        keras=declared.keras,
        conventions=declared.conventions,
    )


def _docstring_section(c: Card) -> str:
    """The card as reStructuredText, appended to the factory's docstring."""
    hyper = "; ".join(
        f"``{k}`` {v}: {m}" if v == _REQUIRED else f"``{k}={v!r}``: {m}" for k, v, m in c.hyperparameters
    )
    lines = [
        f"Card (``losslab show {c.name}``):",
        "",
        f"- formula: :math:`{c.formula}`",
        f"- hyperparameters: {hyper}",
        f"- PyTorch: ``{c.torch}``",
        f"- Optax: ``{c.optax}``",
        f"- Keras: ``{c.keras}``",
    ]
    if c.conventions:
        lines.append(f"- conventions: {c.conventions}")
    return "\n".join(lines)


def _append_cards() -> None:
    """End each factory's docstring with its card, so ``help(ll.optim.adam)`` shows it."""
    for name in [*OPTIMIZERS, *SCHEDULES]:
        fn = _factory(name)
        fn.__doc__ = inspect.cleandoc(fn.__doc__ or "") + "\n\n" + _docstring_section(card(name)) + "\n"


_append_cards()
