"""Optional compiled evaluation of element-wise losses (used only when Numba is importable).

Cache-blocked NumPy evaluation (``ElementwiseLoss._fast_path``) still makes a few passes over
each block and allocates a fresh gradient, and it runs on one core. Where that cannot reach the
performance contract, a loss may declare a scalar element formula
``element(y_pred_i, y_true_i, *params) -> (loss_i, dloss_i/dy_pred_i)`` with
``ElementwiseLoss.compiled(element)``; when Numba is installed (``pip install losslab[fast]``)
the engine compiles (on first use, about a second per loss, dtype and
gradient/no-gradient variant) one fused, multi-threaded pass that sums the loss, writes the scaled
gradient and gathers the min/max (and a non-finite flag) of both inputs for validation, all from
the values already in registers. Without Numba nothing here is imported and the NumPy path
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
(the tests pin it to 1e-12 relative in float64).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from losslab._core.compiled import available, disabled
from losslab._core.compiled import numba as _numba

__all__ = ["available", "disabled", "evaluate", "evaluate_aux"]

_drivers: dict[tuple[Callable[..., Any], bool], Callable[..., Any]] = {}
_failed: set[tuple[Any, ...]] = set()
_block_drivers: dict[tuple[Callable[..., Any], int, bool], Callable[..., Any]] = {}
_executor: dict[int, ThreadPoolExecutor] = {}
AUX_CHUNK_BLOCKS = 8  # blocks per chunk a thread takes at a time in the aux pass


def _driver(element: Callable[..., Any], with_grad: bool) -> Callable[..., Any]:
    key = (element, with_grad)
    if key in _drivers:
        return _drivers[key]
    numba = _numba()
    # Re-association lets the sums vectorize; NaN and infinity semantics are kept (no nnan/ninf),
    # so non-finite inputs still show up in the flag and the results.
    flags = {"reassoc"}
    # The element itself is compiled without fast-math flags (inlined, its operations keep their
    # own strict semantics): only the driver's sums and min/max may be re-associated.
    elem = numba.njit(element)
    prange = numba.prange

    def run(p, t, out, scale, params, chunks):
        n = p.size
        step = (n + chunks - 1) // chunks
        res = np.empty((chunks, 6))
        for c in prange(chunks):
            start = c * step
            stop = min(start + step, n)
            total = 0.0
            bad = 0.0
            lo_p = np.inf
            hi_p = -np.inf
            lo_t = np.inf
            hi_t = -np.inf
            for i in range(start, stop):
                x = p[i]
                y = t[i]
                value, slope = elem(x, y, *params)
                total += value
                if with_grad:
                    out[i] = slope * scale
                lo_p = x if x < lo_p else lo_p
                hi_p = x if x > hi_p else hi_p
                lo_t = y if y < lo_t else lo_t
                hi_t = y if y > hi_t else hi_t
                bad += (x - x) + (y - y)
            res[c, 0] = total
            res[c, 1] = lo_p
            res[c, 2] = hi_p
            res[c, 3] = lo_t
            res[c, 4] = hi_t
            res[c, 5] = bad
        return res

    compiled = numba.njit(parallel=True, nogil=True, fastmath=flags)(run)
    _drivers[key] = compiled
    return compiled


def evaluate(
    element: Callable[..., Any],
    p: np.ndarray,
    t: np.ndarray,
    out: np.ndarray | None,
    scale: float,
    params: tuple[Any, ...],
) -> tuple[float, float, float, float, float, bool] | None:
    """One fused pass over flat contiguous float32/float64 ``p``, ``t``.

    Returns ``(loss sum, min p, max p, min t, max t, all finite)`` and writes
    ``scale * dloss/dp`` into ``out`` when given; ``None`` when the element formula cannot be
    compiled for these arguments (the caller then uses NumPy). NaN never enters the min/max (the
    flag catches it).
    """
    numba = _numba()
    chunks = 8 * numba.get_num_threads()
    key = (element, out is not None, p.dtype.str, tuple(type(v) for v in params))
    if key in _failed:
        return None
    run = _driver(element, out is not None)
    # Chunks are handed out one at a time (dynamic scheduling), so a core busy with other work
    # delays only the chunks it takes rather than a fixed half of the array.
    previous = numba.get_parallel_chunksize()
    numba.set_parallel_chunksize(1)
    try:
        res = run(p, t, p[:0] if out is None else out, scale, params, chunks)
    except numba.core.errors.NumbaError:
        # An element formula Numba cannot type for these arguments: the NumPy path takes over.
        _failed.add(key)
        return None
    finally:
        numba.set_parallel_chunksize(previous)
    finite = bool(np.isfinite(res[:, 5]).all())
    return (
        float(res[:, 0].sum()),
        float(res[:, 1].min()),
        float(res[:, 2].max()),
        float(res[:, 3].min()),
        float(res[:, 4].max()),
        finite,
    )


def _block_driver(element: Callable[..., Any], n_aux: int, with_grad: bool) -> Callable[..., Any]:
    """A serial, GIL-free compiled pass over one block whose ``n_aux`` auxiliaries NumPy filled.

    Two loops: the element loop is compiled with strict floating-point semantics (Numba applies a
    function's fast-math flags to the code it inlines, and re-association inside the element
    would round differently from the NumPy formula); the loop that sums the losses and gathers
    the min/max then re-associates freely, so it vectorizes.
    """
    key = (element, n_aux, with_grad)
    if key in _block_drivers:
        return _block_drivers[key]
    numba = _numba()
    elem = numba.njit(element)

    if n_aux == 1:

        def fill(p, t, a0, a1, values, out, scale, params):
            for i in range(p.size):
                value, slope = elem(p[i], t[i], a0[i], *params)
                values[i] = value
                if with_grad:
                    out[i] = slope * scale

    elif n_aux == 2:

        def fill(p, t, a0, a1, values, out, scale, params):
            for i in range(p.size):
                value, slope = elem(p[i], t[i], a0[i], a1[i], *params)
                values[i] = value
                if with_grad:
                    out[i] = slope * scale

    else:  # pragma: no cover - declarations use one or two auxiliaries
        raise ValueError(f"compiled: 1 or 2 auxiliary arrays are supported, got {n_aux}")

    def summarize(p, t, values):
        total = 0.0
        bad = 0.0
        lo_p = np.inf
        hi_p = -np.inf
        lo_t = np.inf
        hi_t = -np.inf
        for i in range(p.size):
            x = p[i]
            y = t[i]
            total += values[i]
            lo_p = x if x < lo_p else lo_p
            hi_p = x if x > hi_p else hi_p
            lo_t = y if y < lo_t else lo_t
            hi_t = y if y > hi_t else hi_t
            bad += (x - x) + (y - y)
        return total, lo_p, hi_p, lo_t, hi_t, bad

    fill_c = numba.njit(nogil=True)(fill)
    summarize_c = numba.njit(nogil=True, fastmath={"reassoc"})(summarize)

    def run(p, t, a0, a1, values, out, scale, params):
        fill_c(p, t, a0, a1, values, out, scale, params)
        return summarize_c(p, t, values)

    # One compiled call per block: dispatching from Python costs microseconds, held under the GIL.
    compiled = numba.njit(nogil=True)(run)
    _block_drivers[key] = compiled
    return compiled


def _threads() -> int:
    return max(1, min(int(_numba().get_num_threads()), os.cpu_count() or 1))


def _pool(workers: int) -> ThreadPoolExecutor:
    if workers not in _executor:
        _executor[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="losslab-loss")
    return _executor[workers]


def evaluate_aux(
    element: Callable[..., Any],
    aux: Callable[..., None],
    n_aux: int,
    p: np.ndarray,
    t: np.ndarray,
    out: np.ndarray | None,
    scale: float,
    params: tuple[Any, ...],
    block: int,
) -> tuple[float, float, float, float, float, bool] | None:
    """:func:`evaluate` for an element formula with auxiliaries: for each block of ``block``
    elements, ``aux(p_block, *scratch)`` fills ``n_aux`` scratch arrays with NumPy (vectorized
    transcendental functions), then ``element(x, y, a_0, ..., *params)`` runs compiled over the
    block while it is in cache. Chunks of blocks go to a thread pool one at a time, so a core busy
    with other work slows down only the chunks it takes.
    """
    n = p.size
    key = (element, n_aux, out is not None, p.dtype.str, tuple(type(v) for v in params))
    if key in _failed:
        return None
    numba = _numba()
    run = _block_driver(element, n_aux, out is not None)
    chunk = AUX_CHUNK_BLOCKS * block
    n_chunks = -(-n // chunk)
    counter = itertools.count()
    empty_out = p[:0]

    def work() -> tuple[float, float, float, float, float, float]:
        scratch = [np.empty(block, p.dtype) for _ in range(2)]
        values = np.empty(block, np.float64)
        total = bad = 0.0
        lo_p = lo_t = math.inf
        hi_p = hi_t = -math.inf
        while True:
            c = next(counter)
            if c >= n_chunks:
                break
            for start in range(c * chunk, min((c + 1) * chunk, n), block):
                stop = min(start + block, n)
                pb, tb = p[start:stop], t[start:stop]
                a = [s[: stop - start] for s in scratch]
                aux(pb, *a[:n_aux])
                ob = empty_out if out is None else out[start:stop]
                s_, lp, hp, lt, ht, b_ = run(pb, tb, a[0], a[1], values[: stop - start], ob, scale, params)
                total += s_
                bad += b_
                lo_p, hi_p = min(lo_p, lp), max(hi_p, hp)
                lo_t, hi_t = min(lo_t, lt), max(hi_t, ht)
        return total, lo_p, hi_p, lo_t, hi_t, bad

    workers = min(_threads(), n_chunks)
    try:
        if workers == 1:
            parts = [work()]
        else:
            futures = [_pool(workers).submit(work) for _ in range(workers)]
            parts = [f.result() for f in futures]
    except numba.core.errors.NumbaError:
        _failed.add(key)
        return None
    return (
        sum(q[0] for q in parts),
        min(q[1] for q in parts),
        max(q[2] for q in parts),
        min(q[3] for q in parts),
        max(q[4] for q in parts),
        all(math.isfinite(q[5]) for q in parts),
    )
