"""Every corrected number in docs/curriculum-errata.md, recomputed with losslab."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest

import losslab as ll

DOC = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "curriculum-errata.md").read_text()

Y_PRED, Y_TRUE = [2.5, 0.3, 1.8, 4.2], [3.0, 0.0, 2.0, 4.0]
PROBS, LABELS = [0.9, 0.2, 0.7, 0.4], [1.0, 0.0, 1.0, 0.0]
LOGITS, CLASSES = [[2.0, 0.5, -1.0], [-1.0, 3.0, 0.5]], [0, 1]


def _network():
    model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    params = {
        "W1": np.array([[0.2, 0.3], [0.4, 0.1]]),
        "b1": np.array([0.1, 0.2]),
        "W2": np.array([[0.7], [0.5]]),
        "b2": np.array([0.3]),
    }
    X, y = np.array([[1.0, 0.0]]), np.array([[1.0]])
    return model, params, X, y


def _network_value(key):
    model, params, X, y = _network()
    y_hat = float(model.apply(params, X)[0, 0])
    z3 = math.log(y_hat / (1 - y_hat))
    if key == "z3":
        return z3
    if key == "y_hat":
        return y_hat
    if key == "loss":
        return -math.log(y_hat)
    if key == "delta3":
        return y_hat - 1.0
    _, grads = model.value_and_grad(params, X, y, loss="binary_cross_entropy")
    return 0.7 - 0.1 * float(grads["W2"][0, 0])


def _lab_fit(loss, lr, **loss_params):
    X, y = ll.data.outliers()
    history = ll.train.fit(
        ll.models.Linear(1),
        X,
        y,
        loss=loss,
        loss_params=loss_params,
        optimizer=ll.optim.sgd(lr=lr),
        epochs=2000,
        progress=False,
    )
    return f"y = {history.params['W'][0, 0]:.2f}x + {history.params['b'][0]:.2f}"


NUMBERS = [
    ("**0.1050**", 4, lambda: ll.losses.mse(Y_PRED, Y_TRUE)),
    ("| 0.3000 | 0.3000 |", 4, lambda: ll.losses.mae(Y_PRED, Y_TRUE)),
    ("**0.0525**", 4, lambda: ll.losses.huber(Y_PRED, Y_TRUE, delta=1.0)),
    ("**0.2990**", 4, lambda: ll.losses.binary_cross_entropy(PROBS, LABELS)),
    ("**0.1685**", 4, lambda: ll.losses.sparse_categorical_cross_entropy(LOGITS, CLASSES, from_logits=True)),
    ("**0.0191**", 4, lambda: ll.losses.binary_focal(PROBS, LABELS, gamma=2.0, alpha=0.25)),
    ("**2.0723**", 4, lambda: ll.losses.binary_focal([0.1], [1.0], gamma=1.0, alpha=None)),
    ("**1.3597**", 4, lambda: ll.losses.binary_focal([0.1], [1.0], gamma=5.0, alpha=None)),
    ("**1.0133**", 4, lambda: _network_value("z3")),
    ("**0.7337**", 4, lambda: _network_value("y_hat")),
    ("**0.3097**", 4, lambda: _network_value("loss")),
    ("**-0.2663**", 4, lambda: _network_value("delta3")),
    ("**0.7153**", 4, lambda: _network_value("w13")),
]


@pytest.mark.parametrize(("snippet", "digits", "compute"), NUMBERS, ids=[n[0] for n in NUMBERS])
def test_corrected_number(snippet, digits, compute):
    assert snippet in DOC
    shown = snippet.strip("*| ").split(" |")[-1].strip("* ")
    assert f"{float(compute()):.{digits}f}" == shown


@pytest.mark.parametrize(
    ("snippet", "loss", "lr", "params"),
    [
        ("**y = 2.16x + 2.21**", "mse", 0.001, {}),
        ("**y = 1.97x + 2.78**", "mae", 0.01, {}),
        ("**y = 1.97x + 2.69**", "huber", 0.005, {"delta": 2.0}),
    ],
)
def test_outlier_lab_lines(snippet, loss, lr, params):
    assert snippet in DOC
    assert f"**{_lab_fit(loss, lr, **params)}**" == snippet


def test_outlier_lab_least_squares_line():
    X, y = ll.data.outliers()
    slope, intercept = np.polyfit(X.ravel(), y.ravel(), 1)
    assert f"{slope:.4f}x + {intercept:.4f}" in DOC
