"""Optional compiled evaluation of element-wise losses (used only when Numba is importable).

Cache-blocked NumPy evaluation (``ElementwiseLoss._fast_path``) still makes a few passes over
each block and allocates a fresh gradient, and it runs on one core. Where that cannot reach the
performance contract, a loss may declare a scalar element formula
``element(y_pred_i, y_true_i, *params) -> (loss_i, dloss_i/dy_pred_i)`` with
``ElementwiseLoss.compiled(element)``; when Numba is installed (``pip install losslab[fast]``)
the engine compiles (on first use, about a second per loss, dtype and
gradient/no-gradient variant) one fused, multi-threaded pass that sums the loss, writes the scaled
gradient and counts the entries of either input outside its valid range (NaN and infinities
included), all from the values already in registers. Without Numba nothing here is imported and the NumPy path
runs; the environment variable ``LOSSLAB_NO_COMPILED=1`` or :func:`disabled` switches the
compiled pass off.

Transcendental functions: without Intel's SVML (not part of a plain Numba install) Numba calls
libm's scalar ``exp``/``log1p`` once per element, several times slower than NumPy's own vectorized
(AVX2/AVX-512) loops. An element formula that needs them therefore declares an ``aux`` pass: a
NumPy function that fills per-element auxiliaries (``exp(-|x|)``, ``log1p(...)``) for one
cache-sized block, which the compiled element pass then reads while the block is still in cache
(:func:`evaluate` with ``aux``). Those blocks run on a small thread pool (NumPy's ufuncs and the
``nogil`` compiled pass release the GIL), handed out one chunk at a time.

The compiled pass equals the NumPy path up to the order of floating-point additions in the sum
(the tests pin it to 1e-12 relative in float64). The order itself is fixed: the array is cut
into chunks of a fixed size (independent of the number of threads), each chunk's sum is made in
index order and the chunk sums are added in chunk order, so a given input gives bitwise the same
value on every call, whichever thread takes which chunk and however many threads there are.

Vectorization: the element loops are compiled with NumPy's error model (a division by zero gives
``inf``/``nan`` as in NumPy instead of raising ``ZeroDivisionError``, whose check per division
keeps LLVM from vectorizing the loop), and validation counts out-of-range entries with
comparisons (a min/max reduction does not vectorize without fast-math flags that would also drop
NaN semantics).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab._core import buffers
from losslab._core.compiled import available, disabled, lock
from losslab._core.compiled import numba as _numba

__all__ = ["available", "disabled", "evaluate", "evaluate_aux"]

_drivers: dict[tuple[Callable[..., Any], bool], Callable[..., Any]] = {}
_failed: set[tuple[Any, ...]] = set()
_block_drivers: dict[tuple[Any, ...], tuple[Callable[..., Any], Callable[..., Any]]] = {}
AUX_CHUNK_BLOCKS = 8  # blocks per chunk a thread takes at a time in the aux pass
CHUNK = 1 << 16  # elements per chunk of the parallel pass (a fixed partition: see the docstring)

#: ``(low_p, high_p, low_t, high_t)``: closed, finite bounds of y_pred and y_true (see :func:`bounds`).
Bounds = tuple[float, float, float, float]


def bounds(
    low_p: float,
    high_p: float,
    low_t: float,
    high_t: float,
    open_p: tuple[bool, bool] = (False, False),
    open_t: tuple[bool, bool] = (False, False),
) -> Bounds:
    """Closed, finite range bounds equivalent to a domain's: an entry ``v`` is valid exactly when
    ``low <= v <= high``.

    Infinite bounds become the largest finite double (infinite entries are then out of range, as
    the engine's domains require finite values) and an open bound moves to the next double inward
    (exact for float64 entries, and for float32 entries, which convert to float64 exactly). NaN
    fails every comparison, so it counts as out of range too.
    """
    big = float(np.finfo(np.float64).max)

    def close(low: float, high: float, opened: tuple[bool, bool]) -> tuple[float, float]:
        lo = max(float(low), -big)
        hi = min(float(high), big)
        if opened[0]:
            lo = math.nextafter(lo, math.inf)
        if opened[1]:
            hi = math.nextafter(hi, -math.inf)
        return lo, hi

    lo_p, hi_p = close(low_p, high_p, open_p)
    lo_t, hi_t = close(low_t, high_t, open_t)
    return lo_p, hi_p, lo_t, hi_t


def _driver(element: Callable[..., Any], with_grad: bool) -> Callable[..., Any]:
    key = (element, with_grad)
    if key in _drivers:
        return _drivers[key]
    numba = _numba()
    # Re-association lets the sum vectorize; NaN and infinity semantics are kept (no nnan/ninf).
    flags = {"reassoc"}
    # The element itself is compiled without fast-math flags (its operations keep their own
    # strict semantics): only the driver's sum may be re-associated.
    elem = numba.njit(element, error_model="numpy")
    prange = numba.prange

    def run(p, t, out, scale, params, limits, chunks):
        n = p.size
        step = (n + chunks - 1) // chunks
        lo_p, hi_p, lo_t, hi_t = limits
        res = np.zeros((chunks, 2))
        for c in prange(chunks):
            start = c * step
            stop = min(start + step, n)
            total = 0.0
            outside = 0
            for i in range(start, stop):
                x = p[i]
                y = t[i]
                value, slope = elem(x, y, *params)
                total += value
                if with_grad:
                    out[i] = slope * scale
                inside = (x >= lo_p) & (x <= hi_p) & (y >= lo_t) & (y <= hi_t)
                outside += 0 if inside else 1
            res[c, 0] = total
            res[c, 1] = outside
        return res

    compiled = numba.njit(parallel=True, nogil=True, fastmath=flags, error_model="numpy")(run)
    _drivers[key] = compiled
    return compiled


def evaluate(
    element: Callable[..., Any],
    p: np.ndarray,
    t: np.ndarray,
    out: np.ndarray | None,
    scale: float,
    params: tuple[Any, ...],
    limits: Bounds,
) -> tuple[float, bool] | None:
    """One fused pass over flat contiguous float32/float64 ``p``, ``t``.

    Returns ``(loss sum, valid)`` and writes ``scale * dloss/dp`` into ``out`` when given;
    ``valid`` is whether every entry lies within ``limits`` (:func:`bounds`: so also finite and
    not NaN). ``None`` when the element formula cannot be compiled for these arguments (the caller
    then uses NumPy).
    """
    numba = _numba()
    chunks = max(1, -(-p.size // CHUNK))
    key = (element, out is not None, p.dtype.str, tuple(type(v) for v in params))
    if key in _failed:
        return None
    run = _driver(element, out is not None)
    # Chunks are handed out one at a time (dynamic scheduling), so a core busy with other work
    # delays only the chunks it takes rather than a fixed half of the array.
    with lock():  # one parallel launch at a time (the fork-safe threading layer needs it)
        previous = numba.get_parallel_chunksize()
        numba.set_parallel_chunksize(1)
        try:
            res = run(p, t, p[:0] if out is None else out, scale, params, limits, chunks)
        except numba.core.errors.NumbaError:
            # An element formula Numba cannot type for these arguments: the NumPy path takes over.
            _failed.add(key)
            return None
        finally:
            numba.set_parallel_chunksize(previous)
    return _ordered_sum(res[:, 0]), not res[:, 1].any()


def _ordered_sum(parts: np.ndarray) -> float:
    """The sum of per-chunk totals in chunk order (a fixed order, unlike a threaded reduction)."""
    total = 0.0
    for v in parts.tolist():
        total += v
    return total


def _block_driver(
    element: Callable[..., Any], n_aux: int, with_grad: bool, pre: Callable[..., Any] | None = None
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A serial, GIL-free compiled pass over one block whose ``n_aux`` auxiliaries NumPy filled.

    Two loops: the element loop keeps strict floating-point semantics (re-association inside the
    element would round differently from the NumPy formula) and also counts the entries outside
    the bounds (an integer sum, which vectorizes as it is); the loop that sums the losses then
    re-associates freely, so it vectorizes too. With ``pre``, the same call then writes
    ``pre(x)`` of the next block into the first auxiliary array, so NumPy's part of the next block
    starts from it (one call and one pass fewer per block).
    """
    key = (element, n_aux, with_grad, pre)
    if key in _block_drivers:
        return _block_drivers[key]
    numba = _numba()
    elem = numba.njit(element, error_model="numpy")

    if n_aux == 1:

        def fill(p, t, a0, a1, values, out, scale, params, limits):
            lo_p, hi_p, lo_t, hi_t = limits
            outside = 0
            for i in range(p.size):
                x = p[i]
                y = t[i]
                value, slope = elem(x, y, a0[i], *params)
                values[i] = value
                if with_grad:
                    out[i] = slope * scale
                inside = (x >= lo_p) & (x <= hi_p) & (y >= lo_t) & (y <= hi_t)
                outside += 0 if inside else 1
            return outside

    elif n_aux == 2:

        def fill(p, t, a0, a1, values, out, scale, params, limits):
            lo_p, hi_p, lo_t, hi_t = limits
            outside = 0
            for i in range(p.size):
                x = p[i]
                y = t[i]
                value, slope = elem(x, y, a0[i], a1[i], *params)
                values[i] = value
                if with_grad:
                    out[i] = slope * scale
                inside = (x >= lo_p) & (x <= hi_p) & (y >= lo_t) & (y <= hi_t)
                outside += 0 if inside else 1
            return outside

    else:  # pragma: no cover - declarations use one or two auxiliaries
        raise ValueError(f"compiled: 1 or 2 auxiliary arrays are supported, got {n_aux}")

    def summarize(values):
        total = 0.0
        for i in range(values.size):
            total += values[i]
        return total

    if pre is None:

        def prepare(p, a0):
            return None

    else:
        pre_c = numba.njit(pre, error_model="numpy")

        def prepare(p, a0):
            for i in range(p.size):
                a0[i] = pre_c(p[i])

    fill_c = numba.njit(nogil=True, error_model="numpy")(fill)
    summarize_c = numba.njit(nogil=True, fastmath={"reassoc"})(summarize)
    prepare_c = numba.njit(nogil=True, error_model="numpy")(prepare)

    def run(p, t, a0, a1, values, out, scale, params, limits, p_next):
        outside = fill_c(p, t, a0, a1, values, out, scale, params, limits)
        total = summarize_c(values)
        prepare_c(p_next, a0)
        return total, outside

    # One compiled call per block: dispatching from Python costs microseconds, held under the GIL.
    compiled = numba.njit(nogil=True)(run)
    _block_drivers[key] = (compiled, prepare_c)
    return _block_drivers[key]


def _threads() -> int:
    return max(1, min(int(_numba().get_num_threads()), os.cpu_count() or 1))


def evaluate_aux(
    element: Callable[..., Any],
    aux: Callable[..., None],
    n_aux: int,
    p: np.ndarray,
    t: np.ndarray,
    out: np.ndarray | None,
    scale: float,
    params: tuple[Any, ...],
    limits: Bounds,
    block: int,
    pre: Callable[..., Any] | None = None,
) -> tuple[float, bool] | None:
    """:func:`evaluate` for an element formula with auxiliaries: for each block of ``block``
    elements, NumPy fills ``n_aux`` scratch arrays (vectorized transcendental functions), then
    ``element(x, y, a_0, ..., *params)`` runs compiled over the block while it is in cache.

    Without ``pre``, ``aux(p_block, *scratch)`` fills the scratch arrays from the block. With a
    scalar map ``pre``, the first scratch array already holds ``pre(x)`` (written by the compiled
    pass of the block before) and ``aux(*scratch)`` completes them in place.

    Chunks of blocks go to a thread pool one at a time, so a core busy with other work slows
    down only the chunks it takes; each chunk's total is kept apart and the totals are added in
    chunk order, so the value does not depend on which thread took which chunk. Per block, the GIL is held only to slice and to dispatch the
    NumPy calls and the one compiled call, all of which release it.
    """
    n = p.size
    key = (element, n_aux, out is not None, p.dtype.str, tuple(type(v) for v in params), pre)
    if key in _failed:
        return None
    numba = _numba()
    run, prepare = _block_driver(element, n_aux, out is not None, pre)
    chunk = AUX_CHUNK_BLOCKS * block
    n_chunks = -(-n // chunk)
    counter = itertools.count()
    empty = p[:0]
    totals = np.zeros(n_chunks)

    def work() -> int:
        a0 = np.empty(block, p.dtype)
        a1 = np.empty(block, p.dtype)
        values = np.empty(block, np.float64)
        outside = 0
        while True:
            c = next(counter)  # (itertools.count is atomic under the GIL)
            if c >= n_chunks:
                break
            total = 0.0
            first, last = c * chunk, min((c + 1) * chunk, n)
            if pre is not None:
                prepare(p[first : min(first + block, last)], a0)
            for start in range(first, last, block):
                stop = min(start + block, last)
                m = stop - start
                if m == block:
                    b0, b1, vb = a0, a1, values
                else:
                    b0, b1, vb = a0[:m], a1[:m], values[:m]
                pb = p[start:stop]
                if pre is not None:
                    if n_aux == 1:
                        aux(b0)
                    else:
                        aux(b0, b1)
                    p_next = p[stop : min(stop + block, last)]
                else:
                    if n_aux == 1:
                        aux(pb, b0)
                    else:
                        aux(pb, b0, b1)
                    p_next = empty
                ob = empty if out is None else out[start:stop]
                s_, o_ = run(pb, t[start:stop], b0, b1, vb, ob, scale, params, limits, p_next)
                total += s_
                outside += o_
            totals[c] = total
        return outside

    workers = min(_threads(), n_chunks)
    try:
        if workers == 1:
            outside = [work()]
        else:
            pool = buffers.executor("loss", workers)
            futures = [pool.submit(work) for _ in range(workers)]
            outside = [f.result() for f in futures]
    except numba.core.errors.NumbaError:
        _failed.add(key)
        return None
    return _ordered_sum(totals), not any(outside)
