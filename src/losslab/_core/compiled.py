"""The optional Numba dependency: one switch for every compiled pass (losses and optimizers).

losslab runs, and is tested, without Numba; with it (``pip install losslab[fast]``) the largest
element-wise kernels use compiled passes that equal their NumPy references. The environment
variable ``LOSSLAB_NO_COMPILED=1`` (read when losslab is imported) or the :func:`disabled` context
switches them all off.

Fork and thread safety: unless ``NUMBA_THREADING_LAYER`` says otherwise, Numba's parallel loops
run on its fork-safe threading layer (TBB when installed, else Intel OpenMP, else the built-in
"workqueue"; GNU OpenMP aborts a forked child), so a child forked after the parent ran a
compiled pass (multiprocessing, a web server's workers) runs them too. The workqueue layer
allows one parallel launch at a time, so every parallel launch holds :func:`lock`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = ["available", "disabled", "lock", "numba"]

_state: dict[str, Any] = {"checked": False, "numba": None, "off": False}
# Read once, when losslab is imported (optimizer steps on small leaves ask for every step).
_OFF_BY_ENVIRONMENT = bool(os.environ.get("LOSSLAB_NO_COMPILED"))
_check_lock = threading.Lock()
# Held by every launch of a parallel (multi-threaded) compiled loop (see the module docstring).
parallel_lock = threading.Lock()


def _reset_after_fork() -> None:
    global parallel_lock, _check_lock
    parallel_lock = threading.Lock()
    _check_lock = threading.Lock()


def lock() -> threading.Lock:
    """The lock of parallel launches (looked up at call time: a forked child gets a fresh one)."""
    return parallel_lock


def available() -> bool:
    """Whether the compiled passes are in use (Numba importable and not switched off)."""
    if _state["off"] or _OFF_BY_ENVIRONMENT:
        return False
    if not _state["checked"]:
        with _check_lock:
            if not _state["checked"]:
                try:
                    import numba as module

                    if not os.environ.get("NUMBA_THREADING_LAYER"):
                        setattr(module.config, "THREADING_LAYER", "forksafe")  # noqa: B010
                    _state["numba"] = module
                except ImportError:  # pragma: no cover - depends on the environment
                    _state["numba"] = None
                _state["checked"] = True
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


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
