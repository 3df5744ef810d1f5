"""Exact model Hessian-vector products vs PyTorch double backward; batched forward; objectives.

The reference is the equivalent PyTorch computation in float64 (the same layers, activations,
residual skips and output map; the loss is the declaration's torch expression), differentiated
twice by ``torch.autograd.functional.hvp``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "linear": lambda z: z,
    "softmax": lambda z: torch.softmax(z, -1),
}
RTOL = 1e-9


def torch_logits(model, tensors, X):
    """z_L of the PyTorch twin: tensors in the model's key order, W as (n_in, n_out)."""
    h = torch.from_numpy(X)
    last = len(model.keys) - 1
    for l in range(last + 1):
        z = h @ tensors[2 * l] + tensors[2 * l + 1]
        if l == last:
            return z
        a = TORCH_ACT[model.activation.name](z)
        h = a + h if model.skips[l] else a
    raise AssertionError


def torch_hvp(model, params, X, y, v, loss, reduction="mean", sample_weight=None, **loss_params):
    loss = ll.losses.get(loss)
    keys = [k for pair in model.keys for k in pair]
    resolved = loss.resolve_params(loss_params)
    from_logits = model.output_activation.name in ("sigmoid", "softmax") and "from_logits" in loss.params
    from_logits = from_logits and loss_params.get("from_logits", True)
    if from_logits:
        resolved["from_logits"] = True
    t = torch.from_numpy(np.asarray(y))
    w = None if sample_weight is None else torch.from_numpy(np.asarray(sample_weight, dtype=np.float64))

    def f(*tensors):
        z = torch_logits(model, tensors, X)
        out = z if from_logits else TORCH_ACT[model.output_activation.name](z)
        if model.n_out == 1 and t.ndim == 1:
            out = out[:, 0]
        if w is None:
            return loss.torch_fn(torch, out, t, reduction=reduction, **resolved)
        return (loss.torch_fn(torch, out, t, reduction="none", **resolved) * w).mean()

    primals = tuple(torch.from_numpy(params[k].copy()) for k in keys)
    tangents = tuple(torch.from_numpy(v[k].copy()) for k in keys)
    _, hv = torch.autograd.functional.hvp(f, primals, tangents)
    return {k: h.numpy() for k, h in zip(keys, hv)}


def assert_trees_close(a, b, rtol=RTOL):
    assert list(a) == list(b)
    for k in a:
        scale = max(np.abs(b[k]).max(), 1e-300)
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=rtol * scale * 1e-2, err_msg=k)


def random_tree(params, seed):
    return ll._core.tree.tree_random_like(params, np.random.default_rng(seed))


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 3))
    return X, rng.normal(size=(9, 2))


@pytest.mark.parametrize("skip", [False, True], ids=["no_skip", "skip"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_hvp_matches_torch_double_backward(activation, skip, regression_data):
    X, y = regression_data
    model = ll.models.MLP([3, 4, 4, 2], activation=activation, skip=skip)
    params = random_tree(model.init(1), 2)  # nonzero biases too
    v = random_tree(params, 3)
    hv = model.hvp(params, X, y, v, loss="mse")
    assert_trees_close(hv, torch_hvp(model, params, X, y, v, "mse"))


@pytest.mark.parametrize(
    ("model", "loss", "target", "loss_params"),
    [
        (ll.models.MLP([3, 5, 1], activation="tanh", output_activation="sigmoid"), "bce", "binary", {}),
        (
            ll.models.MLP([3, 5, 1], activation="sigmoid", output_activation="sigmoid"),
            "bce",
            "binary",
            {"from_logits": False},
        ),
        (
            ll.models.MLP([3, 5, 5, 1], activation="tanh", output_activation="sigmoid", skip=True),
            "focal",
            "binary",
            {},
        ),
        (
            ll.models.Logistic(3),
            "binary_cross_entropy",
            "binary",
            {"pos_weight": 2.0, "label_smoothing": 0.1},
        ),
        (
            ll.models.Softmax(3, 4),
            "scce",
            "labels",
            {"label_smoothing": 0.1, "class_weight": [1.0, 2.0, 0.5, 1.5]},
        ),
        (ll.models.Softmax(3, 4), "scce", "labels", {"ignore_index": 2}),
        (ll.models.MLP([3, 6, 4], activation="relu", output_activation="softmax"), "cce", "onehot", {}),
        (
            ll.models.MLP([3, 6, 4], activation="tanh", output_activation="softmax"),
            "cce",
            "onehot",
            {"from_logits": False},
        ),
        (
            ll.models.MLP([3, 6, 4], activation="tanh", output_activation="softmax"),
            "categorical_focal",
            "onehot",
            {},
        ),
        (ll.models.MLP([3, 6, 1], activation="tanh"), "huber", "regression", {"delta": 0.5}),
        (ll.models.MLP([3, 6, 1], activation="tanh"), "smooth_l1", "regression", {"beta": 0.7}),
        (ll.models.MLP([3, 6, 1], activation="sigmoid"), "poisson_nll", "counts", {}),
        (ll.models.MLP([3, 6, 1], activation="leaky_relu"), "squared_hinge", "signs", {}),
        (ll.models.Linear(3, 2), "mse", "regression2", {}),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_output_maps_and_losses_match_torch(model, loss, target, loss_params, reduction):
    rng = np.random.default_rng(4)
    n = 10
    X = rng.normal(size=(n, 3))
    y = {
        "binary": rng.integers(0, 2, size=n).astype(float),
        "labels": rng.integers(0, 4, size=n),
        "onehot": np.eye(4)[rng.integers(0, 4, size=n)],
        "regression": rng.normal(size=n),
        "regression2": rng.normal(size=(n, 2)),
        "counts": rng.poisson(2.0, size=n).astype(float),
        "signs": rng.choice([-1.0, 1.0], size=n),
    }[target]
    params = random_tree(model.init(0), 5)
    v = random_tree(params, 6)
    hv = model.hvp(params, X, y, v, loss=loss, reduction=reduction, **loss_params)
    assert_trees_close(hv, torch_hvp(model, params, X, y, v, loss, reduction, **loss_params))


def test_sample_weight_enters_the_hvp_as_the_gradient(regression_data):
    X, y = regression_data
    model = ll.models.MLP([3, 4, 2], activation="tanh")
    params = random_tree(model.init(0), 1)
    v = random_tree(params, 2)
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=y.shape)
    hv = model.hvp(params, X, y, v, loss="mse", sample_weight=w)
    assert_trees_close(hv, torch_hvp(model, params, X, y, v, "mse", sample_weight=w))


def test_hvp_is_the_derivative_of_the_gradient(regression_data):
    """H v = d/dt grad(theta + t v) at t = 0 (4th-order central differences)."""
    X, y = regression_data
    model = ll.models.MLP([3, 4, 4, 2], activation="tanh", skip=True)
    params = random_tree(model.init(0), 1)
    v = random_tree(params, 2)
    h = 1e-3

    def g(t):
        return model.grad(ll._core.tree.tree_axpy(t, v, params), X, y, loss="log_cosh")

    fd = {k: (-g(2 * h)[k] + 8 * g(h)[k] - 8 * g(-h)[k] + g(-2 * h)[k]) / (12 * h) for k in params}
    assert_trees_close(model.hvp(params, X, y, v, loss="log_cosh"), fd, rtol=1e-7)


def test_hvp_errors(regression_data):
    X, y = regression_data
    model = ll.models.MLP([3, 4, 2])
    params = model.init(0)
    v = random_tree(params, 1)
    with pytest.raises(ValueError, match=r"MLP.hvp: v must have the keys of params .* missing \['b2'\]"):
        model.hvp(params, X, y, {k: a for k, a in v.items() if k != "b2"})
    with pytest.raises(ValueError, match=r"MLP.hvp: v\['W1'\] must have shape \(3, 4\), got \(4, 3\)"):
        model.hvp(params, X, y, {**v, "W1": np.ones((4, 3))})
    with pytest.raises(ValueError, match=r"MLP.hvp: v\['b1'\] contains NaN"):
        model.hvp(params, X, y, {**v, "b1": np.full(4, np.nan)})
    with pytest.raises(TypeError, match="MLP.hvp: v must be a dict"):
        model.hvp(params, X, y, [1.0])
    with pytest.raises(NotImplementedError, match="dice: no Hessian-vector product"):
        model.hvp(params, X, np.full(y.shape, 0.5), v, loss="dice")


# --------------------------------------------------------------------------- batched forward


def stack(trees):
    return {k: np.stack([t[k] for t in trees]) for k in trees[0]}


@pytest.mark.parametrize("skip", [False, True], ids=["no_skip", "skip"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_apply_batched_equals_the_loop(activation, skip):
    model = ll.models.MLP([3, 5, 5, 2], activation=activation, output_activation="softmax", skip=skip)
    trees = [random_tree(model.init(0), s) for s in range(4)]
    X = np.random.default_rng(1).normal(size=(7, 3))
    out = model.apply_batched(stack(trees), X)
    assert out.shape == (4, 7, 2)
    for k, p in enumerate(trees):
        np.testing.assert_allclose(out[k], model.apply(p, X), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(model.logits_batched(stack(trees), X)[k], model.logits(p, X), rtol=1e-13)


def test_stacked_params_errors():
    model = ll.models.MLP([2, 3, 1])
    p = model.init(0)
    good = stack([p, p])
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"stacked_params\['W1'\] must have shape \(K, 2, 3\), got \(2, 3\)"):
        model.apply_batched({**good, "W1": p["W1"]}, X)
    with pytest.raises(ValueError, match=r"the same leading K, got 2 and 3 \(stacked_params\['b1'\]\)"):
        model.apply_batched({**good, "b1": np.zeros((3, 3))}, X)
    with pytest.raises(ValueError, match=r"stacked_params\['b2'\] contains NaN"):
        model.apply_batched({**good, "b2": np.full((2, 1), np.nan)}, X)
    with pytest.raises(ValueError, match=r"stacked_params is missing \['b2'\]"):
        model.apply_batched({k: a for k, a in good.items() if k != "b2"}, X)


# --------------------------------------------------------------------------- objectives


OBJECTIVE_CASES = [
    (ll.models.MLP([3, 5, 1], activation="tanh"), "huber", "regression", {"delta": 0.5}, None),
    (ll.models.MLP([3, 5, 1], activation="relu"), "mse", "regression", {}, "weights"),
    (ll.models.Logistic(3), "bce", "binary", {}, None),
    (ll.models.MLP([3, 5, 1], activation="tanh"), "hinge", "signs", {}, None),
    (
        ll.models.Softmax(3, 4),
        "scce",
        "labels",
        {"class_weight": [1.0, 2.0, 0.5, 1.5], "ignore_index": 1},
        None,
    ),
    (
        ll.models.MLP([3, 5, 4], activation="tanh", output_activation="softmax"),
        "cce",
        "onehot",
        {},
        "weights",
    ),
]


def _targets(kind, n, rng):
    return {
        "regression": rng.normal(size=n),
        "binary": rng.integers(0, 2, size=n).astype(float),
        "signs": rng.choice([-1.0, 1.0], size=n),
        "labels": rng.integers(0, 4, size=n),
        "onehot": np.eye(4)[rng.integers(0, 4, size=n)],
    }[kind]


@pytest.mark.parametrize(
    ("model", "loss", "target", "loss_params", "weights"),
    OBJECTIVE_CASES,
    ids=[f"{case[1]}-{type(case[0]).__name__}" for case in OBJECTIVE_CASES],
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_objective_equals_model_calls_and_batched_equals_loop(
    model, loss, target, loss_params, weights, reduction
):
    rng = np.random.default_rng(9)
    n = 12
    X = rng.normal(size=(n, 3))
    y = _targets(target, n, rng)
    w = rng.uniform(0.5, 2.0, size=n) if weights else None
    kw = dict(reduction=reduction, sample_weight=w, **loss_params)
    obj = model.objective(X, y, loss=loss, **kw)
    trees = [random_tree(model.init(0), s) for s in range(5)]
    p, v = trees[0], trees[1]
    assert obj.value(p) == pytest.approx(float(model.loss(p, X, y, loss=loss, **kw)), rel=1e-15)
    value, grads = obj.value_and_grad(p)
    ref_value, ref_grads = model.value_and_grad(p, X, y, loss=loss, **kw)
    assert value == pytest.approx(float(ref_value), rel=1e-15)
    assert_trees_close(grads, ref_grads, rtol=1e-15)
    assert_trees_close(obj.hvp(p, v), model.hvp(p, X, y, v, loss=loss, **kw), rtol=1e-15)
    values = obj.values(stack(trees))
    np.testing.assert_allclose(values, [obj.value(t) for t in trees], rtol=1e-12)
    # a memory bound of one point per pass gives the same values
    np.testing.assert_allclose(obj.values(stack(trees), max_bytes=1), values, rtol=1e-15)
    if obj.has_accuracy:
        accs = obj.accuracies(stack(trees))
        assert np.all((accs >= 0) & (accs <= 1))
        np.testing.assert_array_equal(accs, [obj.accuracy(t) for t in trees])


def test_accuracy_counts_correct_predictions():
    model = ll.models.Logistic(1)
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    obj = model.objective(X, [0.0, 1.0, 1.0, 1.0], loss="bce")
    assert obj.accuracy({"W": np.array([[1.0]]), "b": np.array([0.0])}) == 0.75
    assert obj.accuracy({"W": np.array([[1.0]]), "b": np.array([1.5])}) == 1.0
    soft = ll.models.Softmax(1, 3).objective(X, [0, 0, 2, 1], loss="scce", ignore_index=1)
    params = {"W": np.array([[-1.0, 0.0, 1.0]]), "b": np.zeros(3)}
    assert soft.accuracy(params) == 1.0  # argmax: 0, 0, 2 (the ignored sample is left out)


def test_objective_checks_once_and_errors():
    model = ll.models.MLP([2, 3, 1])
    X = np.ones((4, 2))
    with pytest.raises(TypeError, match="huber: unknown parameter"):
        model.objective(X, np.zeros(4), loss="huber", deltaa=1.0)
    with pytest.raises(ValueError, match=r"MLP: y must have one entry per sample \(4\)"):
        model.objective(X, np.zeros(3))
    with pytest.raises(ValueError, match="MLP: X contains NaN"):
        model.objective(np.full((4, 2), np.nan), np.zeros(4))
    with pytest.raises(ValueError, match="objective: reduction must be one of"):
        model.objective(X, np.zeros(4), reduction="none")
    with pytest.raises(ValueError, match="accuracy needs a classification loss"):
        model.objective(X, np.zeros(4), loss="mse").accuracy(model.init(0))
    with pytest.raises(ValueError, match=r"MLP: params\['W1'\] must have shape"):
        model.objective(X, np.zeros(4)).value({**model.init(0), "W1": np.ones((3, 3))})
