"""The optimizer core: pure gradient transformations composed with ``chain``.

An optimizer is a :class:`GradientTransformation` -- a pair of pure functions::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

``params``, ``grads`` and ``updates`` are trees (an array, or nested dicts/lists/tuples of arrays).
``update`` never mutates its inputs; state is a NamedTuple of trees.

Extra keyword arguments of ``update`` (such as ``value=loss`` for
:func:`~losslab.optim.reduce_on_plateau`) are passed by :func:`chain` to every transformation
whose ``update`` accepts them (by name or through ``**extra``); the others never see them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from losslab._core import buffers as _buffers
from losslab._core.tree import tree_map

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "apply_updates",
    "chain",
    "identity",
    "scale",
]

Params = Any
Updates = Any
State = Any


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state, params=None) -> (updates, state)``."""

    init: Callable[[Params], State]
    update: Callable[..., tuple[Updates, State]]


class EmptyState(NamedTuple):
    """State of a stateless transformation."""


def identity() -> GradientTransformation:
    """Pass gradients through unchanged."""
    return GradientTransformation(
        lambda params: EmptyState(), lambda grads, state, params=None, **extra: (grads, state)
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
    """Apply transformations in sequence: each one's updates feed the next."""
    for i, t in enumerate(transformations):
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain: argument {i} must be a GradientTransformation, got {type(t).__name__}")

    accepted = [_extra_arguments(t.update) for t in transformations]

    def init(params: Params) -> ChainState:
        return ChainState(tuple(t.init(params) for t in transformations))

    def update(
        grads: Updates, state: ChainState, params: Params = None, **extra: Any
    ) -> tuple[Updates, ChainState]:
        new_states = []
        for t, s, names in zip(transformations, state.inner, accepted):
            kwargs = extra if names is None else {k: v for k, v in extra.items() if k in names}
            grads, s = t.update(grads, s, params, **kwargs)
            new_states.append(s)
        return grads, ChainState(tuple(new_states))

    return GradientTransformation(init, update)


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
    parameters become float64.

    >>> apply_updates({"w": np.array([4.0])}, {"w": np.array([-2.4])})
    {'w': array([1.6])}
    """

    def add(p: Any, u: Any) -> Any:
        if isinstance(p, np.ndarray) or np.isscalar(p):
            p_arr = np.asarray(p)
            dtype = p_arr.dtype if np.issubdtype(p_arr.dtype, np.floating) else np.dtype(np.float64)
            u_arr = np.asarray(u)
            if p_arr.size >= _buffers.POOL_MIN_SIZE and u_arr.shape == p_arr.shape:
                out = _buffers.empty(p_arr.size, dtype).reshape(p_arr.shape)
                return np.add(p_arr, u_arr, out=out, casting="unsafe")
            return np.asarray(p_arr + u_arr).astype(dtype, copy=False)
        return p + u

    return tree_map(add, params, updates)
