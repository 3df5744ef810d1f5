"""Worked backprop passes and optimizer steps: every number is the model's or the optimizer's own."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
import torch

import losslab as ll

ERRATA = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "curriculum-errata.md").read_text()

NETWORK_PARAMS = {
    "W1": np.array([[0.2, 0.3], [0.4, 0.1]]),
    "b1": np.array([0.1, 0.2]),
    "W2": np.array([[0.7], [0.5]]),
    "b2": np.array([0.3]),
}


def _network():
    model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    return model, {k: v.copy() for k, v in NETWORK_PARAMS.items()}, np.array([[1.0, 0.0]]), np.array([[1.0]])


def _errata_row(quantity: str) -> tuple[float, float]:
    """(printed, correct) of a row of the 2-2-1 table in docs/curriculum-errata.md."""
    row = re.search(rf"^\| {re.escape(quantity)}[^|]* \| ([-\d.]+) \| \*\*([-\d.]+)\*\* \|$", ERRATA, re.M)
    assert row is not None, quantity
    return float(row.group(1)), float(row.group(2))


# --------------------------------------------------------------------------- backprop


def test_backprop_reproduces_the_curriculum_network_with_the_correct_numbers():
    model, params, X, y = _network()
    ex = ll.explain.backprop(model, params, X, y, loss="binary_cross_entropy", lr=0.1)
    computed = {
        "z3": ex.forward[1]["z"][0, 0],
        "y_hat": ex.forward[1]["h"][0, 0],
        "L = -log y_hat": ex.value,
        "delta3": ex.deltas[1][0, 0],
        "w13 after one step": ex.new_params["W2"][0, 0],
    }
    for quantity, value in computed.items():
        printed, correct = _errata_row(quantity)
        assert f"{value:.4f}" == f"{correct:.4f}", quantity
        assert f"{value:.4f}" != f"{printed:.4f}", quantity
    # the hand computation shows the correct intermediate numbers
    assert "z2[0] = 0.7 * 0.574443 + 0.5 * 0.622459 + 0.3 = 1.01334" in ex.step("Forward, layer 2").text
    assert "delta2[0] = (0.733673 - 1) / 1 = -0.266327" in ex.step("Output delta").text
    assert "dL/dW2[0, 0] = -0.266327 * 0.574443 = -0.152989" in ex.step("Gradients, layer 2").text
    assert "delta1[0] = 0.244458 * -0.186429 = -0.0455741" in ex.step("Delta, layer 1").text
    assert "W2[0, 0] = 0.7 - 0.1 * (-0.152989) = 0.715299" in ex.step("Update").text


def test_backprop_network_matches_pytorch_autograd():
    model, params, X, y = _network()
    ex = ll.explain.backprop(model, params, X, y, lr=0.1)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.sigmoid(torch.as_tensor(X) @ t["W1"] + t["b1"])
    p = torch.sigmoid(h @ t["W2"] + t["b2"])
    value = torch.nn.functional.binary_cross_entropy(p, torch.as_tensor(y))
    value.backward()
    assert float(ex.value) == pytest.approx(value.item(), rel=1e-12)
    for k in params:
        np.testing.assert_allclose(ex.grad[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(ex.forward[0]["h"], h.detach().numpy(), rtol=1e-12)


def _case(name):
    rng = np.random.default_rng(7)
    if name == "mlp-sigmoid-bce":
        return _network() + ("binary_cross_entropy", {})
    if name == "mlp-tanh-mse-batch":
        model = ll.models.MLP([3, 4, 2], activation="tanh")
        return model, model.init(1), rng.normal(size=(3, 3)), rng.normal(size=(3, 2)), "mse", {}
    if name == "mlp-relu-skip-huber":
        model = ll.models.MLP([2, 3, 3, 1], activation="relu", skip=True, init="he")
        return model, model.init(2), rng.normal(size=(4, 2)), rng.normal(size=4), "huber", {"delta": 0.5}
    if name == "mlp-sigmoid-bce-probabilities":
        model = ll.models.MLP([2, 2, 1], activation="leaky_relu", output_activation="sigmoid")
        X, y = rng.normal(size=(2, 2)), np.array([[1.0], [0.0]])
        return model, model.init(3), X, y, "binary_cross_entropy", {"from_logits": False}
    if name == "softmax-scce":
        model = ll.models.Softmax(3, 4)
        return model, model.init(), rng.normal(size=(3, 3)), np.array([0, 3, 1]), None, {}
    if name == "linear-example-a":
        model = ll.models.Linear(1)
        return model, {"W": np.array([[1.0]]), "b": np.array([0.0])}, [[2.0]], [5.0], "mse", {}
    if name == "logistic-example-b":
        model = ll.models.Logistic(1)
        return model, model.init(), [[1.0]], [[1.0]], "binary_cross_entropy", {}
    raise AssertionError(name)


CASES = [
    "mlp-sigmoid-bce",
    "mlp-tanh-mse-batch",
    "mlp-relu-skip-huber",
    "mlp-sigmoid-bce-probabilities",
    "softmax-scce",
    "linear-example-a",
    "logistic-example-b",
]


@pytest.mark.parametrize("name", CASES)
def test_backprop_numbers_are_the_models_own(name):
    model, params, X, y, loss, loss_params = _case(name)
    lr = 0.5
    ex = ll.explain.backprop(model, params, X, y, loss=loss, lr=lr, **loss_params)
    value, grads = model.value_and_grad(params, X, y, loss, **loss_params)
    assert float(ex.value) == float(value)
    assert ex.grad.keys() == grads.keys()
    for k in grads:
        np.testing.assert_array_equal(ex.grad[k], grads[k])
        np.testing.assert_allclose(ex.new_params[k], params[k] - lr * grads[k], rtol=0, atol=0)
    # the deltas worked out layer by layer reproduce every gradient
    Xa = np.asarray(X, dtype=float).reshape(-1, model.n_in)
    for l, (wk, bk) in enumerate(model.keys):
        h_prev = Xa if l == 0 else ex.forward[l - 1]["h"]
        np.testing.assert_allclose(h_prev.T @ ex.deltas[l], grads[wk], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ex.deltas[l].sum(axis=0), grads[bk], rtol=1e-12, atol=1e-15)
        z = h_prev @ params[wk] + params[bk]
        np.testing.assert_allclose(ex.forward[l]["z"], z, rtol=1e-12)
    np.testing.assert_allclose(ex.forward[-1]["h"], model.apply(params, X), rtol=1e-12)
    text = ex.to_text()
    assert text.startswith("backprop through")
    assert "Update (gradient descent)" in text and ex.to_markdown().startswith("### `backprop")


def test_backprop_curriculum_examples_a_and_b():
    model, params, X, y, loss, _ = _case("linear-example-a")
    ex = ll.explain.backprop(model, params, X, y, loss=loss, lr=0.1)
    assert ex.grad["W"].tolist() == [[-12.0]] and ex.grad["b"].tolist() == [-6.0]
    assert ex.new_params["W"][0, 0] == pytest.approx(2.2) and ex.new_params["b"][0] == pytest.approx(0.6)
    model, params, X, y, loss, _ = _case("logistic-example-b")
    ex = ll.explain.backprop(model, params, X, y, loss=loss, lr=0.5)
    assert "delta1[0] = (0.5 - 1) / 1 = -0.5" in ex.step("Output delta").text
    assert ex.new_params["W"][0, 0] == 0.25 and ex.new_params["b"][0] == 0.25


def test_backprop_without_update_and_bad_inputs():
    model, params, X, y = _network()
    ex = ll.explain.backprop(model, params, X, y, lr=None)
    assert ex.new_params is None
    with pytest.raises(KeyError, match="no step titled 'Update'"):
        ex.step("Update")
    with pytest.raises(ValueError, match="lr must be >= 0"):
        ll.explain.backprop(model, params, X, y, lr=-1.0)
    with pytest.raises(TypeError, match="model must be a losslab model"):
        ll.explain.backprop("mlp", params, X, y)
    with pytest.raises(ValueError, match=r"params\['W1'\] must have shape \(2, 2\)"):
        ll.explain.backprop(model, {**params, "W1": np.ones((3, 2))}, X, y)
    with pytest.raises(TypeError, match="unknown parameter"):
        ll.explain.backprop(model, params, X, y, loss="mse", delta=1.0)


# --------------------------------------------------------------------------- optimizer steps


def _tree():
    return {"w": np.array([1.5, -0.5]), "b": np.array(0.25)}


def _quadratic_grad(p):
    return {"w": np.array([2.0, 20.0]) * p["w"], "b": 2.0 * p["b"] - 1.0}


#: The Hessian of the quadratic above over the flattened (w, b), for second-order optimizers.
_QUADRATIC_EXTRA = {"hessian": lambda p: np.diag([2.0, 20.0, 2.0])}


def _by_hand(opt, params, grad_fn, steps):
    state = opt.init(params)
    out = [params]
    extra = {k: v(params) for k, v in _QUADRATIC_EXTRA.items() if k in opt.extra_args}
    for _ in range(steps):
        updates, state = opt.update(grad_fn(params), state, params, **extra)
        params = ll.optim.apply_updates(params, updates)
        out.append(params)
    return out


@pytest.mark.parametrize("name", ll.optim.names())
def test_optimizer_step_numbers_are_the_optimizers_own(name):
    extra = {k: v for k, v in _QUADRATIC_EXTRA.items() if k in ll.optim.get(name).extra_args}
    ex = ll.explain.optimizer_step(name, _tree(), _quadratic_grad, steps=3, extra_args=extra, lr=0.05)
    expected = _by_hand(ll.optim.get(name, lr=0.05), _tree(), _quadratic_grad, 3)
    assert len(ex.trajectory) == 4 and len(ex.updates) == 3
    for got, want in zip(ex.trajectory, expected):
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
    for t in range(3):
        step = ex.step(f"Step {t + 1}")
        u = float(ex.updates[t]["w"][0])
        assert (
            f"update = {ll.explain._core.fmt(u)}" in step.text
            or f"= {ll.explain._core.fmt(u)}\n" in step.text + "\n"
        )
        np.testing.assert_array_equal(step.values["params"]["b"], ex.trajectory[t + 1]["b"])
    assert ex.optimizer in ("sgd", name) and ex.to_text().startswith(ex.optimizer)


@pytest.mark.parametrize(
    "opt",
    [
        ll.optim.sgd(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1),
        ll.optim.sgd(lr=0.05, momentum=0.9, nesterov=True),
        ll.optim.adagrad(lr=0.1, lr_decay=0.2, weight_decay=0.1, initial_accumulator_value=0.5),
        ll.optim.rmsprop(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
        ll.optim.adam(lr=0.1, amsgrad=True, weight_decay=0.1),
        ll.optim.adamw(lr=0.1, amsgrad=True),
        ll.optim.chain(ll.optim.clip_by_global_norm(1.0), ll.optim.adam(lr=0.1)),
        ll.optim.velocity_momentum(lr=0.1, beta=0.9),
    ],
    ids=[
        "sgd(momentum,dampening,wd)",
        "sgd(nesterov)",
        "adagrad(lr_decay,wd,init)",
        "rmsprop(momentum,centered,wd)",
        "adam(amsgrad,wd)",
        "adamw(amsgrad)",
        "chain(clip,adam)",
        "velocity_momentum",
    ],
)
def test_optimizer_step_worked_formulas_equal_the_update(opt):
    ex = ll.explain.optimizer_step(opt, _tree(), _quadratic_grad, steps=3)
    for got, want in zip(ex.trajectory, _by_hand(opt, _tree(), _quadratic_grad, 3)):
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
    # every "update = ... = u" line of the worked form ends with the optimizer's own update
    for t in range(3):
        lines = [s for s in ex.step(f"Step {t + 1}").text.splitlines() if s.startswith("w[1]: update")]
        assert lines and lines[0].endswith(f"= {ll.explain._core.fmt(float(ex.updates[t]['w'][1]))}")


def test_adam_worked_moments_reproduce_the_update():
    ex = ll.explain.optimizer_step(ll.optim.adam(lr=0.1), _tree(), _quadratic_grad, steps=4)
    for t in range(4):
        v = ex.step(f"Step {t + 1}").values
        direction = ll._core.tree.tree_map(
            lambda m, s: -0.1 * m / (np.sqrt(s) + 1e-8), v["m_hat"], v["v_hat"]
        )
        for k in direction:
            np.testing.assert_allclose(direction[k], v["updates"][k], rtol=1e-14)


def test_gradient_descent_on_w_squared_seed_003():
    ex = ll.explain.optimizer_step(ll.optim.gd(lr=0.3), 4.0, lambda w: 2 * w, steps=4)
    assert [round(float(w), 12) for w in ex.trajectory] == [4.0, 1.6, 0.64, 0.256, 0.1024]
    assert [round(float(g), 12) for g in ex.grads] == [8.0, 3.2, 1.28, 0.512]
    assert "update = -lr * g = -0.3 * 8 = -2.4" in ex.step("Step 1").text
    assert "theta = 0.256 + (-0.1536) = 0.1024" in ex.step("Step 4").text


def test_curriculum_examples_a_and_b_seed_000():
    a = ll.explain.optimizer_step(ll.optim.sgd(lr=0.1), {"w": 1.0, "b": 0.0}, {"w": -12.0, "b": -6.0})
    assert float(a.value["w"]) == pytest.approx(2.2) and float(a.value["b"]) == pytest.approx(0.6)
    assert "w: theta = 1 + 1.2 = 2.2" in a.step("Step 1").text
    b = ll.explain.optimizer_step("sgd", {"w": 0.0, "b": 0.0}, {"w": -0.5, "b": -0.5}, lr=0.5)
    assert float(b.value["w"]) == 0.25 and float(b.value["b"]) == 0.25


@pytest.mark.parametrize("g", [1e-3, -50.0, 7.0, -0.2])
def test_adam_first_step_is_lr_times_sign(g):
    ex = ll.explain.optimizer_step(ll.optim.adam(lr=0.01), np.array([3.0]), np.array([g]))
    assert float(ex.updates[0][0]) == pytest.approx(-0.01 * np.sign(g), rel=1e-4)
    text = ex.step("Step 1").text
    assert f"m_hat = m / (1 - beta1^t) = {ll.explain._core.fmt(0.1 * g)} / 0.1" in text
    assert "1 - beta1^t = 0.1, 1 - beta2^t = 0.001" in text


def test_curriculum_momentum_forms_agree_for_a_constant_lr():
    """003's v = rho v + g (PyTorch), 000's EMA v = beta v + (1 - beta) g, 004's v = beta v + eta g."""
    lr, beta = 0.05, 0.9
    forms = {
        "pytorch": ll.optim.sgd(lr=lr, momentum=beta),
        "ema": ll.optim.chain(ll.optim.ema(beta), ll.optim.scale_by_learning_rate(lr / (1 - beta))),
        "velocity": ll.optim.velocity_momentum(lr=lr, beta=beta),
    }
    runs = {k: ll.explain.optimizer_step(o, _tree(), _quadratic_grad, steps=5) for k, o in forms.items()}
    for k in ("ema", "velocity"):
        for got, want in zip(runs[k].trajectory, runs["pytorch"].trajectory):
            np.testing.assert_allclose(got["w"], want["w"], rtol=1e-12)
    text = runs["pytorch"].step("Step 2").text
    assert "b = momentum * b + (1 - dampening) * g = 0.9 * 3" in text
    assert "VelocityMomentumState.velocity: " in runs["velocity"].step("Step 2").text


def test_optimizer_step_bad_inputs():
    with pytest.raises(ValueError, match="steps must be >= 1"):
        ll.explain.optimizer_step("sgd", 1.0, 1.0, steps=0, lr=0.1)
    with pytest.raises(ValueError, match=r"grads\['w'\] must have shape \(2,\), got \(3,\)"):
        ll.explain.optimizer_step("adam", {"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(ValueError, match="grads must have the structure of params"):
        ll.explain.optimizer_step("adam", {"w": 1.0}, {"v": 1.0})
    with pytest.raises(TypeError, match="hyperparameters go to the optimizer when it is given by name"):
        ll.explain.optimizer_step(ll.optim.adam(), 1.0, 1.0, lr=0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        ll.explain.optimizer_step("adamm", 1.0, 1.0)
    with pytest.raises(ValueError, match=r"needs hessian at every update; pass extra_args=\{'hessian'"):
        ll.explain.optimizer_step("newton", 1.0, 1.0)
    with pytest.raises(TypeError, match="opt must be an optimizer"):
        ll.explain.optimizer_step(3, 1.0, 1.0)


def test_describe_records_presets():
    assert ll.optim.describe(ll.optim.adam(lr=0.1)) == ll.optim.Description(
        "adam", {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
         "eps_placement": "algorithm1"},
    )  # fmt: skip
    assert ll.optim.describe(ll.optim.nesterov(lr=0.1)).hyperparams["nesterov"] is True
    assert ll.optim.describe(ll.optim.chain(ll.optim.adam())) is None
    with pytest.raises(TypeError, match="describe: optimizer must be a GradientTransformation"):
        ll.optim.describe("adam")
