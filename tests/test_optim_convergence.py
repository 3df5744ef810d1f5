"""Every preset converges (Optax alias_test style), Distill's closed-form rates on quadratics,
and the curriculum's worked optimizer steps with their correct numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losslab as ll

O = ll.optim


def parabola(x):
    return float(np.sum((x - np.array([1.0, -2.0])) ** 2)), 2 * (x - np.array([1.0, -2.0]))


parabola.hessian = lambda x: 2.0 * np.eye(2)


def rosenbrock(x):
    a, b = 1.0, 100.0
    value = (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2
    g = np.array([-2 * (a - x[0]) - 4 * b * x[0] * (x[1] - x[0] ** 2), 2 * b * (x[1] - x[0] ** 2)])
    return float(value), g


rosenbrock.hessian = ll.landscape.functions.get("rosenbrock").hessian


# Tuned per optimizer, as in Optax's alias_test: (hyperparameters, steps) for each problem.
PARABOLA = {
    "sgd": {"lr": 0.1},
    "gd": {"lr": 0.1},
    "momentum": {"lr": 0.05},
    "nesterov": {"lr": 0.05},
    "ema_momentum": {"lr": 0.5},
    "velocity": {"lr": 0.05},
    "adagrad": {"lr": 1.0},
    "rmsprop": {"lr": 0.01},
    "adam": {"lr": 0.1},
    "adamw": {"lr": 0.1, "weight_decay": 0.0},
    "newton": {"lr": 1.0},
}
ROSENBROCK = {
    "sgd": ({"lr": 1e-3}, 10_000),
    "gd": ({"lr": 1e-3}, 10_000),
    "momentum": ({"lr": 2e-4, "beta": 0.9}, 10_000),
    "nesterov": ({"lr": 2e-4, "beta": 0.9}, 10_000),
    "ema_momentum": ({"lr": 2e-3, "beta": 0.9}, 10_000),
    "velocity": ({"lr": 2e-4, "beta": 0.9}, 10_000),
    "adagrad": ({"lr": 0.5}, 10_000),
    "rmsprop": ({"lr": 1e-3, "alpha": 0.99}, 10_000),
    "adam": ({"lr": 1e-2}, 10_000),
    "adamw": ({"lr": 1e-2, "weight_decay": 0.0}, 10_000),
    "newton": ({"lr": 1.0}, 20),
}


def minimize(opt, fn, x0, steps):
    x = np.array(x0, dtype=float)
    state = opt.init(x)
    for _ in range(steps):
        _, g = fn(x)
        extra = {"hessian": fn.hessian(x)} if "hessian" in opt.extra_args else {}
        u, state = opt.update(g, state, x, **extra)
        x = O.apply_updates(x, u)
    return x


def test_every_registered_optimizer_has_a_tuned_case():
    assert sorted(PARABOLA) == O.names() == sorted(ROSENBROCK)


@pytest.mark.parametrize("name", O.names())
def test_converges_on_parabola(name):
    x = minimize(O.get(name, **PARABOLA[name]), parabola, [-3.0, 4.0], 1000)
    np.testing.assert_allclose(x, [1.0, -2.0], atol=1e-2)


@pytest.mark.parametrize("name", O.names())
def test_converges_on_rosenbrock(name):
    kwargs, steps = ROSENBROCK[name]
    x = minimize(O.get(name, **kwargs), rosenbrock, [-1.2, 1.0], steps)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=5e-2)


# ----------------------------------------------------------------------------- Distill's rates
def test_gradient_descent_rate_at_the_optimal_step():
    """Goh (2017), "Why Momentum Really Works": alpha = 2 / (mu + L) gives rate (kappa-1)/(kappa+1)."""
    eig = np.array([1.0, 3.0, 7.0, 10.0])
    mu, L = eig.min(), eig.max()
    kappa = L / mu
    x = minimize_with_history(O.gd(2 / (mu + L)), eig, np.ones(4), 200)
    norms = np.linalg.norm(x, axis=1)
    measured = norms[150] / norms[149]  # middle eigenvalues have died out by now
    assert measured == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-9)
    # the rate is already exact at every step along the extreme eigenvectors (|1 - a mu| = |1 - a L|)
    x = minimize_with_history(O.gd(2 / (mu + L)), eig, np.array([1.0, 0, 0, 1.0]), 20)
    ratios = np.linalg.norm(x[1:], axis=1) / np.linalg.norm(x[:-1], axis=1)
    np.testing.assert_allclose(ratios, (kappa - 1) / (kappa + 1), rtol=1e-12)


def minimize_with_history(opt, eig, x0, steps):
    x = np.array(x0, dtype=float)
    state = opt.init(x)
    out = [x]
    for _ in range(steps):
        u, state = opt.update(eig * x, state, x)
        x = O.apply_updates(x, u)
        out.append(x)
    return np.array(out)


def test_heavy_ball_rate_is_sqrt_beta_in_the_complex_regime():
    """On lambda_i the iteration matrix has eigenvalues with |sigma|^2 = beta when
    (1 + beta - alpha lambda)^2 < 4 beta: the error decays like sqrt(beta)^k, whatever lambda."""
    eig = np.array([1.0, 10.0])
    alpha, beta = 0.1, 0.8
    assert np.all((1 + beta - alpha * eig) ** 2 < 4 * beta)  # both eigenvalues in the complex regime
    x = minimize_with_history(O.momentum(alpha, beta), eig, np.ones(2), 700)
    norms = np.linalg.norm(x, axis=1)
    window = 60  # longer than the slowest oscillation period 2 pi / theta
    theta = np.arccos((1 + beta - alpha * eig) / (2 * math.sqrt(beta)))
    assert window > 2 * math.pi / theta.min()
    early, late = norms[100 : 100 + window].max(), norms[600 : 600 + window].max()
    measured = (late / early) ** (1 / 500)
    assert measured == pytest.approx(math.sqrt(beta), rel=2e-3)
    # outside that regime (beta small, real roots) the rate is the largest |root|, not sqrt(beta)
    beta_real = 0.05
    x = minimize_with_history(O.momentum(alpha, beta_real), np.array([1.0]), np.ones(1), 200)
    a = 1 + beta_real - alpha
    root = (a + math.sqrt(a * a - 4 * beta_real)) / 2
    assert abs(x[150, 0] / x[149, 0]) == pytest.approx(root, rel=1e-9)
    assert root > 2 * math.sqrt(beta_real)


# ----------------------------------------------------------------------------- curriculum examples
def step_once(opt, params, grads):
    state = opt.init(params)
    updates, _ = opt.update(grads, state, params)
    return O.apply_updates(params, updates)


def test_w_squared_with_lr_0_3():
    """L(W) = W^2, grad 2W, lr 0.3, W0 = 4: W = 4, 1.6, 0.64, 0.256, 0.1024 (each step W *= 0.4)."""
    opt = O.gd(lr=0.3)
    w = np.array(4.0)
    state = opt.init(w)
    ws = [float(w)]
    for _ in range(4):
        u, state = opt.update(2 * w, state, w)
        w = O.apply_updates(w, u)
        ws.append(float(w))
    np.testing.assert_allclose(ws, [4.0, 1.6, 0.64, 0.256, 0.1024], rtol=1e-14)


def test_linear_regression_step():
    """x=2, y=5, w=1, b=0, lr=0.1, loss (wx+b-y)^2: grads (-12, -6), step to w=2.2, b=0.6."""
    params = {"w": np.array(1.0), "b": np.array(0.0)}
    r = 1.0 * 2 + 0 - 5
    new = step_once(O.sgd(lr=0.1), params, {"w": np.array(2 * r * 2.0), "b": np.array(2 * r)})
    assert float(new["w"]) == pytest.approx(2.2) and float(new["b"]) == pytest.approx(0.6)


def test_logistic_regression_step():
    """x=1, y=1, w=b=0, lr=0.5: p=0.5, grads (p-y)x = -0.5, step to 0.25, 0.25."""
    p = 1 / (1 + math.exp(-0.0))
    new = step_once(
        O.sgd(lr=0.5),
        {"w": np.array(0.0), "b": np.array(0.0)},
        {"w": np.array(p - 1.0), "b": np.array(p - 1.0)},
    )
    assert (float(new["w"]), float(new["b"])) == (0.25, 0.25)


def test_practice_problem_linear_regression():
    """(x, y) = (3, 10), w=2, b=1, lr=0.05: y_hat=7, r=-3, grads (2 r x, 2 r) = (-18, -6): w'=2.9, b'=1.3."""
    r = 2 * 3 + 1 - 10
    new = step_once(
        O.sgd(lr=0.05),
        {"w": np.array(2.0), "b": np.array(1.0)},
        {"w": np.array(2.0 * r * 3), "b": np.array(2.0 * r)},
    )
    assert float(new["w"]) == pytest.approx(2.9) and float(new["b"]) == pytest.approx(1.3)


def test_practice_problem_logistic_regression():
    """x=2, y=0, w=1, b=-1, lr=0.2: z=1, p=sigma(1)=0.7310585786, grads (2p, p),
    w' = 1 - 0.4 p = 0.7075765686, b' = -1 - 0.2 p = -1.1462117157."""
    p = 1 / (1 + math.exp(-1.0))
    new = step_once(
        O.sgd(lr=0.2), {"w": np.array(1.0), "b": np.array(-1.0)}, {"w": np.array(p * 2.0), "b": np.array(p)}
    )
    assert float(new["w"]) == pytest.approx(0.7075765686, abs=1e-10)
    assert float(new["b"]) == pytest.approx(-1.1462117157, abs=1e-10)


def test_backprop_example_weight_update():
    """The 2-2-1 network's update w13 = 0.7 - 0.1 * (-0.145) = 0.7145."""
    new = step_once(O.sgd(lr=0.1), np.array(0.7), np.array(-0.145))
    assert float(new) == pytest.approx(0.7145, abs=1e-15)


def test_curriculum_adam_loop_is_adam():
    """The curriculum's Adam loop (bias-corrected, eps outside the root) is ll.optim.adam."""
    c = np.array([1.0, 9.0])
    w, m, v, traj = np.array([3.0, 2.0]), np.zeros(2), np.zeros(2), []
    for t in range(1, 61):
        g = c * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.25 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        traj.append(w)
    ours = minimize_with_history(O.adam(lr=0.25), c, np.array([3.0, 2.0]), 60)[1:]
    np.testing.assert_allclose(ours, np.array(traj), rtol=1e-10, atol=1e-14)


def test_curriculum_rmsprop_and_adagrad_loops():
    """grad_sq = 0.9 s + 0.1 g^2; W -= lr g / (sqrt(s) + 1e-7), and AdaGrad's grad_sq += g^2."""
    c = np.array([1.0, 9.0])
    w, s, traj = np.array([3.0, 2.0]), np.zeros(2), []
    for _ in range(50):
        g = c * w
        s = 0.9 * s + 0.1 * g * g
        w = w - 0.01 * g / (np.sqrt(s) + 1e-7)
        traj.append(w)
    ours = minimize_with_history(O.rmsprop(lr=0.01, alpha=0.9, eps=1e-7), c, np.array([3.0, 2.0]), 50)[1:]
    np.testing.assert_allclose(ours, np.array(traj), rtol=1e-10)
    w, s, traj = np.array([3.0, 2.0]), np.zeros(2), []
    for _ in range(50):
        g = c * w
        s = s + g * g
        w = w - 0.1 * g / (np.sqrt(s) + 1e-7)
        traj.append(w)
    ours = minimize_with_history(O.adagrad(lr=0.1, eps=1e-7), c, np.array([3.0, 2.0]), 50)[1:]
    np.testing.assert_allclose(ours, np.array(traj), rtol=1e-10)
