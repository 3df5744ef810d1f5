"""Every preset and option follows torch.optim's trajectory (float64, 200 steps, rel 1e-10)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import losslab as ll

torch = pytest.importorskip("torch")

STEPS = 200

# The fixed gradient field: f(p) = sum(0.5 * c * p^2 + sin(p)), grad = c * p + cos(p).
CURVATURE = {
    "w": np.linspace(0.5, 3.0, 12).reshape(3, 4),
    "b": np.array([0.2, 1.0, 2.5, 4.0, 0.8]),
}
START = {
    "w": np.linspace(-2.0, 2.5, 12).reshape(3, 4),
    "b": np.array([1.5, -0.7, 3.0, -2.2, 0.4]),
}


def grad_np(params):
    return {k: CURVATURE[k] * params[k] + np.cos(params[k]) for k in params}


def extra_np(opt, params):
    """The extra ``update`` arguments ``opt`` declares: the field's Hessian diag(c - sin p) for Newton."""
    if "hessian" not in opt.extra_args:
        return {}
    diag = ll.tree_ravel({k: CURVATURE[k] - np.sin(params[k]) for k in params})[0]
    return {"hessian": np.diag(diag.astype(np.float64))}


def losslab_trajectory(opt, steps=STEPS, params=None, fused=False):
    """Params after each step: ``update`` + ``apply_updates``, or ``ll.optim.step`` when ``fused``."""
    params = copy.deepcopy(START if params is None else params)
    state = opt.init(params)
    out = []
    for _ in range(steps):
        if fused:
            params, state = ll.optim.step(opt, grad_np(params), state, params, **extra_np(opt, params))
        else:
            updates, state = opt.update(grad_np(params), state, params, **extra_np(opt, params))
            params = ll.optim.apply_updates(params, updates)
        out.append(params)
    return out


def torch_trajectory(cls, kwargs, steps=STEPS, scheduler=None):
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in START.items()}
    curv = {k: torch.tensor(v, dtype=torch.float64) for k, v in CURVATURE.items()}
    opt = cls(list(tensors.values()), **kwargs)
    sched = scheduler(opt) if scheduler else None
    out = []
    for _ in range(steps):
        with torch.no_grad():
            for k, t in tensors.items():
                t.grad = curv[k] * t + torch.cos(t)
        opt.step()
        if sched is not None:
            sched.step()
        out.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return out


def assert_same_trajectory(ours, theirs):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-10, atol=1e-13, err_msg=f"step {step + 1}, {k}")


# (name, kwargs) -- the same keywords go to torch.optim. A caveat on the table: once an adaptive
# method (RMSProp, Adam) sits at a minimum with a tiny eps, its normalised step ~ lr * sign(g)
# is an expanding map, so a 1-ulp rounding difference grows to 1e-2 within 200 steps in *any*
# two implementations (e.g. rmsprop(lr=0.01, weight_decay=0.1, eps=1e-4) here). The rows keep
# eps large enough, or the horizon short enough, to stay out of that chaotic regime.
CONFIGS = [
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.05, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.03, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("sgd", {"lr": 0.03, "momentum": 0.7, "dampening": 0.3, "weight_decay": 0.2}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.5}),
    ("adagrad", {"lr": 0.5, "lr_decay": 0.01}),
    ("adagrad", {"lr": 0.5, "initial_accumulator_value": 0.3}),
    ("adagrad", {"lr": 0.5, "weight_decay": 0.1, "eps": 1e-6}),
    ("adagrad", {"lr": 0.3, "lr_decay": 0.05, "weight_decay": 0.02, "initial_accumulator_value": 1.0}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("rmsprop", {"lr": 0.01, "centered": True}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5}),
    ("rmsprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-2}),
    ("rmsprop", {"lr": 0.005, "alpha": 0.95, "momentum": 0.9, "centered": True, "weight_decay": 0.05}),
    ("adam", {}),
    ("adam", {"lr": 0.05}),
    ("adam", {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("adam", {"lr": 0.05, "amsgrad": True}),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1, "amsgrad": True}),
    ("adamw", {}),
    ("adamw", {"lr": 0.05}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.3}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("adamw", {"lr": 0.02, "betas": (0.7, 0.95), "eps": 1e-2, "weight_decay": 0.5}),
]
TORCH_CLASS = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}
TORCH_DEFAULT_LR = {"sgd": 1e-3}


def config_id(config):
    name, kwargs = config
    return f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


@pytest.mark.parametrize("fused", [False, True], ids=["update", "step"])
@pytest.mark.parametrize("config", CONFIGS, ids=[config_id(c) for c in CONFIGS])
def test_trajectory_matches_torch(config, fused):
    name, kwargs = config
    ours = losslab_trajectory(ll.optim.get(name, **kwargs), fused=fused)
    torch_kwargs = dict(kwargs)
    if name in TORCH_DEFAULT_LR:
        torch_kwargs.setdefault("lr", TORCH_DEFAULT_LR[name])
    if name in ("adam", "adamw"):
        torch_kwargs["foreach"] = False
    theirs = torch_trajectory(getattr(torch.optim, TORCH_CLASS[name]), torch_kwargs)
    assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize(
    ("alias", "torch_kwargs"),
    [
        ("gd", {"lr": 0.05}),
        ("momentum", {"lr": 0.05, "momentum": 0.9}),
        ("nesterov", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ],
)
def test_aliases_match_torch_sgd(alias, torch_kwargs):
    ours = losslab_trajectory(ll.optim.get(alias, lr=0.05))
    assert_same_trajectory(ours, torch_trajectory(torch.optim.SGD, torch_kwargs))


SCHEDULED = [
    (
        "sgd",
        {"momentum": 0.9},
        lambda: ll.optim.schedules.step_decay(0.05, 30, 0.5),
        lambda o: torch.optim.lr_scheduler.StepLR(o, 30, 0.5),
        0.05,
    ),
    (
        "adam",
        {},
        lambda: ll.optim.schedules.cosine_decay(0.05, STEPS, 1e-3),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, STEPS, 1e-3),
        0.05,
    ),
    (
        "adamw",
        {"weight_decay": 0.2},
        lambda: ll.optim.schedules.exponential_decay(0.05, 0.98),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.98),
        0.05,
    ),
    (
        "adagrad",
        {"lr_decay": 0.01},
        lambda: ll.optim.schedules.multistep_decay(0.5, [20, 80], 0.3),
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [20, 80], 0.3),
        0.5,
    ),
    (
        "rmsprop",
        {"momentum": 0.5, "centered": True},
        lambda: ll.optim.schedules.linear_warmup(0.01, 25, 0.1),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.1, total_iters=25),
        0.01,
    ),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", SCHEDULED, ids=[f"{c[0]}+{c[2]()!r}" for c in SCHEDULED])
def test_scheduled_trajectory_matches_torch(case):
    name, kwargs, schedule, scheduler, lr = case
    ours = losslab_trajectory(ll.optim.get(name, lr=schedule(), **kwargs), steps=STEPS)
    theirs = torch_trajectory(
        getattr(torch.optim, TORCH_CLASS[name]), {"lr": lr, **kwargs}, steps=STEPS, scheduler=scheduler
    )
    assert_same_trajectory(ours, theirs)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_reduce_on_plateau_trajectory_matches_torch():
    """Feed the loss at the current params to both, before the step (lr in torch units)."""
    kwargs = {"factor": 0.5, "patience": 3, "threshold": 1e-3, "cooldown": 2, "min_lr": 0.004}
    opt = ll.optim.chain(ll.optim.sgd(lr=0.1, momentum=0.9), ll.optim.reduce_on_plateau(lr=0.1, **kwargs))
    target = 1.0

    def loss_np(p):  # a noisy plateau: the loss stalls, the lr gets cut
        return float(sum(np.sum((v - target) ** 2) for v in p.values()))

    def grad(p):
        return {k: 2 * (v - target) + 0.5 * np.sin(7 * v) for k, v in p.items()}

    params = copy.deepcopy(START)
    state = opt.init(params)
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in START.items()}
    topt = torch.optim.SGD(list(tensors.values()), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    lrs = []
    for step in range(STEPS):
        loss = loss_np(params)
        updates, state = opt.update(grad(params), state, params, value=loss)
        params = ll.optim.apply_updates(params, updates)
        tloss = float(sum(((t - target) ** 2).sum() for t in tensors.values()))
        sched.step(tloss)
        for t in tensors.values():
            t.grad = 2 * (t - target) + 0.5 * torch.sin(7 * t)
        topt.step()
        assert state.inner[1].lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12), step
        lrs.append(state.inner[1].lr)
        for k in params:
            np.testing.assert_allclose(params[k], tensors[k].numpy(), rtol=1e-10, atol=1e-13)
    assert min(lrs) == pytest.approx(0.004) and len(set(lrs)) >= 3  # the cuts really happened


def test_float32_params_stay_float32_and_track_torch():
    start = {k: v.astype(np.float32) for k, v in START.items()}
    for name in ll.optim.names():
        opt = ll.optim.get(name, lr=0.01)
        params = copy.deepcopy(start)
        state = opt.init(params)
        for _ in range(20):
            g = {k: (CURVATURE[k] * v + np.cos(v)).astype(np.float32) for k, v in params.items()}
            updates, state = opt.update(g, state, params, **extra_np(opt, params))
            assert all(u.dtype == np.float32 for u in updates.values()), name
            params = ll.optim.apply_updates(params, updates)
            assert all(p.dtype == np.float32 for p in params.values()), name
        ref = losslab_trajectory(ll.optim.get(name, lr=0.01), steps=20)[-1]
        for k in params:
            np.testing.assert_allclose(params[k], ref[k], rtol=1e-4, atol=1e-5)
