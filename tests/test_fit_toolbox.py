"""fit's regularizer, sample and class weights, and dropout: trajectories and gradients against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll

ACT = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


def _torch_forward(model, P, X, masks=None):
    """The losslab MLP's forward in torch: h = f(z) * mask (+ skip), from torch parameters ``P``."""
    h = X
    last = len(model.keys) - 1
    for l, (wk, bk) in enumerate(model.keys):
        z = h @ P[wk] + P[bk]
        if l == last:
            return z
        a = ACT[model.activation.name](z)
        if masks is not None and masks[l] is not None:
            a = a * torch.from_numpy(masks[l])
        h = a + h if model.skips[l] else a
    raise AssertionError


def _tparams(params):
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}


# --------------------------------------------------------------------------- regularizer

REGULARIZERS = {
    "l2": (
        {"l2_regularizer": {"strength": 0.05}},
        lambda P: 0.5 * 0.05 * sum((P[k] ** 2).sum() for k in ("W1", "W2")),
    ),
    "l1": ({"l1": 0.02}, lambda P: 0.02 * sum(P[k].abs().sum() for k in ("W1", "W2"))),
    "elastic_all": (
        {"elastic_net": {"l1_strength": 0.01, "l2_strength": 0.1, "params": "all"}},
        lambda P: sum(0.01 * v.abs().sum() + 0.05 * (v**2).sum() for v in P.values()),
    ),
    "l2_on_W1": ({"l2": {"strength": 0.3, "params": ["W1"]}}, lambda P: 0.15 * (P["W1"] ** 2).sum()),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(REGULARIZERS))
def test_regularized_fit_matches_torch_trajectory(name, optimizer):
    spec, torch_penalty = REGULARIZERS[name]
    X, y = ll.data.linear(n=24, w=[1.0, -1.0], b=0.3, noise=0.2, seed=1)
    model = ll.models.MLP([2, 4, 1], activation="tanh")
    init = model.init(3)
    opt = ll.optim.sgd(lr=0.1, momentum=0.9) if optimizer == "sgd" else ll.optim.adam(lr=0.05)
    hist = ll.train.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=opt,
        epochs=15,
        batch_size=8,
        shuffle=False,
        init_params=init,
        regularizer=spec,
        record_params=True,
    )
    P = _tparams(init)
    topt = (
        torch.optim.SGD(P.values(), lr=0.1, momentum=0.9)
        if optimizer == "sgd"
        else torch.optim.Adam(P.values(), lr=0.05)
    )
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    steps = 0
    for _ in range(15):
        for s in range(0, 24, 8):
            topt.zero_grad()
            data = torch.nn.functional.mse_loss(_torch_forward(model, P, Xt[s : s + 8])[:, 0], yt[s : s + 8])
            penalty = torch_penalty(P)
            assert hist.steps["loss"][steps] == pytest.approx(data.item(), rel=1e-10)
            assert hist.steps["penalty"][steps] == pytest.approx(penalty.item(), rel=1e-10)
            (data + penalty).backward()
            topt.step()
            steps += 1
            for k, v in P.items():
                np.testing.assert_allclose(
                    hist.trajectory[steps][k], v.detach().numpy(), rtol=1e-9, atol=1e-12
                )
    assert len(hist.epochs["penalty"]) == 15


def test_regularizer_leaves_biases_alone_and_shrinks_weights():
    X, y = ll.data.linear(n=40, w=[3.0, -2.0], b=1.0, noise=0.1, seed=0)
    kw = dict(loss="mse", optimizer=ll.optim.sgd(lr=0.1), epochs=400, seed=0, progress=False)
    plain = ll.train.fit(ll.models.Linear(2), X, y, **kw)
    ridge = ll.train.fit(ll.models.Linear(2), X, y, regularizer={"l2": 1.0}, **kw)
    # closed form: (X^T X / n + lambda I_w) w = X^T y / n with the bias unpenalized
    A = np.c_[X, np.ones(len(X))]
    reg = np.diag([1.0, 1.0, 0.0])
    solution = np.linalg.solve(A.T @ A / len(X) * 2 + reg, A.T @ y / len(X) * 2)
    np.testing.assert_allclose(np.r_[ridge.params["W"][:, 0], ridge.params["b"]], solution, rtol=1e-8)
    assert np.linalg.norm(ridge.params["W"]) < np.linalg.norm(plain.params["W"])
    assert "penalty" not in plain.steps and "penalty" not in plain.epochs


@pytest.mark.parametrize(
    ("regularizer", "error", "match"),
    [
        ({"l2": {"strength": 0.1, "params": ["W9"]}}, ValueError, "names unknown parameter 'W9'.*W1, b1"),
        ({"ridge": 0.1}, ValueError, "unknown regularizer 'ridge'"),
        ({"mse": {}}, ValueError, "'mse' is not a regularizer"),
        ({"l2": {"strength": -1.0}}, ValueError, "regularizer 'l2_regularizer'.*strength must be >= 0"),
        ({"elastic_net": 0.1}, TypeError, "takes a mapping of parameters"),
        (0.1, TypeError, "regularizer must be a name or a mapping"),
    ],
    ids=["unknown-param", "unknown-name", "not-a-regularizer", "bad-strength", "bare-elastic", "number"],
)
def test_bad_regularizers_are_named(regularizer, error, match):
    X, y = ll.data.linear(n=10, w=1.0, b=0.0, seed=0)
    with pytest.raises(error, match=match):
        ll.train.fit(ll.models.MLP([1, 3, 1]), X, y, optimizer=ll.optim.sgd(lr=0.1), regularizer=regularizer)


# --------------------------------------------------------------------------- sample and class weights


def test_weighted_fit_matches_torch_weighted_mean():
    X, y = ll.data.imbalanced(n=30, positive_fraction=0.2, seed=2)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=30)
    model = ll.models.Logistic(2)
    hist = ll.train.fit(
        model,
        X,
        y,
        optimizer=ll.optim.sgd(lr=0.5),
        epochs=5,
        batch_size=10,
        shuffle=False,
        sample_weight=sw,
        class_weight={1: 4.0},
        record_params=True,
        seed=0,
    )
    w = sw * np.where(y == 1, 4.0, 1.0)
    W = torch.zeros((2, 1), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([W, b], lr=0.5)
    Xt, yt, wt = (torch.from_numpy(a) for a in (X, y, w))
    k = 0
    for _ in range(5):
        for s in range(0, 30, 10):
            topt.zero_grad()
            logits = (Xt[s : s + 10] @ W + b)[:, 0]
            per = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, yt[s : s + 10], reduction="none"
            )
            loss = (wt[s : s + 10] * per).mean()
            assert hist.steps["loss"][k] == pytest.approx(loss.item(), rel=1e-12)
            loss.backward()
            topt.step()
            k += 1
    np.testing.assert_allclose(hist.params["W"], W.detach().numpy(), rtol=1e-10)


def test_weights_travel_with_their_samples_through_shuffling():
    # exact line plus wild points of weight 0: the shuffled minibatch SGD fit is the exact line
    X, y = ll.data.linear(n=40, w=2.0, b=-1.0, noise=0.0, seed=0)
    y = y.copy()
    y[::5] += 50.0
    sw = np.ones(40)
    sw[::5] = 0.0
    hist = ll.train.fit(
        ll.models.Linear(1),
        X,
        y,
        loss="mse",
        optimizer=ll.optim.sgd(lr=0.05),
        epochs=300,
        batch_size=7,
        sample_weight=sw,
        seed=0,
    )
    assert hist.params["W"][0, 0] == pytest.approx(2.0, abs=1e-6)
    assert hist.params["b"][0] == pytest.approx(-1.0, abs=1e-6)


def test_balanced_class_weight_is_sklearn_balanced_and_multiclass_rows():
    y = np.array([0, 0, 0, 1, 2, 2])
    w = ll.train.weighting.sample_weights(y, class_weight="balanced")
    np.testing.assert_allclose(w, 6 / (3 * np.bincount(y)[y]))
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(
        ll.train.weighting.sample_weights(onehot, class_weight=[1.0, 2.0, 3.0]), [1, 1, 1, 2, 3, 3]
    )
    # a softmax model with one-hot targets and class weights: per-sample weights on the class axis
    X, yl = ll.data.multiclass_blobs(n=30, seed=0)
    model = ll.models.Softmax(2, 3)
    hist = ll.train.fit(
        model,
        X,
        np.eye(3)[yl],
        loss="categorical_cross_entropy",
        optimizer=ll.optim.sgd(lr=0.1),
        epochs=1,
        class_weight="balanced",
        seed=0,
    )
    value = model.loss(
        model.init(0),
        X,
        np.eye(3)[yl],
        "categorical_cross_entropy",
        sample_weight=ll.train.weighting.sample_weights(yl, class_weight="balanced"),
    )
    assert hist.loss[0] == pytest.approx(float(value), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sample_weight": np.ones(3)}, ValueError, r"sample_weight must have one weight per sample \(10,\)"),
        ({"sample_weight": -np.ones(10)}, ValueError, "sample_weight must hold finite weights >= 0"),
        ({"class_weight": "inverse"}, ValueError, "class_weight must be 'balanced'"),
        ({"class_weight": [1.0]}, ValueError, "gives 1 class weights, but y holds label 1"),
    ],
    ids=["shape", "negative", "unknown-rule", "short-array"],
)
def test_bad_weights_are_named(kwargs, error, match):
    X, y = ll.data.two_blobs(n=10, seed=0)
    with pytest.raises(error, match=match):
        ll.train.fit(ll.models.Logistic(2), X, y, optimizer=ll.optim.sgd(lr=0.1), **kwargs)


def test_class_weight_needs_labels():
    X, y = ll.data.linear(n=10, w=1.0, b=0.0, seed=0)
    with pytest.raises(ValueError, match="class_weight needs class labels"):
        ll.train.fit(ll.models.Linear(1), X, y, optimizer=ll.optim.sgd(lr=0.1), class_weight="balanced")


# --------------------------------------------------------------------------- dropout

DROPOUT_MODELS = {
    "relu-2hidden": lambda: ll.models.MLP([3, 5, 4, 2], activation="relu", dropout=0.3),
    "tanh-per-layer": lambda: ll.models.MLP([3, 5, 4, 2], activation="tanh", dropout=[0.5, 0.0]),
    "tanh-skip": lambda: ll.models.MLP([3, 4, 4, 1], activation="tanh", skip=True, dropout=0.25),
}


@pytest.mark.parametrize("make", list(DROPOUT_MODELS))
def test_dropout_forward_backward_match_torch_with_the_same_masks(make):
    model = DROPOUT_MODELS[make]()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, model.n_out))
    params = model.init(1)
    masks = model.dropout_masks(7, 6)
    value, grads = model.value_and_grad(params, X, y, "mse", masks=masks)
    P = _tparams(params)
    out = _torch_forward(model, P, torch.from_numpy(X), masks)
    tl = torch.nn.functional.mse_loss(out, torch.from_numpy(y))
    tl.backward()
    assert float(value) == pytest.approx(tl.item(), rel=1e-12)
    for k in params:
        np.testing.assert_allclose(grads[k], P[k].grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(model.apply(params, X, masks=masks), out.detach().numpy(), rtol=1e-12)
    # without masks: evaluation mode (inverted dropout needs no rescaling)
    np.testing.assert_allclose(
        model.apply(params, X), _torch_forward(model, P, torch.from_numpy(X)).detach().numpy()
    )


def test_dropout_critic_protocol_matches_torch_double_backprop():
    model = ll.models.MLP([2, 6, 5, 1], activation="tanh", dropout=0.4)
    rng = np.random.default_rng(3)
    X, c = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    params = model.init(0)
    masks = model.dropout_masks(1, 5)
    critic = ll.models.as_critic(model, masks=masks)
    P = _tparams(params)
    x = torch.tensor(X, requires_grad=True)
    scores = _torch_forward(model, P, x, masks)[:, 0]
    np.testing.assert_allclose(critic.apply(params, X), scores.detach().numpy(), rtol=1e-12)
    (gx,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    np.testing.assert_allclose(critic.input_grad(params, X), gx.detach().numpy(), rtol=1e-10)
    mixed = torch.autograd.grad((torch.from_numpy(c) * gx).sum(), list(P.values()), allow_unused=True)
    ours = critic.input_grad_vjp(params, X, c)
    for k, g in zip(P, mixed):
        expected = np.zeros_like(params[k]) if g is None else g.numpy()  # the output bias: no mixed term
        np.testing.assert_allclose(ours[k], expected, rtol=1e-9, atol=1e-13)
    cot = rng.normal(size=5)
    pv = torch.autograd.grad(
        (torch.from_numpy(cot) * _torch_forward(model, P, x, masks)[:, 0]).sum(), list(P.values())
    )
    for k, g in zip(P, pv):
        np.testing.assert_allclose(critic.params_vjp(params, X, cot)[k], g.numpy(), rtol=1e-10, atol=1e-14)


def test_dropout_masks_keep_units_with_probability_one_minus_rate():
    model = ll.models.MLP([2, 400, 1], dropout=0.3)
    (m, last) = model.dropout_masks(0, 500)
    assert last is None and set(np.unique(m).tolist()) == {0.0, 1 / 0.7}
    assert (m > 0).mean() == pytest.approx(0.7, abs=0.01)
    assert m.mean() == pytest.approx(1.0, abs=0.015)
    assert ll.models.MLP([2, 3, 1]).dropout_masks(0, 4) is None


def test_fit_with_dropout_is_seeded_and_evaluates_without_masks():
    X, y = ll.data.two_blobs(n=60, seed=0)
    model = ll.models.MLP([2, 16, 1], activation="relu", output_activation="sigmoid", dropout=0.5)
    kw = dict(
        optimizer=ll.optim.adam(lr=0.01), epochs=5, batch_size=20, validation_data=(X, y), progress=False
    )
    a = ll.train.fit(model, X, y, seed=0, **kw)
    b = ll.train.fit(model, X, y, seed=0, **kw)
    c = ll.train.fit(model, X, y, seed=1, **kw)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    # the validation loss is the evaluation-mode loss of the final parameters
    assert a.val_loss[-1] == pytest.approx(float(model.loss(a.params, X, y)), rel=1e-12)
    # same initialization and shuffling as without dropout: only the masks differ
    plain = ll.models.MLP([2, 16, 1], activation="relu", output_activation="sigmoid")
    assert (
        ll.train.fit(plain, X, y, seed=0, epochs=0, optimizer=ll.optim.sgd()).params["W1"].tolist()
        == ll.train.fit(model, X, y, seed=0, epochs=0, optimizer=ll.optim.sgd()).params["W1"].tolist()
    )


@pytest.mark.parametrize(
    ("dropout", "match"),
    [
        (1.0, r"dropout must be in \[0, 1\), got dropout=1.0"),
        (-0.1, r"dropout must be in \[0, 1\)"),
        ([0.1], "dropout must give one rate per hidden layer \\(2\\), got 1 rates"),
    ],
    ids=["one", "negative", "list-length"],
)
def test_bad_dropout_rates_are_named(dropout, match):
    with pytest.raises(ValueError, match=match):
        ll.models.MLP([2, 3, 3, 1], dropout=dropout)


def test_bad_masks_are_named():
    model = ll.models.MLP([2, 3, 1], dropout=0.5)
    params = model.init(0)
    with pytest.raises(ValueError, match=r"masks\[0\] must have shape \(4, 3\)"):
        model.apply(params, np.zeros((4, 2)), masks=[np.ones((5, 3))])
    with pytest.raises(TypeError, match="masks must be a list"):
        model.apply(params, np.zeros((4, 2)), masks=np.ones((4, 3)))
