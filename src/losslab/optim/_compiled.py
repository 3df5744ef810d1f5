r"""Optional compiled kernels for fused optimizer steps (used only when Numba is importable).

The cache-blocked NumPy step (``transforms._adam_leaf``) keeps its temporaries in cache, but it
still makes about fifteen ufunc passes over every block, which on a large parameter vector makes
it compute-bound at several times PyTorch's fused step; the ``sgd``, ``adagrad`` and ``rmsprop``
chains make one pass per part, and on a small leaf each pass is a ufunc call of fixed overhead.
So when Numba is installed (``pip install losslab[fast]``) these presets step in one compiled
loop per leaf (a :class:`Kernel`, given to the preset by :func:`with_compiled_step`; Adam's is in
:mod:`losslab.optim.transforms`, the others' in :mod:`losslab.optim._fused`) that reads the
parameters, gradients and state once and writes the new ones once, split over a few threads for
large leaves.

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
from losslab._core.config import get_config
from losslab._core.tree import tree_flatten, tree_map, tree_unflatten
from losslab._core.validation import check_finite_tree
from losslab.optim.base import GradientTransformation, checks_finite_grads

__all__ = ["Kernel", "available", "disabled", "launch", "with_compiled_step"]

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
    n = arrays[0].size
    if n < PARALLEL_MIN_SIZE or _WORKERS == 1:
        return int(kernel(*arrays, *scalars))
    # Measured on the 2-core reference machine, Adam on 1e7 float32: one thread 18-19 ms, two
    # ranges 16 ms, while a Numba ``prange`` loop over the same body took 31 ms (it does not
    # vectorize); threads of our own also need no Numba threading layer, so nothing here depends
    # on its fork safety or on one launch at a time.
    pool = _buffers.executor("compiled", _WORKERS)
    futures = []
    for i in range(_WORKERS):
        lo, hi = n * i // _WORKERS, n * (i + 1) // _WORKERS
        cut = [a[lo:hi] if a.size == n else a for a in arrays]
        futures.append(pool.submit(kernel, *cut, *scalars))
    return sum(int(f.result()) for f in futures)


class Kernel:
    """An optimizer's compiled step, leaf by leaf: the kernel ``name`` of :mod:`losslab.optim._kernels`
    takes ``(p, g, *state, p_out, *state_out, *scalars)``, one state slot per entry of ``slots``
    (an option that is off passes empty arrays in its slot). ``prepare`` reads the optimizer's
    state and ``rebuild`` makes the new one, exactly as the optimizer's NumPy step does."""

    name = ""
    slots: tuple[bool, ...] = ()

    def prepare(self, state: Any) -> tuple[list[Any], tuple[Any, ...], Any]:
        """The state trees of the slots that are on, the kernel's scalars, and what ``rebuild`` needs."""
        raise NotImplementedError

    def rebuild(self, state: Any, ctx: Any, new: list[Any]) -> Any:
        """The new state from the new state trees of the slots that are on."""
        raise NotImplementedError

    def leaf(
        self, p: Any, g: Any, state: list[Any], scalars: tuple[Any, ...]
    ) -> tuple[list[Any], int] | None:
        """One leaf: ``[new p, *new state]`` and the count of non-finite new parameters, or None."""
        flat = _flat(p, g, state)
        if flat is None:
            return None
        n, dtype, shape = p.size, p.dtype, p.shape
        flat_shape = p.ndim == 1  # (the outputs are the parameter's shape already)
        empty = flat[0][:0]
        out = _buffers.empty(n, dtype)
        ins, outs, new = flat[:2], [out], [out if flat_shape else out.reshape(shape)]
        state_in = iter(flat[2:])
        for on in self.slots:
            if on:
                out = _buffers.empty(n, dtype)
                ins.append(next(state_in))
                outs.append(out)
                new.append(out if flat_shape else out.reshape(shape))
            else:
                ins.append(empty)
                outs.append(empty)
        return new, launch(self.name, (*ins, *outs), scalars)

    def __call__(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any, int] | None:
        """``(new params, new state, count of non-finite new parameters)``, or None when a leaf is
        not one the kernel takes (the caller then takes the NumPy step)."""
        trees, scalars, ctx = self.prepare(state)
        if type(params) is np.ndarray:  # a single array: no flattening
            out = self.leaf(params, grads, trees, scalars)
            if out is None:
                return None
            new, bad = out
            return new[0], self.rebuild(state, ctx, new[1:]), bad
        # the leaves matched by position in params' structure (dict keys, not their order)
        leaves: list[tuple[Any, ...]] = []
        tree_map(lambda *xs: leaves.append(xs), params, grads, *trees)
        results, bad = [], 0
        for p, g, *state_leaves in leaves:
            out = self.leaf(p, g, state_leaves, scalars)
            if out is None:
                return None
            results.append(out[0])
            bad += out[1]
        skeleton = tree_flatten(params)[1]
        new = [tree_unflatten(skeleton, [r[k] for r in results]) for k in range(1 + len(trees))]
        return new[0], self.rebuild(state, ctx, new[1:]), bad


def _flat(p: Any, g: Any, state: list[Any]) -> list[np.ndarray] | None:
    """Flat contiguous arrays (views, or copies where strided) of one floating dtype and one shape."""
    if type(p) is not np.ndarray or p.dtype.kind != "f":
        return None
    dtype, shape = p.dtype, p.shape
    flat = []
    for a in (p, g, *state):
        if type(a) is not np.ndarray or (a.dtype is not dtype and a.dtype != dtype) or a.shape != shape:
            return None
        flat.append(a if a.ndim == 1 and a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1))
    return flat


def with_compiled_step(opt: GradientTransformation, kernel: Kernel) -> GradientTransformation:
    """``opt`` with a step that runs ``kernel`` on every leaf while the compiled passes are on, and
    ``opt``'s own (NumPy) fused step otherwise or when a leaf is not one the kernel takes."""
    numpy_step = opt.step
    if numpy_step is None:  # pragma: no cover - every optimizer given here has a NumPy fused step
        raise ValueError("with_compiled_step: the optimizer has no step to fall back on")
    # a NumPy step that tests finiteness in its own pass needs no test here
    check_fallback = not getattr(numpy_step, "_losslab_checks_finite", False)

    @checks_finite_grads
    def step(grads: Any, state: Any, params: Any, **extra: Any) -> tuple[Any, Any]:
        if params is not None and available():
            fused = kernel(state, params, grads)
            if fused is not None:
                new_params, new_state, bad = fused
                if bad and get_config().validate:  # a non-finite input, or an overflow of finite ones
                    check_finite_tree("step", "grads", grads)
                    check_finite_tree("step", "params", params)
                return new_params, new_state
        if check_fallback and params is not None and get_config().validate:
            check_finite_tree("step", "grads", grads)
            check_finite_tree("step", "params", params)
        return numpy_step(grads, state, params, **extra)

    return opt._replace(step=step)
