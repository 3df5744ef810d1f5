"""Multi-task fits: fixed weights and learned uncertainty weights, against PyTorch and the known optimum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll


def _two_task_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y_reg = X @ np.array([1.5, -1.0]) + rng.normal(0, 0.2, n)
    y_cls = (X[:, 0] + X[:, 1] > 0).astype(float)
    return X, y_reg, y_cls


def _torch_run(model, init, X, y_reg, y_cls, weighting, steps, lr):
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
    opt = torch.optim.Adam(list(P.values()), lr=lr)
    Xt, yr, yc = (torch.from_numpy(a) for a in (X, y_reg, y_cls))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        h = torch.tanh(Xt @ P["W1"] + P["b1"])
        out = h @ P["W2"] + P["b2"]
        L1 = torch.nn.functional.mse_loss(out[:, 0], yr)
        L2 = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 1], yc)
        if weighting == "uncertainty_weighting":
            s = P["log_vars"]
            total = 0.5 * torch.exp(-s[0]) * L1 + 0.5 * s[0] + 0.5 * torch.exp(-s[1]) * L2 + 0.5 * s[1]
        else:
            total = 1.0 * L1 + 0.3 * L2
        total.backward()
        opt.step()
        losses.append((L1.item(), L2.item()))
    return {k: v.detach().numpy() for k, v in P.items()}, losses


@pytest.mark.parametrize("weighting", ["weighted_sum", "uncertainty_weighting"])
def test_two_head_fit_matches_torch(weighting):
    X, y_reg, y_cls = _two_task_data()
    model = ll.models.MLP([2, 6, 2], activation="tanh")
    init = model.init(0)
    kw = {"weights": [1.0, 0.3]} if weighting == "weighted_sum" else {}
    tasks = ll.train.multitask(
        ["mse", ("binary_cross_entropy", {"from_logits": True})],
        weighting=weighting,
        names=["reg", "cls"],
        **kw,
    )
    history = ll.train.fit(
        model,
        X,
        [y_reg, y_cls],
        loss=tasks,
        optimizer=ll.optim.adam(lr=0.02),
        epochs=30,
        init_params=init,
        progress=False,
    )
    torch_init = {**init, "log_vars": np.zeros(2)} if weighting == "uncertainty_weighting" else init
    ref, losses = _torch_run(model, torch_init, X, y_reg, y_cls, weighting, 30, 0.02)
    for k in ref:
        np.testing.assert_allclose(history.params[k], ref[k], rtol=1e-9, atol=1e-12)
    # per-epoch task losses are evaluated after each epoch's step: torch's losses one step later
    np.testing.assert_allclose(history.epochs["reg_loss"][:-1], [a for a, _ in losses[1:]], rtol=1e-9)
    np.testing.assert_allclose(history.epochs["cls_loss"][:-1], [b for _, b in losses[1:]], rtol=1e-9)
    assert ("reg_sigma" in history.epochs) == (weighting == "uncertainty_weighting")


def test_learned_uncertainty_weights_converge_to_the_log_of_each_task_loss():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 1))
    targets = [2 * X[:, 0] + rng.normal(0, 0.1, 300), -X[:, 0] + rng.normal(0, 1.0, 300)]
    tasks = ll.train.multitask(["mse", "mse"], weighting="uncertainty_weighting", names=["precise", "noisy"])
    h = ll.train.fit(
        ll.models.Linear(1, 2),
        X,
        targets,
        loss=tasks,
        optimizer=ll.optim.adam(lr=0.05),
        epochs=1500,
        seed=0,
        progress=False,
    )
    for name, noise in (("precise", 0.1), ("noisy", 1.0)):
        s, loss = h.epochs[f"{name}_log_var"][-1], h.epochs[f"{name}_loss"][-1]
        assert s == pytest.approx(np.log(loss), abs=1e-4)  # s_t = log L_t
        assert h.epochs[f"{name}_sigma"][-1] == pytest.approx(np.exp(s / 2), rel=1e-12)
        assert loss == pytest.approx(noise**2, rel=0.2)
    # each head reaches its own least-squares line (the weights rescale, never bias, the tasks)
    for t, target in enumerate(targets):
        slope, intercept = np.polyfit(X[:, 0], target, 1)
        assert (h.params["W"][0, t], h.params["b"][t]) == pytest.approx((slope, intercept), abs=1e-4)


def test_multitask_with_wider_heads_and_integer_labels():
    X, y = ll.data.multiclass_blobs(n=90, seed=0)
    aux = X[:, 0] * 2.0
    tasks = ll.train.multitask(
        [("sparse_categorical_cross_entropy", {"from_logits": True}), "mse"],
        outputs=[3, 1],
        weights=[1.0, 0.1],
    )
    model = ll.models.MLP([2, 8, 4], activation="relu")
    h = ll.train.fit(
        model,
        X,
        [y, aux],
        loss=tasks,
        optimizer=ll.optim.adam(lr=0.05),
        epochs=60,
        seed=0,
        validation_data=(X, [y, aux]),
        progress=False,
    )
    assert h.epochs["task1_loss"][-1] < 0.5 * h.epochs["task1_loss"][0]
    # the validation loss is the weighted objective on the validation data
    assert h.val_loss[-1] == pytest.approx(
        h.epochs["task1_loss"][-1] + 0.1 * h.epochs["task2_loss"][-1], rel=1e-12
    )


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: ll.train.multitask([]), ValueError, "losses must give one loss per task"),
        (lambda: ll.train.multitask(["mse", None]), ValueError, "task 'task2' has no loss"),
        (lambda: ll.train.multitask(["mse"], weights=[1.0, 2.0]), ValueError, r"one weight per task \(1\)"),
        (
            lambda: ll.train.multitask(["mse"], weighting="uncertainty_weighting", weights=[1.0]),
            ValueError,
            "uncertainty_weighting learns the weights",
        ),
        (
            lambda: ll.train.multitask([("huber", {"delta": -1.0})]),
            ValueError,
            "task 'task1': huber: delta must be > 0",
        ),
        (
            lambda: ll.train.multitask(["mse", "mse"], names=["a", "a"]),
            ValueError,
            "names must be 2 distinct labels",
        ),
    ],
    ids=["no-tasks", "task-without-loss", "weights", "learned-and-weights", "bad-param", "names"],
)
def test_bad_multitask_specifications_are_named(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_multitask_fit_checks_heads_and_targets():
    X, y_reg, y_cls = _two_task_data(n=10)
    tasks = ll.train.multitask(["mse", "mse"])
    opt = ll.optim.sgd(lr=0.1)
    with pytest.raises(ValueError, match=r"the tasks read 2 outputs \(1\+1\), the model has 3"):
        ll.train.fit(ll.models.Linear(2, 3), X, [y_reg, y_cls], loss=tasks, optimizer=opt)
    with pytest.raises(ValueError, match=r"one target per task \(2\), got 1"):
        ll.train.fit(ll.models.Linear(2, 2), X, [y_reg], loss=tasks, optimizer=opt)
    with pytest.raises(TypeError, match="class_weight needs a single task"):
        ll.train.fit(
            ll.models.Linear(2, 2), X, [y_reg, y_cls], loss=tasks, optimizer=opt, class_weight="balanced"
        )
