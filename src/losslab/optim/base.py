"""The optimizer core: pure gradient transformations composed with ``chain``.

An optimizer is a :class:`GradientTransformation` -- a pair of pure functions::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

``params``, ``grads`` and ``updates`` are trees (an array, or nested dicts/lists/tuples of arrays).
``update`` never mutates its inputs; state is a NamedTuple of trees.

A transformation may also carry a fused ``step(grads, state, params) -> (new_params, new_state)``
that gives exactly ``apply_updates(params, update(grads, state, params)[0])`` and the same state
in one pass over memory (the ``adam``/``adamw`` presets do). :func:`step` uses it when present and
falls back to ``update`` + ``apply_updates`` otherwise; either way the caller's arrays are never
written to: new parameters and states are fresh arrays.

Inputs are validated like losses' at the public boundary (the outermost ``update`` or ``step``
call; transformations inside a :func:`chain` are not checked again): params and grads must have
the same tree structure and exactly the same leaf shapes (no broadcasting), leaves must be arrays
of real numbers (``None`` is refused), and -- while validation is on (``ll.config(validate=False)``
switches it off) -- NaN or infinite gradients raise :class:`~losslab._core.validation.NonFiniteError`
(a ``ValueError``) naming the leaf, e.g. ``grads['W1'] has 3 NaN entries`` (non-finite params
too). Every
:class:`GradientTransformation`, including one built by hand, gets these checks.

Extra keyword arguments of ``update`` (such as ``value=loss`` for
:func:`~losslab.optim.reduce_on_plateau`) are passed by :func:`chain` to every transformation
whose ``update`` accepts them (by name or through ``**extra``); the others never see them.

A transformation that cannot work without such an argument declares it in ``extra_args`` (e.g.
Newton's method needs ``hessian=``, the curvature at ``params``): the caller --
:func:`~losslab.train.fit`, :func:`~losslab.train.race` -- reads that declaration and supplies
them (Optax's ``GradientTransformationExtraArgs`` precedent); a :func:`chain` declares the union of
its parts'.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

import numpy as np

from losslab._core import buffers as _buffers
from losslab._core.arrays import array_namespace
from losslab._core.config import get_config
from losslab._core.tree import tree_map
from losslab._core.validation import check_finite_tree, check_tree_leaves, check_tree_match

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "apply_updates",
    "chain",
    "check_inputs",
    "checks_finite_grads",
    "identity",
    "scale",
    "step",
]

Params = Any
Updates = Any
State = Any


class _Fields(NamedTuple):
    init: Callable[[Params], State]
    update: Callable[..., tuple[Updates, State]]
    step: Callable[..., tuple[Params, State]] | None = None
    extra_args: frozenset[str] = frozenset()


class GradientTransformation(_Fields):
    """``init(params) -> state`` and ``update(grads, state, params=None) -> (updates, state)``.

    ``step`` is optional: a fused ``step(grads, state, params, **extra) -> (new_params, new_state)``
    equal to ``update`` followed by :func:`apply_updates` (bitwise, on the same machine), made in
    fewer passes over memory. ``None`` (the default) means "no fused form"; call
    :func:`losslab.optim.step` rather than this field, it falls back to ``update``.

    ``extra_args`` names the keyword arguments ``update`` needs from its caller beyond
    ``(grads, state, params)`` -- ``frozenset({"hessian"})`` for :func:`~losslab.optim.newton` --
    so that a training loop knows what to compute and pass.

    ``update`` and ``step`` are wrapped on construction with the input checks of the module
    docstring (a function marked with :func:`checks_finite_grads` checks finiteness itself, in its
    own pass over the gradients).
    """

    __slots__ = ()

    def __new__(
        cls,
        init: Callable[[Params], State],
        update: Callable[..., tuple[Updates, State]],
        step: Callable[..., tuple[Params, State]] | None = None,
        extra_args: frozenset[str] = frozenset(),
    ) -> GradientTransformation:
        return super().__new__(
            cls,
            _checked_init(init),
            _checked(update, "update"),
            None if step is None else _checked(step, "step"),
            frozenset(extra_args),
        )

    def _replace(self, **changes: Any) -> GradientTransformation:
        """A copy with some fields replaced (through the constructor, so new functions are checked)."""
        fields = self._asdict()
        fields.update(changes)
        return GradientTransformation(**fields)


# Set while a checked ``update``/``step`` runs: the transformations it calls are not re-checked.
_inside: ContextVar[bool] = ContextVar("losslab_optim_inside", default=False)


@contextmanager
def unchecked_steps() -> Iterator[None]:
    """Run ``update``/``step`` calls without their boundary checks (structure, shapes, finiteness),
    for a caller that makes its own: a loop that passed one checked step and then feeds the
    optimizer only what it returned, testing each gradient's finiteness itself (see
    :func:`losslab.train.race`). Thread- and task-local, like :func:`losslab.config`."""
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)


def checks_finite_grads(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an ``update``/``step`` that raises on non-finite gradients itself (from the pass it
    makes anyway) while validation is on, so the boundary check does not read them twice."""
    fn._losslab_checks_finite = True  # type: ignore[attr-defined]
    return fn


def check_inputs(where: str, grads: Any, params: Any, *, finite: bool = True) -> None:
    """The boundary checks of ``update``/``step``: grads against params (structure, exact leaf
    shapes, real dtypes; params may be ``None`` for ``update``) and, while validation is on and
    ``finite``, finite gradients and parameters."""
    if grads is None:
        raise TypeError(f"{where}: grads is None; expected an array or a tree of arrays like params")
    if params is None:
        check_tree_leaves(where, "grads", grads)
    else:
        check_tree_match(where, "grads", grads, "params", params)
    if finite and get_config().validate:
        check_finite_tree(where, "grads", grads)
        if params is not None:
            check_finite_tree(where, "params", params)


def _checked_init(fn: Callable[[Params], State]) -> Callable[[Params], State]:
    """``init`` refusing leaves that are not arrays of real numbers (a complex leaf would be
    silently cast to real by the state's ``zeros_like``)."""
    if getattr(fn, "_losslab_checked", False):
        return fn

    @functools.wraps(fn)
    def init(params: Params) -> State:
        if _inside.get():
            return fn(params)
        check_tree_leaves("init", "params", params)
        token = _inside.set(True)
        try:
            return fn(params)
        finally:
            _inside.reset(token)

    init._losslab_checked = True  # type: ignore[attr-defined]
    return init


def _checked(fn: Callable[..., Any], kind: str) -> Callable[..., Any]:
    if getattr(fn, "_losslab_checked", False):
        return fn
    finite = not getattr(fn, "_losslab_checks_finite", False)

    @functools.wraps(fn)
    def checked(grads: Any, state: Any, params: Any = None, **extra: Any) -> Any:
        if _inside.get():
            return fn(grads, state, params, **extra)
        check_inputs(kind, grads, params, finite=finite)
        token = _inside.set(True)
        try:
            return fn(grads, state, params, **extra)
        finally:
            _inside.reset(token)

    checked._losslab_checked = True  # type: ignore[attr-defined]
    return checked


class EmptyState(NamedTuple):
    """State of a stateless transformation."""


def identity() -> GradientTransformation:
    """Pass gradients through unchanged (as new arrays: updates never alias their inputs)."""
    return GradientTransformation(
        lambda params: EmptyState(),
        lambda grads, state, params=None, **extra: (tree_map(lambda g: np.array(g, copy=True), grads), state),
    )


def scale(factor: float) -> GradientTransformation:
    """Multiply updates by a constant ``factor`` (``scale(-lr)`` is plain gradient descent)."""

    def update(grads: Updates, state: State, params: Params = None, **extra: Any) -> tuple[Updates, State]:
        return tree_map(lambda g: g * factor, grads), state

    return GradientTransformation(lambda params: EmptyState(), update)


class ChainState(NamedTuple):
    """The states of the chained transformations, in order."""

    inner: tuple[Any, ...]


def chain(*transformations: GradientTransformation) -> GradientTransformation:
    """Apply transformations in sequence: each one's updates feed the next.

    When the last transformation has a fused ``step`` (``adam``, ``adamw``), so does the chain: the
    others transform the gradients, then the last one steps fused (see :func:`step`).
    """
    for i, t in enumerate(transformations):
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain: argument {i} must be a GradientTransformation, got {type(t).__name__}")

    accepted = [_extra_arguments(t.update) for t in transformations]
    needed = frozenset().union(*(t.extra_args for t in transformations))
    last = transformations[-1] if transformations else None
    last_step = None if last is None else last.step
    accepted_step = None if last_step is None else _extra_arguments(last_step)

    def init(params: Params) -> ChainState:
        return ChainState(tuple(t.init(params) for t in transformations))

    def update(
        grads: Updates, state: ChainState, params: Params = None, **extra: Any
    ) -> tuple[Updates, ChainState]:
        new_states = []
        for t, s, names in zip(transformations, state.inner, accepted):
            kwargs = extra if names is None or not extra else {k: v for k, v in extra.items() if k in names}
            grads, s = t.update(grads, s, params, **kwargs)
            new_states.append(s)
        return grads, ChainState(tuple(new_states))

    if last_step is None:
        return GradientTransformation(init, update, None, needed)
    final_step = last_step

    def fused_step(
        grads: Updates, state: ChainState, params: Params, **extra: Any
    ) -> tuple[Params, ChainState]:
        # every transformation but the last transforms the gradients; the last one steps fused
        new_states = []
        for t, s, names in zip(transformations[:-1], state.inner[:-1], accepted[:-1]):
            kwargs = extra if names is None or not extra else {k: v for k, v in extra.items() if k in names}
            grads, s = t.update(grads, s, params, **kwargs)
            new_states.append(s)
        kwargs = (
            extra
            if accepted_step is None or not extra
            else {k: v for k, v in extra.items() if k in accepted_step}
        )
        new_params, s = final_step(grads, state.inner[-1], params, **kwargs)
        new_states.append(s)
        return new_params, ChainState(tuple(new_states))

    return GradientTransformation(init, update, fused_step, needed)


def _extra_arguments(fn: Callable[..., Any]) -> frozenset[str] | None:
    """Keyword names ``fn`` accepts beyond ``(grads, state, params)``; ``None`` means any (``**extra``)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: pass nothing extra
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(
        p.name
        for p in parameters[3:]
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates`` leaf-wise, as new arrays (inputs are never mutated).

    The result keeps each parameter's floating dtype (float32 parameters stay float32); integer
    parameters become float64. ``updates`` must have the structure and leaf shapes of ``params``
    exactly (no broadcasting).

    >>> apply_updates({"w": np.array([4.0])}, {"w": np.array([-2.4])})
    {'w': array([1.6])}
    """
    check_tree_match("apply_updates", "updates", updates, "params", params)
    return tree_map(_add_leaf, params, updates)


def _add_leaf(p: Any, u: Any) -> Any:
    """One leaf of :func:`apply_updates` (also the fallback of fused steps, so both agree)."""
    if isinstance(p, np.ndarray) or np.isscalar(p):
        p_arr = np.asarray(p)
        dtype = p_arr.dtype if p_arr.dtype.kind == "f" else np.dtype(np.float64)
        u_arr = np.asarray(u)
        if p_arr.size >= _buffers.POOL_MIN_SIZE and u_arr.shape == p_arr.shape:
            out = _buffers.empty(p_arr.size, dtype).reshape(p_arr.shape)
            return np.add(p_arr, u_arr, out=out, casting="unsafe")
        return np.asarray(p_arr + u_arr).astype(dtype, copy=False)
    # A framework's array (a torch tensor, a JAX array): the update, computed in NumPy, joins it in
    # its own namespace and on its device (NumPy adding a tensor would wrap its result through the
    # tensor's outdated __array_wrap__, which NumPy 2 deprecates); added, then cast, as above.
    import array_api_compat

    xp = array_namespace(p)
    dtype = p.dtype if xp.isdtype(p.dtype, "real floating") else xp.float64
    return xp.astype(p + xp.asarray(u, device=array_api_compat.device(p)), dtype)


def step(
    optimizer: GradientTransformation, grads: Updates, state: State, params: Params, **extra: Any
) -> tuple[Params, State]:
    r"""One optimizer step: ``(new_params, new_state)``, fused when the optimizer has a fused form.

    Equal to ``updates, state = optimizer.update(grads, state, params, **extra)`` followed by
    ``params = apply_updates(params, updates)`` -- bitwise: the fused kernels make the same
    floating-point operations in the same order -- but for ``adam``/``adamw`` (alone or last in a
    :func:`chain`) made in one pass that reads :math:`\theta, g, m, v` and writes
    :math:`\theta', m', v'` (7 streams over memory instead of about 13), the traffic of PyTorch's
    in-place fused step. Nothing is mutated: the new parameters and state are new arrays (large
    ones recycled from arrays nobody references any more).

    >>> import losslab as ll
    >>> opt = ll.optim.adam(lr=0.1)
    >>> w = np.array([1.0, -2.0])
    >>> state = opt.init(w)
    >>> w, state = ll.optim.step(opt, 2 * w, state, w)
    >>> w
    array([ 0.9, -1.9])
    """
    if not isinstance(optimizer, GradientTransformation):
        raise TypeError(f"step: optimizer must be a GradientTransformation, got {type(optimizer).__name__}")
    if optimizer.step is not None:
        return optimizer.step(grads, state, params, **extra)
    updates, new_state = optimizer.update(grads, state, params, **extra)
    return apply_updates(params, updates), new_state
