"""The optional Numba dependency: one switch for every compiled pass (losses and optimizers).

losslab runs, and is tested, without Numba; with it (``pip install losslab[fast]``) the largest
element-wise kernels use compiled passes that equal their NumPy references. The environment
variable ``LOSSLAB_NO_COMPILED=1`` or the :func:`disabled` context switches them all off.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = ["available", "disabled", "numba"]

_state: dict[str, Any] = {"checked": False, "numba": None, "off": False}


def available() -> bool:
    """Whether the compiled passes are in use (Numba importable and not switched off)."""
    if _state["off"] or os.environ.get("LOSSLAB_NO_COMPILED"):
        return False
    if not _state["checked"]:
        _state["checked"] = True
        try:
            import numba as module

            _state["numba"] = module
        except ImportError:  # pragma: no cover - depends on the environment
            _state["numba"] = None
    return _state["numba"] is not None


def numba() -> ModuleType:
    """The Numba module (call only when :func:`available` is true)."""
    module = _state["numba"]
    if module is None:  # pragma: no cover - guarded by available()
        raise RuntimeError("compiled passes requested without Numba")
    return module


@contextmanager
def disabled() -> Iterator[None]:
    """Run with the NumPy paths only (for comparisons and tests)."""
    previous = _state["off"]
    _state["off"] = True
    try:
        yield
    finally:
        _state["off"] = previous
