"""The loss engine: declaration, registry, validation, reductions and weights.

A loss is declared once -- its forward formula, the analytic gradient right under it, optional
diagonal Hessian and metadata -- and everything else (the registry, ``losslab list``, the docs
table, the command line and the parametrized tests) reads that declaration.

Three kinds of declaration share one reduction engine:

``ElementwiseLoss``
    ``l(y_pred_i, y_true_i)`` per element; ``value`` and ``grad`` are per-element formulas.
``ClassAxisLoss``
    a loss per sample over the last (class) axis of ``y_pred``; ``value`` returns the per-sample
    loss, ``grad`` the derivative of each sample's loss with respect to its row of ``y_pred``.
``Loss`` with a ``forward``
    anything else (several differentiable inputs, shared parameters): ``forward`` returns the
    unreduced loss and a vector-Jacobian product.

Reduction semantics (DESIGN.md): ``"mean"`` divides the weighted sum by the number of unreduced
entries (or by the sum of the declared per-entry ``count``, e.g. PyTorch's class weights and
``ignore_index``); ``"sum"`` adds; ``"none"`` returns the weighted unreduced loss, and its
gradient is the gradient of the sum. When every entry is excluded (a zero denominator), ``"mean"``
returns 0 with a zero gradient (PyTorch returns NaN).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

import numpy as np

from losslab._core import buffers
from losslab._core.arrays import (
    array_namespace,
    as_float,
    as_int,
    is_numpy_namespace,
    result_float_dtype,
)
from losslab._core.config import get_config
from losslab._core.validation import check_choice
from losslab.losses import _compiled

__all__ = [
    "ClassAxisLoss",
    "Domain",
    "ElementwiseLoss",
    "Loss",
    "LossInfo",
    "Param",
    "PointwiseLoss",
    "Terms",
    "aliases",
    "get",
    "names",
    "register",
    "register_alias",
]

Reduction = Literal["mean", "sum", "none"]
#: What a call accepts: the three reductions and the aliases of :data:`REDUCTION_ALIASES`.
ReductionArg = Literal["mean", "sum", "none", "sum_over_batch_size"] | None
REDUCTIONS = ("mean", "sum", "none")
#: Other libraries' spellings of the reductions: Keras' ``"sum_over_batch_size"`` is ``"mean"``;
#: ``None`` (Keras) is ``"none"``.
REDUCTION_ALIASES: Mapping[Any, str] = {"sum_over_batch_size": "mean", None: "none"}
#: PyTorch's keyword names of the two arrays (``F.mse_loss(input=..., target=...)``).
_KEYWORD_ALIASES = {"input": "y_pred", "target": "y_true"}
TASKS = (
    "regression",
    "binary",
    "multiclass",
    "distribution",
    "similarity",
    "segmentation",
    "adversarial",
    "composite",
    "regularizer",
)


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Param:
    """A hyperparameter: its default and a check ``(where, name, value) -> normalized value``."""

    default: Any
    check: Callable[[str, str, Any], Any] | None = None
    doc: str = ""


@dataclass(frozen=True)
class Domain:
    """The valid values of an input array, checked with one min/max pass.

    ``low``/``high`` bound the values (closed unless ``open_low``/``open_high``); ``values`` lists
    the only allowed values (e.g. ``(-1, 1)``); ``sample_low``/``sample_high`` bound the random
    inputs the registry tests draw (kept away from kinks and edges).
    """

    description: str = "finite real numbers"
    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    values: tuple[float, ...] | None = None
    sample_low: float = -3.0
    sample_high: float = 3.0

    def check(self, xp: ModuleType, x: Any, name: str, where: str) -> None:
        """Raise ``ValueError`` naming ``name`` if ``x`` holds a value outside the domain."""
        if x.shape and 0 in x.shape:
            return
        if self.unbounded and is_numpy_namespace(xp) and isinstance(x, np.ndarray) and _all_finite(x):
            return
        lo = _item(xp.min(x))
        hi = _item(xp.max(x))
        self.check_range(lo, hi, x, xp, name, where)

    @property
    def unbounded(self) -> bool:
        """Whether every finite real is valid (then only finiteness needs checking)."""
        return self.low == -math.inf and self.high == math.inf and self.values is None

    def check_range(self, lo: float, hi: float, x: Any, xp: ModuleType, name: str, where: str) -> None:
        """Check from precomputed min/max (NaN in either means a NaN in ``x``)."""
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"{where}: {name} contains NaN")
        if (math.isinf(lo) and self.low == -math.inf) or (math.isinf(hi) and self.high == math.inf):
            raise ValueError(f"{where}: {name} contains infinite values; expected {self.description}")
        below = lo < self.low or (self.open_low and lo == self.low)
        above = hi > self.high or (self.open_high and hi == self.high)
        if below or above:
            bad = lo if below else hi
            raise ValueError(f"{where}: {name} must hold {self.description}, got a value {bad!r}")
        if self.values is not None and not self.holds_values(xp, x):
            raise ValueError(f"{where}: {name} must hold {self.description}")

    def holds_values(self, xp: ModuleType, x: Any) -> bool:
        """Whether every entry of ``x`` is one of ``values`` (NaN never is).

        NumPy arrays are checked a cache-sized block at a time into reused masks (one pass over
        ``x``); other namespaces compare the whole array once per allowed value.
        """
        values = self.values or ()
        if is_numpy_namespace(xp) and isinstance(x, np.ndarray):
            flat = x.reshape(-1)
            block = min(flat.size, _VALUES_BLOCK)
            masks = (np.empty(block, bool), np.empty(block, bool))
            return all(_holds_values(flat[i : i + block], values, masks) for i in range(0, flat.size, block))
        allowed = xp.zeros(x.shape, dtype=xp.bool)
        for v in values:
            allowed = allowed | (x == v)
        return bool(xp.all(allowed))

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Random valid values for tests."""
        if self.values is not None:
            return rng.choice(np.asarray(self.values, dtype=np.float64), size=shape)
        return rng.uniform(self.sample_low, self.sample_high, size=shape)


_VALUES_BLOCK = 1 << 14


def _holds_values(x: np.ndarray, values: Sequence[float], masks: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether every entry of the 1-D block ``x`` is one of ``values``, with reused boolean masks."""
    if not values:
        return False
    m, m2 = masks[0][: x.size], masks[1][: x.size]
    np.equal(x, values[0], out=m)
    for v in values[1:]:
        np.equal(x, v, out=m2)
        np.logical_or(m, m2, out=m)
    return bool(m.all())


REAL = Domain()
PROBABILITY = Domain("probabilities in [0, 1]", 0.0, 1.0, sample_low=0.05, sample_high=0.95)
OPEN_PROBABILITY = Domain(
    "probabilities in (0, 1)",
    0.0,
    1.0,
    open_low=True,
    open_high=True,
    sample_low=0.05,
    sample_high=0.95,
)
BINARY = Domain("binary labels 0 or 1", 0.0, 1.0, values=(0.0, 1.0))
NONNEGATIVE = Domain("non-negative numbers", 0.0, sample_low=0.0, sample_high=4.0)
POSITIVE = Domain("positive numbers", 0.0, open_low=True, sample_low=0.2, sample_high=4.0)


@dataclass(frozen=True)
class LossInfo:
    """A loss's metadata: everything `losslab show`, the docs table and the tests read."""

    name: str
    task: str
    formula: str
    gradient: str
    summary: str = ""
    convex: bool = False
    robust: bool = False
    differentiable: bool = True
    torch: str | None = None
    keras: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    y_pred: str = ""
    y_true: str = ""
    aliases: tuple[str, ...] = ()
    use_when: str = ""
    conventions: str = ""
    kind: str = "elementwise"
    inputs: tuple[str, ...] = ("y_pred", "y_true")
    differentiable_inputs: tuple[str, ...] = ("y_pred",)
    #: What the loss is good for, as words a recommender can match (see :data:`TRAITS`): the
    #: declared ones plus those derived from the rest of the declaration.
    traits: frozenset[str] = frozenset()


#: The traits a loss can carry. Derived from the declaration: ``robust`` and ``convex`` (the flags
#: of the same name), ``bounded_influence`` (a declared gradient bound: one sample moves the fit by
#: a bounded amount), ``accepts_logits`` (a ``from_logits`` option), ``reweightable``
#: (``pos_weight``/``class_weight``), ``needs_probabilities`` (``y_pred`` in [0, 1]). Declared:
#: ``asymmetric`` (under- and over-prediction cost differently), ``handles_imbalance`` (down-weights
#: easy, majority examples by itself), ``margin`` (a hinge margin), ``counts`` (a count likelihood).
TRAITS = (
    "accepts_logits",
    "asymmetric",
    "bounded_influence",
    "convex",
    "counts",
    "handles_imbalance",
    "margin",
    "needs_probabilities",
    "reweightable",
    "robust",
)


def _derived_traits(
    meta: Mapping[str, Any], params: Mapping[str, Any], bounded: bool, domain: Any
) -> set[str]:
    traits = {flag for flag in ("robust", "convex") if meta.get(flag)}
    if bounded:
        traits.add("bounded_influence")
    if "from_logits" in params:
        traits.add("accepts_logits")
    if {"pos_weight", "class_weight"} & set(params):
        traits.add("reweightable")
    if isinstance(domain, Domain) and domain.low == 0.0 and domain.high == 1.0:
        traits.add("needs_probabilities")
    return traits


@dataclass
class Terms:
    """What a forward pass returns to the reduction engine.

    ``loss``: the unreduced loss; ``count``: per-entry weights of the ``"mean"`` denominator
    (``None``: each entry counts 1); ``vjp``: maps a cotangent shaped like ``loss`` (or a scalar)
    to the gradients of the differentiable inputs, as a tuple.
    """

    loss: Any
    count: Any = None
    vjp: Callable[[Any], tuple[Any, ...]] | None = None


def _item(x: Any) -> float:
    """A 0-d array as a Python float (detached from any autograd graph)."""
    return float(x.detach() if hasattr(x, "detach") else x)


# --------------------------------------------------------------------------- registry

_REGISTRY: dict[str, Loss] = {}
_ALIASES: dict[str, str] = {}
#: Aliases that carry parameters (``bce_with_logits``: binary CE with ``from_logits=True``).
_BOUND_ALIASES: dict[str, Loss] = {}


def register(loss: Loss) -> Loss:
    """Add a loss (and its aliases) to the registry; names are unique."""
    for key in (loss.name, *loss.info.aliases):
        if key in _REGISTRY or key in _ALIASES or key in _BOUND_ALIASES:
            raise ValueError(f"register: a loss named {key!r} is already registered")
    _REGISTRY[loss.name] = loss
    for alias in loss.info.aliases:
        _ALIASES[alias] = loss.name
    return loss


def register_alias(alias: str, name: str, **params: Any) -> Loss:
    """Register ``alias`` for the loss ``name``, bound to ``params`` (other libraries' names).

    With no ``params`` the alias resolves to the registered loss itself; with some, to
    ``get(name).bind(**params)`` (one object, returned by every ``get(alias)``).

    >>> get("bce_with_logits").info.defaults["from_logits"]
    True
    """
    key = alias.strip().lower().replace("-", "_")
    if key in _REGISTRY or key in _ALIASES or key in _BOUND_ALIASES:
        raise ValueError(f"register_alias: a loss named {key!r} is already registered")
    loss = get(name)
    if params:
        _BOUND_ALIASES[key] = loss.bind(**params)
    else:
        _ALIASES[key] = loss.name
    return get(key)


def aliases() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every alias: ``alias -> (loss name, bound parameters)``, sorted by alias.

    >>> aliases()["l2"], aliases()["bce_with_logits"]
    (('mse', {}), ('binary_cross_entropy', {'from_logits': True}))
    """
    out: dict[str, tuple[str, dict[str, Any]]] = {a: (n, {}) for a, n in _ALIASES.items()}
    out.update({a: (b.name, dict(b.bound)) for a, b in _BOUND_ALIASES.items()})
    return dict(sorted(out.items()))


def names(task: str | None = None) -> list[str]:
    """Registered loss names (aliases excluded), optionally only those of one ``task``."""
    if task is not None:
        check_choice("names", "task", task, TASKS)
    return sorted(n for n, loss in _REGISTRY.items() if task is None or loss.info.task == task)


def get(name: str | Loss, **params: Any) -> Loss:
    """The loss registered under ``name`` or one of its aliases, bound to ``params`` if any.

    ``get("huber", delta=2.0)`` is ``huber.bind(delta=2.0)``: a loss whose default ``delta`` is 2
    (as ``ll.optim.get("adam", lr=0.1)`` builds an optimizer). Without ``params`` it returns the
    registered object itself.

    >>> float(get("huber", delta=2.0)([5.0], [3.0])), float(get("huber")([5.0], [3.0], delta=2.0))
    (2.0, 2.0)
    >>> get("l2") is get("mse")
    True
    """
    if isinstance(name, Loss):
        return name.bind(**params) if params else name
    if not isinstance(name, str):
        raise TypeError(f"get: name must be a loss name (str), got {name!r}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key in _BOUND_ALIASES:
        loss = _BOUND_ALIASES[key]
    elif key in _REGISTRY:
        loss = _REGISTRY[key]
    else:
        known = sorted([*_REGISTRY, *_ALIASES, *_BOUND_ALIASES])
        close = difflib.get_close_matches(key, known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown loss {name!r}.{hint} Valid names: {', '.join(known)}")
    return loss.bind(**params) if params else loss


# --------------------------------------------------------------------------- the engine


class _CardDoc:
    """``__doc__`` of a loss class: the class docstring on the class, the loss's card on an
    instance (so ``help(ll.losses.huber)`` shows the card, built on first use)."""

    def __init__(self, doc: str | None) -> None:
        self.doc = doc

    def __get__(self, obj: Any, cls: Any = None) -> str | None:
        if obj is None:
            return self.doc
        from losslab.losses._card import card_text

        return card_text(obj)


class Loss:
    """A registered loss: call it, take its ``grad`` or ``value_and_grad``, read its ``info``.

    Subclasses implement ``_prepare`` (convert and validate inputs) and ``_forward`` (return
    :class:`Terms`). A plain ``Loss`` is declared with ``forward`` and ``prepare`` callables.

    The arrays are positional in the declared order -- ``loss(y_pred, y_true)``, PyTorch's
    ``(input, target)``, the reverse of Keras' ``(y_true, y_pred)`` -- or passed by keyword
    (``loss(y_true=t, y_pred=p)``, also ``input=``/``target=``). ``reduction`` also takes Keras'
    ``"sum_over_batch_size"`` (= ``"mean"``) and ``None`` (= ``"none"``).
    ``inspect.signature(loss)`` and ``help(loss)`` are built from the declaration.
    """

    kind = "general"
    #: Parameters this object is bound to (:meth:`bind`); empty for a registered loss.
    bound: Mapping[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _CardDoc(cls.__dict__.get("__doc__"))  # type: ignore[assignment]

    #: The reduction ``__call__``/``grad``/``value_and_grad`` use when none is given.
    default_reduction: Reduction = "mean"

    def __init__(
        self,
        name: str,
        *,
        task: str,
        params: Mapping[str, Param] | None = None,
        info: Mapping[str, Any] | None = None,
        forward: Callable[..., Terms] | None = None,
        prepare: Callable[..., tuple[Any, ...]] | None = None,
        inputs: Sequence[str] = ("y_pred", "y_true"),
        differentiable: Sequence[str] = ("y_pred",),
        torch_fn: Callable[..., Any] | None = None,
        sample: Callable[..., tuple[Any, ...]] | None = None,
        perfect: Callable[..., tuple[Any, ...]] | None = None,
        grad_bound: Callable[..., float] | None = None,
        test_params: Sequence[Mapping[str, Any]] = ({},),
        nonnegative: bool = True,
        doc: str = "",
    ) -> None:
        check_choice("Loss", "task", task, TASKS)
        self.name = name
        self.params: dict[str, Param] = dict(params or {})
        self.inputs = tuple(inputs)
        self.differentiable = tuple(differentiable)
        self._forward_fn = forward
        self._prepare_fn = prepare
        self.torch_fn = torch_fn
        self._sample_fn = sample
        self._perfect_fn = perfect
        self.grad_bound = grad_bound
        self.test_params = [dict(p) for p in test_params]
        self.nonnegative = nonnegative
        meta = dict(info or {})
        meta.setdefault("kind", self.kind)
        meta.setdefault("inputs", self.inputs)
        meta.setdefault("differentiable_inputs", self.differentiable)
        declared = frozenset(meta.get("traits", ()))
        unknown = sorted(declared - set(TRAITS))
        if unknown:
            raise ValueError(f"Loss: {name} declares unknown traits {unknown}; known: {', '.join(TRAITS)}")
        domain = getattr(self, "y_pred_domain", None)
        meta["traits"] = declared | _derived_traits(meta, self.params, grad_bound is not None, domain)
        self.info = LossInfo(
            name=name, task=task, defaults={k: p.default for k, p in self.params.items()}, **meta
        )
        self.doc = doc
        self.__signature__ = self._signature()

    def _signature(self) -> inspect.Signature:
        """``(y_pred, y_true, *, reduction="mean", sample_weight=None, <params with defaults>)``."""
        kw = inspect.Parameter.KEYWORD_ONLY
        arrays = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in self.inputs]
        common = [
            inspect.Parameter("reduction", kw, default=self.default_reduction),
            inspect.Parameter("sample_weight", kw, default=None),
        ]
        own = [inspect.Parameter(k, kw, default=p.default) for k, p in self.params.items()]
        return inspect.Signature([*arrays, *common, *own])

    def bind(self, **params: Any) -> Loss:
        """This loss with new defaults for some parameters (checked now); calls may still override.

        >>> import losslab as ll
        >>> h2 = ll.losses.huber.bind(delta=2.0)
        >>> h2, float(h2([5.0], [3.0])), float(h2([5.0], [3.0], delta=1.0))
        (<losslab loss huber(delta=2.0) (regression)>, 2.0, 1.5)
        """
        if not params:
            return self
        values = self.resolve_params(params)
        bound = copy.copy(self)
        bound.params = {
            k: dataclasses.replace(p, default=values[k]) if k in params else p for k, p in self.params.items()
        }
        bound.bound = {**self.bound, **{k: values[k] for k in params}}
        bound.info = dataclasses.replace(self.info, defaults={k: p.default for k, p in bound.params.items()})
        bound.__signature__ = bound._signature()
        return bound

    # -- public API -----------------------------------------------------------------------

    def __call__(
        self,
        *inputs: Any,
        reduction: ReductionArg = "mean",
        sample_weight: Any = None,
        **params: Any,
    ) -> Any:
        """The loss value, reduced as ``reduction`` says."""
        value, _ = self._evaluate(inputs, reduction, sample_weight, params, need_grad=False)
        return value

    def grad(
        self,
        *inputs: Any,
        reduction: ReductionArg = "mean",
        sample_weight: Any = None,
        **params: Any,
    ) -> Any:
        """The gradient of the reduced value with respect to the differentiable input(s).

        One array shaped like ``y_pred`` for single-input losses; a tuple in argument order
        otherwise. With ``reduction="none"`` it is the gradient of the sum.
        """
        _, grads = self._evaluate(inputs, reduction, sample_weight, params, need_grad=True)
        return grads

    def value_and_grad(
        self,
        *inputs: Any,
        reduction: ReductionArg = "mean",
        sample_weight: Any = None,
        **params: Any,
    ) -> tuple[Any, Any]:
        """``(value, grad)`` in one pass."""
        return self._evaluate(inputs, reduction, sample_weight, params, need_grad=True)

    def hvp(
        self,
        *inputs_and_v: Any,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        **params: Any,
    ) -> Any:
        r"""The Hessian of the reduced value with respect to ``y_pred``, applied to ``v``.

        Called as ``loss.hvp(y_pred, y_true, v, ...)``; ``v`` is shaped like ``y_pred`` and so is the
        result :math:`H v`, :math:`H = \partial^2 L / \partial y_{pred}^2` of the value ``loss(y_pred,
        y_true, reduction=..., sample_weight=..., **params)`` (for ``"none"``: of the sum). The
        reduction enters exactly as in ``grad``: each entry's local Hessian-vector product is scaled by
        its weight over the ``"mean"`` denominator. Element-wise losses use their declared diagonal
        Hessian (:math:`H v = h \odot v`); losses over a class axis their declared per-sample
        ``hvp``. Raises ``NotImplementedError`` for a loss that declares neither (``has_hvp``).
        """
        n = len(self.inputs)
        if len(inputs_and_v) != n + 1:
            raise TypeError(
                f"{self.name}.hvp: expected {n + 1} arrays ({', '.join(self.inputs)}, v), "
                f"got {len(inputs_and_v)}"
            )
        self.require_hvp()
        check_choice(self.name, "reduction", reduction, REDUCTIONS)
        resolved = self.resolve_params(params)
        inputs, v = tuple(inputs_and_v[:n]), inputs_and_v[n]
        xp = array_namespace(*inputs, v, sample_weight)
        arrays = self._prepare(xp, inputs, resolved)
        tangent = _check_tangent(self.name, xp, v, arrays[0])
        hv, count, shape = self._local_hvp(xp, arrays, resolved, tangent)
        cot = _cotangent(self.name, xp, shape, arrays[0].dtype, count, reduction, sample_weight)
        if isinstance(cot, float):
            return hv * cot
        return hv * (cot if len(shape) == len(tuple(hv.shape)) else cot[..., None])

    @property
    def has_hvp(self) -> bool:
        """Whether :meth:`hvp` is declared for this loss."""
        return False

    def require_hvp(self) -> None:
        """Raise ``NotImplementedError`` unless :meth:`hvp` is declared for this loss."""
        if not self.has_hvp:
            raise NotImplementedError(
                f"{self.name}: no Hessian-vector product declared (a diagonal Hessian for an "
                "element-wise loss, an hvp for a loss over a class axis)"
            )

    def _local_hvp(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], v: Any
    ) -> tuple[Any, Any, tuple[int, ...]]:
        """``(H_e v_e per entry, count, unreduced loss shape)``: each entry's Hessian-vector product
        of its own unweighted loss (an element, or a sample's row), before the reduction."""
        raise NotImplementedError(f"{self.name}: no Hessian-vector product declared")

    def resolve_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, every value checked; unknown names raise ``TypeError``."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            valid = ", ".join(self.params) or "none"
            raise TypeError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; valid parameters: {valid}"
            )
        out = {}
        for key, spec in self.params.items():
            value = params.get(key, spec.default)
            out[key] = spec.check(self.name, key, value) if spec.check is not None else value
        self._check_params(out)
        return out

    def sample(self, rng: np.random.Generator, **params: Any) -> tuple[np.ndarray, ...]:
        """Random valid float64 inputs (used by the registry tests and examples)."""
        if self._sample_fn is None:
            raise NotImplementedError(f"{self.name}: no sampler declared")
        return self._sample_fn(rng, **self.resolve_params(params))

    def perfect(self, rng: np.random.Generator, **params: Any) -> tuple[np.ndarray, ...] | None:
        """Inputs at which the loss is exactly zero, or ``None`` when no such input exists."""
        if self._perfect_fn is None:
            return None
        return self._perfect_fn(rng, **self.resolve_params(params))

    def __repr__(self) -> str:
        bound = ", ".join(f"{k}={v!r}" for k, v in self.bound.items())
        return f"<losslab loss {self.name}{f'({bound})' if bound else ''} ({self.info.task})>"

    def _repr_markdown_(self) -> str:
        """The loss's card, for notebooks."""
        from losslab.losses._card import card_markdown

        return card_markdown(self)

    # -- hooks ------------------------------------------------------------------------------

    def _check_params(self, params: dict[str, Any]) -> None:
        """Cross-parameter checks (override where parameters constrain each other)."""

    def _prepare(self, xp: ModuleType, inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
        if self._prepare_fn is None:
            raise NotImplementedError(f"{self.name}: no prepare declared")
        return self._prepare_fn(xp, *inputs, **params)

    def _forward(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], need_grad: bool
    ) -> Terms:
        if self._forward_fn is None:
            raise NotImplementedError(f"{self.name}: no forward declared")
        return self._forward_fn(xp, *arrays, need_grad=need_grad, **params)

    # -- machinery --------------------------------------------------------------------------

    def _evaluate(
        self,
        inputs: tuple[Any, ...],
        reduction: Any,
        sample_weight: Any,
        params: Mapping[str, Any],
        need_grad: bool,
    ) -> tuple[Any, Any]:
        inputs, params = self._bind_inputs(inputs, params)
        if isinstance(reduction, str) or reduction is None:
            reduction = REDUCTION_ALIASES.get(reduction, reduction)
        check_choice(self.name, "reduction", reduction, REDUCTIONS)
        resolved = self.resolve_params(params)
        xp = array_namespace(*inputs, sample_weight)
        arrays = self._prepare(xp, tuple(inputs), resolved)
        fast = self._fast_path(xp, arrays, reduction, sample_weight, resolved, need_grad)
        if fast is not None:
            return fast
        terms = self._forward(xp, arrays, resolved, need_grad)
        return _reduce(self.name, xp, terms, reduction, sample_weight, need_grad, self._single_grad)

    def _bind_inputs(
        self, inputs: tuple[Any, ...], params: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], Mapping[str, Any]]:
        """The arrays in declared order, from positional and keyword arguments."""
        keywords = {_KEYWORD_ALIASES.get(k, k) for k in params} & set(self.inputs)
        if not keywords:
            if len(inputs) != len(self.inputs):
                raise TypeError(
                    f"{self.name}: expected {len(self.inputs)} arrays ({', '.join(self.inputs)}), "
                    f"got {len(inputs)}"
                )
            return inputs, params
        rest = dict(params)
        named: dict[str, Any] = {}
        for key in list(rest):
            target = _KEYWORD_ALIASES.get(key, key)
            if target in self.inputs:
                if target in named:
                    raise TypeError(f"{self.name}: {target} is given twice (as {key})")
                named[target] = rest.pop(key)
        if len(inputs) > len(self.inputs):
            raise TypeError(f"{self.name}: expected {len(self.inputs)} arrays, got {len(inputs)}")
        arrays = list(inputs)
        for n in self.inputs[: len(inputs)]:
            if n in named:
                raise TypeError(f"{self.name}: {n} is given both by position and by keyword")
        for n in self.inputs[len(inputs) :]:
            if n not in named:
                raise TypeError(f"{self.name}: missing {n} (the arrays are {', '.join(self.inputs)})")
            arrays.append(named[n])
        return tuple(arrays), rest

    @property
    def _single_grad(self) -> bool:
        return len(self.differentiable) == 1

    def _fast_path(
        self,
        xp: ModuleType,
        arrays: tuple[Any, ...],
        reduction: str,
        sample_weight: Any,
        params: dict[str, Any],
        need_grad: bool,
    ) -> tuple[Any, Any] | None:
        return None


# (subclasses get theirs in __init_subclass__)
Loss.__doc__ = _CardDoc(Loss.__dict__["__doc__"])  # type: ignore[assignment]


def _extend(lo: float, hi: float, x: np.ndarray) -> tuple[float, float]:
    """Running (min, max) extended by block ``x``; a NaN, once seen, stays (``min()`` would drop it)."""
    mn, mx = float(x.min()), float(x.max())
    lo = mn if (mn < lo or math.isnan(mn)) else lo
    hi = mx if (mx > hi or math.isnan(mx)) else hi
    return lo, hi


_BLAS_SERIAL = 8192  # OpenBLAS runs dot products of more than 10 000 entries on several threads


def _probe(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b``, quiet on overflow: finite only if every entry of ``a`` and ``b`` is finite.

    Block-sized operands are split into pieces OpenBLAS keeps on the calling thread: waking its
    threads for every cache block costs more than the product (and far more on a busy machine).
    """
    n = a.size
    with np.errstate(over="ignore", invalid="ignore"):
        if n <= _BLAS_SERIAL:
            return float(np.dot(a, b))
        if n <= 2 * _BLAS_SERIAL:  # the default block: two halves, no generator
            h = n // 2
            return float(np.dot(a[:h], b[:h])) + float(np.dot(a[h:], b[h:]))
        total = 0.0
        for i in range(0, n, _BLAS_SERIAL):
            total += float(np.dot(a[i : i + _BLAS_SERIAL], b[i : i + _BLAS_SERIAL]))
        return total


def _member_stats(domain: Domain, members: bool) -> tuple[float, float, bool]:
    """Block statistics of a domain of listed values: its bounds when every entry was allowed,
    else a not-finite flag that sends the caller to the full check (and its error message)."""
    return (domain.low, domain.high, True) if members else (math.nan, math.nan, False)


def _all_finite(x: np.ndarray) -> bool:
    """Whether a NumPy float array holds only finite values, in one pass and no temporaries.

    ``x @ x`` is finite only if every entry is (see ``ElementwiseLoss._blocked``); when it is not
    (a non-finite entry, or an overflow of huge finite values), ``np.isfinite`` decides.
    """
    if x.dtype.kind == "f" and x.flags.c_contiguous and x.size:
        flat = x.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            if math.isfinite(float(np.dot(flat, flat))):
                return True
    return bool(np.isfinite(x).all())


def _weights(
    name: str, xp: ModuleType, sample_weight: Any, shape: tuple[int, ...], dtype: Any, check: bool = True
) -> Any:
    """``sample_weight`` as an array broadcast against the unreduced loss of ``shape`` (its values
    checked for finiteness when validation is on and ``check``)."""
    w = as_float(xp, sample_weight, "sample_weight", name, dtype=dtype)
    try:
        w = xp.broadcast_to(w, shape) if tuple(w.shape) != tuple(shape) else w
    except (ValueError, RuntimeError):
        # One weight per sample, (n,) on (n, k, ...), is Keras' form; here weights broadcast
        # (NumPy's rule, PyTorch's BCE weight), so (n,) would weigh columns when n == k.
        hint = (
            "; for one weight per sample use sample_weight[:, None]"
            if w.ndim == 1 and len(shape) >= 2 and w.shape[0] == shape[0]
            else ""
        )
        raise ValueError(
            f"{name}: sample_weight of shape {tuple(w.shape)} does not broadcast against the "
            f"unreduced loss of shape {tuple(shape)}{hint}"
        ) from None
    if check and get_config().validate:
        _check_weights_finite(name, xp, w)
    return w


def _check_weights_finite(name: str, xp: ModuleType, w: Any) -> None:
    if not bool(xp.all(xp.isfinite(w))):
        raise ValueError(f"{name}: sample_weight contains NaN or infinite values")


def _reduce(
    name: str,
    xp: ModuleType,
    terms: Terms,
    reduction: str,
    sample_weight: Any,
    need_grad: bool,
    single: bool,
) -> tuple[Any, Any]:
    """Weights, reduction and the matching cotangent for the VJP."""
    loss = terms.loss
    shape = tuple(loss.shape)
    w = None if sample_weight is None else _weights(name, xp, sample_weight, shape, loss.dtype)
    weighted = loss if w is None else loss * w
    cot: Any = 1.0 if w is None else w
    if reduction == "none":
        value = weighted
    else:
        total = xp.sum(weighted)
        if reduction == "sum":
            value = total
        else:
            denom = float(math.prod(shape)) if terms.count is None else float(xp.sum(terms.count))
            if denom == 0.0:
                value = total * 0.0
                cot = 0.0
            else:
                value = total / denom
                cot = cot / denom
    if is_numpy_namespace(xp) and reduction != "none":
        value = value[()] if isinstance(value, np.ndarray) else value
    if not need_grad:
        return value, None
    if terms.vjp is None:
        raise NotImplementedError(f"{name}: no gradient declared")
    grads = terms.vjp(cot)
    return value, grads[0] if single else tuple(grads)


def _cotangent(
    name: str,
    xp: ModuleType,
    shape: tuple[int, ...],
    dtype: Any,
    count: Any,
    reduction: str,
    sample_weight: Any,
) -> Any:
    """The cotangent of the unreduced loss of ``shape``: weights over the ``"mean"`` denominator
    (as :func:`_reduce`), a float when unweighted."""
    w = None if sample_weight is None else _weights(name, xp, sample_weight, shape, dtype)
    cot: Any = 1.0 if w is None else w
    if reduction == "mean":
        denom = float(math.prod(shape)) if count is None else float(xp.sum(count))
        cot = 0.0 if denom == 0.0 else cot / denom
    return cot


def _check_tangent(name: str, xp: ModuleType, v: Any, like: Any) -> Any:
    """``v`` as a finite float array shaped like ``like`` (the direction of a Hessian-vector product)."""
    arr = as_float(xp, v, "v", f"{name}.hvp", dtype=like.dtype)
    if tuple(arr.shape) != tuple(like.shape):
        raise ValueError(
            f"{name}.hvp: v must have the shape of y_pred {tuple(like.shape)}, got {tuple(arr.shape)}"
        )
    if get_config().validate and not bool(xp.all(xp.isfinite(arr))):
        raise ValueError(f"{name}.hvp: v contains NaN or infinite values")
    return arr


def _check_shape_equal(name: str, a: Any, b: Any, a_name: str = "y_pred", b_name: str = "y_true") -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{name}: {a_name} and {b_name} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def _check_nonempty(name: str, x: Any, x_name: str = "y_pred") -> None:
    if math.prod(tuple(x.shape)) == 0:
        raise ValueError(
            f"{name}: {x_name} is empty (shape {tuple(x.shape)}); a loss needs at least one entry"
        )


# --------------------------------------------------------------------------- element-wise


class ElementwiseLoss(Loss):
    """A loss ``l(y_pred_i, y_true_i)`` per element, reduced over all elements.

    ``value(xp, y_pred, y_true, **params)`` and ``grad(xp, y_pred, y_true, **params)`` are the
    per-element formula and its derivative with respect to ``y_pred``; ``hessian`` (optional) the
    second derivative. ``kernel(y_pred, y_true, out, scale, **params) -> float`` (optional) is a
    fused NumPy path for one cache-sized block: it returns the block's loss sum and writes
    ``scale * dl/dy_pred`` into ``out`` (``out`` may be ``None`` when no gradient is wanted).
    """

    kind = "elementwise"

    def __init__(
        self,
        name: str,
        *,
        value: Callable[..., Any],
        grad: Callable[..., Any],
        hessian: Callable[..., Any] | None = None,
        kernel: Callable[..., float] | None = None,
        y_pred_domain: Domain = REAL,
        y_true_domain: Domain = REAL,
        transform_y_true: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.value_fn = value
        self.grad_fn = grad
        self.hessian_fn = hessian
        self.kernel = kernel
        self.y_pred_domain = y_pred_domain
        self.y_true_domain = y_true_domain
        self.transform_y_true = transform_y_true
        kwargs.setdefault("sample", self._default_sample)
        kwargs.setdefault("perfect", None)
        info = dict(kwargs.pop("info", {}) or {})
        info.setdefault("y_pred", y_pred_domain.description)
        info.setdefault("y_true", y_true_domain.description)
        super().__init__(name, info=info, **kwargs)

    def _default_sample(self, rng: np.random.Generator, **params: Any) -> tuple[np.ndarray, np.ndarray]:
        shape = (4, 3)
        return self.y_pred_domain.sample(rng, shape), self.y_true_domain.sample(rng, shape)

    def _prepare(self, xp: ModuleType, inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
        y_pred, y_true = inputs
        if is_numpy_namespace(xp):
            y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
        elif not hasattr(y_true, "dtype"):
            y_true = xp.asarray(y_true)
        dtype = result_float_dtype(xp, y_pred, y_true)
        y_pred = as_float(xp, y_pred, "y_pred", self.name, dtype=dtype)
        y_true = as_float(xp, y_true, "y_true", self.name, dtype=dtype)
        _check_shape_equal(self.name, y_pred, y_true)
        _check_nonempty(self.name, y_pred)
        return y_pred, y_true

    def _validate(self, xp: ModuleType, y_pred: Any, y_true: Any) -> None:
        self.y_pred_domain.check(xp, y_pred, "y_pred", self.name)
        self.y_true_domain.check(xp, y_true, "y_true", self.name)

    def _forward(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], need_grad: bool
    ) -> Terms:
        y_pred, y_true = arrays
        if get_config().validate:
            self._validate(xp, y_pred, y_true)
        if self.transform_y_true is not None:
            y_true = self.transform_y_true(xp, y_true)
        loss = self.value_fn(xp, y_pred, y_true, **params)
        if not need_grad:
            return Terms(loss)
        d = self.grad_fn(xp, y_pred, y_true, **params)
        return Terms(loss, vjp=lambda cot: (d * cot,))

    def hessian_diag(self, y_pred: Any, y_true: Any, *, reduction: Reduction = "mean", **params: Any) -> Any:
        """Diagonal of the Hessian of the reduced value with respect to ``y_pred``."""
        if self.hessian_fn is None:
            raise NotImplementedError(f"{self.name}: no Hessian declared")
        check_choice(self.name, "reduction", reduction, REDUCTIONS)
        resolved = self.resolve_params(params)
        xp = array_namespace(y_pred, y_true)
        y_pred, y_true = self._prepare(xp, (y_pred, y_true), resolved)
        if self.transform_y_true is not None:
            y_true = self.transform_y_true(xp, y_true)
        h = self.hessian_fn(xp, y_pred, y_true, **resolved)
        return h / math.prod(tuple(y_pred.shape)) if reduction == "mean" else h

    @property
    def has_hvp(self) -> bool:
        return self.hessian_fn is not None

    def _local_hvp(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], v: Any
    ) -> tuple[Any, Any, tuple[int, ...]]:
        y_pred, y_true = arrays
        if get_config().validate:
            self._validate(xp, y_pred, y_true)
        if self.transform_y_true is not None:
            y_true = self.transform_y_true(xp, y_true)
        assert self.hessian_fn is not None
        return self.hessian_fn(xp, y_pred, y_true, **params) * v, None, tuple(y_pred.shape)

    # -- cache-blocked NumPy evaluation --------------------------------------------------------

    @staticmethod
    def compiled(
        element: Callable[..., tuple[Any, Any]],
        *,
        aux: Callable[..., None] | None = None,
        n_aux: int = 1,
        args: Callable[..., tuple[Any, ...] | None] | None = None,
        pre: Callable[[Any], Any] | None = None,
    ) -> Callable[[Any], Any]:
        """Attach a scalar element formula to a block kernel, for the optional compiled path.

        ``element(y_pred_i, y_true_i, *params) -> (loss_i, dloss_i/dy_pred_i)`` on Python/Numba
        scalars, with the parameters in declaration order. It is used (compiled with Numba) only
        when Numba is importable; the decorated NumPy kernel stays the reference and the fallback.

        ``aux(y_pred_block, *outs)`` (optional) fills ``n_aux`` (1 or 2) arrays shaped like the
        block with NumPy, typically vectorized transcendental functions of ``y_pred``; the element
        then reads them after ``y_true_i``: ``element(y_pred_i, y_true_i, a_i, ..., *params)``.
        ``args(dtype, **params)`` (optional) maps the input dtype and the resolved parameters to the
        element's parameter tuple, or to ``None`` where the element does not cover them (the NumPy
        kernel runs). ``pre(y_pred_i) -> a_i`` (optional, with ``aux``): a scalar map the compiled
        pass applies itself; the first auxiliary array then arrives holding ``pre(y_pred)`` and
        ``aux(*outs)`` completes the arrays in place (e.g. ``pre``: ``-|x|``; ``aux``: ``exp`` of
        it in place, then ``log1p``), which saves NumPy passes and calls per block.
        """

        def attach(kernel: Any) -> Any:
            kernel.element = element
            kernel.element_aux = aux
            kernel.element_n_aux = n_aux
            kernel.element_args = args
            kernel.element_pre = pre
            return kernel

        return attach

    def _fast_path(
        self,
        xp: ModuleType,
        arrays: tuple[Any, ...],
        reduction: str,
        sample_weight: Any,
        params: dict[str, Any],
        need_grad: bool,
    ) -> tuple[Any, Any] | None:
        y_pred, y_true = arrays
        block = get_config().block_size
        if not is_numpy_namespace(xp) or reduction == "none" or y_pred.size < 4 * block:
            return None
        validate = get_config().validate
        if sample_weight is not None:
            w = np.asarray(sample_weight)
            if w.shape != y_pred.shape:
                return None
            w = as_float(np, w, "sample_weight", self.name, dtype=y_pred.dtype)
            if validate and not _all_finite(w):
                raise ValueError(f"{self.name}: sample_weight contains NaN or infinite values")
            w = np.ascontiguousarray(w).reshape(-1)
        else:
            w = None
        yp = np.ascontiguousarray(y_pred).reshape(-1)
        yt = np.ascontiguousarray(y_true).reshape(-1)
        n = yp.size
        scale = 1.0 / n if reduction == "mean" else 1.0
        # A recycled buffer when one is free (never one the caller still references).
        out = buffers.empty(n, yp.dtype) if need_grad else None
        element = getattr(self.kernel, "element", None)
        compiled = None
        if (
            element is not None
            and w is None
            and self.transform_y_true is None
            and yp.dtype in (np.float32, np.float64)
            and _compiled.available()
        ):
            args_fn = getattr(self.kernel, "element_args", None)
            args = tuple(params.values()) if args_fn is None else args_fn(yp.dtype, **params)
            aux = getattr(self.kernel, "element_aux", None)
            dp, dt = self.y_pred_domain, self.y_true_domain
            limits = _compiled.bounds(
                dp.low, dp.high, dt.low, dt.high, (dp.open_low, dp.open_high), (dt.open_low, dt.open_high)
            )
            if args is None:
                compiled = None
            elif aux is None:
                compiled = _compiled.evaluate(element, yp, yt, out, scale, args, limits)
            else:
                n_aux = getattr(self.kernel, "element_n_aux", 1)
                pre = getattr(self.kernel, "element_pre", None)
                compiled = _compiled.evaluate_aux(
                    element, aux, n_aux, yp, yt, out, scale, args, limits, block, pre
                )
        if compiled is not None:
            total, in_range = compiled
            if validate:
                if not in_range:
                    # NaN, an infinity or a value out of range somewhere: the full checks raise the
                    # direct path's error (y_pred first).
                    self._validate(np, y_pred, y_true)
                for domain, x, label in ((dp, y_pred, "y_pred"), (dt, y_true, "y_true")):
                    if domain.values is not None:
                        domain.check(np, x, label, self.name)
        else:
            total, stats_p, stats_t = self._blocked(yp, yt, w, out, scale, params, block, validate)
            if validate:
                self._check_blocked(y_pred, y_true, stats_p, stats_t)
        value = y_pred.dtype.type(total * scale)
        grad = None if out is None else out.reshape(y_pred.shape)
        return value, grad

    def _blocked(
        self,
        yp: np.ndarray,
        yt: np.ndarray,
        w: np.ndarray | None,
        out: np.ndarray | None,
        scale: float,
        params: dict[str, Any],
        block: int,
        validate: bool,
    ) -> tuple[float, tuple[float, float, bool], tuple[float, float, bool]]:
        """One pass of cache-sized blocks: loss sum, scaled gradient into ``out``, input ranges.

        Validation reads the block while it is in cache. An input whose domain is all finite
        reals needs no min/max: a dot product is finite only if every factor is (``inf * x`` and
        ``nan * x`` are never finite, nor is a sum with such a term), so one ``np.dot`` per block
        covers one or both such inputs; a non-finite probe (or a rare overflow) sends the caller
        to the exact full-array check, which raises the usual error.
        """
        n = yp.size
        kernel = self.kernel if (w is None and self.transform_y_true is None) else None
        real_p = validate and self.y_pred_domain.unbounded
        real_t = validate and self.y_true_domain.unbounded
        # A domain of listed values is checked by membership, block by block (NaN, infinities and
        # out-of-range entries are never members); any other bounded domain by its min/max.
        values_p = self.y_pred_domain.values if validate else None
        values_t = self.y_true_domain.values if validate else None
        range_p = validate and not real_p and values_p is None
        range_t = validate and not real_t and values_t is None
        masks = (np.empty(block, bool), np.empty(block, bool)) if values_p or values_t else None
        members_p = members_t = True
        total = 0.0
        probe = 0.0
        lo_p = lo_t = math.inf
        hi_p = hi_t = -math.inf
        for start in range(0, n, block):
            stop = min(start + block, n)
            p, t = yp[start:stop], yt[start:stop]
            if real_p and real_t:
                probe += _probe(p, t)
            elif real_p:
                probe += _probe(p, p)
            elif real_t:
                probe += _probe(t, t)
            if range_p:
                lo_p, hi_p = _extend(lo_p, hi_p, p)
            if range_t:
                lo_t, hi_t = _extend(lo_t, hi_t, t)
            if values_p is not None and masks is not None and members_p:
                members_p = _holds_values(p, values_p, masks)
            if values_t is not None and masks is not None and members_t:
                members_t = _holds_values(t, values_t, masks)
            if not (members_p and members_t):
                # Not a member: the full checks raise the direct path's error now, before any
                # work on the invalid values (y_pred first, as in the direct path).
                self._validate(np, yp, yt)
            o = None if out is None else out[start:stop]
            if kernel is not None:
                total += kernel(p, t, o, scale, **params)
                continue
            tt = t if self.transform_y_true is None else self.transform_y_true(np, t)
            loss = self.value_fn(np, p, tt, **params)
            if w is None:
                total += float(loss.sum())
            else:
                total += float(np.einsum("i,i->", loss, w[start:stop]))
            if o is not None:
                d = self.grad_fn(np, p, tt, **params)
                np.multiply(d, scale if w is None else w[start:stop] * scale, out=o)
        finite = math.isfinite(probe)
        stats_p = (lo_p, hi_p, finite) if values_p is None else _member_stats(self.y_pred_domain, members_p)
        stats_t = (lo_t, hi_t, finite) if values_t is None else _member_stats(self.y_true_domain, members_t)
        return total, stats_p, stats_t

    def _check_blocked(
        self,
        y_pred: np.ndarray,
        y_true: np.ndarray,
        stats_p: tuple[float, float, bool],
        stats_t: tuple[float, float, bool],
    ) -> None:
        """Domain checks from block statistics, in the direct path's order (y_pred first).

        ``(min, max, finite)`` per input; a domain of listed values gets ``(low, high, True)``
        when the blocks found every entry allowed (nothing left to check) and ``finite=False``
        otherwise (the full check then raises the direct path's error).
        """
        for domain, x, (lo, hi, finite), label in (
            (self.y_pred_domain, y_pred, stats_p, "y_pred"),
            (self.y_true_domain, y_true, stats_t, "y_true"),
        ):
            if not finite:
                domain.check(np, x, label, self.name)
            elif domain.values is not None and not math.isnan(lo):
                continue  # every entry was found among the allowed values, block by block
            elif not domain.unbounded:
                domain.check_range(lo, hi, x, np, label, self.name)


# --------------------------------------------------------------------------- class axis


class ClassAxisLoss(Loss):
    """A loss per sample over the last (class) axis of ``y_pred`` (shape ``(..., C)``).

    ``targets`` is ``"probabilities"`` (``y_true`` shaped like ``y_pred``) or ``"labels"``
    (integer class indices shaped ``y_pred.shape[:-1]``). ``value(xp, y_pred, y_true, **params)``
    returns the per-sample loss; ``grad(...)`` the derivative of each sample's loss with respect to
    its row; ``count(...)`` (optional) the per-sample weight of the ``"mean"`` denominator.
    ``value_and_grad`` (optional) computes both in one pass. ``hvp(xp, y_pred, y_true, v,
    **params)`` (optional) returns, row by row, each sample's Hessian (with respect to its row of
    ``y_pred``) applied to the same row of ``v``.
    """

    kind = "class_axis"

    def __init__(
        self,
        name: str,
        *,
        value: Callable[..., Any],
        grad: Callable[..., Any],
        value_and_grad: Callable[..., tuple[Any, Any]] | None = None,
        count: Callable[..., Any] | None = None,
        hvp: Callable[..., Any] | None = None,
        targets: Literal["probabilities", "labels"] = "probabilities",
        y_pred_domain: Domain = REAL,
        y_true_domain: Domain = PROBABILITY,
        validate: Callable[..., None] | None = None,
        **kwargs: Any,
    ) -> None:
        self.value_fn = value
        self.grad_fn = grad
        self.value_and_grad_fn = value_and_grad
        self.count_fn = count
        self.hvp_fn = hvp
        self.targets = targets
        self.y_pred_domain = y_pred_domain
        self.y_true_domain = y_true_domain
        self.extra_validate = validate
        info = dict(kwargs.pop("info", {}) or {})
        info.setdefault("y_pred", f"{y_pred_domain.description}, shape (..., C)")
        info.setdefault(
            "y_true",
            "integer class indices, shape (...)"
            if targets == "labels"
            else f"{y_true_domain.description}, shape (..., C)",
        )
        super().__init__(name, info=info, **kwargs)

    def _prepare(self, xp: ModuleType, inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
        y_pred, y_true = inputs
        if is_numpy_namespace(xp):
            y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
        elif not hasattr(y_true, "dtype"):
            y_true = xp.asarray(y_true)
        if y_pred.ndim < 1:
            raise ValueError(f"{self.name}: y_pred must have a class axis (last axis), got a scalar")
        if self.targets == "labels":
            y_pred = as_float(xp, y_pred, "y_pred", self.name)
            y_true = as_int(xp, y_true, "y_true", self.name)
            if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
                raise ValueError(
                    f"{self.name}: y_true must hold one class index per sample, shape "
                    f"{tuple(y_pred.shape[:-1])} for y_pred of shape {tuple(y_pred.shape)}, "
                    f"got {tuple(y_true.shape)}"
                )
        else:
            dtype = result_float_dtype(xp, y_pred, y_true)
            y_pred = as_float(xp, y_pred, "y_pred", self.name, dtype=dtype)
            y_true = as_float(xp, y_true, "y_true", self.name, dtype=dtype)
            _check_shape_equal(self.name, y_pred, y_true)
        _check_nonempty(self.name, y_pred)
        if get_config().validate and self._row_block(xp, y_pred) is None:
            # (the row-blocked path checks big NumPy inputs block by block, while they are in cache)
            self._check_domains(xp, y_pred, y_true, params)
        return y_pred, y_true

    def _check_domains(
        self,
        xp: ModuleType,
        y_pred: Any,
        y_true: Any,
        params: dict[str, Any],
        stats: tuple[tuple[float, float, bool], tuple[float, float, bool]] | None = None,
    ) -> None:
        """Domain checks in a fixed order: y_pred, y_true, then the declaration's own ``validate``.

        ``stats``: the ``(min, max, finite)`` of y_pred and (probability targets) y_true gathered by
        the row-blocked path; a non-finite flag sends the check to the full array for its message.
        """
        for domain, x, label, i in (
            (self.y_pred_domain, y_pred, "y_pred", 0),
            (self.y_true_domain, y_true, "y_true", 1),
        ):
            if i == 1 and self.targets == "labels":
                self._check_labels(xp, y_pred, y_true, params)
            elif stats is None or not stats[i][2]:
                domain.check(xp, x, label, self.name)
            elif not domain.unbounded:
                domain.check_range(stats[i][0], stats[i][1], x, xp, label, self.name)
        if self.extra_validate is not None:
            self.extra_validate(xp, y_pred, y_true, where=self.name, **params)

    @property
    def has_hvp(self) -> bool:
        return self.hvp_fn is not None

    def _local_hvp(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], v: Any
    ) -> tuple[Any, Any, tuple[int, ...]]:
        y_pred, y_true = arrays
        if get_config().validate and self._row_block(xp, y_pred) is not None:
            self._check_domains(xp, y_pred, y_true, params)  # (_prepare left them to the blocked path)
        count = None if self.count_fn is None else self.count_fn(xp, y_pred, y_true, **params)
        assert self.hvp_fn is not None
        return self.hvp_fn(xp, y_pred, y_true, v, **params), count, tuple(y_pred.shape[:-1])

    def _check_labels(self, xp: ModuleType, y_pred: Any, labels: Any, params: dict[str, Any]) -> None:
        n_classes = y_pred.shape[-1]
        ignore = params.get("ignore_index")
        if ignore is not None:
            labels = labels[labels != ignore]
        lo = int(xp.min(labels)) if math.prod(tuple(labels.shape)) else 0
        hi = int(xp.max(labels)) if math.prod(tuple(labels.shape)) else 0
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{self.name}: y_true must hold class indices in [0, {n_classes}), got {bad}")

    def _forward(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], need_grad: bool
    ) -> Terms:
        y_pred, y_true = arrays
        count = None if self.count_fn is None else self.count_fn(xp, y_pred, y_true, **params)
        if not need_grad:
            return Terms(self.value_fn(xp, y_pred, y_true, **params), count)
        if self.value_and_grad_fn is not None:
            loss, d = self.value_and_grad_fn(xp, y_pred, y_true, **params)
        else:
            loss = self.value_fn(xp, y_pred, y_true, **params)
            d = self.grad_fn(xp, y_pred, y_true, **params)

        def vjp(cot: Any) -> tuple[Any]:
            if isinstance(cot, float):
                return (d * cot,)
            return (d * cot[..., None],)

        return Terms(loss, count, vjp)

    # -- row-blocked NumPy evaluation ------------------------------------------------------------

    def _fast_path(
        self,
        xp: ModuleType,
        arrays: tuple[Any, ...],
        reduction: str,
        sample_weight: Any,
        params: dict[str, Any],
        need_grad: bool,
    ) -> tuple[Any, Any] | None:
        """Evaluate big NumPy inputs a block of rows at a time, so the per-row temporaries of
        ``value``/``grad`` (softmax, log-sum-exp, ...) stay in cache.

        Rows are independent, so each block's per-sample losses and gradient rows are exactly
        those of the direct path; the reduction then runs on the full per-sample array with the
        same expressions as the direct path, so the results are identical, not just close.
        """
        y_pred, y_true = arrays
        rows = self._row_block(xp, y_pred)
        if rows is None:
            return None
        validate = get_config().validate
        try:
            return self._row_blocked(
                y_pred, y_true, rows, reduction, sample_weight, params, need_grad, validate
            )
        except (ValueError, TypeError, IndexError):
            # An error the direct path would raise after its domain checks: those come first.
            if validate:
                self._check_domains(np, y_pred, y_true, params)
            raise

    def _in_domains(self, lo_p: float, hi_p: float, lo_t: float, hi_t: float) -> bool:
        """Whether running min/max (``inf``/``-inf`` when not gathered) lie in the domains."""
        for domain, lo, hi in ((self.y_pred_domain, lo_p, hi_p), (self.y_true_domain, lo_t, hi_t)):
            if math.isnan(lo) or math.isnan(hi):
                return False
            if lo == math.inf:  # nothing gathered
                continue
            if lo < domain.low or hi > domain.high or math.isinf(lo) or math.isinf(hi):
                return False
            if (domain.open_low and lo == domain.low) or (domain.open_high and hi == domain.high):
                return False
        return True

    def _row_block(self, xp: ModuleType, y_pred: Any) -> int | None:
        """Rows per block of the row-blocked path, or ``None`` where it does not apply."""
        block = get_config().block_size
        if not is_numpy_namespace(xp) or y_pred.ndim < 2 or y_pred.size < 8 * block:
            return None
        rows = max(1, (4 * block) // max(y_pred.shape[-1], 1))
        return None if math.prod(y_pred.shape[:-1]) < 2 * rows else rows

    def _row_blocked(
        self,
        y_pred: np.ndarray,
        y_true: np.ndarray,
        rows: int,
        reduction: str,
        sample_weight: Any,
        params: dict[str, Any],
        need_grad: bool,
        validate: bool,
    ) -> tuple[Any, Any]:
        n_classes = y_pred.shape[-1]
        batch = tuple(y_pred.shape[:-1])
        m = math.prod(batch)
        yp = y_pred.reshape(m, n_classes)
        yt = y_true.reshape(m) if self.targets == "labels" else y_true.reshape(m, n_classes)
        count = None if self.count_fn is None else self.count_fn(np, y_pred, y_true, **params)
        w = (
            None
            if sample_weight is None
            else _weights(self.name, np, sample_weight, batch, y_pred.dtype, check=False)
        )
        cot: Any = 1.0 if w is None else w
        if reduction == "mean":
            denom = float(m) if count is None else float(np.sum(count))
            cot = 0.0 if denom == 0.0 else cot / denom
        cot_rows = None if isinstance(cot, float) else np.reshape(cot, (m,))
        real_p = validate and self.y_pred_domain.unbounded
        range_p = validate and not real_p
        range_t = validate and self.targets != "labels"
        probe = 0.0
        lo_p = lo_t = math.inf
        hi_p = hi_t = -math.inf
        losses = np.empty(0)
        out = None
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            p, t = yp[start:stop], yt[start:stop]
            if real_p:
                flat = p.reshape(-1)
                probe += _probe(flat, flat)
            elif range_p:
                lo_p, hi_p = _extend(lo_p, hi_p, p)
            if range_t:
                lo_t, hi_t = _extend(lo_t, hi_t, t)
            if validate and not (math.isfinite(probe) and self._in_domains(lo_p, hi_p, lo_t, hi_t)):
                # An invalid block: the full checks raise the direct path's error (no work is done
                # on invalid values, so no floating-point warnings either).
                self._check_domains(np, y_pred, y_true, params)
            if not need_grad:
                loss = self.value_fn(np, p, t, **params)
            elif self.value_and_grad_fn is not None:
                loss, d = self.value_and_grad_fn(np, p, t, **params)
            else:
                loss = self.value_fn(np, p, t, **params)
                d = self.grad_fn(np, p, t, **params)
            if start == 0:
                losses = np.empty(m, dtype=np.asarray(loss).dtype)
            losses[start:stop] = loss
            if need_grad:
                if out is None:
                    dtype = np.result_type(d, np.asarray(cot).dtype) if cot_rows is not None else d.dtype
                    out = buffers.empty(yp.size, dtype).reshape(yp.shape)
                np.multiply(d, cot if cot_rows is None else cot_rows[start:stop, None], out=out[start:stop])
        if validate:
            finite = math.isfinite(probe)
            self._check_domains(np, y_pred, y_true, params, ((lo_p, hi_p, finite), (lo_t, hi_t, True)))
        # (_reduce checks sample_weight's values, after the domains as in the direct path)
        value, _ = _reduce(
            self.name, np, Terms(losses.reshape(batch), count), reduction, sample_weight, False, True
        )
        return value, None if out is None else out.reshape(y_pred.shape)


# --------------------------------------------------------------------------- point-wise, several inputs


class PointwiseLoss(Loss):
    """A loss evaluated element by element over several arrays of one shape.

    ``value(xp, *arrays, **params)`` is the per-element loss; ``grads(xp, *arrays, **params)``
    returns the per-element derivatives with respect to each input named in ``differentiable``, in
    that order. ``domains`` maps input names to their :class:`Domain` (default: finite reals).
    Used for losses such as the GAN objectives (real and fake logits) and two-view consistency.
    """

    kind = "pointwise"

    def __init__(
        self,
        name: str,
        *,
        value: Callable[..., Any],
        grads: Callable[..., tuple[Any, ...]],
        domains: Mapping[str, Domain] | None = None,
        **kwargs: Any,
    ) -> None:
        self.value_fn = value
        self.grads_fn = grads
        self.domains = dict(domains or {})
        kwargs.setdefault("sample", self._default_sample)
        super().__init__(name, **kwargs)

    def _domain(self, name: str) -> Domain:
        return self.domains.get(name, REAL)

    def _default_sample(self, rng: np.random.Generator, **params: Any) -> tuple[np.ndarray, ...]:
        return tuple(self._domain(n).sample(rng, (4, 3)) for n in self.inputs)

    def _prepare(self, xp: ModuleType, inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
        from losslab._core.arrays import as_floats

        arrays = as_floats(xp, self.name, **dict(zip(self.inputs, inputs)))
        for name, arr in zip(self.inputs[1:], arrays[1:]):
            _check_shape_equal(self.name, arrays[0], arr, self.inputs[0], name)
        _check_nonempty(self.name, arrays[0], self.inputs[0])
        if get_config().validate:
            for name, arr in zip(self.inputs, arrays):
                self._domain(name).check(xp, arr, name, self.name)
        return arrays

    def _forward(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], need_grad: bool
    ) -> Terms:
        loss = self.value_fn(xp, *arrays, **params)
        if not need_grad:
            return Terms(loss)
        local = self.grads_fn(xp, *arrays, **params)
        return Terms(loss, vjp=lambda cot: tuple(d * cot for d in local))
