r"""Optional compiled kernels for fused optimizer steps (used only when Numba is importable).

The cache-blocked NumPy step (``transforms._adam_leaf``) keeps its temporaries in cache, but it
still makes about fifteen ufunc passes over every block, which on a large parameter vector makes
it compute-bound at several times PyTorch's fused step; the ``sgd``, ``adagrad`` and ``rmsprop``
chains make one pass per part, and on a small leaf each pass is a ufunc call of fixed overhead.
So when Numba is installed (``pip install losslab[fast]``) these presets step in one compiled
loop (:func:`launch`; Adam through :func:`adam_step`, the others through
:mod:`losslab.optim._fused`) that reads the parameters, gradients and state once and writes the
new ones once, split over a few threads for large leaves.

The kernels make exactly the NumPy path's floating-point operations, in the same order and in
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

__all__ = ["adam_step", "available", "disabled", "launch"]

# Leaves at least this long are split over _WORKERS threads; shorter ones run on the calling thread.
PARALLEL_MIN_SIZE = 1 << 20
# The step is memory-bound: more threads than memory channels gain nothing.
_WORKERS = max(1, min(4, _buffers.cores()))

_kernels: dict[str, Callable[..., Any]] = {}


def launch(name: str, arrays: tuple[np.ndarray, ...], scalars: tuple[Any, ...]) -> int:
    """Run the kernel ``<name>_serial`` of :mod:`losslab.optim._kernels` on flat contiguous arrays of
    one floating dtype and one length ``n`` (empty arrays, for the options that are off, pass
    whole), then ``scalars`` (floats are rounded to the arrays' dtype first, as NumPy does with
    Python floats; flags stay as they are). Returns the kernel's count of non-finite new
    parameters. Leaves of at least :data:`PARALLEL_MIN_SIZE` are split in contiguous ranges over
    losslab's thread pool (the kernels release the GIL).
    """
    kernel = _kernels.get(name)
    if kernel is None:
        from losslab.optim import _kernels as kernels  # imports Numba; compiled (or loaded) once

        kernel = _kernels[name] = getattr(kernels, f"{name}_serial")
    dtype = arrays[0].dtype
    if dtype.char != "d":  # (not float64, which a Python float is already)
        scalars = tuple(dtype.type(x) if isinstance(x, (float, np.floating)) else x for x in scalars)
    args = (*arrays, *scalars)
    n = arrays[0].size
    if n < PARALLEL_MIN_SIZE or _WORKERS == 1:
        return int(kernel(*args))
    # Measured on the 2-core reference machine, Adam on 1e7 float32: one thread 18-19 ms, two
    # ranges 16 ms, while a Numba ``prange`` loop over the same body took 31 ms (it does not
    # vectorize); threads of our own also need no Numba threading layer, so nothing here depends
    # on its fork safety or on one launch at a time.
    pool = _buffers.executor("compiled", _WORKERS)
    futures = []
    for i in range(_WORKERS):
        lo, hi = n * i // _WORKERS, n * (i + 1) // _WORKERS
        cut = [a[lo:hi] if a.size == n else a for a in arrays]
        futures.append(pool.submit(kernel, *cut, *args[len(arrays) :]))
    return sum(int(f.result()) for f in futures)


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
    p_out, m_out, v_out, vm_out = outputs
    empty = p[:0]
    ams = vm is not None and vm_out is not None
    vm_in = vm if vm is not None and ams else empty
    vm_o = vm_out if vm_out is not None and ams else empty
    arrays = (p, g, m, v, vm_in, p_out, m_out, v_out, vm_o)
    scalars = (c1, c2, b2, scaled_coef, scaled_eps, grad_param_coef, param_coef, ams)
    return launch("adam", arrays, scalars)
