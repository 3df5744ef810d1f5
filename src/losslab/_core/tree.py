"""Parameter trees: an array, or nested dicts/lists/tuples of arrays.

These helpers let optimizers and models treat a single array and a dict of arrays alike.
Trees are never mutated: every function returns a new tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure_equal",
    "tree_unflatten",
    "tree_zeros_like",
]

Tree = Any


def _is_node(x: Any) -> bool:
    return isinstance(x, (dict, list, tuple)) and not hasattr(x, "_fields")  # NamedTuples are leaves


def tree_map(fn: Callable[..., Any], tree: Tree, *rest: Tree) -> Tree:
    """Apply ``fn`` leaf-wise over one or more trees of the same structure."""
    if isinstance(tree, dict):
        for other in rest:
            if not isinstance(other, dict) or other.keys() != tree.keys():
                raise ValueError(f"tree structures differ: keys {sorted(tree)} vs {_describe(other)}")
        return {k: tree_map(fn, tree[k], *(o[k] for o in rest)) for k in tree}
    if isinstance(tree, (list, tuple)) and _is_node(tree):
        for other in rest:
            if not isinstance(other, (list, tuple)) or len(other) != len(tree):
                raise ValueError(f"tree structures differ: {len(tree)} items vs {_describe(other)}")
        out = [tree_map(fn, *items) for items in zip(tree, *rest)]
        return type(tree)(out) if isinstance(tree, tuple) else out
    return fn(tree, *rest)


def _describe(x: Any) -> str:
    if isinstance(x, dict):
        return f"keys {sorted(x)}"
    if isinstance(x, (list, tuple)):
        return f"{len(x)} items"
    return f"a leaf of type {type(x).__name__}"


def tree_leaves(tree: Tree) -> list[Any]:
    """The leaves in a deterministic order (dict insertion order)."""
    leaves: list[Any] = []
    tree_map(leaves.append, tree)
    return leaves


def tree_flatten(tree: Tree) -> tuple[list[Any], Tree]:
    """Leaves and a skeleton that ``tree_unflatten`` refills."""
    leaves = tree_leaves(tree)
    counter = iter(range(len(leaves)))
    skeleton = tree_map(lambda _: next(counter), tree)
    return leaves, skeleton


def tree_unflatten(skeleton: Tree, leaves: list[Any]) -> Tree:
    """Inverse of :func:`tree_flatten`."""
    return tree_map(lambda i: leaves[i], skeleton)


def tree_structure_equal(a: Tree, b: Tree) -> bool:
    """Whether two trees have the same nesting and keys."""
    try:
        tree_map(lambda *_: None, a, b)
    except ValueError:
        return False
    return True


def tree_zeros_like(tree: Tree) -> Tree:
    """Zeros shaped like each leaf (NumPy leaves stay NumPy, dtype kept)."""
    return tree_map(lambda x: np.zeros_like(np.asarray(x)), tree)
