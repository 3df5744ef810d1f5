"""Tiny argument checks for the public boundary. Messages say what, what was expected, what came."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "check_bool",
    "check_choice",
    "check_in_range",
    "check_int",
    "check_number",
    "check_positive",
]


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
