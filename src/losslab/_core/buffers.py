"""Recycled output buffers and a small thread pool for large element-wise kernels (optimizers, losses).

Fresh multi-megabyte NumPy arrays are mapped from the OS on every allocation, and the first write
to each page costs a page fault -- for an Adam step on 10^7 parameters that is a large share of the
time. Large outputs are therefore taken from a pool of arrays this module handed out earlier and
that nobody references any more (reference count: only the pool). An array that is still
referenced -- directly, through a view, or inside a state the caller kept -- is never reused, so
``update`` stays pure from the caller's point of view.

Thread and fork safety: the pool is guarded by one lock (a recycled array is handed to one caller
only), and losslab's thread pools are created under a lock and forgotten in a forked child (whose
copy of the parent's worker threads does not run), so the child starts fresh ones on first use.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["cores", "empty", "empty_shaped", "executor", "parallel_ranges", "release_buffers"]

# Elements; smaller arrays come from NumPy's own allocator. Above a few hundred kilobytes the C
# allocator maps fresh pages from the OS (and returns them on free), and on a virtual machine each
# first touch of a page is costly: a network's (10^4, 32) float64 activations took 2 ms to allocate
# and fill against 0.3 ms to compute.
POOL_MIN_SIZE = 1 << 15
POOL_MAX_ARRAYS = 32
PARALLEL_MIN_SIZE = 1 << 20
_pool: list[np.ndarray] = []
_lock = threading.Lock()
_executors: dict[tuple[str, int], ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()
# Threads for kernels over >= PARALLEL_MIN_SIZE elements. One by default: on the 2-core reference
# machine the Adam step is memory-bound and a second thread measured no faster (slower in float64
# under load); raise it on machines with idle cores and spare memory bandwidth.
_WORKERS = 1


def empty(n: int, dtype: Any) -> np.ndarray:
    """A flat uninitialised array of ``n`` elements, recycled from the pool when one is free."""
    dtype = np.dtype(dtype)
    if n < POOL_MIN_SIZE:
        return np.empty(n, dtype)
    with _lock:
        a: np.ndarray | None = None
        for i in range(len(_pool)):  # (no enumerate: its reused tuple would hold a reference)
            a = _pool[i]
            # references: the pool's list, the local ``a``, getrefcount's argument
            if a.size == n and a.dtype == dtype and sys.getrefcount(a) <= 3:
                _pool.append(_pool.pop(i))  # most recently used last
                return a
        a = None  # (drop the loop's reference before counting references below)
        out = np.empty(n, dtype)
        _pool.append(out)
        if len(_pool) > POOL_MAX_ARRAYS:
            for i in range(len(_pool)):
                if sys.getrefcount(_pool[i]) <= 2:  # the list and the argument
                    del _pool[i]
                    break
            else:
                _pool.pop(0)  # all in use: forget the oldest (it lives on with its owner)
        return out


def empty_shaped(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """:func:`empty` as a C-contiguous array of ``shape`` (a view of the pooled flat array, which
    therefore stays referenced, and so out of the pool, while the view lives)."""
    n = 1
    for d in shape:
        n *= d
    return empty(n, dtype).reshape(shape)


def release_buffers() -> None:
    """Drop the pool (arrays still referenced elsewhere live on with their owners)."""
    with _lock:
        _pool.clear()


def cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def executor(name: str, workers: int) -> ThreadPoolExecutor:
    """losslab's shared thread pool ``name`` with ``workers`` threads (created once, thread-safely)."""
    key = (name, workers)
    pool = _executors.get(key)
    if pool is None:
        with _executors_lock:
            pool = _executors.get(key)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"losslab-{name}")
                _executors[key] = pool
    return pool


def _reset_in_child() -> None:
    # The parent's worker threads do not exist in the child, and a lock another thread held at the
    # fork stays held: give the child fresh locks and let it start its own pools.
    global _lock, _executors_lock
    _lock = threading.Lock()
    _executors_lock = threading.Lock()
    _executors.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)


def parallel_ranges(n: int, block: int, work: Callable[[int, int], None]) -> None:
    """Run ``work(lo, hi)`` over ``[0, n)`` split into contiguous block-aligned ranges, in threads
    when ``n`` is large (NumPy ufuncs release the GIL, so the ranges run concurrently)."""
    if n < PARALLEL_MIN_SIZE or _WORKERS == 1:
        work(0, n)
        return
    pool = executor("ranges", _WORKERS)
    blocks = -(-n // block)
    per = -(-blocks // _WORKERS)
    bounds: Sequence[tuple[int, int]] = [
        (i * per * block, min((i + 1) * per * block, n)) for i in range(_WORKERS) if i * per * block < n
    ]
    futures = [pool.submit(work, lo, hi) for lo, hi in bounds]
    for f in futures:
        f.result()
