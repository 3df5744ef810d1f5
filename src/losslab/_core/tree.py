"""Parameter trees: an array, or nested dicts/lists/tuples of arrays.

These helpers let optimizers and models treat a single array and a dict of arrays alike.
Trees are never mutated: every function returns a new tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "tree_axpy",
    "tree_copy",
    "tree_flatten",
    "tree_leaves_with_paths",
    "tree_leaves",
    "tree_map",
    "tree_norm",
    "tree_random_like",
    "tree_ravel",
    "tree_structure_equal",
    "tree_unflatten",
    "tree_vdot",
    "tree_zeros_like",
]

Tree = Any


def _is_node(x: Any) -> bool:
    return isinstance(x, (dict, list, tuple)) and not hasattr(x, "_fields")  # NamedTuples are leaves


def tree_map(fn: Callable[..., Any], tree: Tree, *rest: Tree) -> Tree:
    """Apply ``fn`` leaf-wise over one or more trees of the same structure."""
    if type(tree) is np.ndarray:  # the common single-array tree, first (optimizer steps on small leaves)
        return fn(tree, *rest)
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


def tree_leaves_with_paths(tree: Tree) -> list[tuple[tuple[Any, ...], Any]]:
    """``(path, leaf)`` pairs in :func:`tree_leaves` order; a path is the tuple of keys/indices.

    >>> tree_leaves_with_paths({"w": [1.0, 2.0], "b": 3.0})
    [(('w', 0), 1.0), (('w', 1), 2.0), (('b',), 3.0)]
    """
    out: list[tuple[tuple[Any, ...], Any]] = []

    def walk(node: Tree, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for k in node:
                walk(node[k], (*path, k))
        elif _is_node(node):
            for i, item in enumerate(node):
                walk(item, (*path, i))
        else:
            out.append((path, node))

    walk(tree, ())
    return out


def tree_copy(tree: Tree) -> Tree:
    """A deep copy of the array leaves (``np.array(leaf, copy=True)``), structure rebuilt."""
    return tree_map(lambda x: np.array(x, copy=True), tree)


def tree_vdot(a: Tree, b: Tree) -> float:
    """``sum_i <a_i, b_i>`` over the leaves, accumulated in float64 (``tree_vdot(g, g)`` is ||g||^2)."""
    total = 0.0
    for x, y in zip(tree_leaves(a), tree_leaves(tree_map(lambda v, _: v, b, a))):
        total += float(
            np.vdot(np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel())
        )
    return total


def tree_axpy(alpha: float, x: Tree, y: Tree) -> Tree:
    """``alpha * x + y`` leaf-wise (BLAS's axpy), as a new tree; ``x`` and ``y`` share one structure."""
    return tree_map(lambda a, b: alpha * np.asarray(a) + np.asarray(b), x, y)


def tree_norm(tree: Tree) -> float:
    """The Euclidean norm over all leaves, :math:`\\sqrt{\\sum_i \\|x_i\\|^2}`, in float64."""
    return float(np.sqrt(tree_vdot(tree, tree)))


def tree_random_like(tree: Tree, rng: np.random.Generator) -> Tree:
    """Standard-normal leaves shaped (and typed) like ``tree``'s, drawn from ``rng`` in leaf order."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"tree_random_like: rng must be a numpy.random.Generator, got {type(rng).__name__}")

    def draw(x: Any) -> np.ndarray:
        a = np.asarray(x)
        dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64
        return rng.standard_normal(a.shape).astype(dtype, copy=False)

    return tree_map(draw, tree)


def tree_ravel(tree: Tree) -> tuple[np.ndarray, Callable[[np.ndarray], Tree]]:
    """One flat vector of all leaves (in :func:`tree_leaves` order) and the function that undoes it.

    As JAX's ``ravel_pytree``: the vector has the leaves' common result dtype, and
    ``unravel(vector)`` rebuilds the tree with every leaf's shape and dtype.

    >>> vector, unravel = tree_ravel({"W": np.ones((2, 2)), "b": np.zeros(2)})
    >>> vector.tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    >>> {k: v.shape for k, v in unravel(vector * 2).items()}
    {'W': (2, 2), 'b': (2,)}
    """
    leaves, skeleton = tree_flatten(tree)
    arrays = [np.asarray(leaf) for leaf in leaves]
    shapes = [a.shape for a in arrays]
    dtypes = [a.dtype for a in arrays]
    sizes = [a.size for a in arrays]
    offsets = np.cumsum([0, *sizes])
    dtype = np.result_type(*dtypes) if arrays else np.float64
    vector = np.concatenate([a.ravel() for a in arrays]).astype(dtype, copy=False) if arrays else np.zeros(0)

    def unravel(flat: np.ndarray) -> Tree:
        flat = np.asarray(flat)
        if flat.shape != (int(offsets[-1]),):
            raise ValueError(f"unravel: expected a vector of shape ({int(offsets[-1])},), got {flat.shape}")
        parts = [
            flat[offsets[i] : offsets[i + 1]].reshape(shapes[i]).astype(dtypes[i], copy=True)
            for i in range(len(arrays))
        ]
        return tree_unflatten(skeleton, parts)

    return vector, unravel
