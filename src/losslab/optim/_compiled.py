r"""Optional compiled kernels for fused optimizer steps (used only when Numba is importable).

The cache-blocked NumPy step (``transforms._adam_leaf``) keeps its temporaries in cache, but it
still makes about fifteen ufunc passes over every block, which on a large parameter vector makes
it compute-bound at several times PyTorch's fused step. Blocking cannot close that gap, so when
Numba is installed (``pip install losslab[fast]``) the fused Adam step runs as one compiled loop
that reads :math:`\theta, g, m, v` (and :math:`\hat v_{max}`) once and writes
:math:`\theta', m', v'` once, split over a few threads for large leaves.

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

from losslab._core import buffers as _buffers
from losslab._core.compiled import available, disabled

__all__ = ["adam_step", "available", "disabled"]

# Leaves at least this long are split over _WORKERS threads; shorter ones run on the calling thread.
PARALLEL_MIN_SIZE = 1 << 20
# The step is memory-bound: more threads than memory channels gain nothing.
_WORKERS = max(1, min(4, _buffers.cores()))

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
    non-finite entries of :math:`\theta'` (counted in the same pass, for the input check: a NaN or
    an infinity in ``g`` or ``p`` makes its :math:`\theta'` non-finite, so a zero count proves
    the inputs finite without a second read of them; a non-zero count sends the caller looking
    for the culprit, which may also be an overflow of finite inputs).
    """
    if not _kernels:
        from losslab.optim import _kernels as kernels  # imports Numba; compiled (or loaded) once

        _kernels["serial"] = kernels.adam_serial
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
    if p.size < PARALLEL_MIN_SIZE or _WORKERS == 1:
        return int(_kernels["serial"](*args))
    # Contiguous ranges of the same vectorized loop on losslab's thread pool (the kernel releases
    # the GIL). Measured on the 2-core reference machine, 1e7 float32: one thread 18-19 ms, two
    # ranges 16 ms, while a Numba ``prange`` loop over the same body took 31 ms (it does not
    # vectorize); threads of our own also need no Numba threading layer, so nothing here depends
    # on its fork safety or on one launch at a time.
    n = p.size
    bounds = [(n * i // _WORKERS, n * (i + 1) // _WORKERS) for i in range(_WORKERS)]
    pool = _buffers.executor("compiled", _WORKERS)
    futures = [pool.submit(_kernels["serial"], *_sliced(args, lo, hi, ams)) for lo, hi in bounds]
    return sum(int(f.result()) for f in futures)


def _sliced(args: tuple[Any, ...], lo: int, hi: int, ams: bool) -> tuple[Any, ...]:
    """``args`` with the nine arrays cut to ``[lo, hi)`` (the empty AMSGrad arrays stay empty)."""
    arrays = [a if (k in (4, 8) and not ams) else a[lo:hi] for k, a in enumerate(args[:9])]
    return (*arrays, *args[9:])
