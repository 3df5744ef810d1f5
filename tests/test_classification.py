"""Classification losses: the curriculum's hand computations, equivalences and edge cases.

The registry-wide tests (test_loss_registry.py) already check gradients, PyTorch parity,
reductions and dtypes for every declared parameter set; this file checks the worked numbers,
the identities between losses and the extremes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import expit

import losslab as ll

L = ll.losses
LN2 = math.log(2.0)
BCE, CCE, SCCE, FOCAL = (L.get(alias) for alias in ("bce", "cce", "scce", "focal"))


def sigmoid(x):
    return expit(np.asarray(x, dtype=float))


# --------------------------------------------------------------------------- curriculum numbers


class TestCurriculumPrintedPyTorchOutputs:
    """The printed line "BCE: 0.2899 CE: 0.2286 Focal: 0.0210" is wrong on all three counts."""

    y_prob = np.array([0.9, 0.2, 0.7, 0.4])
    y_label = np.array([1.0, 0.0, 1.0, 0.0])
    logits = np.array([[2.0, 0.5, -1.0], [-1.0, 3.0, 0.5]])
    labels = np.array([0, 1])

    def test_bce_is_0_2990_not_0_2899(self):
        # p_t = 0.9, 0.8, 0.7, 0.6: BCE = -mean(log p_t) = 0.29900 (0.2899 swaps two digits).
        truth = -np.mean(np.log([0.9, 0.8, 0.7, 0.6]))
        assert BCE(self.y_prob, self.y_label) == pytest.approx(truth, rel=1e-14)
        assert round(float(BCE(self.y_prob, self.y_label)), 4) == 0.2990
        ref = torch.nn.BCELoss()(torch.tensor(self.y_prob), torch.tensor(self.y_label)).item()
        assert BCE(self.y_prob, self.y_label) == pytest.approx(ref, rel=1e-14)

    def test_ce_is_0_1685_not_0_2286(self):
        # Row losses: logsumexp(z) - z_y = 0.24131 and 0.09567; their mean is 0.16849.
        rows = [math.log(sum(math.exp(v) for v in z)) - z[y] for z, y in zip(self.logits, self.labels)]
        value = SCCE(self.logits, self.labels, from_logits=True)
        assert value == pytest.approx(np.mean(rows), rel=1e-14)
        assert round(float(value), 4) == 0.1685
        ref = torch.nn.CrossEntropyLoss()(torch.tensor(self.logits), torch.tensor(self.labels)).item()
        assert value == pytest.approx(ref, rel=1e-14)

    def test_focal_is_0_0191_not_0_0210(self):
        # alpha_t = 0.25, 0.75, 0.25, 0.75; (1 - p_t)^2 = 0.01, 0.04, 0.09, 0.16.
        p_t = np.array([0.9, 0.8, 0.7, 0.6])
        alpha_t = np.array([0.25, 0.75, 0.25, 0.75])
        truth = np.mean(-alpha_t * (1 - p_t) ** 2 * np.log(p_t))
        value = FOCAL(self.y_prob, self.y_label, gamma=2.0, alpha=0.25)
        assert value == pytest.approx(truth, rel=1e-14)
        assert round(float(value), 4) == 0.0191


@pytest.mark.parametrize(
    ("gamma", "p_t", "printed", "truth"),
    [
        # The focal table (alpha = 1). Two entries are off: gamma=1 at p_t=0.1 is 2.0723
        # (printed 2.073) and gamma=5 at p_t=0.1 is 0.9^5 * 2.302585 = 1.3597 (printed 1.353).
        (0.0, 0.95, 0.051, 0.0512933),
        (1.0, 0.95, 0.003, 0.00256466),
        (2.0, 0.95, 0.0001, 0.000128233),
        (5.0, 0.95, 0.0, 1.60292e-08),
        (0.0, 0.5, 0.693, 0.693147),
        (1.0, 0.5, 0.347, 0.346574),
        (2.0, 0.5, 0.173, 0.173287),
        (5.0, 0.5, 0.022, 0.0216608),
        (0.0, 0.1, 2.303, 2.302585),
        (1.0, 0.1, 2.073, 2.072327),
        (2.0, 0.1, 1.865, 1.865094),
        (5.0, 0.1, 1.353, 1.359653),
    ],
)
def test_focal_table(gamma, p_t, printed, truth):
    # y = 1 so p_t = y_pred; the same numbers with y = 0 and y_pred = 1 - p_t.
    value = L.binary_focal([p_t], [1.0], gamma=gamma, alpha=None)
    assert value == pytest.approx(truth, rel=1e-5)
    assert value == pytest.approx(-((1 - p_t) ** gamma) * math.log(p_t), rel=1e-13)
    assert L.binary_focal([1 - p_t], [0.0], gamma=gamma, alpha=None) == pytest.approx(value, rel=1e-12)
    # Printed to 3 decimals: correct entries are within half a unit of the last printed digit.
    wrong = (gamma, p_t) in {(1.0, 0.1), (5.0, 0.1)}
    assert (abs(float(value) - printed) > 0.0005) == wrong


def test_focal_exercise_b5_reduction_factors():
    # B5: FL = (1 - 0.95)^gamma * CE: reductions 20x, 400x and 0.05^-5 = 3.2 million x.
    ce = float(L.binary_focal([0.95], [1.0], gamma=0.0, alpha=None))
    assert ce == pytest.approx(0.0513, abs=5e-5)
    for gamma, factor in [(1.0, 20.0), (2.0, 400.0), (5.0, 3.2e6)]:
        fl = float(L.binary_focal([0.95], [1.0], gamma=gamma, alpha=None))
        assert ce / fl == pytest.approx(factor, rel=1e-9)


def test_bce_confident_wrong_prediction_a3():
    # A3: y_hat = 0.01 for y = 1 gives -log(0.01) = 4.605.
    assert BCE([0.01], [1.0]) == pytest.approx(4.60517, abs=1e-5)


def test_bce_gradient_simplifies_b3():
    # B3: dL/dy_hat = (y_hat - y) / (y_hat (1 - y_hat)).
    p = np.array([0.1, 0.3, 0.6, 0.9, 0.25])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.4])
    np.testing.assert_allclose(BCE.grad(p, y, reduction="sum"), (p - y) / (p * (1 - p)), rtol=1e-14)


def test_cce_exercise_b4():
    # B4: y_hat = [0.7, 0.2, 0.1], class 0: L = -log 0.7 = 0.3567; softmax gradient y_hat - y.
    p = np.array([[0.7, 0.2, 0.1]])
    onehot = np.array([[1.0, 0.0, 0.0]])
    assert CCE(p, onehot) == pytest.approx(0.3567, abs=5e-5)
    assert SCCE(p, [0]) == pytest.approx(-math.log(0.7), rel=1e-14)
    logits = np.log(p) + 1.7  # any logits whose softmax is y_hat
    np.testing.assert_allclose(CCE.grad(logits, onehot, from_logits=True), [[-0.3, 0.2, 0.1]], atol=1e-15)
    np.testing.assert_allclose(SCCE.grad(logits, [0], from_logits=True), [[-0.3, 0.2, 0.1]], atol=1e-15)
    # Before softmax: dL/dy_hat_k = -y_k / y_hat_k.
    np.testing.assert_allclose(CCE.grad(p, onehot), [[-1 / 0.7, 0.0, 0.0]], rtol=1e-14)


def test_logistic_regression_example_b():
    # x = 1, y = 1, w = b = 0: p = 0.5, dL/dw = dL/db = p - y = -0.5, eta = 0.5 -> w' = b' = 0.25.
    x, y, w, b, eta = 1.0, 1.0, 0.0, 0.0, 0.5
    z = np.array([w * x + b])
    value, dz = BCE.value_and_grad(z, [y], from_logits=True)
    assert value == pytest.approx(LN2, rel=1e-15)
    assert dz[0] == pytest.approx(-0.5, rel=1e-15)
    assert (w - eta * dz[0] * x, b - eta * dz[0]) == pytest.approx((0.25, 0.25))


def test_logistic_regression_practice_problem_2():
    # x = 2, y = 0, w = 1, b = -1, eta = 0.2: p = sigma(1) = 0.7311, dL/dw = p x = 1.4621,
    # dL/db = 0.7311, so w' = 0.7076 and b' = -1.1462.
    x, y, w, b, eta = 2.0, 0.0, 1.0, -1.0, 0.2
    dz = BCE.grad([w * x + b], [y], from_logits=True)[0]
    assert dz == pytest.approx(0.7310585786, rel=1e-10)
    assert dz * x == pytest.approx(1.4621171573, rel=1e-10)
    assert w - eta * dz * x == pytest.approx(0.7075765685, rel=1e-10)
    assert b - eta * dz == pytest.approx(-1.1462117157, rel=1e-10)


def test_tiny_network_output_loss():
    # The 2-2-1 example: z3 = 0.7 sigma(0.3) + 0.5 sigma(0.5) + 0.3 = 1.0133 (printed 1.086),
    # so y_hat = 0.7337 (printed 0.748), L = 0.3097 (printed 0.289) and dL/dz3 = -0.2663 (-0.252).
    z3 = 0.7 * sigmoid(0.3) + 0.5 * sigmoid(0.5) + 0.3
    assert z3 == pytest.approx(1.0133394, rel=1e-7)
    value, dz = BCE.value_and_grad([z3], [1.0], from_logits=True)
    assert value == pytest.approx(0.3096916, rel=1e-6)
    assert dz[0] == pytest.approx(-0.2663268, rel=1e-6)
    assert BCE([sigmoid(z3)], [1.0]) == pytest.approx(value, rel=1e-12)


def test_logistic_form_with_signed_labels():
    # BCE(y, z) = log(1 + exp(-y z)) with y in {-1, +1} is BCE from logits with 0/1 labels.
    z = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    s = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    expected = np.log1p(np.exp(-s * z))
    np.testing.assert_allclose(BCE(z, (s + 1) / 2, from_logits=True, reduction="none"), expected, rtol=1e-14)


def test_binary_focal_matches_curriculum_two_term_formula():
    # FL = -alpha (1-p)^g y log p - (1 - alpha) p^g (1 - y) log(1 - p)
    p = np.array([0.1, 0.4, 0.8, 0.3, 0.95])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    a, g = 0.3, 1.5
    expected = -a * (1 - p) ** g * y * np.log(p) - (1 - a) * p**g * (1 - y) * np.log(1 - p)
    np.testing.assert_allclose(FOCAL(p, y, gamma=g, alpha=a, reduction="none"), expected, rtol=1e-13)
    # The "find the bug" implementation takes log(y_hat) instead of log(p_t): wrong when y = 0.
    p_t = y * p + (1 - y) * (1 - p)
    buggy = -((1 - p_t) ** g) * np.log(p)
    ours = FOCAL(p, y, gamma=g, alpha=None, reduction="none")
    np.testing.assert_allclose(ours[y == 1], buggy[y == 1], rtol=1e-13)
    assert np.all(np.abs(ours[y == 0] - buggy[y == 0]) > 1e-3)


def test_hinge_exercise_b6_and_gradient():
    # B6: with y = +1 the loss max(0, 1 - y_hat) is zero exactly when y_hat >= 1.
    s = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
    y = np.ones_like(s)
    np.testing.assert_array_equal(L.hinge(s, y, reduction="none"), [0.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(L.hinge.grad(s, y, reduction="sum"), [0.0, 0.0, -1.0, -1.0, -1.0])
    np.testing.assert_array_equal(L.squared_hinge(s, y, reduction="none"), [0.0, 0.0, 0.25, 1.0, 4.0])


def test_kl_divergence_by_hand():
    p = np.array([[0.5, 0.5, 0.0]])
    q = np.array([[0.25, 0.25, 0.5]])
    # D(p || q) = 0.5 log 2 + 0.5 log 2 + 0 log 0 = log 2.
    assert L.kl_divergence(q, p) == pytest.approx(LN2, rel=1e-15)
    np.testing.assert_allclose(L.kl_divergence.grad(q, p), [[-2.0, -2.0, 0.0]], rtol=1e-15)


# --------------------------------------------------------------------------- equivalences


def test_bce_from_logits_equals_bce_on_sigmoid_with_chain_rule():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=50)
    y = rng.uniform(size=50)
    value, dz = BCE.value_and_grad(z, y, from_logits=True, label_smoothing=0.1)
    p = sigmoid(z)
    value_p, dp = BCE.value_and_grad(p, y, label_smoothing=0.1)
    assert value == pytest.approx(value_p, rel=1e-12)
    np.testing.assert_allclose(dz, dp * p * (1 - p), rtol=1e-9)


def test_binary_ce_equals_two_class_softmax_ce():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, size=20)
    labels = rng.integers(0, 2, size=20)
    rows = np.stack([np.zeros_like(z), z], axis=-1)
    onehot = np.eye(2)[labels]
    binary, d_binary = BCE.value_and_grad(z, labels.astype(float), from_logits=True)
    sparse, d_rows = SCCE.value_and_grad(rows, labels, from_logits=True)
    assert binary == pytest.approx(sparse, rel=1e-13)
    assert binary == pytest.approx(CCE(rows, onehot, from_logits=True), rel=1e-13)
    np.testing.assert_allclose(d_binary, d_rows[:, 1], rtol=1e-12)
    np.testing.assert_allclose(d_rows[:, 0], -d_rows[:, 1], rtol=1e-12)


def test_focal_with_gamma_zero_is_alpha_weighted_bce():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(6, 3))
    y = rng.integers(0, 2, size=(6, 3)).astype(float)
    alpha_t = np.where(y == 1, 0.3, 0.7)
    for from_logits, y_pred in [(True, z), (False, sigmoid(z))]:
        focal = FOCAL.value_and_grad(y_pred, y, gamma=0.0, alpha=0.3, from_logits=from_logits)
        bce = BCE.value_and_grad(y_pred, y, from_logits=from_logits, sample_weight=alpha_t)
        assert focal[0] == pytest.approx(bce[0], rel=1e-13)
        np.testing.assert_allclose(focal[1], bce[1], rtol=1e-12)


def test_categorical_focal_with_gamma_zero_is_weighted_cce():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4))
    y = np.eye(4)[rng.integers(0, 4, size=5)]
    alpha = np.array([0.5, 1.0, 2.0, 0.25])
    for from_logits, y_pred in [(True, z), (False, np.exp(z) / np.exp(z).sum(-1, keepdims=True))]:
        focal = L.categorical_focal.value_and_grad(y_pred, y, gamma=0.0, alpha=alpha, from_logits=from_logits)
        cce = CCE.value_and_grad(y_pred, y, class_weight=alpha, from_logits=from_logits)
        assert focal[0] == pytest.approx(cce[0], rel=1e-13)
        np.testing.assert_allclose(focal[1], cce[1], rtol=1e-12, atol=1e-15)


def test_sparse_equals_categorical_with_one_hot_targets():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(7, 5))
    labels = rng.integers(0, 5, size=7)
    onehot = np.eye(5)[labels]
    for kw in [{"from_logits": True}, {"from_logits": True, "label_smoothing": 0.2}, {}]:
        y_pred = z if kw else np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        s = SCCE.value_and_grad(y_pred, labels, **kw)
        c = CCE.value_and_grad(y_pred, onehot, **kw)
        assert s[0] == pytest.approx(c[0], rel=1e-13)
        np.testing.assert_allclose(s[1], c[1], rtol=1e-12, atol=1e-15)


def test_kl_is_cross_entropy_minus_entropy():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 6))
    y = np.exp(rng.normal(size=(4, 6)))
    y /= y.sum(-1, keepdims=True)
    entropy = -(y * np.log(y)).sum(-1)
    kl = L.kl_divergence(z, y, from_logits=True, reduction="none")
    np.testing.assert_allclose(kl, CCE(z, y, from_logits=True, reduction="none") - entropy, rtol=1e-12)


def test_two_class_weston_watkins_is_hinge_on_score_difference():
    rng = np.random.default_rng(6)
    s = rng.normal(size=(8, 2))
    labels = rng.integers(0, 2, size=8)
    signed = 2.0 * labels - 1.0
    ww = L.multiclass_hinge(s, labels, reduction="none")
    cs = L.multiclass_hinge(s, labels, variant="crammer_singer", reduction="none")
    np.testing.assert_allclose(ww, L.hinge(s[:, 1] - s[:, 0], signed, reduction="none"), rtol=1e-14)
    np.testing.assert_allclose(cs, ww, rtol=1e-14)


def test_weston_watkins_is_class_count_times_multimargin():
    s = np.array([[1.0, 2.5, 0.2, 0.9], [0.0, -1.0, 3.0, 2.8]])
    labels = np.array([0, 2])
    # Row 0: (2.5-1+1) + (0.2-1+1) + (0.9-1+1) = 2.5+0.2+0.9 = 3.6; row 1: 0 + 0 + 0.8 = 0.8.
    np.testing.assert_allclose(L.multiclass_hinge(s, labels, reduction="none"), [3.6, 0.8], rtol=1e-14)
    # Crammer-Singer keeps the largest violation: 2.5 and 0.8.
    cs = L.multiclass_hinge(s, labels, variant="crammer_singer", reduction="none")
    np.testing.assert_allclose(cs, [2.5, 0.8], rtol=1e-14)
    ref = F.multi_margin_loss(torch.tensor(s), torch.tensor(labels), reduction="none").numpy()
    np.testing.assert_allclose(L.multiclass_hinge(s, labels, reduction="none"), 4 * ref, rtol=1e-14)


def test_hinge_accepts_zero_one_labels():
    s = np.array([-2.0, -0.3, 0.4, 1.5])
    y01 = np.array([0.0, 1.0, 0.0, 1.0])
    for loss in (L.hinge, L.squared_hinge, L.smoothed_hinge):
        np.testing.assert_array_equal(loss(s, y01, reduction="none"), loss(s, 2 * y01 - 1, reduction="none"))
        np.testing.assert_array_equal(loss.grad(s, y01), loss.grad(s, 2 * y01 - 1))


def test_smoothed_hinge_pieces():
    # Rennie & Srebro: 1/2 - z (z <= 0), (1 - z)^2 / 2 (0 < z < 1), 0 (z >= 1).
    s = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(
        L.smoothed_hinge(s, np.ones(5), reduction="none"), [1.5, 0.5, 0.125, 0.0, 0.0], rtol=1e-15
    )
    np.testing.assert_allclose(L.smoothed_hinge.grad(s, np.ones(5), reduction="sum"), [-1, -1, -0.5, 0, 0])


def test_js_divergence_is_symmetric_and_bounded_by_log_2():
    p = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    q = np.array([[0.0, 0.5, 0.5], [0.5, 0.3, 0.2]])
    js = L.js_divergence(q, p, reduction="none")
    np.testing.assert_allclose(js, L.js_divergence(p, q, reduction="none"), rtol=1e-14)
    assert js[0] == pytest.approx(LN2, rel=1e-15)  # disjoint supports reach the bound
    assert 0 < js[1] < LN2
    # Against scipy's Jensen-Shannon distance (the square root of the divergence).
    from scipy.spatial.distance import jensenshannon

    assert js[1] == pytest.approx(jensenshannon(p[1], q[1]) ** 2, rel=1e-12)


def test_class_axis_losses_accept_extra_leading_axes():
    rng = np.random.default_rng(7)
    z = rng.normal(size=(2, 3, 4))
    labels = rng.integers(0, 4, size=(2, 3))
    value, grad = SCCE.value_and_grad(z, labels, from_logits=True, label_smoothing=0.1)
    flat = SCCE.value_and_grad(z.reshape(6, 4), labels.reshape(6), from_logits=True, label_smoothing=0.1)
    assert value == pytest.approx(flat[0], rel=1e-14)
    np.testing.assert_allclose(grad.reshape(6, 4), flat[1], rtol=1e-14)


# --------------------------------------------------------------------------- PyTorch specifics


def test_bce_per_class_pos_weight_matches_pytorch():
    rng = np.random.default_rng(8)
    z = rng.normal(0, 2, size=(6, 3))
    y = rng.integers(0, 2, size=(6, 3)).astype(float)
    pw = np.array([0.5, 1.0, 4.0])
    for reduction in ("mean", "sum", "none"):
        zt = torch.tensor(z, requires_grad=True)
        ref = F.binary_cross_entropy_with_logits(
            zt, torch.tensor(y), pos_weight=torch.tensor(pw), reduction=reduction
        )
        ref.sum().backward()
        value, grad = BCE.value_and_grad(z, y, from_logits=True, pos_weight=pw, reduction=reduction)
        np.testing.assert_allclose(value, ref.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-12)


def test_bce_per_class_pos_weight_on_a_big_array_skips_the_blocked_path():
    rng = np.random.default_rng(9)
    z = rng.normal(size=(30000, 3))
    y = rng.integers(0, 2, size=(30000, 3)).astype(float)
    pw = (1.0, 2.0, 3.0)
    with ll.config(block_size=256):
        value, grad = BCE.value_and_grad(z, y, from_logits=True, pos_weight=pw)
    weights = np.where(y == 1, np.array(pw), 1.0)
    expected = np.mean(
        weights * np.log1p(np.exp(-np.abs(z))) + np.maximum(np.where(y == 1, -z, z), 0) * weights
    )
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, ((1 - y) * sigmoid(z) - weights * y * sigmoid(-z)) / z.size, rtol=1e-10)


@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("ignore_index", [None, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_cross_entropy_against_pytorch_combinations(smoothing, ignore_index, weighted):
    rng = np.random.default_rng(10)
    z = rng.normal(size=(9, 4))
    labels = rng.integers(0, 4, size=9)
    labels[:2] = 1
    w = np.array([1.0, 3.0, 0.5, 2.0]) if weighted else None
    zt = torch.tensor(z, requires_grad=True)
    ref = F.cross_entropy(
        zt,
        torch.tensor(labels),
        weight=None if w is None else torch.tensor(w),
        ignore_index=-100 if ignore_index is None else ignore_index,
        label_smoothing=smoothing,
    )
    ref.backward()
    kw = dict(from_logits=True, ignore_index=ignore_index, label_smoothing=smoothing, class_weight=w)
    value, grad = SCCE.value_and_grad(z, labels, **kw)
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-11, atol=1e-15)
    # The torch-tensor path (generic formulas) agrees with the NumPy fused path.
    assert float(SCCE(torch.tensor(z), torch.tensor(labels), **kw)) == pytest.approx(value, rel=1e-12)


def test_all_targets_ignored_gives_zero_where_pytorch_gives_nan():
    z = np.random.default_rng(11).normal(size=(3, 4))
    labels = np.array([2, 2, 2])
    value, grad = SCCE.value_and_grad(z, labels, from_logits=True, ignore_index=2)
    assert value == 0.0
    np.testing.assert_array_equal(grad, np.zeros_like(z))
    assert math.isnan(F.cross_entropy(torch.tensor(z), torch.tensor(labels), ignore_index=2).item())
    assert SCCE(z, labels, from_logits=True, ignore_index=2, reduction="sum") == 0.0


def test_ignored_labels_may_be_out_of_range():
    z = np.random.default_rng(12).normal(size=(3, 4))
    labels = np.array([0, -100, 3])
    value = SCCE(z, labels, from_logits=True, ignore_index=-100)
    assert value == pytest.approx(SCCE(z[[0, 2]], labels[[0, 2]], from_logits=True), rel=1e-14)


def test_kl_mean_is_batchmean():
    rng = np.random.default_rng(13)
    z = rng.normal(size=(4, 5))
    y = np.exp(rng.normal(size=(4, 5)))
    y /= y.sum(-1, keepdims=True)
    ref = F.kl_div(F.log_softmax(torch.tensor(z), -1), torch.tensor(y), reduction="batchmean").item()
    assert L.kl_divergence(z, y, from_logits=True) == pytest.approx(ref, rel=1e-12)


# --------------------------------------------------------------------------- extremes


def test_bce_exact_zero_and_one_probabilities_match_pytorch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.7])
    pt = torch.tensor(p, requires_grad=True)
    ref = F.binary_cross_entropy(pt, torch.tensor(y), reduction="sum")
    ref.backward()
    value, grad = BCE.value_and_grad(p, y, reduction="sum")
    assert np.isfinite(value) and value == pytest.approx(ref.item(), rel=1e-14)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-14)
    np.testing.assert_array_equal(BCE(p[:4], y[:4], reduction="none"), [100.0, 100.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_losses_are_finite_at_huge_logits(dtype):
    z = np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    value, grad = BCE.value_and_grad(z, y, from_logits=True, reduction="none")
    assert value.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(value, [0.0, 0.0, 1e4, 1e4, LN2], rtol=1e-6)
    np.testing.assert_array_equal(grad, np.array([0.0, 0.0, 1.0, -1.0, -0.5], dtype=dtype))
    for loss in (FOCAL, L.hinge, L.smoothed_hinge):
        v, g = loss.value_and_grad(z, y, **({"from_logits": True} if loss is FOCAL else {}))
        assert np.isfinite(v) and np.all(np.isfinite(g))


def test_bce_blocked_kernel_is_exact_at_huge_logits():
    rng = np.random.default_rng(14)
    z = rng.choice([-1e4, -40.0, 40.0, 1e4], size=70000)
    y = (z > 0).astype(float)
    with ll.config(block_size=256):
        value, grad = BCE.value_and_grad(z, y, from_logits=True, reduction="sum")
    expected = np.log1p(np.exp(-np.abs(z))).sum()  # correct side everywhere: softplus(-|z|)
    assert value == pytest.approx(expected, rel=1e-12)
    # The gradient is sigmoid(z) - y, as PyTorch: exact up to 1 ulp of 1 where sigmoid(z) rounds to 1.
    expected_grad = np.where(y == 1, -sigmoid(-np.abs(z)), sigmoid(-np.abs(z)))
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_axis_losses_are_finite_at_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=dtype)
    labels = np.array([1, 1])
    onehot = np.eye(3, dtype=dtype)[labels]
    checks = [
        (SCCE, labels, {"label_smoothing": 0.1}),
        (CCE, onehot, {}),
        (L.categorical_focal, onehot, {}),
        (L.kl_divergence, onehot, {}),
    ]
    for loss, target, kw in checks:
        value, grad = loss.value_and_grad(z, target, from_logits=True, **kw)
        assert np.isfinite(value) and np.all(np.isfinite(grad)), loss.name
        assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    assert SCCE(z, labels, from_logits=True, reduction="none")[0] == pytest.approx(2e4, rel=1e-6)


def test_probability_inputs_with_exact_zeros_are_finite():
    p = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    for loss in (CCE, L.categorical_focal, L.kl_divergence, L.js_divergence):
        value, grad = loss.value_and_grad(p, onehot)
        assert np.isfinite(value) and np.all(np.isfinite(grad)), loss.name
    assert CCE(p, onehot, reduction="none") == pytest.approx([0.0, LN2])
    assert L.kl_divergence(p, onehot, reduction="none") == pytest.approx([0.0, LN2])


def test_bce_perfect_predictions_give_zero():
    y = np.array([0.0, 1.0, 1.0, 0.0])
    assert BCE(y, y) == 0.0
    assert BCE(1e4 * (2 * y - 1), y, from_logits=True) == 0.0
    # Label smoothing makes zero unattainable: the minimum is the entropy of the smoothed target.
    eps = 0.2
    assert BCE(np.full(4, 0.9), np.ones(4), label_smoothing=eps) == pytest.approx(
        -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)), rel=1e-14
    )


def test_inputs_to_torch_autograd_through_sparse_with_ignore_index():
    z = torch.tensor(np.random.default_rng(15).normal(size=(4, 3)), requires_grad=True)
    labels = torch.tensor([0, 2, 1, 2])
    value = SCCE(z, labels, from_logits=True, ignore_index=2, class_weight=(1.0, 2.0, 3.0))
    value.backward()
    expected = SCCE.grad(
        z.detach().numpy(), labels.numpy(), from_logits=True, ignore_index=2, class_weight=(1.0, 2.0, 3.0)
    )
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12)


# --------------------------------------------------------------------------- errors


def test_out_of_range_class_index_raises():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\), got 7"):
        SCCE(z, [0, 7, 1], from_logits=True)
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\), got -1"):
        L.multiclass_hinge(z, [0, -1, 1])
    with pytest.raises(TypeError, match="integer class indices"):
        SCCE(z, [0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"class indices, got -1e\+300"):  # whole, but past int64
        SCCE(z, [0.0, -1e300, 1.0], from_logits=True)


@pytest.mark.parametrize("loss", [L.hinge, L.squared_hinge, L.smoothed_hinge])
def test_hinge_labels_in_wrong_set_raise(loss):
    with pytest.raises(ValueError, match=r"y_true must hold labels -1 or \+1"):
        loss([0.5, 0.2], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"y_true must hold labels -1 or \+1"):
        loss([0.5, 0.2], [1.0, 0.5])


def test_probability_domains_depend_on_from_logits():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: y_pred must hold probabilities in \[0, 1\]"):
        BCE([1.2, 0.5], [1.0, 0.0])
    assert np.isfinite(BCE([1.2, 0.5], [1.0, 0.0], from_logits=True))
    with pytest.raises(ValueError, match=r"y_true must hold probabilities in \[0, 1\], got a value 1.5"):
        BCE([0.2, 0.5], [1.5, 0.0])
    with pytest.raises(ValueError, match=r"categorical_cross_entropy: y_pred must hold probabilities"):
        CCE([[2.0, -1.0]], [[1.0, 0.0]])
    assert np.isfinite(CCE([[2.0, -1.0]], [[1.0, 0.0]], from_logits=True))
    with pytest.raises(ValueError, match=r"kl_divergence: y_pred must hold probabilities"):
        L.kl_divergence([[2.0, -1.0]], [[1.0, 0.0]])


def test_bad_parameters_raise_naming_them():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"class_weight must have one entry per class \(3\), got 2"):
        CCE(z, np.eye(3)[[0, 1]], from_logits=True, class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"class_weight must have one entry per class \(3\), got 4"):
        SCCE(z, [0, 1], from_logits=True, class_weight=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="pos_weight of 2 entries must match the last axis"):
        BCE(z, z, from_logits=True, pos_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"pos_weight must be > 0, got pos_weight=-1"):
        BCE(z, z, pos_weight=-1)
    with pytest.raises(ValueError, match=r"class_weight must hold finite weights >= 0"):
        SCCE(z, [0, 1], class_weight=[1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got label_smoothing=1.5"):
        BCE(z, z, label_smoothing=1.5)
    with pytest.raises(TypeError, match="from_logits must be True or False"):
        BCE(z, z, from_logits="yes")
    with pytest.raises(ValueError, match=r"gamma must be >= 0, got gamma=-1"):
        FOCAL(z, z, gamma=-1.0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\], got alpha=1.5"):
        FOCAL(z, z, alpha=1.5)
    with pytest.raises(ValueError, match=r"alpha must have one entry per class \(3\), got 2"):
        L.categorical_focal(z, z, alpha=[1.0, 2.0], from_logits=True)
    with pytest.raises(ValueError, match="variant must be one of 'weston_watkins', 'crammer_singer'"):
        L.multiclass_hinge(z, [0, 1], variant="ovr")
    with pytest.raises(ValueError, match=r"margin must be > 0, got margin=0"):
        L.multiclass_hinge(z, [0, 1], margin=0)
    with pytest.raises(TypeError, match=r"ignore_index must be an integer, got ignore_index=1.5"):
        SCCE(z, [0, 1], ignore_index=1.5)


def test_aliases_and_tasks():
    assert L.get("bce") is L.get("log_loss") is L.binary_cross_entropy
    assert L.get("cce") is L.categorical_cross_entropy
    assert L.get("scce") is L.sparse_categorical_cross_entropy
    assert L.get("focal") is L.binary_focal
    assert {"binary_cross_entropy", "binary_focal", "hinge"} <= set(L.names(task="binary"))
    assert {"kl_divergence", "js_divergence"} <= set(L.names(task="distribution"))
