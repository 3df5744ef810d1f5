"""Data preparation: standardize, train_test_split, resample (SMOTE), bias_variance."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll
from losslab.data.prep import nearest_neighbors


def test_standardize_fits_on_train_applies_to_test_and_inverts():
    rng = np.random.default_rng(0)
    X_train = rng.normal([1.0, -3.0, 10.0], [2.0, 0.1, 5.0], size=(50, 3))
    X_test = rng.normal(size=(7, 3))
    Z, scaler = ll.data.standardize(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        scaler.transform(X_test), (X_test - X_train.mean(0)) / X_train.std(0), rtol=1e-12
    )
    np.testing.assert_allclose(scaler.inverse_transform(Z), X_train, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X_test)), X_test, atol=1e-13)
    Z1, s1 = ll.data.standardize(X_train, ddof=1)
    np.testing.assert_allclose(s1.scale, X_train.std(axis=0, ddof=1))


def test_standardize_handles_zero_variance_columns_explicitly():
    X = np.c_[np.arange(4.0), np.full(4, 7.0)]
    Z, scaler = ll.data.standardize(X)
    assert scaler.constant.tolist() == [False, True] and scaler.scale[1] == 1.0
    np.testing.assert_array_equal(Z[:, 1], 0.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    with pytest.raises(ValueError, match=r"zero-variance columns \[1\]"):
        ll.data.standardize(X, zero_variance="raise")
    with pytest.raises(ValueError, match="X must have 2 columns"):
        scaler.transform(np.zeros((2, 3)))


def test_train_test_split_is_seeded_disjoint_and_complete():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    a = ll.data.train_test_split(X, y, test_size=0.25, seed=3)
    b = ll.data.train_test_split(X, y, test_size=0.25, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    X_tr, X_te, y_tr, y_te = a
    assert len(y_te) == 5 and len(y_tr) == 15
    assert sorted(np.r_[y_tr, y_te].tolist()) == list(range(20))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay paired with their targets
    assert ll.data.train_test_split(X, y, test_size=3, seed=0)[3].shape == (3,)
    tail = ll.data.train_test_split(X, y, test_size=0.2, shuffle=False)[3]
    assert tail.tolist() == [16, 17, 18, 19]


def test_stratified_split_keeps_class_shares():
    X, y = ll.data.imbalanced(n=200, positive_fraction=0.1, seed=0)
    _, _, y_tr, y_te = ll.data.train_test_split(X, y, test_size=0.3, seed=1, stratify=True)
    assert len(y_te) == 60 and int(y_te.sum()) == 6 and int(y_tr.sum()) == 14


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_size": 1.5}, r"test_size must be in \(0, 1\)"),
        ({"test_size": 0}, r"integer test_size must be in \[1, 9\]"),
        ({"stratify": True, "shuffle": False}, "stratify=True needs shuffle=True"),
    ],
    ids=["fraction", "count", "stratify-no-shuffle"],
)
def test_bad_split_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ll.data.train_test_split(np.zeros((10, 1)), np.zeros(10), **kwargs)


def test_smote_points_lie_on_segments_between_same_class_neighbours():
    X, y = ll.data.imbalanced(n=300, positive_fraction=0.1, seed=0)
    X_res, y_res = ll.data.resample(X, y, method="smote", seed=0, k_neighbors=3)
    np.testing.assert_array_equal(X_res[:300], X)
    assert np.bincount(y_res.astype(int)).tolist() == [270, 270]
    minority = X[y == 1]
    nn = nearest_neighbors(minority, 3)
    # brute-force Euclidean neighbours agree
    d = np.linalg.norm(minority[:, None] - minority[None], axis=2)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(np.sort(nn, axis=1), np.sort(np.argsort(d, axis=1)[:, :3], axis=1))
    for p in X_res[300:]:
        assert y_res[300:].min() == 1
        found = False
        for i in range(len(minority)):
            for j in nn[i]:
                a, b = minority[i], minority[j]
                u = np.dot(p - a, b - a) / np.dot(b - a, b - a)
                if 0.0 <= u <= 1.0 and np.linalg.norm(a + u * (b - a) - p) < 1e-12:
                    found = True
                    break
            if found:
                break
        assert found, p


def test_random_over_and_under_sampling_balance_classes_seeded():
    X, y = ll.data.imbalanced(n=100, positive_fraction=0.2, seed=0)
    Xo, yo = ll.data.resample(X, y, method="oversample", seed=0)
    assert np.bincount(yo.astype(int)).tolist() == [80, 80]
    rows = {tuple(r) for r in X[y == 1]}
    assert all(tuple(r) in rows for r in Xo[100:])  # copies of minority samples
    Xu, yu = ll.data.resample(X, y, method="undersample", seed=0)
    assert np.bincount(yu.astype(int)).tolist() == [20, 20]
    assert len({tuple(r) for r in Xu}) == 40 and all(tuple(r) in {tuple(q) for q in X} for r in Xu)
    again = ll.data.resample(X, y, method="undersample", seed=0)
    np.testing.assert_array_equal(again[0], Xu)
    assert yu.dtype == y.dtype


def test_resample_errors_are_named():
    with pytest.raises(ValueError, match="method must be one of"):
        ll.data.resample(np.zeros((4, 1)), [0, 0, 1, 1], method="adasyn")
    with pytest.raises(ValueError, match="at least two classes"):
        ll.data.resample(np.zeros((4, 1)), [0, 0, 0, 0])
    with pytest.raises(ValueError, match="SMOTE needs at least two samples of class 1"):
        ll.data.resample(np.arange(4.0)[:, None], [0, 0, 0, 1], method="smote")


def _sine_data(rng, X=None):
    X = rng.uniform(-1.0, 1.0, size=(25, 1)) if X is None else X
    return X, np.sin(3.0 * X[:, 0]) + rng.normal(0.0, 0.3, size=len(X))


def _poly(degree):
    def factory(X, y):
        coef = np.polyfit(X[:, 0], y, degree)
        return lambda Xq: np.polyval(coef, Xq[:, 0])

    return factory


@pytest.mark.parametrize("degree", [1, 3, 9])
def test_bias_variance_decomposition_sums_to_the_measured_error(degree):
    r = ll.data.bias_variance(_poly(degree), _sine_data, n_draws=200, seed=0, n_targets=400)
    assert abs(r.total - r.expected_error) < 4 * r.error_se
    assert r.noise == pytest.approx(0.09, rel=0.15)  # sigma = 0.3
    assert r.predictions.shape == (200, 25)


def test_bias_variance_tradeoff_across_model_complexity():
    results = {d: ll.data.bias_variance(_poly(d), _sine_data, n_draws=100, seed=1) for d in (1, 3, 9)}
    assert results[1].bias2 > 10 * results[3].bias2  # the line underfits the sine
    assert results[9].variance > results[3].variance > results[1].variance
    with pytest.raises(ValueError, match="n_draws must be >= 2"):
        ll.data.bias_variance(_poly(1), _sine_data, n_draws=1)
