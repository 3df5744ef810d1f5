"""Similarity and metric-learning losses: PyTorch parity, hand-worked mining, center updates, margins.

The registry-wide tests (test_loss_registry.py) already check every registered loss against finite
differences, torch autograd through the forward formulas, dtypes and reductions; this file pins
the semantics that need explicit cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

import losslab as ll
from loss_cases import central_difference
from losslab.losses._spec import Loss, Param, Terms
from losslab.losses.similarity import _arcface_target

RTOL = 1e-10


def _t(x, grad=True):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


# --------------------------------------------------------------------------- PyTorch parity


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"swap": True},
        {"p": 1.0},
        {"p": 1.0, "swap": True, "margin": 0.3},
        {"p": 3.0, "eps": 0.0},
        {"margin": 2.0, "eps": 1e-3},
    ],
    ids=str,
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_matches_torch(params, reduction):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(7, 4))
    p = a + 0.8 * rng.normal(size=(7, 4))
    n = a + 1.2 * rng.normal(size=(7, 4))
    n[0] = p[0] + 0.1  # d(p, n) < d(a, n): the swap changes row 0
    ta, tp, tn = _t(a), _t(p), _t(n)
    ref = F.triplet_margin_loss(ta, tp, tn, reduction=reduction, **params)
    ref.sum().backward()
    value, grads = ll.losses.triplet_margin.value_and_grad(a, p, n, reduction=reduction, **params)
    np.testing.assert_allclose(value, ref.detach().numpy(), rtol=RTOL, atol=1e-14)
    for g, t in zip(grads, (ta, tp, tn)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=RTOL, atol=1e-14)


def test_triplet_margin_swap_changes_the_value_where_the_positive_is_nearer_the_negative():
    a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[1.5, 0.0]])
    # eps = 0: d(a, p) = 1, d(a, n) = 1.5, d(p, n) = 0.5
    assert float(ll.losses.triplet_margin(a, p, n, eps=0.0)) == pytest.approx(0.5, abs=1e-15)
    assert float(ll.losses.triplet_margin(a, p, n, eps=0.0, swap=True)) == pytest.approx(1.5, abs=1e-15)


def test_triplet_margin_at_coinciding_anchor_and_positive_matches_torch():
    # a == p and eps = 0: d(a, p) = 0, where the norm's gradient is taken as 0 (as PyTorch does).
    a = np.array([[0.5, -1.0, 2.0]])
    n = a + np.array([[0.3, 0.2, 0.1]])
    ta, tp, tn = _t(a), _t(a.copy()), _t(n)
    F.triplet_margin_loss(ta, tp, tn, eps=0.0, reduction="sum").backward()
    grads = ll.losses.triplet_margin.grad(a, a.copy(), n, eps=0.0, reduction="sum")
    assert np.all(np.isfinite(grads[0]))
    for g, t in zip(grads, (ta, tp, tn)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=RTOL, atol=1e-15)


def test_triplet_margin_accepts_single_triplets_like_torch():
    rng = np.random.default_rng(1)
    a, p, n = rng.normal(size=(3, 5))
    ref = F.triplet_margin_loss(_t(a, False), _t(p, False), _t(n, False), reduction="none")
    out = ll.losses.triplet_margin(a, p, n, reduction="none")
    assert np.shape(out) == ()
    np.testing.assert_allclose(out, ref.numpy(), rtol=RTOL)


@pytest.mark.parametrize("margin", [0.0, 0.4, -0.5])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cosine_embedding_matches_torch(margin, reduction):
    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    x1[0] *= 1e-7  # tiny vectors: the 1e-12 eps on the squared norms matters
    x2[1] = 3.0 * x1[1]
    y = np.array([1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    t1, t2 = _t(x1), _t(x2)
    ref = F.cosine_embedding_loss(t1, t2, torch.tensor(y), margin=margin, reduction=reduction)
    ref.sum().backward()
    value, (g1, g2) = ll.losses.cosine_embedding.value_and_grad(x1, x2, y, margin=margin, reduction=reduction)
    np.testing.assert_allclose(value, ref.detach().numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(g1, t1.grad.numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(g2, t2.grad.numpy(), rtol=RTOL, atol=1e-14)


def test_cosine_embedding_single_pair_and_hand_value():
    # cos((1, 0), (1, 1)) = 1/sqrt(2): similar pair costs 1 - 1/sqrt(2); dissimilar, m = 0.5: 1/sqrt(2) - 0.5
    x1, x2 = [1.0, 0.0], [1.0, 1.0]
    assert float(ll.losses.cosine_embedding(x1, x2, 1.0)) == pytest.approx(1 - 1 / math.sqrt(2), rel=1e-11)
    value = float(ll.losses.cosine_embedding(x1, x2, -1.0, margin=0.5))
    assert value == pytest.approx(1 / math.sqrt(2) - 0.5, rel=1e-11)


@pytest.mark.parametrize("margin", [0.0, 0.7, -0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_ranking_matches_torch(margin, reduction):
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    y = rng.choice([-1.0, 1.0], size=(3, 4))
    t1, t2 = _t(x1), _t(x2)
    ref = F.margin_ranking_loss(t1, t2, torch.tensor(y), margin=margin, reduction=reduction)
    ref.sum().backward()
    value, (g1, g2) = ll.losses.margin_ranking.value_and_grad(x1, x2, y, margin=margin, reduction=reduction)
    np.testing.assert_allclose(value, ref.detach().numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(g1, t1.grad.numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(g2, t2.grad.numpy(), rtol=RTOL, atol=1e-14)


# --------------------------------------------------------------------------- contrastive


def test_contrastive_hand_values():
    x1 = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    x2 = np.array([[3.0, 4.0], [0.3, 0.4], [3.0, 4.0]])  # d = 5, 0.5, 5
    similar = np.array([1.0, 0.0, 0.0])
    # 0.5 * 5^2 = 12.5; 0.5 * (1 - 0.5)^2 = 0.125; beyond the margin: 0
    np.testing.assert_allclose(
        ll.losses.contrastive(x1, x2, similar, reduction="none"), [12.5, 0.125, 0.0], rtol=1e-15
    )
    # margin 6 > d = 5 for the last pair: 0.5 * 1^2
    assert float(ll.losses.contrastive(x1[2:], x2[2:], similar[2:], margin=6.0)) == pytest.approx(0.5)


def test_contrastive_equals_contrastive_distance_and_chains_its_gradient():
    rng = np.random.default_rng(4)
    x1, x2 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    similar = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.3])
    d = np.linalg.norm(x1 - x2, axis=1)
    margin = 2.5
    np.testing.assert_allclose(
        ll.losses.contrastive(x1, x2, similar, margin=margin, reduction="none"),
        ll.losses.contrastive_distance(d, similar, margin=margin, reduction="none"),
        rtol=1e-13,
    )
    g1, g2 = ll.losses.contrastive.grad(x1, x2, similar, margin=margin, reduction="sum")
    gd = ll.losses.contrastive_distance.grad(d, similar, margin=margin, reduction="sum")
    np.testing.assert_allclose(g1, gd[:, None] * (x1 - x2) / d[:, None], rtol=1e-12)
    np.testing.assert_allclose(g2, -g1, rtol=1e-15)


def test_contrastive_gradient_at_zero_distance_is_finite_and_zero():
    x = np.array([[1.0, 2.0], [1.0, 2.0]])
    value, (g1, g2) = ll.losses.contrastive.value_and_grad(
        x, x.copy(), np.array([1.0, 0.0]), reduction="none"
    )
    np.testing.assert_allclose(value, [0.0, 0.5])  # the dissimilar pair at d = 0 costs m^2 / 2
    np.testing.assert_array_equal(g1, np.zeros((2, 2)))
    np.testing.assert_array_equal(g2, np.zeros((2, 2)))


def test_contrastive_distance_gradient_by_hand():
    # d = 0.4 similar: y d = 0.4; d = 0.4 dissimilar (m = 1): -(1 - 0.4) = -0.6; d = 1.5 dissimilar: 0
    g = ll.losses.contrastive_distance.grad([0.4, 0.4, 1.5], [1.0, 0.0, 0.0], reduction="sum")
    np.testing.assert_allclose(g, [0.4, -0.6, 0.0], rtol=1e-15)


# --------------------------------------------------------------------------- mining, by hand

# Case A, points on a line: x0 = 0 (class 0), x1 = 1 (0), x2 = 1.5 (1), x3 = 4 (1), x4 = 10 (2).
# Distances: d01 = 1, d02 = 1.5, d03 = 4, d04 = 10, d12 = 0.5, d13 = 3, d14 = 9, d23 = 2.5,
# d24 = 8.5, d34 = 6. With m = d(a, n) - d(a, p):
#   anchor 0 (p = 1, d = 1):   n = 2: 0.5,  n = 3: 3,   n = 4: 9
#   anchor 1 (p = 0, d = 1):   n = 2: -0.5, n = 3: 2,   n = 4: 8
#   anchor 2 (p = 3, d = 2.5): n = 0: -1,   n = 1: -2,  n = 4: 6
#   anchor 3 (p = 2, d = 2.5): n = 0: 1.5,  n = 1: 0.5, n = 4: 3.5
#   anchor 4 has no positive: dropped.
X_A = np.array([[0.0], [1.0], [1.5], [4.0], [10.0]])
Y_A = np.array([0, 0, 1, 1, 2])
CASE_A = {
    "hard": [(1, 0, 2), (2, 3, 0), (2, 3, 1)],
    "semi_hard": [(0, 1, 2), (3, 2, 1)],
    "all": [(0, 1, 2), (1, 0, 2), (2, 3, 0), (2, 3, 1), (3, 2, 1)],
    "easy": [(0, 1, 3), (0, 1, 4), (1, 0, 3), (1, 0, 4), (2, 3, 4), (3, 2, 0), (3, 2, 4)],
    # farthest positive (the only one) and nearest negative: 0 -> 2 (1.5), 1 -> 2 (0.5),
    # 2 -> 1 (0.5), 3 -> 1 (3)
    "batch_hard": [(0, 1, 2), (1, 0, 2), (2, 3, 1), (3, 2, 1)],
}


def _triplets(result):
    a, p, n = result
    assert a.dtype.kind == p.dtype.kind == n.dtype.kind == "i"
    return list(zip(a.tolist(), p.tolist(), n.tolist()))


@pytest.mark.parametrize("strategy", sorted(CASE_A))
def test_mining_case_a(strategy):
    assert _triplets(ll.losses.mine_triplets(X_A, Y_A, strategy, margin=1.0)) == CASE_A[strategy]


def test_mining_thresholds_are_inclusive_as_documented():
    # x0 = 0 (class 0), x1 = 1 (0), x2 = -1 (1): anchor 0: d(0,1) = 1, d(0,2) = 1 -> m = 0 (hard,
    # not semi-hard); anchor 1: d(1,0) = 1, d(1,2) = 2 -> m = 1 = margin (semi-hard and "all", not easy)
    x, y = [[0.0], [1.0], [-1.0]], [0, 0, 1]
    assert _triplets(ll.losses.mine_triplets(x, y, "hard", margin=1.0)) == [(0, 1, 2)]
    assert _triplets(ll.losses.mine_triplets(x, y, "semi_hard", margin=1.0)) == [(1, 0, 2)]
    assert _triplets(ll.losses.mine_triplets(x, y, "all", margin=1.0)) == [(0, 1, 2), (1, 0, 2)]
    assert _triplets(ll.losses.mine_triplets(x, y, "easy", margin=1.0)) == []
    assert _triplets(ll.losses.mine_triplets(x, y, "easy", margin=0.5)) == [(1, 0, 2)]


def test_mining_all_with_infinite_margin_returns_every_valid_triplet():
    # 4 anchors with one positive each, 3 negatives each: 12 triplets
    assert len(_triplets(ll.losses.mine_triplets(X_A, Y_A, "all", margin=math.inf))) == 12


def test_mining_batch_hard_takes_the_farthest_positive():
    # class 0 at 0, 1, 3; class 1 at 2.5. Anchor 0: positives d = 1, 3 -> 2; nearest negative 3 (2.5).
    # Anchor 1: positives d = 1, 2 -> 2; negative 3 (1.5).
    # Anchor 2: positives d = 3, 2 -> 0; negative 3 (0.5).
    # Anchor 3 (class 1) has no positive: dropped.
    x, y = [[0.0], [1.0], [3.0], [2.5]], [0, 0, 0, 1]
    assert _triplets(ll.losses.mine_triplets(x, y, "batch_hard")) == [(0, 2, 3), (1, 2, 3), (2, 0, 3)]


def test_mining_squared_euclidean_changes_the_class_of_a_triplet():
    # Case A, anchor 0: d01^2 = 1, d02^2 = 2.25 -> m = 1.25 > 1: easy now, no longer semi-hard.
    # Anchor 3: d32^2 = 6.25, d31^2 = 9 -> m = 2.75 (easy); anchor 1: 0.25 - 1 = -0.75 (hard).
    got = _triplets(ll.losses.mine_triplets(X_A, Y_A, "semi_hard", margin=1.0, distance="squared_euclidean"))
    assert got == []
    hard = _triplets(ll.losses.mine_triplets(X_A, Y_A, "hard", distance="squared_euclidean"))
    assert hard == CASE_A["hard"]


def test_mining_cosine_distance_and_normalization():
    # (1, 0) and (0, 1) in class 0, (1, 1) in class 1. Cosine distances: d01 = 1, d02 = d12 = 1 - 1/sqrt(2)
    # = 0.29: both anchors have m = -0.71 (hard); the class-1 point has no positive.
    x, y = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0, 0, 1]
    assert _triplets(ll.losses.mine_triplets(x, y, "hard", distance="cosine")) == [(0, 1, 2), (1, 0, 2)]
    # Euclidean on (2, 0), (0, 3), (5, 5): anchor 0: d01 = sqrt(13) = 3.61, d02 = sqrt(34) = 5.83 ->
    # m = 2.22 (easy); anchor 1: d10 = 3.61, d12 = sqrt(29) = 5.39 -> m = 1.78 (easy).
    x2 = [[2.0, 0.0], [0.0, 3.0], [5.0, 5.0]]
    assert _triplets(ll.losses.mine_triplets(x2, y, "easy")) == [(0, 1, 2), (1, 0, 2)]
    # Normalized, the points are those of the cosine case: d01 = sqrt(2), d02 = d12 = sqrt(2 - sqrt(2))
    # = 0.77 -> m = -0.65 for both anchors: hard.
    assert _triplets(ll.losses.mine_triplets(x2, y, "hard", normalize=True)) == [(0, 1, 2), (1, 0, 2)]


def test_mining_random_is_seeded_and_valid():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(12, 3)), np.repeat([0, 1, 2], 4)
    first = _triplets(ll.losses.mine_triplets(x, y, "random", seed=7))
    assert first == _triplets(ll.losses.mine_triplets(x, y, "random", seed=7))
    assert first == _triplets(ll.losses.mine_triplets(x, y, "random", seed=np.random.default_rng(7)))
    assert [a for a, _, _ in first] == list(range(12))
    for a, p, n in first:
        assert y[a] == y[p] and a != p and y[n] != y[a]
    draws = {tuple(_triplets(ll.losses.mine_triplets(x, y, "random", seed=s))) for s in range(5)}
    assert len(draws) > 1


def test_mining_reads_torch_tensors_and_handles_batches_without_triplets():
    a, p, n = ll.losses.mine_triplets(torch.tensor(X_A, requires_grad=True), torch.tensor(Y_A), "hard")
    assert isinstance(a, np.ndarray)
    assert _triplets((a, p, n)) == CASE_A["hard"]
    for strategy in ("all", "batch_hard", "random"):
        a, p, n = ll.losses.mine_triplets([[0.0], [1.0]], [3, 3], strategy)  # no negatives
        assert a.size == p.size == n.size == 0


def test_mining_errors_name_the_argument():
    with pytest.raises(ValueError, match="strategy must be one of"):
        ll.losses.mine_triplets(X_A, Y_A, "hardest")
    with pytest.raises(ValueError, match="distance must be one of"):
        ll.losses.mine_triplets(X_A, Y_A, "hard", distance="manhattan")
    with pytest.raises(ValueError, match="margin must be >= 0"):
        ll.losses.mine_triplets(X_A, Y_A, "hard", margin=-1.0)
    with pytest.raises(ValueError, match=r"embeddings must be 2-D"):
        ll.losses.mine_triplets(X_A.ravel(), Y_A, "hard")
    with pytest.raises(ValueError, match=r"labels must hold one entry per row of embeddings"):
        ll.losses.mine_triplets(X_A, Y_A[:-1], "hard")
    with pytest.raises(ValueError, match="embeddings contains NaN"):
        ll.losses.mine_triplets(np.where(X_A == 4.0, np.nan, X_A), Y_A, "hard")
    with pytest.raises(TypeError, match="labels must hold integer"):
        ll.losses.mine_triplets(X_A, Y_A + 0.5, "hard")
    with pytest.raises(TypeError, match="normalize must be True or False"):
        ll.losses.mine_triplets(X_A, Y_A, "hard", normalize="yes")


# --------------------------------------------------------------------------- batch triplet


@pytest.mark.parametrize("strategy", ["all", "hard", "semi_hard", "easy", "batch_hard"])
def test_batch_triplet_is_the_mean_triplet_loss_over_the_mined_triplets(strategy):
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(10, 3)), np.repeat([0, 1, 2, 3, 4], 2)
    a, p, n = ll.losses.mine_triplets(x, y, strategy, margin=0.8)
    expected = ll.losses.triplet_margin(x[a], x[p], x[n], margin=0.8, eps=0.0, reduction="none")
    got = ll.losses.batch_triplet(x, y, strategy=strategy, margin=0.8, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    if a.size:
        assert float(ll.losses.batch_triplet(x, y, strategy=strategy, margin=0.8)) == pytest.approx(
            float(np.mean(expected)), rel=1e-13
        )


@pytest.mark.parametrize(
    "params",
    [
        {"strategy": "batch_hard"},
        {"strategy": "all", "margin": 0.5, "distance": "squared_euclidean"},
        {"strategy": "hard", "distance": "cosine", "margin": 0.1},
        {"strategy": "random", "seed": 3, "normalize": True, "margin": 0.4},
    ],
    ids=str,
)
def test_batch_triplet_gradient_scatters_over_rows(params):
    # The registry sampler draws tie-free embeddings; the mined set is constant under the FD steps.
    x, y = ll.losses.batch_triplet.sample(np.random.default_rng(8), **params)
    grad = ll.losses.batch_triplet.grad(x, y, reduction="sum", **params)
    fd = central_difference(lambda z: ll.losses.batch_triplet(z, y, reduction="sum", **params), x)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_batch_triplet_gradient_matches_torch_autograd_of_the_gathered_triplets():
    x, y = ll.losses.batch_triplet.sample(np.random.default_rng(9), strategy="all", margin=1.0)
    a, p, n = ll.losses.mine_triplets(x, y, "all", margin=1.0)
    tx = _t(x)
    F.triplet_margin_loss(tx[a], tx[p], tx[n], margin=1.0, eps=0.0).backward()
    np.testing.assert_allclose(ll.losses.batch_triplet.grad(x, y, strategy="all"), tx.grad.numpy(), rtol=RTOL)


def test_batch_triplet_with_nothing_mined_is_zero_with_zero_gradient():
    x, y = np.array([[0.0, 1.0], [2.0, 0.5]]), np.array([4, 4])
    value, grad = ll.losses.batch_triplet.value_and_grad(x, y)
    assert float(value) == 0.0
    np.testing.assert_array_equal(grad, np.zeros_like(x))
    assert ll.losses.batch_triplet(x, y, reduction="none").shape == (0,)


def test_batch_triplet_torch_tensors_keep_the_graph():
    x, y = ll.losses.batch_triplet.sample(np.random.default_rng(10))
    tx = _t(x)
    value = ll.losses.batch_triplet(tx, torch.tensor(y), normalize=True)
    assert isinstance(value, torch.Tensor)
    value.backward()
    np.testing.assert_allclose(tx.grad.numpy(), ll.losses.batch_triplet.grad(x, y, normalize=True), rtol=1e-9)


# --------------------------------------------------------------------------- center loss


def test_center_loss_hand_values_and_gradients():
    x = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, -1.0]])
    y = np.array([0, 0, 2])
    c = np.array([[1.0, 0.0], [9.0, 9.0], [0.0, 1.0]])
    # residuals x - c_y: (0, 2), (2, 0), (0, -2); halves of squared norms: 2, 2, 2
    np.testing.assert_allclose(ll.losses.center_loss(x, y, c, reduction="none"), [2.0, 2.0, 2.0])
    assert float(ll.losses.center_loss(x, y, c, reduction="sum")) == 6.0  # 1/2 sum_i ||x_i - c_{y_i}||^2
    assert float(ll.losses.center_loss(x, y, c)) == 2.0  # "mean" divides by N
    gx, gc = ll.losses.center_loss.grad(x, y, c, reduction="sum")
    np.testing.assert_allclose(gx, [[0.0, 2.0], [2.0, 0.0], [0.0, -2.0]])
    # scatter-add: c_0 gets -((0, 2) + (2, 0)), c_1 nothing, c_2 gets -(0, -2)
    np.testing.assert_allclose(gc, [[-2.0, -2.0], [0.0, 0.0], [0.0, 2.0]])
    for k, arg in enumerate((x, c)):

        def f(z, k=k):
            args = [x, y, c]
            args[2 * k] = z
            return ll.losses.center_loss(*args, reduction="sum")

        np.testing.assert_allclose((gx, gc)[k], central_difference(f, arg), rtol=1e-8, atol=1e-10)


def test_center_update_rule_by_hand():
    x = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    y = np.array([0, 0, 1])
    c = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    c_before = c.copy()
    # class 0: n = 2, sum (c_0 - x_i) = (-4, 0), delta = (-4, 0) / 3, c_0 - 0.5 delta = (2/3, 0)
    # class 1: n = 1, delta = (0, -2) / 2 = (0, -1), c_1 - 0.5 delta = (0, 0.5); class 2 absent: kept
    new = ll.losses.center_update(x, y, c, alpha=0.5)
    np.testing.assert_allclose(new, [[2 / 3, 0.0], [0.0, 0.5], [5.0, 5.0]], rtol=1e-15)
    np.testing.assert_array_equal(c, c_before)
    np.testing.assert_array_equal(ll.losses.center_update(x, y, c, alpha=0.0), c)
    # torch tensors in, tensors out
    out = ll.losses.center_update(torch.tensor(x), torch.tensor(y), torch.tensor(c), alpha=0.5)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), new, rtol=1e-15)


def test_center_loss_errors():
    x, y, c = np.zeros((3, 2)), np.array([0, 1, 2]), np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"labels must hold class indices in \[0, 2\), got 2"):
        ll.losses.center_loss(x, y, c[:2])
    with pytest.raises(ValueError, match="centers must have the feature dimension"):
        ll.losses.center_loss(x, y, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="centers contains NaN"):
        ll.losses.center_loss(x, y, np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="alpha must be in"):
        ll.losses.center_update(x, y, c, alpha=1.5)


def _stand_in_sparse_ce() -> Loss:
    """Softmax cross-entropy on integer labels, for wiring tests while the real one is absent."""

    def prepare(xp, logits, labels, *, from_logits):
        assert from_logits
        return np.asarray(logits, dtype=np.float64), np.asarray(labels)

    def forward(xp, logits, labels, *, need_grad, from_logits):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_prob = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(labels))
        grad = np.exp(log_prob)
        grad[rows, labels] -= 1.0
        return Terms(
            -log_prob[rows, labels], vjp=lambda cot: (grad * (cot[:, None] if np.ndim(cot) else cot),)
        )

    return Loss(
        "sparse_categorical_cross_entropy",
        task="multiclass",
        params={"from_logits": Param(False)},
        prepare=prepare,
        forward=forward,
        info={"formula": r"-\log p_y", "gradient": r"p - e_y"},
    )


@pytest.mark.parametrize(
    "which",
    [
        "stand-in",
        pytest.param(
            "registered",
            marks=pytest.mark.skipif(
                "sparse_categorical_cross_entropy" not in ll.losses.names(),
                reason="sparse_categorical_cross_entropy is not registered yet",
            ),
        ),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_center_combined_is_cross_entropy_plus_weighted_center_loss(which, reduction, monkeypatch):
    if which == "stand-in":
        monkeypatch.setitem(
            ll.losses._spec._REGISTRY, "sparse_categorical_cross_entropy", _stand_in_sparse_ce()
        )
    rng = np.random.default_rng(11)
    logits, x, c = rng.normal(size=(5, 3)), rng.normal(size=(5, 2)), rng.normal(size=(3, 2))
    y = np.array([0, 2, 1, 2, 2])
    tz, tx, tc = _t(logits), _t(x), _t(c)
    center = 0.5 * ((tx - tc[torch.tensor(y)]) ** 2).sum(dim=1)
    reduce = torch.mean if reduction == "mean" else torch.sum
    ref = F.cross_entropy(tz, torch.tensor(y), reduction=reduction) + 0.1 * reduce(center)
    ref.backward()
    value, grads = ll.losses.center_combined(logits, x, y, c, center_weight=0.1, reduction=reduction)
    np.testing.assert_allclose(value, ref.item(), rtol=RTOL)
    for g, t in zip(grads, (tz, tx, tc)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=RTOL, atol=1e-14)


# --------------------------------------------------------------------------- CosFace / ArcFace


def _torch_margin_softmax(x, w, y, s, target, reduction):
    """Direct PyTorch formula: normalize, cosines, target logit replaced, scaled cross-entropy."""
    cos = F.normalize(x, dim=1) @ F.normalize(w, dim=0)
    onehot = F.one_hot(y, w.shape[1]).bool()
    phi = target(cos[torch.arange(len(y)), y])
    logits = s * torch.where(onehot, phi[:, None], cos)
    return F.cross_entropy(logits, y, reduction=reduction)


def _torch_arcface_target(m, easy_margin):
    def target(c):
        sin = torch.sqrt((1.0 - c**2).clamp(0, 1))
        phi = c * math.cos(m) - sin * math.sin(m)
        if easy_margin:
            return torch.where(c > 0, phi, c)
        return torch.where(c > math.cos(math.pi - m), phi, c - math.sin(math.pi - m) * m)

    return target


def _margin_inputs(seed, fallback_rows=()):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(5, 4))
    y = np.array([0, 3, 1, 2, 3, 0])
    x = rng.normal(size=(6, 5))
    wn = w / np.linalg.norm(w, axis=0)
    for i in fallback_rows:  # pointing away from its class vector: theta_y near pi
        x[i] = -1.5 * wn[:, y[i]] + 0.05 * rng.normal(size=5)
    return x, w, y


@pytest.mark.parametrize(
    "params", [{}, {"s": 16.0, "m": 0.2}, {"s": 8.0, "m": 0.7}, {"easy_margin": True}], ids=str
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_arcface_matches_a_direct_torch_implementation(params, reduction):
    x, w, y = _margin_inputs(12, fallback_rows=(1, 4))
    loss = ll.losses.arcface
    full = loss.resolve_params(params)
    tx, tw = _t(x), _t(w)
    target = _torch_arcface_target(full["m"], full["easy_margin"])
    ref = _torch_margin_softmax(tx, tw, torch.tensor(y), full["s"], target, reduction)
    ref.sum().backward()
    value, (gx, gw) = loss.value_and_grad(x, w, y, reduction=reduction, **params)
    np.testing.assert_allclose(value, ref.detach().numpy(), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("params", [{}, {"s": 10.0, "m": 0.1}], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cosface_matches_a_direct_torch_implementation(params, reduction):
    x, w, y = _margin_inputs(13)
    full = ll.losses.cosface.resolve_params(params)
    tx, tw = _t(x), _t(w)
    ref = _torch_margin_softmax(tx, tw, torch.tensor(y), full["s"], lambda c: c - full["m"], reduction)
    ref.sum().backward()
    value, (gx, gw) = ll.losses.cosface.value_and_grad(x, w, y, reduction=reduction, **params)
    np.testing.assert_allclose(value, ref.detach().numpy(), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-9, atol=1e-12)


def _two_class_loss(theta, s, phi):
    """Embedding at angle theta from e0 (class 0), class vectors e0, e1: cosines cos(theta), sin(theta)."""
    return math.log(math.exp(s * phi) + math.exp(s * math.sin(theta))) - s * phi


@pytest.mark.parametrize(
    ("theta", "easy_margin", "phi"),
    [
        (0.7, False, math.cos(0.7 + 0.5)),  # theta + m < pi: cos(theta + m)
        (2.0, False, math.cos(2.5)),
        (3.0, False, math.cos(3.0) - 0.5 * math.sin(0.5)),  # theta + m > pi: cos(theta) - m sin(m)
        (2.0, True, math.cos(2.0)),  # easy margin, cos(theta) < 0: no margin
        (1.0, True, math.cos(1.5)),
    ],
)
def test_arcface_target_logit_by_hand_including_the_fallback_region(theta, easy_margin, phi):
    x = np.array([[math.cos(theta), math.sin(theta)]])
    w = np.eye(2)
    got = float(ll.losses.arcface(x, w, [0], s=4.0, m=0.5, easy_margin=easy_margin))
    assert got == pytest.approx(_two_class_loss(theta, 4.0, phi), rel=1e-12)


@pytest.mark.parametrize("m", [0.1, 0.5, 1.0, math.pi / 2])
def test_arcface_target_logit_decreases_with_the_angle(m):
    theta = np.linspace(0.0, math.pi, 2001)
    phi, dphi = _arcface_target(np, np.cos(theta), m, False)
    assert np.all(np.diff(phi) <= 1e-15)
    assert np.all(np.isfinite(dphi))


def test_arcface_fallback_gradient_is_that_of_the_fallback_formula():
    x, w, y = _margin_inputs(14, fallback_rows=(0, 1, 2, 3, 4, 5))
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    wn = w / np.linalg.norm(w, axis=0)
    assert np.all(np.einsum("nd,dn->n", xn, wn[:, y]) < math.cos(math.pi - 0.5))  # every row falls back
    gx, gw = ll.losses.arcface.grad(x, w, y, s=8.0, reduction="sum")
    # in the fallback region ArcFace is CosFace with margin m sin(m)
    cx, cw = ll.losses.cosface.grad(x, w, y, s=8.0, m=0.5 * math.sin(0.5), reduction="sum")
    np.testing.assert_allclose(gx, cx, rtol=1e-12)
    np.testing.assert_allclose(gw, cw, rtol=1e-12)


def test_margin_losses_without_margin_are_normalized_softmax_cross_entropy():
    x, w, y = _margin_inputs(15)
    logits = 5.0 * (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=0))
    ref = F.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    assert float(ll.losses.cosface(x, w, y, s=5.0, m=0.0)) == pytest.approx(ref, rel=1e-12)
    assert float(ll.losses.arcface(x, w, y, s=5.0, m=0.0)) == pytest.approx(ref, rel=1e-12)


def test_margin_losses_are_stable_at_large_scale():
    x, w, y = _margin_inputs(16)
    value, (gx, gw) = ll.losses.arcface.value_and_grad(x, w, y, s=1e4)
    assert np.isfinite(value) and np.all(np.isfinite(gx)) and np.all(np.isfinite(gw))


def test_margin_loss_errors():
    x, w, y = _margin_inputs(17)
    with pytest.raises(ValueError, match=r"weights must have shape \(D, C\) with D = 5"):
        ll.losses.arcface(x, w.T, y)
    with pytest.raises(ValueError, match=r"labels must hold class indices in \[0, 4\), got 4"):
        ll.losses.cosface(x, w, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match="m must be in"):
        ll.losses.arcface(x, w, y, m=2.0)
    with pytest.raises(ValueError, match="s must be > 0"):
        ll.losses.cosface(x, w, y, s=0.0)
    with pytest.raises(ValueError, match="weights contains infinite"):
        ll.losses.cosface(x, np.full_like(w, np.inf), y)
    with pytest.raises(ValueError, match="labels must hold one entry per row of embeddings"):
        ll.losses.arcface(x, w, y[:-1])


# --------------------------------------------------------------------------- errors


def test_pair_and_triplet_errors_name_the_argument():
    a = np.zeros((3, 2))
    with pytest.raises(ValueError, match="anchor and negative must have the same shape"):
        ll.losses.triplet_margin(a, a, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="positive contains NaN"):
        ll.losses.triplet_margin(a, np.full((3, 2), np.nan), a)
    with pytest.raises(ValueError, match="p must be a norm degree >= 1"):
        ll.losses.triplet_margin(a, a, a, p=0.5)
    with pytest.raises(TypeError, match="swap must be True or False"):
        ll.losses.triplet_margin(a, a, a, swap=1)
    with pytest.raises(ValueError, match="y must hold labels -1 or 1"):
        ll.losses.cosine_embedding(a, a, [1.0, 0.0, -1.0])
    with pytest.raises(ValueError, match=r"y must hold one entry per row of x1, shape \(3,\)"):
        ll.losses.cosine_embedding(a, a, [1.0, -1.0])
    with pytest.raises(ValueError, match=r"margin must be in \[-1, 1\]"):
        ll.losses.cosine_embedding(a, a, [1.0, 1.0, 1.0], margin=1.5)
    with pytest.raises(ValueError, match="x1 and y must have the same shape"):
        ll.losses.margin_ranking([1.0, 2.0], [0.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="y must hold labels -1 or 1"):
        ll.losses.margin_ranking([1.0, 2.0], [0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="similar must hold probabilities"):
        ll.losses.contrastive(a, a, [1.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="margin must be > 0"):
        ll.losses.contrastive(a, a, [1.0, 1.0, 0.0], margin=0.0)
    with pytest.raises(ValueError, match="distance must hold non-negative numbers"):
        ll.losses.contrastive_distance([-0.5], [1.0])
    with pytest.raises(ValueError, match="x1 is empty"):
        ll.losses.contrastive(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0))


def test_validation_can_be_switched_off_for_label_values():
    # With validation off, other y values follow PyTorch (cosine embedding: no loss for them).
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    with ll.config(validate=False):
        assert float(ll.losses.cosine_embedding(a, b, [0.0])) == 0.0
