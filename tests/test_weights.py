"""Class weights and label smoothing, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll

Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])  # counts 6, 2, 1; N = 9, K = 3


def test_inverse_is_sklearn_balanced():
    # N / (K n_c) = 9 / 18, 9 / 6, 9 / 3.
    np.testing.assert_allclose(ll.losses.class_weights(Y), [0.5, 1.5, 3.0], rtol=1e-15)


def test_raw_formulas_of_the_curriculum():
    # w = 1/n, 1/sqrt(n), (1 - beta) / (1 - beta^n).
    raw = dict(normalize="none")
    np.testing.assert_allclose(ll.losses.class_weights(Y, "inverse", **raw), [1 / 6, 1 / 2, 1.0], rtol=1e-15)
    np.testing.assert_allclose(
        ll.losses.class_weights(Y, "inverse_sqrt", **raw), [1 / 6**0.5, 1 / 2**0.5, 1.0], rtol=1e-15
    )
    beta = 0.9
    expected = [(1 - beta) / (1 - beta**6), (1 - beta) / (1 - beta**2), 1.0]
    np.testing.assert_allclose(
        ll.losses.class_weights(Y, "effective_number", beta=beta, **raw), expected, rtol=1e-14
    )


def test_normalizations():
    w = ll.losses.class_weights(Y, "inverse_sqrt")
    counts = np.bincount(Y)
    assert np.dot(counts, w) == pytest.approx(9.0, rel=1e-14)  # average sample weight 1
    # Cui et al.: weights sum to the number of classes. With beta = 0.9 the raw weights are
    # 0.1/0.468559, 0.1/0.19 and 1; their sum is 1.7397...; times 3 over that sum:
    w = ll.losses.class_weights(Y, "effective_number", beta=0.9, normalize="classes")
    raw = np.array([0.1 / (1 - 0.9**6), 0.1 / 0.19, 1.0])
    np.testing.assert_allclose(w, 3 * raw / raw.sum(), rtol=1e-14)
    assert w.sum() == pytest.approx(3.0, rel=1e-15)


def test_effective_number_limits():
    # beta = 0: every class counts as one sample (equal weights); beta -> 1: inverse frequency.
    np.testing.assert_allclose(ll.losses.class_weights(Y, "effective_number", beta=0.0), [1.0, 1.0, 1.0])
    near = ll.losses.class_weights(Y, "effective_number", beta=1 - 1e-9)
    np.testing.assert_allclose(near, ll.losses.class_weights(Y, "inverse"), rtol=1e-6)


def test_absent_classes_get_zero_and_labels_are_checked():
    w = ll.losses.class_weights([0, 0, 2], n_classes=4)
    np.testing.assert_allclose(w, [0.75, 0.0, 1.5, 0.0], rtol=1e-15)  # 3 / (2 * 2), 3 / (2 * 1)
    with pytest.raises(ValueError, match="y holds label 3, out of range for n_classes=2"):
        ll.losses.class_weights([0, 3], n_classes=2)
    with pytest.raises(ValueError, match="method must be one of"):
        ll.losses.class_weights(Y, "median")
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got beta=1"):
        ll.losses.class_weights(Y, "effective_number", beta=1.0)
    with pytest.raises(TypeError, match="integer class labels"):
        ll.losses.class_weights([0.5, 1.0])
    with pytest.raises(ValueError, match="y is empty"):
        ll.losses.class_weights([])


def test_class_weights_feed_the_cross_entropy():
    z = np.random.default_rng(0).normal(size=(9, 3))
    w = ll.losses.class_weights(Y)
    weighted = ll.losses.sparse_categorical_cross_entropy(z, Y, from_logits=True, class_weight=w)
    per_sample = ll.losses.sparse_categorical_cross_entropy(z, Y, from_logits=True, reduction="none")
    # PyTorch's mean: sum_i w_{y_i} l_i / sum_i w_{y_i}, and sum_i w_{y_i} = N under "samples".
    assert weighted == pytest.approx(np.sum(w[Y] * per_sample) / 9.0, rel=1e-13)


def test_smooth_labels_from_integer_labels():
    # y' = (1 - a) y + a / K with a = 0.1, K = 4: 0.925 on the label, 0.025 elsewhere.
    out = ll.losses.smooth_labels([1, 3], 0.1, n_classes=4)
    np.testing.assert_allclose(out, [[0.025, 0.925, 0.025, 0.025], [0.025, 0.025, 0.025, 0.925]], rtol=1e-15)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(ll.losses.smooth_labels([0, 2], 0.3), [[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])


def test_smooth_labels_on_targets_and_binary():
    soft = np.array([[0.5, 0.5, 0.0]], dtype=np.float32)
    out = ll.losses.smooth_labels(soft, 0.3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.45, 0.45, 0.1]], rtol=1e-6)
    binary = ll.losses.smooth_labels(np.array([1.0, 0.0, 1.0]), 0.2, n_classes=2)
    np.testing.assert_allclose(binary, [0.9, 0.1, 0.9])


def test_smoothing_helper_matches_the_losses():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    target = ll.losses.smooth_labels(labels, 0.2, n_classes=4)
    cce = ll.losses.categorical_cross_entropy(z, target, from_logits=True)
    assert ll.losses.sparse_categorical_cross_entropy(
        z, labels, from_logits=True, label_smoothing=0.2
    ) == pytest.approx(cce, rel=1e-13)
    y = rng.integers(0, 2, size=10).astype(float)
    x = rng.normal(size=10)
    bce = ll.losses.binary_cross_entropy
    assert bce(x, y, from_logits=True, label_smoothing=0.3) == pytest.approx(
        bce(x, ll.losses.smooth_labels(y, 0.3, n_classes=2), from_logits=True), rel=1e-14
    )


def test_smooth_labels_errors():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        ll.losses.smooth_labels([0, 1], -0.1)
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\), got 2"):
        ll.losses.smooth_labels([0, 2], 0.1, n_classes=2)
    with pytest.raises(ValueError, match="class axis of size n_classes=3"):
        ll.losses.smooth_labels(np.ones((2, 4)) / 4, 0.1, n_classes=3)
