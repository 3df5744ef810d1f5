r"""One-pass compiled steps for the ``sgd``, ``adagrad`` and ``rmsprop`` presets.

Each preset is a :func:`~losslab.optim.chain` (coupled weight decay, its scaling or momentum
buffer, the learning rate), whose fused step makes one NumPy pass per part: five to nine passes
over memory on a large leaf, and as many ufunc calls of fixed overhead on a small one. With Numba
installed, :func:`with_compiled_step` gives the preset one compiled loop per leaf that reads
:math:`\theta, g` and the state once and writes the new parameter and state once (PyTorch's fused
and foreach steps do the same), making the chain's floating-point operations in their order and
precision (see :mod:`losslab.optim._kernels`): the parameters and the state -- the same
``ChainState`` of the same transformations -- are bitwise those of the chain (tested). Leaves the
kernels do not take (mixed dtypes or shapes, Python scalars, integer parameters) and runs with
the compiled passes off take the chain's own step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from losslab._core import buffers as _buffers
from losslab._core.config import get_config
from losslab._core.tree import tree_flatten, tree_unflatten
from losslab._core.validation import check_finite_tree
from losslab.optim import _compiled
from losslab.optim.base import ChainState, GradientTransformation, checks_finite_grads
from losslab.optim.transforms import (
    ScaleByAdagradState,
    ScaleByLearningRateState,
    ScaleByRmsState,
    TraceState,
)

__all__ = ["AdagradKernel", "RmspropKernel", "SgdKernel", "with_compiled_step"]


class _Kernel:
    """A preset's compiled step: the kernel ``name`` of :mod:`losslab.optim._kernels` takes
    ``(p, g, *state, p_out, *state_out, *scalars)``, one state slot per entry of ``slots`` (an
    option that is off passes empty arrays in its slot)."""

    name = ""
    slots: tuple[bool, ...] = ()

    def prepare(self, inner: tuple[Any, ...]) -> tuple[list[Any], tuple[Any, ...], Any]:
        """The state trees of the slots that are on, the kernel's scalars, and what ``rebuild`` needs."""
        raise NotImplementedError

    def rebuild(self, inner: tuple[Any, ...], ctx: Any, new: list[Any]) -> tuple[Any, ...]:
        """The chain's new inner states from the new state trees of the slots that are on."""
        raise NotImplementedError

    def leaf(
        self, p: Any, g: Any, state: list[Any], scalars: tuple[Any, ...]
    ) -> tuple[list[Any], int] | None:
        """One leaf: ``[new p, *new state]`` and the count of non-finite new parameters, or None."""
        flat = _flat(p, g, state)
        if flat is None:
            return None
        n, dtype, shape = p.size, p.dtype, p.shape
        empty = flat[0][:0]
        out = _buffers.empty(n, dtype)
        ins, outs, new = flat[:2], [out], [out.reshape(shape)]
        state_in = iter(flat[2:])
        for on in self.slots:
            if on:
                out = _buffers.empty(n, dtype)
                ins.append(next(state_in))
                outs.append(out)
                new.append(out.reshape(shape))
            else:
                ins.append(empty)
                outs.append(empty)
        bad = _compiled.launch(self.name, (*ins, *outs), scalars)
        return new, bad

    def __call__(
        self, inner: tuple[Any, ...], params: Any, grads: Any
    ) -> tuple[Any, tuple[Any, ...], int] | None:
        trees, scalars, ctx = self.prepare(inner)
        if type(params) is np.ndarray:  # a single array: no flattening
            out = self.leaf(params, grads, trees, scalars)
            if out is None:
                return None
            new, bad = out
            return new[0], self.rebuild(inner, ctx, new[1:]), bad
        p_leaves, skeleton = tree_flatten(params)
        g_leaves = tree_flatten(grads)[0]
        s_leaves = [tree_flatten(t)[0] for t in trees]
        results, bad = [], 0
        for i, p in enumerate(p_leaves):
            out = self.leaf(p, g_leaves[i], [s[i] for s in s_leaves], scalars)
            if out is None:
                return None
            results.append(out[0])
            bad += out[1]
        new = [tree_unflatten(skeleton, [r[k] for r in results]) for k in range(1 + len(trees))]
        return new[0], self.rebuild(inner, ctx, new[1:]), bad


def _flat(p: Any, g: Any, state: list[Any]) -> list[np.ndarray] | None:
    """Flat contiguous views (copies where strided) of arrays of one floating dtype and one shape."""
    if type(p) is not np.ndarray or p.dtype.kind != "f":
        return None
    flat = []
    for a in (p, g, *state):
        if type(a) is not np.ndarray or a.dtype != p.dtype or a.shape != p.shape:
            return None
        flat.append(a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1))
    return flat


def with_compiled_step(opt: GradientTransformation, kernel: _Kernel) -> GradientTransformation:
    """``opt`` (a preset's chain) with a step that runs ``kernel`` on every leaf when it can."""
    chain_step = opt.step
    if chain_step is None:  # pragma: no cover - every preset chain ends with a fused lr step
        raise ValueError("with_compiled_step: the chain has no step to fall back on")

    @checks_finite_grads
    def step(grads: Any, state: ChainState, params: Any, **extra: Any) -> tuple[Any, ChainState]:
        if params is not None and _compiled.available():
            fused = kernel(state.inner, params, grads)
            if fused is not None:
                new_params, inner, bad = fused
                if bad and get_config().validate:  # a non-finite input, or an overflow of finite ones
                    check_finite_tree("step", "grads", grads)
                    check_finite_tree("step", "params", params)
                return new_params, ChainState(inner)
        if params is not None and get_config().validate:
            check_finite_tree("step", "grads", grads)
            check_finite_tree("step", "params", params)
        return chain_step(grads, state, params, **extra)

    return opt._replace(step=step)


class SgdKernel(_Kernel):
    """``sgd``: ``chain([add_decayed_weights], [trace], scale_by_learning_rate)``."""

    name = "sgd"

    def __init__(
        self,
        lr_at: Callable[[int], float],
        *,
        weight_decay: float,
        momentum: float,
        dampening: float,
        nesterov: bool,
    ) -> None:
        self.lr_at = lr_at
        self.momentum = momentum != 0.0
        self.slots = (self.momentum,)
        self.fixed = (weight_decay, momentum, 1.0 - dampening)
        self.flags = (self.momentum, dampening != 0.0, nesterov)

    def prepare(self, inner: tuple[Any, ...]) -> tuple[list[Any], tuple[Any, ...], Any]:
        eta = self.lr_at(inner[-1].step)
        first = self.momentum and inner[-2].step == 0
        trees = [inner[-2].buffer] if self.momentum else []
        return trees, (*self.fixed, -eta, first, *self.flags), eta

    def rebuild(self, inner: tuple[Any, ...], ctx: Any, new: list[Any]) -> tuple[Any, ...]:
        parts = list(inner[:-1])
        if self.momentum:
            parts[-1] = TraceState(inner[-2].step + 1, new[0])
        return (*parts, ScaleByLearningRateState(inner[-1].step + 1, ctx))


class AdagradKernel(_Kernel):
    """``adagrad`` (diagonal): ``chain([add_decayed_weights], scale_by_adagrad, scale_by_learning_rate)``."""

    name = "adagrad"
    slots = (True,)

    def __init__(
        self, lr_at: Callable[[int], float], *, weight_decay: float, lr_decay: float, eps: float
    ) -> None:
        self.lr_at = lr_at
        self.weight_decay, self.lr_decay, self.eps = weight_decay, lr_decay, eps

    def prepare(self, inner: tuple[Any, ...]) -> tuple[list[Any], tuple[Any, ...], Any]:
        eta = self.lr_at(inner[-1].step)
        sums = inner[-2]
        decay = 1.0 / (1.0 + sums.step * self.lr_decay)
        return [sums.sum_of_squares], (self.weight_decay, decay, self.eps, -eta), eta

    def rebuild(self, inner: tuple[Any, ...], ctx: Any, new: list[Any]) -> tuple[Any, ...]:
        sums = ScaleByAdagradState(inner[-2].step + 1, new[0])
        return (*inner[:-2], sums, ScaleByLearningRateState(inner[-1].step + 1, ctx))


class RmspropKernel(_Kernel):
    """``rmsprop``: ``chain([add_decayed_weights], scale_by_rms, [trace], scale_by_learning_rate)``."""

    name = "rmsprop"

    def __init__(
        self,
        lr_at: Callable[[int], float],
        *,
        weight_decay: float,
        alpha: float,
        eps: float,
        momentum: float,
        centered: bool,
    ) -> None:
        self.lr_at = lr_at
        self.momentum = momentum != 0.0
        self.centered = centered
        self.slots = (True, centered, self.momentum)
        self.at_rms = -3 if self.momentum else -2
        self.fixed = (weight_decay, alpha, 1.0 - alpha, eps, momentum)

    def prepare(self, inner: tuple[Any, ...]) -> tuple[list[Any], tuple[Any, ...], Any]:
        eta = self.lr_at(inner[-1].step)
        rms = inner[self.at_rms]
        trees = [rms.mean_square]
        if self.centered:
            trees.append(rms.mean_grad)
        if self.momentum:
            trees.append(inner[-2].buffer)
        first = self.momentum and inner[-2].step == 0
        return trees, (*self.fixed, -eta, self.centered, self.momentum, first), eta

    def rebuild(self, inner: tuple[Any, ...], ctx: Any, new: list[Any]) -> tuple[Any, ...]:
        rms = inner[self.at_rms]
        mean = new[1] if self.centered else rms.mean_grad
        parts = [*inner[: self.at_rms], ScaleByRmsState(rms.step + 1, new[0], mean)]
        if self.momentum:
            parts.append(TraceState(inner[-2].step + 1, new[-1]))
        return (*parts, ScaleByLearningRateState(inner[-1].step + 1, ctx))
