"""Orthogonal and LSUV initialization; class-wise metrics and the confusion matrix in fit's history."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll
from losslab.train import metrics

# --------------------------------------------------------------------------- initialization


@pytest.mark.parametrize(("fan_in", "fan_out"), [(6, 3), (3, 6), (5, 5)], ids=["tall", "wide", "square"])
def test_orthogonal_init_has_orthonormal_columns_or_rows(fan_in, fan_out):
    W = ll.models.init.get("orthogonal")(np.random.default_rng(0), fan_in, fan_out)
    assert W.shape == (fan_in, fan_out)
    gram = W.T @ W if fan_in >= fan_out else W @ W.T
    np.testing.assert_allclose(gram, np.eye(min(fan_in, fan_out)), atol=1e-12)


def test_lsuv_gives_unit_variance_pre_activations_layer_by_layer():
    model = ll.models.MLP([3, 40, 40, 40, 40, 1], activation="tanh")
    X = np.random.default_rng(1).normal(size=(500, 3)) * np.array([10.0, 0.1, 3.0])
    params = ll.models.init.lsuv(model, X, 0, tol=0.05)
    h = X
    for l, (wk, bk) in enumerate(model.keys):
        z = h @ params[wk] + params[bk]
        assert abs(z.var() - 1.0) < 0.05, l
        h = np.tanh(z)
    np.testing.assert_array_equal(params["b3"], 0.0)
    again = ll.models.init.lsuv(model, X, 0, tol=0.05)
    np.testing.assert_array_equal(again["W2"], params["W2"])


def test_lsuv_keeps_the_signal_alive_where_small_random_weights_kill_it():
    model = ll.models.MLP([3] + [30] * 8 + [1], activation="tanh")
    X = np.random.default_rng(2).normal(size=(300, 3))
    depth_std = {}
    for init in ("lsuv", "normal"):
        params = (
            ll.models.init.lsuv(model, X, 0)
            if init == "lsuv"
            else ll.models.MLP([3] + [30] * 8 + [1], activation="tanh", init="normal").init(0)
        )
        _, cache = model._forward(params, X, keep=True)
        depth_std[init] = float(cache[-1][0].std())  # the last hidden layer's output
    assert depth_std["lsuv"] > 0.3 and depth_std["normal"] < 1e-6


def test_fit_runs_lsuv_on_the_training_inputs():
    X, y = ll.data.two_blobs(n=80, seed=0)
    model = ll.models.MLP([2, 16, 16, 1], activation="relu", output_activation="sigmoid", init="lsuv")
    h = ll.train.fit(model, X, y, optimizer=ll.optim.sgd(lr=0.1), epochs=0, seed=5, progress=False)
    init_rng = np.random.default_rng(np.random.SeedSequence(5).spawn(2)[0])
    expected = ll.models.init.lsuv(model, X, init_rng)
    for k in expected:
        np.testing.assert_array_equal(h.params[k], expected[k])
    W1 = model.init(0)["W1"]  # init() alone (no data): the orthogonal pre-initialization
    np.testing.assert_allclose(W1 @ W1.T, np.eye(2), atol=1e-12)
    with pytest.raises(ValueError, match="lsuv: tol must be > 0"):
        ll.models.init.lsuv(model, X, 0, tol=0.0)


# --------------------------------------------------------------------------- class-wise metrics

PROBS = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
LABELS = np.array([0, 1, 1, 2, 2])  # predicted: 0, 1, 2, 0, 2


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    C = metrics.confusion_matrix(PROBS, LABELS)
    np.testing.assert_array_equal(C, [[1, 0, 0], [0, 1, 1], [1, 0, 1]])
    np.testing.assert_array_equal(
        metrics.confusion_matrix([0.9, 0.2, 0.7, 0.1], [1, 0, 0, 1]), [[1, 1], [1, 1]]
    )
    assert metrics.confusion_matrix(PROBS, LABELS, n_classes=4).shape == (4, 4)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_labels_of_any_float_width_are_read_and_bad_ones_named():
    labels16 = np.asarray(LABELS, dtype=np.float16)  # 2**31 overflows float16: compared as floats
    np.testing.assert_array_equal(
        metrics.confusion_matrix(PROBS, labels16), metrics.confusion_matrix(PROBS, LABELS)
    )
    with pytest.raises(
        ValueError,
        match=r"accuracy: y_true must hold class labels in \[0, 2\*\*31\), got labels from -2 to 1",
    ):
        metrics.accuracy(np.zeros((2, 3)), [1, -2])


def test_per_class_precision_recall_f1():
    recall = metrics.recall(PROBS, LABELS, average=None)
    precision = metrics.precision(PROBS, LABELS, average=None)
    np.testing.assert_allclose(recall, [1.0, 0.5, 0.5])
    np.testing.assert_allclose(precision, [0.5, 1.0, 0.5])
    np.testing.assert_allclose(
        metrics.f1(PROBS, LABELS, average=None), 2 * precision * recall / (precision + recall)
    )
    np.testing.assert_allclose(metrics.recall_per_class(PROBS, LABELS), recall)
    assert metrics.recall(PROBS, LABELS) == pytest.approx(recall.mean())  # "auto": macro for probabilities
    assert metrics.recall(PROBS, LABELS, average="micro") == pytest.approx(metrics.accuracy(PROBS, LABELS))
    # binary scores: per class [negatives, positives]; a class never predicted has precision 0
    np.testing.assert_allclose(metrics.recall([0.9, 0.2, 0.7, 0.1], [1, 0, 0, 1], average=None), [0.5, 0.5])
    np.testing.assert_allclose(metrics.precision([0.1, 0.2], [1, 0], average=None), [0.5, 0.0])


def test_fit_records_class_wise_metrics_per_epoch():
    X, y = ll.data.imbalanced(n=200, positive_fraction=0.1, seed=0)
    h = ll.train.fit(
        ll.models.Logistic(2),
        X,
        y,
        optimizer=ll.optim.adam(lr=0.1),
        epochs=4,
        class_weight="balanced",
        metrics=["recall", "recall_per_class", "confusion_matrix"],
        validation_data=(X, y),
        progress=False,
    )
    assert len(h.arrays["confusion_matrix"]) == 4 and len(h.arrays["val_recall_per_class"]) == 4
    C = h.arrays["confusion_matrix"][-1]
    assert C.sum() == 200 and C[1].sum() == int(y.sum())
    probs = ll.models.Logistic(2).apply(h.params, X)
    np.testing.assert_array_equal(C, metrics.confusion_matrix(probs, y))
    np.testing.assert_allclose(h.arrays["recall_per_class"][-1], np.diag(C) / C.sum(axis=1))
    assert h.epochs["recall"][-1] == pytest.approx(h.arrays["recall_per_class"][-1][1])
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.recall(PROBS, LABELS, average="weighted")
