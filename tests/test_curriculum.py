"""fit's curriculum: difficulty-ordered baby steps and self-paced learning, weights recorded per epoch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losslab as ll


def _outliers_start():
    X, y = ll.data.outliers()
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    return X, y, {"W": np.array([[slope]]), "b": np.array([intercept])}


def test_self_paced_weights_are_the_closed_form_of_each_epochs_losses():
    X, y, init = _outliers_start()
    h = ll.train.fit(
        ll.models.Linear(1),
        X,
        y,
        loss="mse",
        optimizer=ll.optim.sgd(lr=0.02),
        epochs=6,
        init_params=init,
        record_params=True,
        progress=False,
        curriculum=ll.train.curriculum.self_paced(threshold=3.0, growth=1.5, regime="linear"),
    )
    model = ll.models.Linear(1)
    for e in range(6):  # full batch: one step per epoch, so trajectory[e] is the epoch's start
        losses = model.loss(h.trajectory[e], X, y, "mse", reduction="none")
        lam = 3.0 * 1.5**e
        np.testing.assert_allclose(
            h.curriculum[e], ll.losses.self_paced_weights(losses, lam, "linear"), rtol=1e-12
        )
        assert h.epochs["self_paced_threshold"][e] == pytest.approx(lam)
        assert h.epochs["curriculum_fraction"][e] == pytest.approx(np.mean(h.curriculum[e] > 0))
    # the step is the weighted mean over the admitted samples
    v = h.curriculum[0]
    keep = v > 0
    r = (X[keep, 0] * init["W"][0, 0] + init["b"][0]) - y[keep]
    grad_b = np.mean(2 * v[keep] * r)
    assert h.trajectory[1]["b"][0] == pytest.approx(init["b"][0] - 0.02 * grad_b, rel=1e-12)


def test_hard_self_paced_learning_leaves_the_outliers_out():
    X, y, init = _outliers_start()
    h = ll.train.fit(
        ll.models.Linear(1),
        X,
        y,
        loss="mse",
        optimizer=ll.optim.sgd(lr=0.02),
        epochs=800,
        init_params=init,
        curriculum={"self_paced": {"threshold": 20.0, "growth": 1.0}},
        progress=False,
    )
    left_out = np.flatnonzero(h.curriculum[-1] == 0)
    assert left_out.tolist() == sorted(ll.data.OUTLIER_INDEX)
    clean = np.ones(len(y), bool)
    clean[list(ll.data.OUTLIER_INDEX)] = False
    slope, intercept = np.polyfit(X[clean, 0], y[clean], 1)
    assert (h.params["W"][0, 0], h.params["b"][0]) == pytest.approx((slope, intercept), abs=1e-4)


def test_no_sample_below_the_threshold_admits_the_easiest():
    X, y = ll.data.linear(n=20, w=3.0, b=10.0, noise=0.5, seed=0)
    h = ll.train.fit(
        ll.models.Linear(1),
        X,
        y,
        optimizer=ll.optim.sgd(lr=0.01),
        epochs=2,
        curriculum=ll.train.curriculum.self_paced(threshold=1e-3),
        progress=False,
    )
    first = h.curriculum[0]
    assert first.sum() == 1.0 and int(np.argmax(first)) == int(np.argmin(np.abs(y)))  # w = b = 0 at the start


def test_difficulty_curriculum_grows_from_easy_to_hard_in_order():
    X, y = ll.data.linear(n=20, w=1.0, b=0.0, noise=0.3, seed=1)
    difficulty = np.abs(X[:, 0])  # far from the centre is "hard"
    h = ll.train.fit(
        ll.models.Linear(1),
        X,
        y,
        optimizer=ll.optim.sgd(lr=0.1),
        epochs=5,
        batch_size=3,
        shuffle=True,
        seed=0,
        record_params=True,
        progress=False,
        curriculum={"difficulty": difficulty, "start": 0.3, "epochs_to_full": 4},
    )
    fractions = [min(1.0, 0.3 + 0.7 * e / 4) for e in range(5)]
    assert h.epochs["curriculum_fraction"] == pytest.approx(
        [math.ceil(f * 20 - 1e-9) / 20 for f in fractions]
    )
    rank = np.argsort(difficulty, kind="stable")
    for v in h.curriculum:
        k = int(v.sum())
        assert set(np.flatnonzero(v)) == set(rank[:k].tolist())
    # epoch 0 presents its 6 samples easy to hard in batches of 3: replay it by hand
    W, b = 0.0, 0.0
    for batch in (rank[:3], rank[3:6]):
        r = X[batch, 0] * W + b - y[batch]
        W, b = W - 0.1 * np.mean(2 * r * X[batch, 0]), b - 0.1 * np.mean(2 * r)
    assert (h.trajectory[2]["W"][0, 0], h.trajectory[2]["b"][0]) == pytest.approx((W, b), rel=1e-12)
    assert h.n_steps == sum(
        math.ceil(int(v.sum()) / 3) for v in h.curriculum
    )  # batches over the admitted only


@pytest.mark.parametrize(
    ("curriculum", "error", "match"),
    [
        ({"difficulty": [1.0, 2.0]}, ValueError, r"one score per sample \(10\), got 2"),
        ({"self_paced": {"threshold": -1.0}}, ValueError, "threshold must be > 0"),
        ({"self_paced": {"growth": 0.5}}, ValueError, "growth must be in"),
        ("easy_first", TypeError, "curriculum must be"),
    ],
    ids=["scores", "threshold", "growth", "unknown"],
)
def test_bad_curricula_are_named(curriculum, error, match):
    X, y = ll.data.linear(n=10, w=1.0, b=0.0, seed=0)
    with pytest.raises(error, match=match):
        ll.train.fit(ll.models.Linear(1), X, y, optimizer=ll.optim.sgd(lr=0.1), curriculum=curriculum)
