"""Models: manual backprop vs finite differences and PyTorch, the curriculum's worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import losslab as ll
from losslab.losses import ElementwiseLoss, Param

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _bce_value(xp, y_pred, y_true, *, from_logits):
    if from_logits:
        return np.logaddexp(0.0, y_pred) - y_true * y_pred
    return -(y_true * np.log(y_pred) + (1 - y_true) * np.log1p(-y_pred))


def _bce_grad(xp, y_pred, y_true, *, from_logits):
    if from_logits:
        return _sigmoid(y_pred) - y_true
    return (y_pred - y_true) / (y_pred * (1 - y_pred))


# A test-local binary cross-entropy (not registered): exercises the models' logit path on its own.
BCE = ElementwiseLoss(
    "test_bce",
    task="binary",
    value=_bce_value,
    grad=_bce_grad,
    params={"from_logits": Param(False)},
    info={"formula": r"-[y\log p + (1-y)\log(1-p)]", "gradient": r"(p - y)/(p(1-p))"},
)


def _directional_check(model, params, X, y, loss, seed=0, **loss_params):
    """JAX check_grads style: <grad, v> vs a 4th-order central difference along random v."""
    rng = np.random.default_rng(seed)
    _, grads = model.value_and_grad(params, X, y, loss, **loss_params)
    for _ in range(3):
        v = {k: rng.normal(size=p.shape) for k, p in params.items()}
        analytic = sum(float(np.sum(grads[k] * v[k])) for k in params)
        h = 1e-3

        def f(t, v=v):
            return float(model.loss({k: params[k] + t * v[k] for k in params}, X, y, loss, **loss_params))

        numeric = (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)
        assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def _regression_data(n_in, n_out, seed=1, n=7):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))


# --------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_linear_gradient_matches_finite_differences(loss):
    model = ll.models.Linear(3, 2, init="xavier")
    X, y = _regression_data(3, 2)
    _directional_check(model, model.init(0), X, y, loss)


def test_linear_accepts_one_dimensional_targets():
    model = ll.models.Linear(3)
    X, y = _regression_data(3, 1)
    params = model.init(3) | {"W": np.ones((3, 1))}
    v1, g1 = model.value_and_grad(params, X, y[:, 0], "mse")
    v2, g2 = model.value_and_grad(params, X, y, "mse")
    assert v1 == pytest.approx(v2, rel=1e-15)
    np.testing.assert_allclose(g1["W"], g2["W"], rtol=1e-15)


@pytest.mark.parametrize("from_logits", [True, False])
def test_logistic_gradient_matches_finite_differences(from_logits):
    model = ll.models.Logistic(3, init="xavier")
    X, _ = _regression_data(3, 1)
    y = np.array([0, 1, 1, 0, 1, 0, 0], dtype=float)
    _directional_check(model, model.init(0), X, y, BCE, from_logits=from_logits)


def test_logistic_uses_the_logit_path():
    # With a huge logit the probability rounds to 1; the logit path still gives a finite loss.
    model = ll.models.Logistic(1)
    params = {"W": np.array([[50.0]]), "b": np.array([0.0])}
    value, grads = model.value_and_grad(params, [[1.0]], [0.0], BCE)
    assert value == pytest.approx(50.0, rel=1e-12)  # softplus(50) - 0 = 50 + log1p(e^-50)
    assert grads["W"][0, 0] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_softmax_gradient_through_probabilities(loss):
    model = ll.models.Softmax(3, 4, init="xavier")
    X, _ = _regression_data(3, 1)
    y = np.eye(4)[[0, 1, 2, 3, 0, 1, 2]]
    _directional_check(model, model.init(0), X, y, loss)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("skip", [False, True])
def test_mlp_gradient_matches_finite_differences(activation, skip):
    model = ll.models.MLP([3, 4, 4, 2], activation=activation, skip=skip)
    X, y = _regression_data(3, 2)
    params = model.init(0)
    params = {k: v + 0.1 for k, v in params.items()}  # biases off zero: keep ReLU away from its kink
    _directional_check(model, params, X, y, "mse")


@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh", "softmax"])
def test_mlp_output_activations(output_activation):
    model = ll.models.MLP([2, 5, 3], activation="tanh", output_activation=output_activation)
    X, y = _regression_data(2, 3)
    _directional_check(model, model.init(1), X, np.abs(y) / 3, "mse")


# --------------------------------------------------------------------------- PyTorch parity


def _torch_mlp(model, params, activation):
    acts = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": torch.nn.functional.leaky_relu,
        "linear": lambda z: z,
    }
    tparams = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    n = len(model.layer_sizes) - 1

    def forward(X):
        h = torch.as_tensor(X, dtype=torch.float64)
        for l in range(1, n + 1):
            lin = torch.nn.functional.linear(h, tparams[f"W{l}"].T, tparams[f"b{l}"])
            if l == n:
                return lin
            a = acts[activation](lin)
            h = a + h if model.skips[l - 1] else a

    return tparams, forward


def _assert_close_to_torch(value, grads, tvalue, tparams):
    tvalue.backward()
    assert value == pytest.approx(tvalue.item(), rel=1e-10)
    for k, g in grads.items():
        np.testing.assert_allclose(g, tparams[k].grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("skip", [False, True])
def test_mlp_matches_pytorch(activation, skip):
    model = ll.models.MLP([3, 4, 4, 4, 2], activation=activation, skip=skip)
    assert model.skips == ((False, True, True, False) if skip else (False,) * 4)
    X, y = _regression_data(3, 2, n=9)
    params = model.init(5)
    value, grads = model.value_and_grad(params, X, y, "mse")
    tparams, forward = _torch_mlp(model, params, activation)
    tvalue = torch.nn.functional.mse_loss(forward(X), torch.as_tensor(y))
    _assert_close_to_torch(value, grads, tvalue, tparams)


def test_linear_matches_pytorch_huber():
    model = ll.models.Linear(4, 3, init="pytorch")
    X, y = _regression_data(4, 3, n=10)
    params = model.init(2)
    value, grads = model.value_and_grad(params, X, y, "huber", delta=0.5)
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    out = torch.as_tensor(X) @ tparams["W"] + tparams["b"]
    tvalue = torch.nn.functional.huber_loss(out, torch.as_tensor(y), delta=0.5)
    _assert_close_to_torch(value, grads, tvalue, tparams)


def test_logistic_matches_pytorch():
    model = ll.models.Logistic(4, init="pytorch")
    X, _ = _regression_data(4, 1, n=10)
    y = (np.arange(10) % 2).astype(float)
    params = model.init(2)
    value, grads = model.value_and_grad(params, X, y, BCE)
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    logits = (torch.as_tensor(X) @ tparams["W"] + tparams["b"])[:, 0]
    tvalue = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.as_tensor(y))
    _assert_close_to_torch(value, grads, tvalue, tparams)
    np.testing.assert_allclose(
        model.apply(params, X)[:, 0], torch.sigmoid(logits).detach().numpy(), rtol=1e-14
    )


def test_softmax_matches_pytorch_cross_entropy():
    model = ll.models.Softmax(4, 3, init="pytorch")
    X, _ = _regression_data(4, 1, n=10)
    y = np.arange(10) % 3
    params = model.init(2)
    value, grads = model.value_and_grad(params, X, y)  # default: sparse categorical CE from logits
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    logits = torch.as_tensor(X) @ tparams["W"] + tparams["b"]
    tvalue = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y))
    _assert_close_to_torch(value, grads, tvalue, tparams)


def test_softmax_probabilities_match_pytorch():
    model = ll.models.Softmax(4, 3, init="pytorch")
    X, _ = _regression_data(4, 1, n=10)
    params = model.init(2)
    logits = X @ params["W"] + params["b"]
    expected = torch.softmax(torch.as_tensor(logits), dim=1).numpy()
    np.testing.assert_allclose(model.apply(params, X), expected, rtol=1e-14)


# --------------------------------------------------------------------------- worked examples


def _tiny_network():
    """Seed 004, "Worked Example: A Tiny Neural Network" (2-2-1, sigmoid everywhere, BCE)."""
    model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    params = {
        "W1": np.array([[0.2, 0.3], [0.4, 0.1]]),  # W1[i, j]: input i -> hidden j (w11, w12 / w21, w22)
        "b1": np.array([0.1, 0.2]),
        "W2": np.array([[0.7], [0.5]]),  # w13, w23
        "b2": np.array([0.3]),
    }
    return model, params, np.array([[1.0, 0.0]]), np.array([1.0])


def _tiny_network_truth():
    s = lambda z: 1.0 / (1.0 + math.exp(-z))  # noqa: E731
    a1, a2 = s(0.3), s(0.5)
    z3 = 0.7 * a1 + 0.5 * a2 + 0.3
    y_hat = s(z3)
    d3 = y_hat - 1.0
    d1 = 0.7 * d3 * a1 * (1 - a1)
    d2 = 0.5 * d3 * a2 * (1 - a2)
    return dict(a1=a1, a2=a2, z3=z3, y_hat=y_hat, loss=-math.log(y_hat), d1=d1, d2=d2, d3=d3)


def _check_tiny_network(loss):
    model, params, X, y = _tiny_network()
    t = _tiny_network_truth()
    # The seed prints z3 ~ 1.086, y_hat ~ 0.748 and L ~ 0.289; the true values are
    # z3 = 0.7 sigma(0.3) + 0.5 sigma(0.5) + 0.3 = 1.01334, y_hat = 0.73367, L = 0.30969.
    assert t["z3"] == pytest.approx(1.0133394273690886, rel=1e-15)
    assert t["y_hat"] == pytest.approx(0.7336732, abs=1e-7)
    assert t["loss"] == pytest.approx(0.3096916, abs=1e-7)
    assert model.apply(params, X)[0, 0] == pytest.approx(t["y_hat"], rel=1e-15)
    value, g = model.value_and_grad(params, X, y, loss)
    assert value == pytest.approx(t["loss"], rel=1e-14)
    # Output layer: dL/dw13 = d3 a1, dL/dw23 = d3 a2, dL/db3 = d3 (seed: -0.145, -0.157, -0.252 from
    # its wrong y_hat; true: -0.15299, -0.16578, -0.26633).
    np.testing.assert_allclose(g["W2"][:, 0], [t["d3"] * t["a1"], t["d3"] * t["a2"]], rtol=1e-14)
    np.testing.assert_allclose(g["b2"], [t["d3"]], rtol=1e-14)
    np.testing.assert_allclose(g["W2"][:, 0], [-0.1529895, -0.1657776], atol=1e-7)
    # Hidden: d1 = w13 d3 sigma'(z1), d2 = w23 d3 sigma'(z2) (seed: -0.043, -0.030; true -0.0456, -0.0313);
    # x2 = 0 so dL/dw21 = dL/dw22 = 0 exactly.
    np.testing.assert_allclose(g["W1"], [[t["d1"], t["d2"]], [0.0, 0.0]], rtol=1e-14, atol=0)
    np.testing.assert_allclose(g["b1"], [t["d1"], t["d2"]], rtol=1e-14)
    np.testing.assert_allclose(g["b1"], [-0.0455741, -0.0312939], atol=1e-7)
    # Step 6: w13_new = 0.7 - 0.1 dL/dw13 (seed: 0.7145 from its gradient -0.145; true 0.715299).
    new = ll.optim.apply_updates(params, ll.optim.sgd(lr=0.1).update(g, ll.optim.sgd(lr=0.1).init(params))[0])
    assert new["W2"][0, 0] == pytest.approx(0.7 - 0.1 * t["d3"] * t["a1"], rel=1e-15)
    assert new["W2"][0, 0] == pytest.approx(0.7152989, abs=1e-7)


def test_tiny_network_worked_example_with_local_bce():
    _check_tiny_network(BCE)


def test_tiny_network_worked_example_with_registered_bce():
    _check_tiny_network("binary_cross_entropy")


def _gd_step(model, params, X, y, loss, lr):
    _, grads = model.value_and_grad(params, X, y, loss)
    opt = ll.optim.sgd(lr=lr)
    updates, _ = opt.update(grads, opt.init(params), params)
    return ll.optim.apply_updates(params, updates), grads


def test_seed_example_a_linear_step():
    # x = 2, y = 5, w = 1, b = 0, lr = 0.1: dL/dw = 2 r x = -12, dL/db = 2 r = -6 -> w = 2.2, b = 0.6.
    new, g = _gd_step(
        ll.models.Linear(1), {"W": np.array([[1.0]]), "b": np.array([0.0])}, [[2.0]], [5.0], "mse", 0.1
    )
    assert (g["W"][0, 0], g["b"][0]) == (-12.0, -6.0)
    assert new["W"][0, 0] == pytest.approx(2.2, rel=1e-15)
    assert new["b"][0] == pytest.approx(0.6, rel=1e-15)


def test_practice_problem_1_linear_step():
    # (x, y) = (3, 10), w = 2, b = 1, lr = 0.05: y_hat = 7, r = -3, dw = -18, db = -6 -> w = 2.9, b = 1.3.
    new, g = _gd_step(
        ll.models.Linear(1), {"W": np.array([[2.0]]), "b": np.array([1.0])}, [[3.0]], [10.0], "mse", 0.05
    )
    assert (g["W"][0, 0], g["b"][0]) == (-18.0, -6.0)
    assert new["W"][0, 0] == pytest.approx(2.9, rel=1e-15)
    assert new["b"][0] == pytest.approx(1.3, rel=1e-15)


@pytest.mark.parametrize("loss", [BCE, "binary_cross_entropy"])
def test_seed_example_b_logistic_step(loss):
    # x = 1, y = 1, w = b = 0, lr = 0.5: p = 0.5, dw = db = -0.5 -> w = b = 0.25.
    model = ll.models.Logistic(1)
    new, g = _gd_step(model, model.init(0), [[1.0]], [1.0], loss, 0.5)
    assert (g["W"][0, 0], g["b"][0]) == (-0.5, -0.5)
    assert (new["W"][0, 0], new["b"][0]) == (0.25, 0.25)


@pytest.mark.parametrize("loss", [BCE, "binary_cross_entropy"])
def test_practice_problem_2_logistic_step(loss):
    # x = 2, y = 0, w = 1, b = -1, lr = 0.2: p = sigma(1) = 0.731059, dw = 2p = 1.462117, db = p,
    # w' = 1 - 0.4p = 0.707577, b' = -1 - 0.2p = -1.146212.
    p = 1.0 / (1.0 + math.exp(-1.0))
    params = {"W": np.array([[1.0]]), "b": np.array([-1.0])}
    new, g = _gd_step(ll.models.Logistic(1), params, [[2.0]], [0.0], loss, 0.2)
    assert g["W"][0, 0] == pytest.approx(2 * p, rel=1e-15)
    assert g["b"][0] == pytest.approx(p, rel=1e-15)
    assert new["W"][0, 0] == pytest.approx(0.7075765685479980, rel=1e-14)
    assert new["b"][0] == pytest.approx(-1.1462117157260010, rel=1e-14)


# --------------------------------------------------------------------------- contracts


def test_inputs_are_never_mutated():
    model = ll.models.MLP([3, 4, 4, 1], activation="relu", skip=True)
    X, y = _regression_data(3, 1)
    params = model.init(0)
    copies = ({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
    model.value_and_grad(params, X, y, "mse")
    model.apply(params, X)
    for k in params:
        np.testing.assert_array_equal(params[k], copies[0][k])
    np.testing.assert_array_equal(X, copies[1])
    np.testing.assert_array_equal(y, copies[2])


def test_init_is_seeded_and_shapes_follow_layer_sizes():
    model = ll.models.MLP([5, 7, 3], init="he")
    a, b = model.init(3), model.init(np.random.default_rng(3))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert {k: v.shape for k, v in a.items()} == {"W1": (5, 7), "b1": (7,), "W2": (7, 3), "b2": (3,)}
    assert model.n_params == 5 * 7 + 7 + 7 * 3 + 3
    std = np.std(ll.models.MLP([400, 400], init="he").init(0)["W1"])
    assert std == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    bound = np.abs(ll.models.MLP([300, 100], init="xavier").init(0)["W1"]).max()
    assert bound <= math.sqrt(6 / 400) and bound > 0.95 * math.sqrt(6 / 400)


def test_float32_models_compute_in_float32():
    model = ll.models.MLP([3, 4, 1], dtype=np.float32)
    X, y = _regression_data(3, 1)
    params = model.init(0)
    value, grads = model.value_and_grad(params, X.astype(np.float32), y.astype(np.float32), "mse")
    assert all(g.dtype == np.float32 for g in grads.values())


def test_errors_name_the_argument():
    model = ll.models.Linear(3)
    params = model.init(0)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 3\)"):
        model.apply(params, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"params\['W'\] must have shape \(3, 1\)"):
        model.apply({"W": np.ones((2, 1)), "b": np.zeros(1)}, np.ones((4, 3)))
    with pytest.raises(ValueError, match="missing"):
        model.apply({"W": np.ones((3, 1))}, np.ones((4, 3)))
    with pytest.raises(ValueError, match="one entry per sample"):
        model.value_and_grad(params, np.ones((4, 3)), np.ones(5), "mse")
    with pytest.raises(ValueError, match="activation must be one of"):
        ll.models.MLP([2, 3, 1], activation="swish")
    with pytest.raises(ValueError, match="init must be one of"):
        ll.models.MLP([2, 3, 1], init="glorot")
    with pytest.raises(ValueError, match="NaN"):
        model.apply(params, np.full((2, 3), np.nan))


def test_recycled_activations_never_overwrite_an_array_the_caller_holds():
    from losslab._core import buffers

    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 3))  # (4000, 16) activations: above the pool's size threshold
    y = rng.normal(size=4000)
    model = ll.models.MLP([3, 16, 16, 16], activation="relu", skip=True)
    p1, p2 = model.init(0), model.init(1)
    assert buffers.POOL_MIN_SIZE <= 4000 * 16
    first = model.logits(p1, X)
    kept, view = first.copy(), first[10:20]
    for _ in range(3):  # enough calls to cycle through every free buffer of the pool
        second = model.logits(p2, X)
        assert not np.shares_memory(first, second)
    assert np.array_equal(first, kept) and np.array_equal(view, kept[10:20])
    del first
    again = model.logits(p1, X)
    assert np.array_equal(again, kept)
    # value_and_grad on recycled buffers equals a run on fresh ones
    single = ll.models.MLP([3, 16, 16, 1], activation="relu", skip=True)
    q = single.init(2)
    buffers.release_buffers()
    v1, g1 = single.value_and_grad(q, X, y, loss="mse")
    v2, g2 = single.value_and_grad(q, X, y, loss="mse")
    assert v1 == v2 and all(np.array_equal(g1[k], g2[k]) for k in g1)
