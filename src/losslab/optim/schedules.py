r"""Learning-rate schedules: pure functions of the step :math:`k`.

:math:`k` is the number of completed scheduler steps; ``schedule(k)`` equals PyTorch's lr after
``k`` calls of ``scheduler.step()`` (so ``schedule(0)`` is the initial lr). Optimizers evaluate
a schedule at their update count, i.e. one scheduler step per optimizer step; to step per epoch,
wrap it: ``lambda k: schedule(k // steps_per_epoch)``.

>>> step_decay(0.1, step_size=2, gamma=0.5)(3)
0.05
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from losslab._core.validation import check_in_range, check_int, check_positive

__all__ = [
    "Schedule",
    "constant",
    "cosine_decay",
    "cosine_warm_restarts",
    "exponential_decay",
    "linear_warmup",
    "multistep_decay",
    "step_decay",
    "warmup_cosine",
]


class Schedule:
    """A learning-rate schedule ``k -> lr`` with a readable ``repr``."""

    def __init__(self, fn: Callable[[int], float], description: str) -> None:
        self._fn = fn
        self.description = description

    def __call__(self, step: Any) -> float:
        k = check_int(self.description.split("(")[0], "step", step, minimum=0)
        return float(self._fn(k))

    def __repr__(self) -> str:
        return self.description


def _power(gamma: float, k: int) -> float:
    """``gamma ** k``, ``inf`` where it overflows (Python raises ``OverflowError`` there)."""
    try:
        return gamma**k
    except OverflowError:
        return math.inf


def _lr(where: str, lr: Any) -> float:
    return check_positive(where, "lr", lr, strict=False)


def constant(lr: float) -> Schedule:
    """:math:`\\eta_k = \\eta` (PyTorch: no scheduler)."""
    lr = _lr("constant", lr)
    return Schedule(lambda k: lr, f"constant(lr={lr!r})")


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r""":math:`\eta_k = \eta\,\gamma^{\lfloor k / s \rfloor}` with :math:`s` = ``step_size`` (``StepLR``)."""
    lr = _lr("step_decay", lr)
    step_size = check_int("step_decay", "step_size", step_size, minimum=1)
    gamma = check_positive("step_decay", "gamma", gamma, strict=False)
    return Schedule(
        lambda k: lr * _power(gamma, k // step_size),
        f"step_decay(lr={lr!r}, step_size={step_size}, gamma={gamma!r})",
    )


def multistep_decay(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r""":math:`\eta_k = \eta\,\gamma^{\#\{m \in M: m \le k\}}` (``MultiStepLR``; repeated milestones
    count once per repetition, as PyTorch's ``Counter``)."""
    lr = _lr("multistep_decay", lr)
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
        raise TypeError(f"multistep_decay: milestones must be a sequence of integers, got {milestones=!r}")
    marks = sorted(check_int("multistep_decay", "milestones", m, minimum=0) for m in milestones)
    gamma = check_positive("multistep_decay", "gamma", gamma, strict=False)
    return Schedule(
        lambda k: lr * _power(gamma, bisect.bisect_right(marks, k)),
        f"multistep_decay(lr={lr!r}, milestones={marks}, gamma={gamma!r})",
    )


def exponential_decay(lr: float, gamma: float) -> Schedule:
    r""":math:`\eta_k = \eta\,\gamma^k` (``ExponentialLR``)."""
    lr = _lr("exponential_decay", lr)
    gamma = check_positive("exponential_decay", "gamma", gamma, strict=False)
    return Schedule(lambda k: lr * _power(gamma, k), f"exponential_decay(lr={lr!r}, gamma={gamma!r})")


def _cosine(lr: float, eta_min: float, k: int, period: int) -> float:
    return eta_min + (lr - eta_min) * (1.0 + math.cos(math.pi * k / period)) / 2.0


def cosine_decay(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:  # noqa: N803 (PyTorch's name)
    r"""Cosine annealing :math:`\eta_k = \eta_{min} + (\eta - \eta_{min})\frac{1 + \cos(\pi k/T)}{2}`
    for :math:`k \le T` = ``T_max``, then held at :math:`\eta_{min}`.

    Equals ``CosineAnnealingLR`` for :math:`k \le T_{max}`. PyTorch does not hold: its recursion
    keeps following the cosine, so after :math:`T_{max}` its lr *rises* back to :math:`\eta` at
    :math:`2T_{max}` (a period of :math:`2T_{max}`). For restarts use :func:`cosine_warm_restarts`.
    Reference: Loshchilov & Hutter (2017), "SGDR", arXiv:1608.03983.
    """
    lr = _lr("cosine_decay", lr)
    T_max = check_int("cosine_decay", "T_max", T_max, minimum=1)  # noqa: N806
    eta_min = check_positive("cosine_decay", "eta_min", eta_min, strict=False)
    return Schedule(
        lambda k: _cosine(lr, eta_min, k, T_max) if k < T_max else eta_min,
        f"cosine_decay(lr={lr!r}, T_max={T_max}, eta_min={eta_min!r})",
    )


def _linear_factor(k: int, total: int, start: float, end: float) -> float:
    return start + (end - start) * min(k, total) / total


def linear_warmup(
    lr: float, warmup_steps: int, start_factor: float = 1.0 / 3.0, end_factor: float = 1.0
) -> Schedule:
    r""":math:`\eta_k = \eta\,(f_0 + (f_1 - f_0)\min(k, W)/W)` with :math:`W` = ``warmup_steps``
    (``LinearLR(start_factor, end_factor, total_iters=W)``; the defaults are PyTorch's).

    PyTorch requires ``start_factor > 0``; here ``start_factor=0`` (warm-up from zero, Optax's
    ``linear_schedule(0, lr, W)``) is allowed.
    """
    lr = _lr("linear_warmup", lr)
    warmup_steps = check_int("linear_warmup", "warmup_steps", warmup_steps, minimum=1)
    start_factor = check_in_range("linear_warmup", "start_factor", start_factor, 0.0, 1.0)
    end_factor = check_in_range("linear_warmup", "end_factor", end_factor, 0.0, 1.0)
    return Schedule(
        lambda k: lr * _linear_factor(k, warmup_steps, start_factor, end_factor),
        f"linear_warmup(lr={lr!r}, warmup_steps={warmup_steps}, start_factor={start_factor!r})",
    )


def warmup_cosine(
    lr: float,
    warmup_steps: int,
    decay_steps: int,
    start_factor: float = 1.0 / 3.0,
    eta_min: float = 0.0,
) -> Schedule:
    r"""Linear warm-up for ``warmup_steps``, then cosine decay over ``decay_steps`` to ``eta_min``.

    :math:`\eta_k` = :func:`linear_warmup` for :math:`k < W`, else
    ``cosine_decay(lr, decay_steps, eta_min)`` at :math:`k - W` (held at ``eta_min`` afterwards).
    PyTorch: ``SequentialLR([LinearLR(start_factor, total_iters=W), CosineAnnealingLR(T_max=
    decay_steps, eta_min)], milestones=[W])``. ``warmup_steps=0`` is plain cosine decay.
    """
    where = "warmup_cosine"
    lr = _lr(where, lr)
    warmup_steps = check_int(where, "warmup_steps", warmup_steps, minimum=0)
    decay_steps = check_int(where, "decay_steps", decay_steps, minimum=1)
    start_factor = check_in_range(where, "start_factor", start_factor, 0.0, 1.0)
    eta_min = check_positive(where, "eta_min", eta_min, strict=False)

    def fn(k: int) -> float:
        if k < warmup_steps:
            return lr * _linear_factor(k, warmup_steps, start_factor, 1.0)
        j = k - warmup_steps
        return _cosine(lr, eta_min, j, decay_steps) if j < decay_steps else eta_min

    return Schedule(
        fn,
        f"warmup_cosine(lr={lr!r}, warmup_steps={warmup_steps}, decay_steps={decay_steps}, "
        f"start_factor={start_factor!r}, eta_min={eta_min!r})",
    )


def cosine_warm_restarts(
    lr: float,
    T_0: int,  # noqa: N803 (PyTorch's name)
    T_mult: int = 1,  # noqa: N803
    eta_min: float = 0.0,
) -> Schedule:
    r"""SGDR: cosine decay over cycles of length :math:`T_i = T_0 T_{mult}^i`, restarting at ``lr``.

    :math:`\eta_k = \eta_{min} + (\eta - \eta_{min})\frac{1 + \cos(\pi T_{cur}/T_i)}{2}` where
    :math:`T_{cur}` is the number of steps since the last restart
    (``CosineAnnealingWarmRestarts``; computed with integers, no floating-point logarithm).
    Reference: Loshchilov & Hutter (2017), "SGDR", arXiv:1608.03983.
    """
    where = "cosine_warm_restarts"
    lr = _lr(where, lr)
    T_0 = check_int(where, "T_0", T_0, minimum=1)  # noqa: N806
    T_mult = check_int(where, "T_mult", T_mult, minimum=1)  # noqa: N806
    eta_min = check_positive(where, "eta_min", eta_min, strict=False)

    def fn(k: int) -> float:
        if T_mult == 1:
            return _cosine(lr, eta_min, k % T_0, T_0)
        t_cur, t_i = k, T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= T_mult
        return _cosine(lr, eta_min, t_cur, t_i)

    return Schedule(fn, f"cosine_warm_restarts(lr={lr!r}, T_0={T_0}, T_mult={T_mult}, eta_min={eta_min!r})")
