"""Schedules equal PyTorch's lr after k scheduler.step() calls."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import losslab as ll

torch = pytest.importorskip("torch")
S = ll.optim.schedules
LR = 0.1


def torch_lrs(make_scheduler, steps, lr=LR):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    sched = make_scheduler(opt)
    lrs = [opt.param_groups[0]["lr"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    return np.array(lrs)


CASES = [
    (S.constant(LR), lambda o: torch.optim.lr_scheduler.ConstantLR(o, factor=1.0, total_iters=0)),
    (S.step_decay(LR, 7), lambda o: torch.optim.lr_scheduler.StepLR(o, 7)),
    (S.step_decay(LR, 3, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5)),
    (
        S.multistep_decay(LR, [5, 12, 12, 30]),
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [5, 12, 12, 30]),
    ),
    (
        S.multistep_decay(LR, [30, 10], gamma=0.7),
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [30, 10], 0.7),
    ),
    (S.exponential_decay(LR, 0.95), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.95)),
    (S.cosine_decay(LR, 60), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 60)),
    (S.cosine_decay(LR, 50, eta_min=0.01), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 50, 0.01)),
    (S.linear_warmup(LR, 10), lambda o: torch.optim.lr_scheduler.LinearLR(o, total_iters=10)),
    (
        S.linear_warmup(LR, 8, start_factor=0.05),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.05, total_iters=8),
    ),
    (
        S.linear_warmup(LR, 8, start_factor=1.0, end_factor=0.2),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, 1.0, 0.2, total_iters=8),
    ),
    (S.cosine_warm_restarts(LR, 7), lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 7)),
    (
        S.cosine_warm_restarts(LR, 3, T_mult=2, eta_min=0.005),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.005),
    ),
    (
        S.warmup_cosine(LR, 5, 40, start_factor=0.1, eta_min=0.002),
        lambda o: torch.optim.lr_scheduler.SequentialLR(
            o,
            [
                torch.optim.lr_scheduler.LinearLR(o, 0.1, total_iters=5),
                torch.optim.lr_scheduler.CosineAnnealingLR(o, 40, 0.002),
            ],
            milestones=[5],
        ),
    ),
]


@pytest.mark.parametrize(("schedule", "make"), CASES, ids=[repr(c[0]) for c in CASES])
def test_schedule_matches_torch(schedule, make):
    steps = 45  # within every cosine's T_max (see the rise test below)
    ours = np.array([schedule(k) for k in range(steps + 1)])
    np.testing.assert_allclose(ours, torch_lrs(make, steps), rtol=1e-10, atol=1e-15)


def test_cosine_decay_holds_at_eta_min_where_torch_rises():
    """CosineAnnealingLR follows the cosine past T_max: back up to the base lr at 2 T_max."""
    t_max, eta_min = 10, 0.01
    ours = np.array([S.cosine_decay(LR, t_max, eta_min)(k) for k in range(2 * t_max + 1)])
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max, eta_min), 2 * t_max)
    np.testing.assert_allclose(ours[: t_max + 1], theirs[: t_max + 1], rtol=1e-10)
    assert np.all(ours[t_max:] == eta_min)
    assert theirs[2 * t_max] == pytest.approx(LR) and np.all(np.diff(theirs[t_max:]) > 0)


def test_closed_forms_and_values():
    assert S.step_decay(1.0, 10)(25) == pytest.approx(0.01)
    assert S.exponential_decay(2.0, 0.5)(3) == 0.25
    assert S.cosine_decay(1.0, 4)(2) == pytest.approx(0.5)
    assert S.linear_warmup(1.0, 4, start_factor=0.0)(1) == 0.25  # start_factor=0 allowed (torch refuses)
    # SGDR with T_0=2, T_mult=2: cycles [0, 2), [2, 6), [6, 14): restarts at k = 2, 6, 14.
    sgdr = S.cosine_warm_restarts(1.0, 2, T_mult=2)
    assert [sgdr(k) for k in (0, 2, 6, 14)] == [1.0, 1.0, 1.0, 1.0]
    assert sgdr(4) == pytest.approx(0.5)
    wc = S.warmup_cosine(1.0, 0, 8)
    assert [wc(k) for k in range(10)] == [S.cosine_decay(1.0, 8)(k) for k in range(10)]


def test_schedule_at_numpy_integer_steps_and_repr():
    sched = S.exponential_decay(0.1, 0.9)
    assert sched(np.int64(2)) == pytest.approx(0.081)
    assert repr(sched) == "exponential_decay(lr=0.1, gamma=0.9)"


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: S.step_decay(0.1, 0), r"step_decay: step_size must be >= 1, got step_size=0"),
        (lambda: S.step_decay(-0.1, 3), r"step_decay: lr must be >= 0, got lr=-0.1"),
        (lambda: S.cosine_decay(0.1, 2.5), r"cosine_decay: T_max must be an integer"),
        (
            lambda: S.linear_warmup(0.1, 5, start_factor=1.5),
            r"linear_warmup: start_factor must be in \[0, 1\]",
        ),
        (lambda: S.multistep_decay(0.1, 5), r"multistep_decay: milestones must be a sequence"),
        (lambda: S.cosine_warm_restarts(0.1, 3, T_mult=0), r"cosine_warm_restarts: T_mult must be >= 1"),
        (lambda: S.exponential_decay(0.1, 0.9)(-1), r"exponential_decay: step must be >= 0, got step=-1"),
        (lambda: S.constant(math.nan), r"constant: lr must be finite"),
    ],
)
def test_schedule_errors_name_the_argument(factory, match):
    with pytest.raises((ValueError, TypeError), match=match):
        factory()
