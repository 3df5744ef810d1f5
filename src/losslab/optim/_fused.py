r"""One-pass compiled steps for the ``sgd``, ``adagrad`` and ``rmsprop`` presets.

Each preset is a :func:`~losslab.optim.chain` (coupled weight decay, its scaling or momentum
buffer, the learning rate), whose fused step makes one NumPy pass per part: five to nine passes
over memory on a large leaf, and as many ufunc calls of fixed overhead on a small one. With Numba
installed, :func:`~losslab.optim._compiled.with_compiled_step` gives the preset one compiled loop
per leaf that reads :math:`\theta, g` and the state once and writes the new parameter and state
once (PyTorch's fused and foreach steps do the same), making the chain's floating-point
operations in their order and precision (see :mod:`losslab.optim._kernels`): the parameters and
the state -- the same ``ChainState`` of the same transformations -- are bitwise those of the chain
(tested). Leaves the kernels do not take (mixed dtypes or shapes, Python scalars, integer
parameters) and runs with the compiled passes off take the chain's own step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from losslab.optim._compiled import Kernel
from losslab.optim.base import ChainState
from losslab.optim.transforms import (
    ScaleByAdagradState,
    ScaleByLearningRateState,
    ScaleByRmsState,
    TraceState,
)

__all__ = ["AdagradKernel", "RmspropKernel", "SgdKernel"]


class SgdKernel(Kernel):
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

    def prepare(self, state: ChainState) -> tuple[list[Any], tuple[Any, ...], Any]:
        inner = state.inner
        eta = self.lr_at(inner[-1].step)
        first = self.momentum and inner[-2].step == 0
        trees = [inner[-2].buffer] if self.momentum else []
        return trees, (*self.fixed, -eta, first, *self.flags), eta

    def rebuild(self, state: ChainState, ctx: Any, new: list[Any]) -> ChainState:
        inner = state.inner
        parts = list(inner[:-1])
        if self.momentum:
            parts[-1] = TraceState(inner[-2].step + 1, new[0])
        return ChainState((*parts, ScaleByLearningRateState(inner[-1].step + 1, ctx)))


class AdagradKernel(Kernel):
    """``adagrad`` (diagonal): ``chain([add_decayed_weights], scale_by_adagrad, scale_by_learning_rate)``."""

    name = "adagrad"
    slots = (True,)

    def __init__(
        self, lr_at: Callable[[int], float], *, weight_decay: float, lr_decay: float, eps: float
    ) -> None:
        self.lr_at = lr_at
        self.weight_decay, self.lr_decay, self.eps = weight_decay, lr_decay, eps

    def prepare(self, state: ChainState) -> tuple[list[Any], tuple[Any, ...], Any]:
        inner = state.inner
        eta = self.lr_at(inner[-1].step)
        sums = inner[-2]
        decay = 1.0 / (1.0 + sums.step * self.lr_decay)
        return [sums.sum_of_squares], (self.weight_decay, decay, self.eps, -eta), eta

    def rebuild(self, state: ChainState, ctx: Any, new: list[Any]) -> ChainState:
        inner = state.inner
        sums = ScaleByAdagradState(inner[-2].step + 1, new[0])
        return ChainState((*inner[:-2], sums, ScaleByLearningRateState(inner[-1].step + 1, ctx)))


class RmspropKernel(Kernel):
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

    def prepare(self, state: ChainState) -> tuple[list[Any], tuple[Any, ...], Any]:
        inner = state.inner
        eta = self.lr_at(inner[-1].step)
        rms = inner[self.at_rms]
        trees = [rms.mean_square]
        if self.centered:
            trees.append(rms.mean_grad)
        if self.momentum:
            trees.append(inner[-2].buffer)
        first = self.momentum and inner[-2].step == 0
        return trees, (*self.fixed, -eta, self.centered, self.momentum, first), eta

    def rebuild(self, state: ChainState, ctx: Any, new: list[Any]) -> ChainState:
        inner = state.inner
        rms = inner[self.at_rms]
        mean = new[1] if self.centered else rms.mean_grad
        parts = [*inner[: self.at_rms], ScaleByRmsState(rms.step + 1, new[0], mean)]
        if self.momentum:
            parts.append(TraceState(inner[-2].step + 1, new[-1]))
        return ChainState((*parts, ScaleByLearningRateState(inner[-1].step + 1, ctx)))
