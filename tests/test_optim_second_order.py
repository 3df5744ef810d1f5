"""Newton's method, full-matrix AdaGrad and Adam with eps inside the root."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import torch

import losslab as ll

O = ll.optim


def _quadratic(seed, d=4):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    H = A @ A.T + d * np.eye(d)
    w_star = rng.normal(size=d)
    return H, w_star, lambda w: H @ (w - w_star)


# --------------------------------------------------------------------------- Newton


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_minimizes_a_quadratic_in_one_step(seed):
    H, w_star, grad = _quadratic(seed)
    opt = O.newton()
    w = np.random.default_rng(10 + seed).normal(size=4) * 5
    updates, _ = opt.update(grad(w), opt.init(w), w, hessian=H)
    np.testing.assert_allclose(w + updates, w_star, rtol=1e-10, atol=1e-12)
    assert O.get("newton").extra_args == frozenset({"hessian"})


def test_newton_on_trees_and_with_a_hessian_vector_product():
    H, w_star, grad = _quadratic(3, d=5)
    params = {"W": np.zeros((2, 2)), "b": np.ones(1)}
    vec, unravel = ll.tree_ravel(params)
    grads = unravel(grad(vec))
    opt = O.newton()
    dense, _ = opt.update(grads, opt.init(params), params, hessian=H)
    hvp, _ = opt.update(grads, opt.init(params), params, hessian=lambda v: unravel(H @ ll.tree_ravel(v)[0]))
    np.testing.assert_allclose(ll.tree_ravel(O.apply_updates(params, dense))[0], w_star, rtol=1e-10)
    for k in params:
        np.testing.assert_allclose(hvp[k], dense[k], rtol=1e-12)


def test_damped_newton_interpolates_towards_gradient_descent():
    H, _, grad = _quadratic(4)
    w = np.ones(4)
    g = grad(w)
    lam = 1e6
    damped = O.newton(lr=1.0, damping=lam)
    updates, _ = damped.update(g, damped.init(w), w, hessian=H)
    np.testing.assert_allclose(updates, -np.linalg.solve(H + lam * np.eye(4), g), rtol=1e-12)
    np.testing.assert_allclose(updates, -g / lam, rtol=1e-4)  # ~ gradient descent with lr 1/lambda
    halved = O.newton(lr=0.5)
    half, _ = halved.update(g, halved.init(w), w, hessian=H)
    np.testing.assert_allclose(half, -0.5 * np.linalg.solve(H, g), rtol=1e-12)


def test_newton_converges_quadratically_on_rosenbrock_near_the_minimum():
    """001 §7.3: e_{t+1} <= C e_t^2 -- measured: C stays bounded while e_t -> 0, the order tends to 2."""
    f = ll.landscape.functions.get("rosenbrock")
    [entry] = ll.train.race(f, {"newton": O.newton()}, steps=8, start=[1.2, 1.3])
    errors = np.linalg.norm(entry.path - 1.0, axis=1)
    near = [(a, b) for a, b in zip(errors[:-1], errors[1:]) if a < 0.05 and b > 1e-12]  # above rounding
    assert len(near) >= 3
    constants = [b / a**2 for a, b in near]
    orders = [math.log(b) / math.log(a) for a, b in near]
    contraction = [b / a for a, b in near]
    assert max(constants) < 5.0 and min(orders[1:]) > 1.9
    assert all(later < 1e-2 * earlier for earlier, later in zip(contraction, contraction[1:]))  # superlinear
    assert entry.steps_to_tol is not None and entry.steps_to_tol <= 5
    # gradient descent from the same start is linear: its error ratio settles to a constant < 1
    [gd] = ll.train.race(f, {"gd": O.gd(lr=1e-3)}, steps=300, start=[1.05, 1.08])
    gd_err = np.linalg.norm(gd.path - 1.0, axis=1)
    assert gd_err[-1] / gd_err[-2] == pytest.approx(gd_err[-2] / gd_err[-3], rel=1e-3)
    assert 0.9 < gd_err[-1] / gd_err[-2] < 1.0


def test_fit_passes_the_models_hessian_one_newton_step_is_least_squares():
    X, y = ll.data.linear(n=60, w=[1.5, -2.0, 0.5], b=0.3, noise=0.2, seed=0)
    history = ll.train.fit(
        ll.models.Linear(3), X, y, loss="mse", optimizer=O.newton(), epochs=1, progress=False
    )
    A = np.c_[X, np.ones(len(X))]
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(np.r_[history.params["W"][:, 0], history.params["b"]], solution, rtol=1e-7)
    # ridge: the Hessian includes the penalty
    ridge = ll.train.fit(
        ll.models.Linear(3), X, y, optimizer=O.newton(), epochs=1, regularizer={"l2": 0.5}, progress=False
    )
    reg = np.diag([0.5, 0.5, 0.5, 0.0])
    solution = np.linalg.solve(2 * A.T @ A / len(X) + reg, 2 * A.T @ y / len(X))
    np.testing.assert_allclose(np.r_[ridge.params["W"][:, 0], ridge.params["b"]], solution, rtol=1e-7)


def test_newton_logistic_regression_converges_in_a_few_steps():
    X, y = ll.data.two_blobs(n=100, distance=1.5, seed=0)
    model = ll.models.Logistic(2)
    newton = ll.train.fit(model, X, y, optimizer=O.newton(), epochs=8, progress=False)

    def objective(theta):
        value, grads = model.value_and_grad({"W": theta[:2, None], "b": theta[2:]}, X, y)
        return float(value), np.r_[grads["W"][:, 0], grads["b"]]

    reference = scipy.optimize.minimize(
        objective, np.zeros(3), jac=True, method="BFGS", options={"gtol": 1e-12}
    )
    np.testing.assert_allclose(np.r_[newton.params["W"][:, 0], newton.params["b"]], reference.x, rtol=1e-6)
    assert newton.steps["grad_norm"][-1] < 1e-8


def test_newton_errors_are_named():
    opt = O.newton()
    w = np.ones(2)
    with pytest.raises(ValueError, match="newton: update needs hessian="):
        opt.update(w, opt.init(w), w)
    with pytest.raises(ValueError, match=r"newton: hessian must have shape \(2, 2\)"):
        opt.update(w, opt.init(w), w, hessian=np.eye(3))
    with pytest.raises(ValueError, match="newton: damping must be >= 0"):
        O.newton(damping=-1.0)
    bare = ll.landscape.functions.get("quadratic_bowl")
    no_hessian = type(
        "F", (), {"value": bare.value, "grad": bare.grad, "minima": bare.minima, "start": bare.start}
    )
    with pytest.raises(ValueError, match="race: optimizer 'n' needs hessian="):
        ll.train.race(no_hessian, {"n": opt}, steps=2)
    odd = O.GradientTransformation(O.identity().init, O.identity().update, None, frozenset({"jacobian"}))
    with pytest.raises(ValueError, match="fit: the optimizer needs jacobian"):
        ll.train.fit(ll.models.Linear(1), [[1.0]], [1.0], optimizer=odd)


# --------------------------------------------------------------------------- full-matrix AdaGrad


def _axis_aligned_grads(params, steps, seed):
    """Gradients with one non-zero coordinate each: G = sum g g^T stays diagonal."""
    vec, unravel = ll.tree_ravel(params)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        g = np.zeros(vec.size)
        g[rng.integers(vec.size)] = rng.normal() * 3
        out.append(unravel(g))
    return out


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lr_decay": 0.1}, {"initial_accumulator_value": 0.5, "eps": 1e-3}, {"weight_decay": 0.0}],
    ids=["defaults", "lr_decay", "initial-eps", "plain"],
)
def test_full_matrix_adagrad_equals_diagonal_adagrad_and_torch_on_axis_aligned_gradients(kwargs):
    params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    grads = _axis_aligned_grads(params, 40, seed=0)
    full, diag = O.adagrad(lr=0.1, full_matrix=True, **kwargs), O.adagrad(lr=0.1, **kwargs)
    sf, sd = full.init(params), diag.init(params)
    pf = pd = params
    tensors = {k: torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    topt = torch.optim.Adagrad(list(tensors.values()), lr=0.1, **kwargs)
    for g in grads:
        uf, sf = full.update(g, sf, pf)
        ud, sd = diag.update(g, sd, pd)
        pf, pd = O.apply_updates(pf, uf), O.apply_updates(pd, ud)
        for k, t in tensors.items():
            t.grad = torch.from_numpy(g[k].copy())
        topt.step()
        for k in params:
            np.testing.assert_allclose(pf[k], pd[k], rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(pf[k], tensors[k].detach().numpy(), rtol=1e-12, atol=1e-15)


def test_full_matrix_adagrad_follows_the_matrix_root_formula_on_general_gradients():
    rng = np.random.default_rng(1)
    w = rng.normal(size=3)
    opt = O.adagrad(lr=0.2, full_matrix=True, eps=1e-2)
    state = opt.init(w)
    G = np.zeros((3, 3))
    diag_w = w.copy()
    diag_opt = O.adagrad(lr=0.2, eps=1e-2)
    diag_state = diag_opt.init(w)
    for _ in range(10):
        g = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 1.0]]) @ w + 0.1
        G += np.outer(g, g)
        expected = w - 0.2 * np.linalg.solve(1e-2 * np.eye(3) + np.real(scipy.linalg.sqrtm(G)), g)
        updates, state = opt.update(g, state, w)
        w = O.apply_updates(w, updates)
        np.testing.assert_allclose(w, expected, rtol=1e-9)
        du, diag_state = diag_opt.update(
            np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 1.0]]) @ diag_w + 0.1, diag_state, diag_w
        )
        diag_w = O.apply_updates(diag_w, du)
    assert np.abs(w - diag_w).max() > 1e-3  # correlated gradients: the full matrix is a different method
    np.testing.assert_allclose(state.inner[0].outer_products, G, rtol=1e-12)


# --------------------------------------------------------------------------- Adam, eps inside the root


def _adam_inside_reference(w0, grad, steps, lr, b1, b2, eps, amsgrad=False):
    """003's printed Adam: x -= lr * m_hat / sqrt(v_hat + eps), written out step by step."""
    w, m, v, vmax = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
    out = []
    for t in range(1, steps + 1):
        g = grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        w = w - lr * (m / (1 - b1**t)) / np.sqrt(v_hat + eps)
        out.append(w)
    return out


@pytest.mark.parametrize("amsgrad", [False, True], ids=["adam", "amsgrad"])
@pytest.mark.parametrize("fused", [False, True], ids=["update", "fused-step"])
def test_adam_eps_inside_follows_the_curriculums_formula(amsgrad, fused):
    grad = lambda w: np.array([2.0, 20.0, 2e-4]) * w + np.cos(w) * 1e-3  # noqa: E731
    w0 = np.array([1.0, -0.5, 2.0])
    ref = _adam_inside_reference(w0, grad, 50, lr=0.05, b1=0.9, b2=0.999, eps=1e-3, amsgrad=amsgrad)
    opt = O.adam(lr=0.05, eps=1e-3, eps_placement="inside", amsgrad=amsgrad)
    w, state = w0, opt.init(w0)
    for expected in ref:
        if fused:
            w, state = O.step(opt, grad(w), state, w)
        else:
            updates, state = opt.update(grad(w), state, w)
            w = O.apply_updates(w, updates)
        np.testing.assert_allclose(w, expected, rtol=1e-12)


def test_adam_eps_inside_differs_from_pytorch_exactly_by_the_placement():
    w0 = np.array([1e-3, -2e-3])
    grad = lambda w: 0.1 * w  # noqa: E731  tiny gradients: where the placement matters
    inside = O.adam(lr=0.01, eps=1e-8, eps_placement="inside")
    outside = O.adam(lr=0.01, eps=1e-8)
    u_in, _ = inside.update(grad(w0), inside.init(w0), w0)
    u_out, _ = outside.update(grad(w0), outside.init(w0), w0)
    g = grad(w0)
    np.testing.assert_allclose(u_in, -0.01 * g / np.sqrt(g * g + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(u_out, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # with eps = 0 the placements coincide, and match torch.optim.Adam(eps=0)
    t = torch.tensor(w0, requires_grad=True)
    topt = torch.optim.Adam([t], lr=0.01, eps=0.0)
    opt = O.adam(lr=0.01, eps=0.0, eps_placement="inside")
    w, state = w0, opt.init(w0)
    for _ in range(30):
        t.grad = torch.from_numpy(grad(t.detach().numpy()))
        topt.step()
        updates, state = opt.update(grad(w), state, w)
        w = O.apply_updates(w, updates)
    np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-10)
    assert math.isclose(
        float(O.scale_by_adam(eps_placement="inside").update(g, O.scale_by_adam().init(w0))[0][0]),
        float(g[0] / np.sqrt(g[0] ** 2 + 1e-8)),
        rel_tol=1e-12,
    )


def test_eps_placement_is_validated():
    with pytest.raises(
        ValueError, match="adam: eps_placement must be one of 'algorithm1', 'keras', 'inside'"
    ):
        O.adam(eps_placement="under")
    with pytest.raises(TypeError, match="adagrad: full_matrix must be True or False"):
        O.adagrad(full_matrix=1)


def test_extra_args_propagate_through_chain_and_multi_steps():
    newton = O.newton()
    assert O.chain(O.clip_by_global_norm(1.0), newton).extra_args == frozenset({"hessian"})
    assert O.multi_steps(newton, 2).extra_args == frozenset({"hessian"})
    assert O.adam().extra_args == frozenset() and O.chain(O.sgd(0.1)).extra_args == frozenset()
    f = ll.landscape.functions.get("quadratic_bowl")
    [entry] = ll.train.race(f, {"clipped-newton": O.chain(O.clip_by_global_norm(100.0), newton)}, steps=3)
    assert entry.steps_to_tol == 1 and entry.distance < 1e-12  # a quadratic: one Newton step
