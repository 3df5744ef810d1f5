"""Training loop, callbacks, convergence criteria, divergence, metrics, races and test functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losslab as ll
from losslab.train import metrics

GD = ll.optim.sgd


def _linear_data(n=40, seed=0):
    return ll.data.linear(n=n, w=[1.5, -2.0], b=0.5, noise=0.1, seed=seed)


# --------------------------------------------------------------------------- fit


def test_full_batch_gd_reaches_least_squares():
    X, y = _linear_data()
    history = ll.train.fit(ll.models.Linear(2), X, y, loss="mse", optimizer=GD(lr=0.2), epochs=300, seed=0)
    A = np.c_[X, np.ones(len(X))]
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(history.params["W"][:, 0], solution[:2], rtol=1e-8)
    np.testing.assert_allclose(history.params["b"], solution[2:], rtol=1e-8)
    assert history.n_epochs == history.n_steps == 300
    assert history.stop_reason is None and not history.diverged


def test_outlier_lab_least_squares_fit():
    # The lab prints "MSE: y = 2.31x + 3.87"; the least-squares line of its data is y = 2.0027x + 3.2684.
    X, y = ll.data.outliers()
    history = ll.train.fit(ll.models.Linear(1), X, y, loss="mse", optimizer=ll.optim.adam(lr=0.1), epochs=600)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert history.params["W"][0, 0] == pytest.approx(slope, abs=1e-3)
    assert history.params["b"][0] == pytest.approx(intercept, abs=1e-2)
    assert (slope, intercept) == pytest.approx((2.0027, 3.2684), abs=1e-4)


def test_minibatch_steps_match_a_hand_written_loop():
    X, y = _linear_data(n=10)
    model = ll.models.Linear(2)
    init = {"W": np.array([[0.3], [-0.1]]), "b": np.array([0.2])}
    history = ll.train.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=GD(lr=0.05),
        epochs=2,
        batch_size=4,
        shuffle=False,
        init_params=init,
    )
    W, b = init["W"][:, 0].copy(), init["b"][0]
    losses = []
    for _ in range(2):
        for start in range(0, 10, 4):  # batches of 4, 4, 2
            xb, yb = X[start : start + 4], y[start : start + 4]
            r = xb @ W + b - yb
            losses.append(np.mean(r**2))
            gW, gb = 2 * xb.T @ r / len(r), 2 * r.mean()
            W, b = W - 0.05 * gW, b - 0.05 * gb
    np.testing.assert_allclose(history.step_loss, losses, rtol=1e-13)
    np.testing.assert_allclose(history.params["W"][:, 0], W, rtol=1e-13)
    assert history.params["b"][0] == pytest.approx(b, rel=1e-13)
    # The epoch loss is the batch-size weighted mean of the epoch's batch losses.
    assert history.epochs["loss"][0] == pytest.approx((4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10)
    assert history.n_steps == 6


@pytest.mark.parametrize(("batch_size", "steps"), [(None, 3), (1, 60), (7, 9), (100, 3)])
def test_steps_per_epoch(batch_size, steps):
    X, y = _linear_data(n=20)
    history = ll.train.fit(
        ll.models.Linear(2), X, y, loss="mse", optimizer=GD(lr=0.01), epochs=3, batch_size=batch_size
    )
    assert history.n_steps == steps


def test_fit_is_reproducible_with_a_seed():
    X, y = ll.data.xor(n=64)
    model = ll.models.MLP([2, 8, 1], activation="tanh", output_activation="sigmoid")

    def run(seed):
        return ll.train.fit(
            model,
            X,
            y,
            loss="binary_cross_entropy",
            optimizer=ll.optim.adam(lr=0.05),
            epochs=5,
            batch_size=8,
            seed=seed,
        )

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a.step_loss, b.step_loss)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.step_loss, c.step_loss)


def test_inputs_are_never_mutated():
    X, y = _linear_data()
    model = ll.models.MLP([2, 4, 1], activation="relu")
    init = model.init(0)
    copies = (X.copy(), y.copy(), {k: v.copy() for k, v in init.items()})
    ll.train.fit(
        model, X, y, loss="mse", optimizer=ll.optim.adam(lr=0.01), epochs=3, batch_size=8, init_params=init
    )
    np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(y, copies[1])
    for k in init:
        np.testing.assert_array_equal(init[k], copies[2][k])


def test_record_params_and_step_logs():
    X, y = _linear_data()
    history = ll.train.fit(
        ll.models.Linear(2), X, y, loss="mse", optimizer=GD(lr=0.1), epochs=4, record_params=True
    )
    assert len(history.trajectory) == history.n_steps + 1 == 5
    assert history.path("W").shape == (5, 2, 1)
    assert history.path().shape == (5, 3)
    np.testing.assert_array_equal(history.path()[-1], np.r_[history.params["W"][:, 0], history.params["b"]])
    # Gradient norm of the first step: ||grad L(theta_0)|| at zero parameters.
    r = -y
    g = np.r_[2 * X.T @ r / len(y), 2 * r.mean()]
    assert history.grad_norm[0] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    assert history.steps["lr"] == [0.1] * 4


@pytest.mark.parametrize("name", ll.optim.names())
def test_every_preset_logs_its_scheduled_learning_rate(name):
    X, y = _linear_data()
    schedule = ll.optim.schedules.step_decay(0.1, step_size=2, gamma=0.5)
    history = ll.train.fit(
        ll.models.Linear(2), X, y, loss="mse", optimizer=ll.optim.get(name, lr=schedule), epochs=5
    )
    assert history.steps["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025]


def test_plateau_reduction_gets_the_loss_value_and_its_lr_is_logged():
    X, y = _linear_data()
    opt = ll.optim.chain(GD(lr=1e-12), ll.optim.reduce_on_plateau(lr=1.0, factor=0.5, patience=0))
    history = ll.train.fit(ll.models.Linear(2), X, y, loss="mse", optimizer=opt, epochs=4)
    # Step 1 improves on +inf; every later loss is flat, so the lr halves at each step.
    assert history.steps["lr"] == [1.0, 0.5, 0.25, 0.125]


def test_metrics_and_validation_are_logged_per_epoch():
    X, y = ll.data.two_blobs(n=200, distance=6.0, seed=1)
    Xv, yv = ll.data.two_blobs(n=100, distance=6.0, seed=2)
    history = ll.train.fit(
        ll.models.Logistic(2),
        X,
        y,
        optimizer=ll.optim.adam(lr=0.1),
        epochs=20,
        validation_data=(Xv, yv),
        metrics=["accuracy", "roc_auc"],
    )
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "roc_auc", "val_roc_auc"):
        assert len(history.epochs[key]) == 20
    assert history.epochs["val_accuracy"][-1] > 0.95
    pred = ll.models.Logistic(2).apply(history.params, Xv)
    assert history.epochs["val_accuracy"][-1] == metrics.accuracy(pred, yv)
    assert history.val_loss[-1] == pytest.approx(
        float(ll.losses.binary_cross_entropy(pred[:, 0], yv)), rel=1e-9
    )


def test_progress_bar_is_silent_off_a_terminal(capsys):
    X, y = _linear_data()
    ll.train.fit(ll.models.Linear(2), X, y, loss="mse", optimizer=GD(lr=0.1), epochs=3, progress=True)
    assert capsys.readouterr().out == ""


def test_fit_errors():
    X, y = _linear_data()
    model = ll.models.Linear(2)
    with pytest.raises(TypeError, match="optimizer must be a GradientTransformation"):
        ll.train.fit(model, X, y, loss="mse", optimizer=0.1, epochs=1)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ll.train.fit(model, X, y, loss="mse", optimizer=GD(lr=0.1), epochs=1, batch_size=0)
    with pytest.raises(TypeError, match="unknown parameter"):
        ll.train.fit(model, X, y, loss="mse", optimizer=GD(lr=0.1), epochs=1, loss_params={"delta": 1.0})
    with pytest.raises(ValueError, match="one entry per row of X"):
        ll.train.fit(model, X, y[:-1], loss="mse", optimizer=GD(lr=0.1), epochs=1)
    history = ll.train.fit(model, X, y, loss="mse", optimizer="adam", epochs=2)
    assert history.n_epochs == 2


# --------------------------------------------------------------------------- callbacks


def test_early_stopping_counts_patience():
    X, y = _linear_data()
    stop = ll.train.EarlyStopping(monitor="loss", patience=2)
    # lr = 0: the loss never changes, so epochs 2 and 3 are the two epochs without improvement.
    history = ll.train.fit(
        ll.models.Linear(2), X, y, loss="mse", optimizer=GD(lr=0.0), epochs=50, callbacks=[stop]
    )
    assert history.n_epochs == 3
    assert history.stop_reason.startswith("early stopping: loss did not improve")
    assert history.best_epoch == 0


def test_early_stopping_restores_the_best_parameters():
    X, y = _linear_data()
    Xv, yv = _linear_data(seed=1)
    stop = ll.train.EarlyStopping(patience=3, restore_best=True)  # monitors val_loss
    history = ll.train.fit(
        ll.models.Linear(2),
        X,
        y,
        loss="mse",
        optimizer=GD(lr=0.9),  # past 2/L: the loss grows every epoch
        epochs=50,
        validation_data=(Xv, yv),
        callbacks=[stop],
        record_params=True,
    )
    assert history.n_epochs == 4
    assert history.best_epoch == 0
    assert history.val_loss[0] < history.val_loss[1] < history.val_loss[3]
    for k in history.params:
        np.testing.assert_array_equal(history.params[k], history.trajectory[1][k])


def test_gradient_norm_threshold():
    X, y = _linear_data()
    history = ll.train.fit(
        ll.models.Linear(2),
        X,
        y,
        loss="mse",
        optimizer=GD(lr=0.2),
        epochs=10_000,
        callbacks=[ll.train.GradientNormThreshold(tol=1e-6)],
    )
    assert history.grad_norm[-1] < 1e-6 <= history.grad_norm[-2]
    assert history.n_steps < 10_000
    assert history.stop_reason.startswith("converged: gradient norm")


def test_loss_change_threshold():
    X, y = _linear_data()
    history = ll.train.fit(
        ll.models.Linear(2),
        X,
        y,
        loss="mse",
        optimizer=GD(lr=0.2),
        epochs=10_000,
        callbacks=[ll.train.LossChangeThreshold(tol=1e-10, patience=2)],
    )
    changes = np.abs(np.diff(history.loss))
    assert (changes[-2:] < 1e-10).all() and changes[-3] >= 1e-10
    assert history.stop_reason.startswith("converged: loss changed by")


def test_validation_plateau_needs_validation_data():
    X, y = _linear_data()
    with pytest.raises(ValueError, match="needs validation_data"):
        ll.train.fit(
            ll.models.Linear(2),
            X,
            y,
            loss="mse",
            optimizer=GD(lr=0.1),
            callbacks=[ll.train.ValidationPlateau()],
        )


def test_validation_plateau_stops():
    X, y = _linear_data()
    history = ll.train.fit(
        ll.models.Linear(2),
        X,
        y,
        loss="mse",
        optimizer=GD(lr=0.0),
        epochs=100,
        validation_data=_linear_data(seed=3),
        callbacks=[ll.train.ValidationPlateau(patience=4)],
    )
    assert history.n_epochs == 5


# --------------------------------------------------------------------------- divergence


def test_divergence_stops_with_a_clear_message():
    X, y = _linear_data()
    with pytest.warns(RuntimeWarning, match="training diverged at epoch"):
        history = ll.train.fit(ll.models.Linear(2), X, y, loss="mse", optimizer=GD(lr=50.0), epochs=5000)
    assert history.diverged
    assert history.n_epochs < 5000
    assert "lower the learning rate" in history.stop_reason
    assert np.isfinite(history.loss).all()


def test_divergence_of_an_mlp_output_is_caught():
    X, y = _linear_data()
    model = ll.models.MLP([2, 16, 1], activation="relu")
    with pytest.warns(RuntimeWarning, match="diverged"):
        history = ll.train.fit(model, X, y * 1e3, loss="mse", optimizer=GD(lr=10.0), epochs=1000)
    assert history.diverged


# --------------------------------------------------------------------------- metrics

PROBS = np.array([0.1, 0.6, 0.8, 0.4, 0.9, 0.2, 0.7, 0.55])
LABELS = np.array([0, 0, 1, 1, 1, 0, 1, 0])


def test_classification_metrics_by_hand():
    # Predicted labels (p > 0.5): [0, 1, 1, 0, 1, 0, 1, 1]: TP = 3, FP = 2, FN = 1, TN = 2.
    assert metrics.accuracy(PROBS, LABELS) == 5 / 8
    assert metrics.precision(PROBS, LABELS) == 3 / 5
    assert metrics.recall(PROBS, LABELS) == 3 / 4
    assert metrics.f1(PROBS, LABELS) == pytest.approx(2 * 0.6 * 0.75 / 1.35, rel=1e-15)
    # ROC-AUC: 14 of the 16 (positive, negative) pairs are ordered correctly.
    assert metrics.roc_auc(PROBS, LABELS) == 14 / 16
    # Average precision: positives at ranks 1, 2, 3, 6 -> (1 + 1 + 1 + 4/6) / 4.
    assert metrics.pr_auc(PROBS, LABELS) == pytest.approx((3 + 4 / 6) / 4, rel=1e-15)
    assert metrics.roc_auc([0.5, 0.5], [0, 1]) == 0.5
    assert metrics.accuracy(PROBS[:, None], LABELS) == 5 / 8


def test_multiclass_metrics_by_hand():
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
    labels = np.array([0, 1, 1, 1])  # predicted [0, 1, 2, 0]
    assert metrics.accuracy(probs, labels) == 0.5
    assert metrics.accuracy(probs, np.eye(3)[labels]) == 0.5
    # Per class (P, R): 0: (1/2, 1), 1: (1, 1/3), 2: (0, 0) -> macro precision 1/2, recall 4/9.
    assert metrics.precision(probs, labels) == pytest.approx(0.5)
    assert metrics.recall(probs, labels) == pytest.approx(4 / 9)
    assert metrics.precision(probs, labels, average="micro") == 0.5


def test_regression_metrics_by_hand():
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([1.5, 2.0, 2.0, 5.0])  # residuals 0.5, 0, -1, 1
    assert metrics.mae(y_pred, y_true) == 0.625
    assert metrics.rmse(y_pred, y_true) == 0.75
    assert metrics.r2(y_pred, y_true) == pytest.approx(1 - 2.25 / 5, rel=1e-15)
    assert metrics.r2(y_true, y_true) == 1.0
    assert metrics.r2([1.0, 1.0], [2.0, 2.0]) == 0.0


def test_metric_errors():
    with pytest.raises(ValueError, match="must contain both classes"):
        metrics.roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="same .non-zero. number of samples"):
        metrics.accuracy([0.1, 0.2], [1])
    with pytest.raises(ValueError, match="name must be one of"):
        metrics.get("auc")


# --------------------------------------------------------------------------- test functions and races


def test_rosenbrock_values():
    f = ll.landscape.functions.get("rosenbrock")
    assert f.value([0.0, 0.0]) == 1.0
    assert f.grad([0.0, 0.0]).tolist() == [-2.0, 0.0]
    np.testing.assert_array_equal(f.hessian([1.0, 1.0]), [[802.0, -400.0], [-400.0, 200.0]])
    with pytest.raises(ValueError, match="unknown test function 'bale'"):
        ll.landscape.functions.get("bale")


def test_race_gd_on_the_bowl_follows_the_closed_form():
    # w_t = ((1 - lr a)^t w1, (1 - lr b)^t w2) with a = 1, b = 10, lr = 0.15: factors 0.85 and -0.5.
    bowl = ll.landscape.functions.get("quadratic_bowl")
    entry, adam = ll.train.race(bowl, {"gd": GD(lr=0.15), "adam": ll.optim.adam(lr=0.25)}, steps=60, tol=1e-6)
    t = np.arange(61)
    np.testing.assert_allclose(entry.path, np.c_[3.5 * 0.85**t, 3.5 * (-0.5) ** t], rtol=1e-12, atol=1e-300)
    gaps = 0.5 * (3.5 * 0.85**t) ** 2 + 5 * (3.5 * 0.5**t) ** 2
    assert entry.steps_to_tol == int(np.argmax(gaps < 1e-6))
    assert entry.distance == pytest.approx(np.hypot(3.5 * 0.85**60, 3.5 * 0.5**60), rel=1e-12)
    assert adam.name == "adam" and adam.path.shape == (61, 2)


def test_race_marks_divergence():
    bowl = ll.landscape.functions.get("quadratic_bowl")
    [entry] = ll.train.race(bowl, {"gd": GD(lr=1.0)}, steps=2000)
    assert entry.diverged and entry.steps_to_tol is None
    assert math.isfinite(entry.final_value)


def test_progress_bar_on_a_terminal_shows_the_epochs(monkeypatch, capsys):
    from losslab._core import progress

    monkeypatch.setattr(progress, "is_tty", lambda: True)
    X, y = ll.data.linear(n=20, seed=0)
    ll.train.fit(
        ll.models.Linear(1), X, y, loss="mse", optimizer=ll.optim.sgd(lr=0.1), epochs=3, progress=True
    )
    out = capsys.readouterr().out
    assert "training" in out and "3/3" in out and "loss=" in out
