"""Objectives seen as functions of one flat parameter vector: the adapter the landscape tools share.

An *objective* is anything the landscape functions take as ``obj``:

- a model objective (:class:`losslab.models.Objective`): ``value``, ``grad``/``value_and_grad``,
  an exact ``hvp`` and the batched ``values(stacked_params)``;
- a test function (``value``, ``grad``, ``hessian`` on arrays, :mod:`losslab.landscape.functions`);
- any object with ``value`` (or a plain callable) and ``grad``; its Hessian-vector products are then
  central differences of the gradient (:func:`losslab.landscape.hessian.hvp`).

Parameters are any tree of arrays (:mod:`losslab._core.tree`); the adapter ravels them once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from losslab._core.tree import tree_flatten, tree_leaves_with_paths, tree_ravel, tree_unflatten

__all__ = ["Flat", "flat"]


class Flat:
    """``obj`` at parameters shaped like ``params``, as functions of a flat vector ``x``."""

    def __init__(self, obj: Any, params: Any, where: str) -> None:
        if not (callable(obj) or hasattr(obj, "value")):
            raise TypeError(f"{where}: obj must be an objective (with value/grad) or a callable, got {obj!r}")
        self.obj = obj
        self.where = where
        self.params = params
        self.x0, self._unravel = tree_ravel(params)
        if self.x0.size == 0:
            raise ValueError(f"{where}: params holds no parameters")
        if not np.issubdtype(self.x0.dtype, np.floating):
            self.x0 = self.x0.astype(np.float64)
        if not np.isfinite(self.x0).all():
            bad = [
                _name(p)
                for p, leaf in tree_leaves_with_paths(params)
                if not np.isfinite(np.asarray(leaf)).all()
            ]
            raise ValueError(f"{where}: params contains NaN or infinite values (in {', '.join(bad)})")
        leaves, self._skeleton = tree_flatten(params)
        self._shapes = [np.shape(leaf) for leaf in leaves]
        self._sizes = [int(np.size(leaf)) for leaf in leaves]
        self.exact_hvp = hasattr(obj, "hvp") or hasattr(obj, "hessian")

    @property
    def n(self) -> int:
        return int(self.x0.size)

    def unravel(self, x: np.ndarray) -> Any:
        return self._unravel(x)

    def ravel(self, tree: Any, name: str = "direction") -> np.ndarray:
        """A tree like ``params`` as a flat vector (structure and shapes checked)."""
        try:
            vec, _ = tree_ravel(tree)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{self.where}: {name} must be a tree like params ({error})") from None
        leaves, _ = tree_flatten(tree)
        shapes = [np.shape(leaf) for leaf in leaves]
        if shapes != self._shapes:
            raise ValueError(
                f"{self.where}: {name} must have the structure and shapes of params, "
                f"got leaf shapes {shapes} for {self._shapes}"
            )
        vec = np.asarray(vec, dtype=np.float64)
        if not np.isfinite(vec).all():
            raise ValueError(f"{self.where}: {name} contains NaN or infinite values")
        return vec

    def stacked(self, M: np.ndarray) -> Any:
        """Rows of ``M`` (K, n) as one tree whose leaves carry a leading K axis."""
        parts = []
        offset = 0
        for shape, size in zip(self._shapes, self._sizes):
            parts.append(M[:, offset : offset + size].reshape(M.shape[0], *shape))
            offset += size
        return tree_unflatten(self._skeleton, parts)

    # -- evaluation -------------------------------------------------------------------------------

    def value(self, x: np.ndarray) -> float:
        p = self.unravel(x)
        fn: Callable[[Any], Any] = self.obj.value if hasattr(self.obj, "value") else self.obj
        return float(fn(p))

    def values(self, M: np.ndarray) -> np.ndarray:
        """Values at the rows of ``M``: one batched call when ``obj`` has ``values``, else a loop."""
        if hasattr(self.obj, "values"):
            return np.asarray(self.obj.values(self.stacked(M)), dtype=np.float64)
        return np.array([self.value(row) for row in M])

    def grad(self, x: np.ndarray) -> np.ndarray:
        p = self.unravel(x)
        if hasattr(self.obj, "value_and_grad"):
            g = self.obj.value_and_grad(p)[1]
        elif hasattr(self.obj, "grad"):
            g = self.obj.grad(p)
        else:
            raise TypeError(f"{self.where}: obj has no gradient (grad or value_and_grad)")
        return np.asarray(tree_ravel(g)[0], dtype=np.float64)


def flat(obj: Any, params: Any, where: str) -> Flat:
    return Flat(obj, params, where)


def _name(path: tuple[Any, ...]) -> str:
    return "/".join(str(p) for p in path) or "the array"
