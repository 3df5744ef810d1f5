"""The curriculum's momentum forms as named optimizers, and their equivalences with PyTorch's."""

from __future__ import annotations

import numpy as np

import losslab as ll


def _trajectory(opt, steps: int = 60) -> np.ndarray:
    """Iterates on f(w) = 0.5 w^T diag(1, 10) w from (3.5, 3.5)."""
    w = np.array([3.5, 3.5])
    state = opt.init(w)
    out = [w]
    for _ in range(steps):
        updates, state = opt.update(np.array([1.0, 10.0]) * w, state, w)
        w = ll.optim.apply_updates(w, updates)
        out.append(w)
    return np.stack(out)


def test_ema_momentum_is_pytorch_sgd_with_lr_times_one_minus_beta():
    # v = b v + (1 - b) g, w -= lr v  is  torch.optim.SGD(lr=lr (1 - b), momentum=b)
    ema = _trajectory(ll.optim.get("ema_momentum", lr=0.2, beta=0.9))
    sgd = _trajectory(ll.optim.sgd(lr=0.2 * (1 - 0.9), momentum=0.9))
    np.testing.assert_allclose(ema, sgd, rtol=1e-12, atol=1e-14)


def test_velocity_is_pytorch_sgd_momentum():
    # v = b v + lr g, w -= v  is  torch.optim.SGD(lr, momentum=b) for a constant lr
    np.testing.assert_allclose(
        _trajectory(ll.optim.get("velocity", lr=0.02, beta=0.9)),
        _trajectory(ll.optim.momentum(lr=0.02, beta=0.9)),
        rtol=1e-12,
        atol=1e-14,
    )


def test_torch_sgd_momentum_matches_velocity():
    import torch

    w = torch.tensor([3.5, 3.5], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.02, momentum=0.9)
    path = [w.detach().clone().numpy()]
    for _ in range(60):
        opt.zero_grad()
        (0.5 * (w[0] ** 2 + 10 * w[1] ** 2)).backward()
        opt.step()
        path.append(w.detach().clone().numpy())
    np.testing.assert_allclose(_trajectory(ll.optim.get("velocity", lr=0.02)), np.stack(path), rtol=1e-10)


def test_velocity_state_exposes_the_scheduled_rate():
    opt = ll.optim.get("velocity", lr=ll.optim.schedules.step_decay(0.1, step_size=1, gamma=0.5))
    w = np.zeros(2)
    state = opt.init(w)
    for expected in (0.1, 0.05, 0.025):
        _, state = opt.update(np.ones(2), state, w)
        assert ll.train.learning_rate_of(state) == expected


def test_race_steps_sutskever_nesterov_at_its_look_ahead_point():
    # Sutskever's look-ahead points x_t + beta v_t are PyTorch's Nesterov iterates (same method).
    bowl = ll.landscape.functions.get("quadratic_bowl")
    opt = ll.landscape.rates.race_optimizer("sutskever_nesterov", lr=0.05, beta=0.9)
    [entry] = ll.train.race(bowl, {"s": opt}, steps=40)
    w, state = bowl.start.copy(), opt.init(bowl.start)
    looks = [state.lookahead(w)]
    for t in range(40):
        updates, state = opt.update(bowl.grad(state.lookahead(w)), state, w)
        w = ll.optim.apply_updates(w, updates)
        np.testing.assert_array_equal(entry.path[t + 1], w)
        looks.append(state.lookahead(w))
    [pytorch_form] = ll.train.race(bowl, {"n": ll.optim.nesterov(lr=0.05, beta=0.9)}, steps=40)
    np.testing.assert_allclose(np.stack(looks), pytorch_form.path, rtol=1e-10, atol=1e-12)


def test_race_names_include_every_momentum_form():
    names = ll.landscape.rates.race_names()
    for form in ("momentum", "nesterov", "ema_momentum", "velocity", "sutskever_nesterov"):
        assert form in names
