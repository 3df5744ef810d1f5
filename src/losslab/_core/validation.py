"""Tiny argument checks for the public boundary. Messages say what, what was expected, what came."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from losslab._core.tree import _is_node, tree_leaves_with_paths

__all__ = [
    "NonFiniteError",
    "check_bool",
    "check_choice",
    "check_finite_tree",
    "check_in_range",
    "check_int",
    "check_number",
    "check_positive",
    "check_tree_leaves",
    "check_tree_match",
    "leaf_path",
]


class NonFiniteError(ValueError):
    """A ``ValueError`` for NaN or infinite values where finite ones are required (gradients,
    learning rates); training loops catch it to stop as diverged."""


def check_bool(where: str, name: str, value: Any) -> bool:
    """A plain boolean flag: ``True``/``False`` (NumPy booleans too); 0/1 and strings refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be True or False, got {name}={value!r}")
    return bool(value)


def check_number(where: str, name: str, value: Any) -> float:
    """A finite real number (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{where}: {name} must be a real number, got {name}={value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a real number, got {name}={value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{where}: {name} must be finite, got {name}={value!r}")
    return out


def check_positive(where: str, name: str, value: Any, *, strict: bool = True) -> float:
    """A finite number > 0 (or >= 0 with ``strict=False``)."""
    out = check_number(where, name, value)
    if out < 0 or (strict and out == 0):
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{where}: {name} must be {bound}, got {name}={value!r}")
    return out


def check_in_range(
    where: str,
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    closed: str = "both",
) -> float:
    """A finite number in an interval; ``closed`` is "both", "left", "right" or "neither"."""
    out = check_number(where, name, value)
    left = out >= low if closed in ("both", "left") else out > low
    right = out <= high if closed in ("both", "right") else out < high
    if not (left and right):
        lb = "[" if closed in ("both", "left") else "("
        rb = "]" if closed in ("both", "right") else ")"
        raise ValueError(f"{where}: {name} must be in {lb}{low:g}, {high:g}{rb}, got {name}={value!r}")
    return out


def check_int(where: str, name: str, value: Any, *, minimum: int | None = None) -> int:
    """An integer (bools refused), optionally >= ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        and not (hasattr(value, "__index__") and not isinstance(value, float))
    ):
        raise TypeError(f"{where}: {name} must be an integer, got {name}={value!r}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {name}={value!r}")
    return out


def check_choice(where: str, name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of a fixed set of values."""
    options = tuple(choices)
    if value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValueError(f"{where}: {name} must be one of {listed}; got {name}={value!r}")
    return value


# --------------------------------------------------------------------------- trees


def leaf_path(name: str, path: tuple[Any, ...]) -> str:
    """``name`` followed by the keys of ``path``: ``leaf_path("grads", ("W1", 0)) == "grads['W1'][0]"``."""
    return name + "".join(f"[{k!r}]" for k in path)


def _leaf_shape(where: str, label: str, x: Any) -> tuple[int, ...]:
    """The shape of an array leaf; ``TypeError`` for ``None``, strings, objects and complex numbers."""
    if x is None:
        raise TypeError(f"{where}: {label} is None; expected an array of real numbers")
    dtype = getattr(x, "dtype", None)
    shape = getattr(x, "shape", None)
    if dtype is None or shape is None:
        if isinstance(x, (bool, int, float, np.number, np.bool_)):
            return ()
        raise TypeError(f"{where}: {label} must be an array of real numbers, got {type(x).__name__}")
    if getattr(dtype, "is_complex", False) or (isinstance(dtype, np.dtype) and dtype.kind not in "biuf"):
        raise TypeError(f"{where}: {label} must hold real numbers, got dtype {dtype}")
    return tuple(shape)


def check_tree_match(where: str, a_name: str, a: Any, b_name: str, b: Any) -> None:
    """Raise unless trees ``a`` and ``b`` have the same structure and exactly equal leaf shapes.

    No broadcasting: a ``(1,)`` or scalar leaf against a ``(3,)`` one is an error. ``None`` leaves,
    strings and non-real arrays raise ``TypeError``; structure and shape differences ``ValueError``,
    each naming the leaf path (``grads['W1']``).
    """

    def walk(x: Any, y: Any, path: tuple[Any, ...]) -> None:
        if isinstance(x, dict) or isinstance(y, dict):
            if not (isinstance(x, dict) and isinstance(y, dict)) or x.keys() != y.keys():
                raise ValueError(
                    f"{where}: {leaf_path(a_name, path)} and {leaf_path(b_name, path)} differ in "
                    f"structure: {_describe(x)} vs {_describe(y)}"
                )
            for k in x:
                walk(x[k], y[k], (*path, k))
            return
        if _is_node(x) or _is_node(y):
            if not (_is_node(x) and _is_node(y)) or len(x) != len(y):
                raise ValueError(
                    f"{where}: {leaf_path(a_name, path)} and {leaf_path(b_name, path)} differ in "
                    f"structure: {_describe(x)} vs {_describe(y)}"
                )
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, (*path, i))
            return
        sa = _leaf_shape(where, leaf_path(a_name, path), x)
        sb = _leaf_shape(where, leaf_path(b_name, path), y)
        if sa != sb:
            raise ValueError(
                f"{where}: {leaf_path(a_name, path)} has shape {sa} but {leaf_path(b_name, path)} has "
                f"shape {sb}; the shapes must match exactly (no broadcasting)"
            )

    walk(a, b, ())


def _describe(x: Any) -> str:
    if isinstance(x, dict):
        return f"keys {sorted(map(str, x))}"
    if _is_node(x):
        return f"a {type(x).__name__} of {len(x)} items"
    return "an array leaf" if hasattr(x, "shape") else f"a leaf of type {type(x).__name__}"


def check_tree_leaves(where: str, name: str, tree: Any) -> None:
    """Raise ``TypeError`` unless every leaf of ``tree`` is an array (or number) of real values."""
    for path, leaf in tree_leaves_with_paths(tree):
        _leaf_shape(where, leaf_path(name, path), leaf)


def _finite_leaf(x: Any) -> bool:
    """Whether an array leaf holds only finite values (True for integer arrays and JAX tracers)."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind != "f" or not x.size:
            return True
        flat = x.reshape(-1)
        if x.flags.c_contiguous:
            with np.errstate(over="ignore", invalid="ignore"):
                if math.isfinite(float(np.dot(flat, flat))):  # finite only if every entry is
                    return True
        return bool(np.isfinite(flat).all())
    if isinstance(x, (bool, int, np.integer, np.bool_)):
        return True
    if isinstance(x, (float, np.floating)):
        return math.isfinite(float(x))
    from losslab._core.arrays import array_namespace, is_tracer

    if is_tracer(x):
        return True  # values unknown while tracing (jax.jit): shape checks only
    xp = array_namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        return True
    return bool(xp.all(xp.isfinite(x)))


def check_finite_tree(where: str, name: str, tree: Any) -> None:
    """Raise :class:`NonFiniteError` naming the first leaf with NaN or infinite entries and how
    many (``grads['W1'] has 3 NaN entries``)."""
    for path, leaf in tree_leaves_with_paths(tree):
        if _finite_leaf(leaf):
            continue
        from losslab._core.arrays import to_numpy

        a = np.asarray(to_numpy(leaf) if hasattr(leaf, "shape") else leaf)
        n_nan = int(np.isnan(a).sum())
        n_inf = int(np.isinf(a).sum())
        parts = [f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else ""]
        what = " and ".join(p for p in parts if p)
        plural = "entry" if n_nan + n_inf == 1 else "entries"
        raise NonFiniteError(f"{where}: {leaf_path(name, path)} has {what} {plural}")
