r"""Optional compiled kernels for fused optimizer steps (used only when Numba is importable).

The cache-blocked NumPy step (``transforms._adam_leaf``) keeps its temporaries in cache, but it
still makes about fifteen ufunc passes over every block, which on a large parameter vector makes
it compute-bound at several times PyTorch's fused step. Blocking cannot close that gap, so when
Numba is installed (``pip install losslab[fast]``) the fused Adam step runs as one compiled loop
that reads :math:`\theta, g, m, v` (and :math:`\hat v_{max}`) once and writes
:math:`\theta', m', v'` once, multi-threaded for large leaves.

The kernel makes exactly the NumPy path's floating-point operations, in the same order and in
the same precision (the scalars are rounded to the arrays' dtype first, as NumPy does with Python
floats), and Numba compiles without fast-math, so nothing is contracted or re-associated: the
results are bitwise equal to the NumPy path (tested). The NumPy path stays the reference and the
fallback; the environment variable ``LOSSLAB_NO_COMPILED=1`` or :func:`disabled` switches the
compiled kernels off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from losslab._core.compiled import available, disabled, lock
from losslab._core.compiled import numba as _numba

__all__ = ["adam_step", "available", "disabled"]

# Leaves at least this long run on all of Numba's threads; shorter ones on the calling thread.
PARALLEL_MIN_SIZE = 1 << 17

_kernels: dict[str, Callable[..., Any]] = {}


def adam_step(
    p: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    vm: np.ndarray | None,
    outputs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
    *,
    c1: float,
    c2: float,
    b2: float,
    scaled_coef: float,
    scaled_eps: float,
    grad_param_coef: float,
    param_coef: float,
) -> int:
    r"""One fused Adam step over flat contiguous arrays of one floating dtype, into ``outputs``.

    ``outputs = (p_out, m_out, v_out, vm_out)``; with :math:`\tilde g = c_g p + g`:
    :math:`m' = (\tilde g - m)c_1 + m`, :math:`v' = b_2 v + c_2\tilde g^2`,
    :math:`\hat v = \max(v_{max}, v')` (``vm`` given) or :math:`v'`,
    :math:`\theta' = \theta + (s\,m')/(\sqrt{\hat v} + e) + c_p\theta`. Returns the number of
    non-finite entries of ``g`` (counted in the same pass, for the input check).
    """
    numba = _numba()
    if not _kernels:
        from losslab.optim import _kernels as kernels  # imports Numba; compiled (or loaded) once

        _kernels["serial"] = kernels.adam_serial
        _kernels["parallel"] = kernels.adam_parallel
    dtype = p.dtype.type
    p_out, m_out, v_out, vm_out = outputs
    ams = vm is not None and vm_out is not None
    vm_in = vm if vm is not None else p[:0]
    vm_o = vm_out if vm_out is not None else p_out[:0]
    args = (
        p,
        g,
        m,
        v,
        vm_in,
        p_out,
        m_out,
        v_out,
        vm_o,
        dtype(c1),
        dtype(c2),
        dtype(b2),
        dtype(scaled_coef),
        dtype(scaled_eps),
        dtype(grad_param_coef),
        dtype(param_coef),
        ams,
    )
    # One threaded kernel at a time (the fork-safe "workqueue" threading layer aborts the process
    # on concurrent launches): a second caller runs serially instead, with the same results.
    parallel_lock = lock()
    if p.size < PARALLEL_MIN_SIZE or numba.get_num_threads() == 1 or not parallel_lock.acquire(False):
        return int(_kernels["serial"](*args))
    # Chunks are handed out one at a time, so a core busy with other work delays only the chunks
    # it takes rather than a fixed share of the array.
    chunks = 8 * numba.get_num_threads()
    previous = numba.get_parallel_chunksize()
    numba.set_parallel_chunksize(1)
    try:
        return int(_kernels["parallel"](*args, chunks))
    finally:
        numba.set_parallel_chunksize(previous)
        parallel_lock.release()
