"""Races in any dimension (divergence with its step, noise, second-order steps) and momentum's rates."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import losslab as ll

F = ll.landscape.functions


def test_one_race_implementation_with_the_new_fields():
    assert ll.landscape.race is ll.train.race and ll.landscape.RaceEntry is ll.train.RaceEntry
    bowl = F.get("quadratic_bowl")
    [e] = ll.landscape.race(bowl, {"gd": ll.optim.sgd(lr=0.15)}, steps=40)
    t = np.arange(41)
    path = np.c_[3.5 * 0.85**t, 3.5 * (-0.5) ** t]
    np.testing.assert_allclose(e.path, path, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(e.values, bowl.value(path), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(e.grad_norms, np.hypot(path[:, 0], 10 * path[:, 1]), rtol=1e-12, atol=1e-300)
    assert e.lr == 0.15 and e.diverged_step is None and not e.diverged
    assert e._fields[:7] == ("name", "path", "values", "final_value", "distance", "steps_to_tol", "diverged")


def test_divergence_is_reported_with_its_step_never_raised():
    # lr = 0.25 on b = 10: w2 is multiplied by 1 - 2.5 = -1.5 each step; w1 by 0.75
    bowl = F.get("quadratic_bowl")
    [e] = ll.landscape.race(bowl, {"gd": ll.optim.sgd(lr=0.25)}, steps=500)
    t = np.arange(200)
    norms = np.hypot(3.5 * 0.75**t, 3.5 * 1.5**t)
    expected = int(np.argmax(norms > 1e8))
    assert e.diverged and e.diverged_step == expected == 43
    assert len(e.path) == len(e.values) == len(e.grad_norms) == expected
    assert e.steps_to_tol is None and math.isfinite(e.final_value)
    # non-finite values stop the run too (overflow well before the norm bound)
    [g] = ll.landscape.race(bowl, {"gd": ll.optim.sgd(lr=3.0)}, steps=1000, max_norm=1e300)
    assert g.diverged and g.diverged_step is not None and np.isfinite(g.path).all()


def test_race_in_n_dimensions():
    f = F.quadratic(eigenvalues=[1.0, 2.0, 4.0, 8.0, 16.0])
    [e] = ll.landscape.race(f, {"gd": ll.optim.sgd(lr=0.1)}, steps=30)
    t = np.arange(31)[:, None]
    np.testing.assert_allclose(
        e.path, 3.5 * (1 - 0.1 * np.array([1.0, 2.0, 4.0, 8.0, 16.0])) ** t, rtol=1e-12
    )
    r = F.get("rosenbrock", dim=4)
    [e] = ll.landscape.race(r, {"momentum": ll.optim.sgd(lr=5e-4, momentum=0.9)}, steps=500)
    assert e.path.shape == (501, 4) and e.final_value < 1e-2 * e.values[0]
    [a] = ll.landscape.race(F.get("anatomy"), {"gd": ll.optim.sgd(lr=0.01)}, steps=200, start=[1.9])
    assert a.distance < 1e-6 and a.steps_to_tol is not None


def test_gradient_noise_escapes_the_saddle():
    s = F.get("saddle")  # start (1.5, 0) on the stable manifold
    [stuck] = ll.landscape.race(s, {"gd": ll.optim.sgd(lr=0.05)}, steps=400)
    assert np.linalg.norm(stuck.path[-1]) < 1e-15 and stuck.grad_norms[-1] < 1e-15 and not stuck.diverged
    [noisy] = ll.landscape.race(s, {"gd": ll.optim.sgd(lr=0.05)}, steps=400, noise=0.01, seed=0)
    assert noisy.values.min() < -1.0  # far down the w2 direction
    [again] = ll.landscape.race(s, {"gd": ll.optim.sgd(lr=0.05)}, steps=400, noise=0.01, seed=0)
    np.testing.assert_array_equal(again.path, noisy.path)
    [other] = ll.landscape.race(s, {"gd": ll.optim.sgd(lr=0.05)}, steps=400, noise=0.01, seed=1)
    assert not np.array_equal(other.path, noisy.path)
    # no minima listed: distance is nan, steps to tolerance is None
    assert math.isnan(noisy.distance) and noisy.steps_to_tol is None


def _newton_like() -> ll.optim.GradientTransformation:
    """A second-order step that names ``hessian``: the race must pass H(w)."""

    def init(params):
        return ll.optim.EmptyState()

    def update(grads, state, params=None, *, hessian):
        return -np.linalg.solve(hessian, grads), state

    return ll.optim.GradientTransformation(init, update, extra_args=frozenset({"hessian"}))


def test_second_order_optimizers_receive_the_hessian():
    f = F.get("booth")
    [e] = ll.landscape.race(f, {"newton": _newton_like()}, steps=3)
    np.testing.assert_allclose(e.path[1], [1.0, 3.0], rtol=1e-14)
    assert e.steps_to_tol == 1 and e.lr is None

    no_hessian = SimpleNamespace(value=f.value, grad=f.grad, start=f.start, minima=f.minima)
    with pytest.raises(
        ValueError,
        match="race: optimizer 'newton' needs hessian= at every update, which the function does not give",
    ):
        ll.landscape.race(no_hessian, {"newton": _newton_like()})


def _one_at_a_time(function):
    """The function as a plain object that takes one point per call (not ``vectorized``)."""

    def value(w):
        assert np.ndim(w) == 1
        return float(function.value(w))

    def grad(w):
        assert np.ndim(w) == 1
        return function.grad(w)

    return SimpleNamespace(
        value=value, grad=grad, hessian=function.hessian, start=function.start, minima=function.minima
    )


def test_runners_in_lockstep_equal_each_optimizer_alone():
    """One race of many optimizers (one function call per step for all of them) gives each the path
    it has alone, bitwise: divergence of one stops only that one, noise draws are each runner's own,
    the look-ahead form gets its gradient at its look-ahead point, Newton its Hessian."""
    f = F.get("rosenbrock")
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    opts = {name: ll.optim.get(name, lr=1e-3) for name in names}
    opts["too-fast"] = ll.optim.sgd(lr=0.05)  # leaves the valley and overflows
    opts["look-ahead"] = ll.landscape.rates.race_optimizer("sutskever_nesterov", lr=1e-3)
    opts["newton"] = _newton_like()
    for noise in (0.0, 0.5):
        together = ll.landscape.race(f, opts, steps=300, noise=noise, seed=3)
        assert [e.name for e in together] == list(opts)
        for entry in together:
            [alone] = ll.landscape.race(f, {entry.name: opts[entry.name]}, steps=300, noise=noise, seed=3)
            np.testing.assert_array_equal(entry.path, alone.path)
            np.testing.assert_array_equal(entry.values, alone.values)
            np.testing.assert_array_equal(entry.grad_norms, alone.grad_norms)
            assert (entry.diverged_step, entry.steps_to_tol) == (alone.diverged_step, alone.steps_to_tol)
        by_name = {e.name: e for e in together}
        assert by_name["too-fast"].diverged and by_name["too-fast"].diverged_step < 300
        assert not by_name["adam"].diverged and len(by_name["adam"].path) == 301


def test_a_function_of_one_point_at_a_time_races_alike():
    """Functions that do not declare ``vectorized`` are called once per runner and point."""
    f = F.get("himmelblau")
    assert f.vectorized
    opts = {"gd": ll.optim.sgd(lr=0.01), "adam": ll.optim.adam(lr=0.05), "newton": _newton_like()}
    batched = ll.landscape.race(f, opts, steps=200)
    single = ll.landscape.race(_one_at_a_time(f), opts, steps=200)
    for a, b in zip(batched, single):
        np.testing.assert_allclose(a.path, b.path, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=1e-15)


def test_a_gradient_of_the_wrong_shape_is_an_error():
    bowl = F.get("quadratic_bowl")
    odd = SimpleNamespace(value=bowl.value, grad=lambda w: np.zeros(3), start=bowl.start)
    with pytest.raises(
        ValueError, match=r"race: the function's grad must have the shape of its point, got \(3,\)"
    ):
        ll.landscape.race(odd, {"gd": ll.optim.sgd(lr=0.1)}, steps=2)
    odd = SimpleNamespace(value=bowl.value, grad=bowl.grad, hessian=lambda w: np.eye(3), start=bowl.start)
    with pytest.raises(
        ValueError, match=r"race: the function's hessian must have shape \(dim, dim\) = \(2, 2\)"
    ):
        ll.landscape.race(odd, {"newton": ll.optim.newton()}, steps=2)


def test_race_errors():
    bowl = F.get("quadratic_bowl")
    with pytest.raises(ValueError, match="race: noise must be >= 0"):
        ll.landscape.race(bowl, {"gd": ll.optim.sgd(lr=0.1)}, noise=-1.0)
    with pytest.raises(ValueError, match="race: start must have 2 coordinates, got 3"):
        ll.landscape.race(bowl, {"gd": ll.optim.sgd(lr=0.1)}, start=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="race: start must be finite"):
        ll.landscape.race(bowl, {"gd": ll.optim.sgd(lr=0.1)}, start=[np.nan, 0.0])
    with pytest.raises(TypeError, match="optimizers must be a non-empty mapping"):
        ll.landscape.race(bowl, {})


# --------------------------------------------------------------------------- momentum rates


def test_momentum_rate_closed_forms():
    lam = [1.0, 10.0]
    # gradient descent: max |1 - lr lambda|
    for lr in (0.01, 0.1, 0.15, 0.18, 0.25):
        assert ll.landscape.momentum_rate(lr, 0.0, lam) == pytest.approx(
            max(abs(1 - lr * v) for v in lam), rel=1e-15
        )
    # complex regime: sqrt(beta); (1 + beta - lr lambda)^2 < 4 beta for both eigenvalues here
    assert ll.landscape.momentum_rate(0.05, 0.81, lam) == pytest.approx(0.9, rel=1e-15)
    # the optimal tuning reaches (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
    k = math.sqrt(10.0)
    best = (k - 1) / (k + 1)
    assert ll.landscape.momentum_rate(4 / (1 + k) ** 2, best**2, lam) == pytest.approx(best, rel=1e-7)
    # broadcasting over an (lr, beta) grid, and the companion matrix's spectral radius
    rng = np.random.default_rng(0)
    lrs, betas = rng.uniform(0.01, 0.3, 6), rng.uniform(0.0, 0.99, 6)
    rates = ll.landscape.momentum_rate(lrs[None, :], betas[:, None], lam)
    assert rates.shape == (6, 6)
    for i, b in enumerate(betas):
        for j, a in enumerate(lrs):
            radius = max(np.abs(np.linalg.eigvals([[b, v], [-a * b, 1 - a * v]])).max() for v in lam)
            assert rates[i, j] == pytest.approx(radius, rel=1e-7)


def test_measured_rate_map_matches_the_closed_forms():
    m = ll.landscape.momentum_rate_map(
        [1.0, 10.0], np.linspace(0.01, 0.3, 12), np.linspace(0.0, 0.9, 7), steps=200
    )
    assert m.measured.shape == m.predicted.shape == (7, 12)
    np.testing.assert_allclose(m.measured, m.predicted, rtol=0.02)
    assert (m.predicted[:, -1] > 1).any() and (m.measured[m.predicted > 1.02] > 1).all()  # divergence seen


def test_momentum_rate_errors():
    with pytest.raises(ValueError, match="momentum_rate: beta must be in \\[0, 1\\)"):
        ll.landscape.momentum_rate(0.1, 1.0, [1.0])
    with pytest.raises(ValueError, match="momentum_rate: lr must be finite and > 0"):
        ll.landscape.momentum_rate(0.0, 0.5, [1.0])
    with pytest.raises(ValueError, match="eigenvalues must be finite and >= 0"):
        ll.landscape.momentum_rate(0.1, 0.5, [-1.0])
    with pytest.raises(ValueError, match="window must be <= steps // 2"):
        ll.landscape.momentum_rate_map([1.0], [0.1], [0.0], steps=10, window=6)
