"""The optimizer core: pure gradient transformations composed with ``chain``.

An optimizer is a :class:`GradientTransformation` -- a pair of pure functions::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

``params``, ``grads`` and ``updates`` are trees (an array, or nested dicts/lists/tuples of arrays).
``update`` never mutates its inputs; state is a NamedTuple of trees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

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
        lambda params: EmptyState(), lambda grads, state, params=None: (grads, state)
    )


def scale(factor: float) -> GradientTransformation:
    """Multiply updates by a constant ``factor`` (``scale(-lr)`` is plain gradient descent)."""

    def update(grads: Updates, state: State, params: Params = None) -> tuple[Updates, State]:
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

    def init(params: Params) -> ChainState:
        return ChainState(tuple(t.init(params) for t in transformations))

    def update(grads: Updates, state: ChainState, params: Params = None) -> tuple[Updates, ChainState]:
        new_states = []
        for t, s in zip(transformations, state.inner):
            grads, s = t.update(grads, s, params)
            new_states.append(s)
        return grads, ChainState(tuple(new_states))

    return GradientTransformation(init, update)


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates`` leaf-wise, as new arrays (inputs are never mutated).

    The result keeps each parameter's dtype (float32 parameters stay float32).
    """

    def add(p: Any, u: Any) -> Any:
        if isinstance(p, np.ndarray) or np.isscalar(p):
            p_arr = np.asarray(p)
            return np.asarray(p_arr + u).astype(p_arr.dtype, copy=False)
        return p + u

    return tree_map(add, params, updates)
