"""Finite answers stay finite at extreme inputs and parameters: scaled norms, a temperature-safe
distillation term and bounded p-th powers (issue item 10)."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll

L = ll.losses
RNG = np.random.default_rng(7)
X1, X2 = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))


def _finite(*arrays):
    return all(np.isfinite(np.asarray(a)).all() for a in arrays)


@pytest.mark.parametrize("margin", [0.0, 0.3, -0.4])
@pytest.mark.parametrize("scale", [1e300, 1e154, 1e-300])
def test_cosine_embedding_is_scale_invariant_at_extreme_norms(margin, scale):
    y = np.array([1, -1, 1, -1])
    value, (g1, g2) = L.cosine_embedding.value_and_grad(X1 * scale, X2 * scale, y, margin=margin)
    ref, (r1, r2) = L.cosine_embedding.value_and_grad(X1, X2, y, margin=margin)
    assert _finite(value, g1, g2)
    if scale >= 1:  # (tiny vectors: PyTorch's eps on the squared norms dominates, as it should)
        np.testing.assert_allclose(value, ref, rtol=1e-12)
        np.testing.assert_allclose(g1 * scale, r1, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(g2 * scale, r2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "params",
    [{"target": 1.0, "weight": 10.0}, {"target": 0.5, "weight": 1.0}, {"target": 1.5, "one_sided": True}],
    ids=["wgan-gp", "half", "one-sided"],
)
def test_gradient_penalty_gradient_at_huge_input_gradients(params):
    g = RNG.standard_normal((5, 3)) * 1e300
    grad = L.gradient_penalty.grad(g, **params)
    assert _finite(grad)
    norm = np.linalg.norm(g / 1e300, axis=1, keepdims=True) * 1e300
    weight = params.get("weight", 10.0)
    expected = 2 * weight * (norm - params["target"]) * (g / 1e300) / (norm / 1e300) / 5
    np.testing.assert_allclose(grad, expected, rtol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_triplet_margin_at_huge_distances(p):
    a, pos, neg = (RNG.standard_normal((4, 3)) for _ in range(3))
    kw = {"p": p, "eps": 0.0, "margin": 0.0}
    value, grads = L.triplet_margin.value_and_grad(a * 1e300, pos * 1e300, neg * 1e300, **kw)
    ref, ref_grads = L.triplet_margin.value_and_grad(a, pos, neg, **kw)
    assert _finite(value, *grads)
    np.testing.assert_allclose(value / 1e300, ref, rtol=1e-12)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-15)


def test_p_norm_losses_at_p_1e300_are_the_max_norm_limit():
    a, pos, neg = (RNG.standard_normal((4, 3)) for _ in range(3))
    value, grads = L.triplet_margin.value_and_grad(a, pos, neg, p=1e300, eps=0.0, reduction="none")
    d_ap = np.abs(a - pos).max(axis=1)
    d_an = np.abs(a - neg).max(axis=1)
    np.testing.assert_allclose(value, np.maximum(1.0 + d_ap - d_an, 0.0), rtol=1e-12)
    assert _finite(*grads)
    u, v = RNG.standard_normal((3, 6)), RNG.standard_normal((3, 6))
    w, (gu, gv) = L.wasserstein_1d.value_and_grad(u, v, p=1e300, reduction="none")
    np.testing.assert_allclose(w, np.abs(np.sort(u) - np.sort(v)).max(axis=1), rtol=1e-12)
    assert _finite(gu, gv)
    w3, g3 = L.wasserstein_1d.value_and_grad(u * 1e300, v * 1e300, p=3, reduction="none")
    np.testing.assert_allclose(w3 / 1e300, L.wasserstein_1d(u, v, p=3, reduction="none"), rtol=1e-12)
    assert _finite(*g3)
    x, y = RNG.standard_normal((6, 2)), RNG.standard_normal((5, 2))
    value, grads = L.sliced_wasserstein.value_and_grad(x, y, p=1e300, seed=0, n_projections=4)
    assert np.isfinite(value) and _finite(*grads)
    theta = ll.losses.distribution._directions(0, 2, 4)
    gaps = [L.wasserstein_1d(x @ theta[:, k], y @ theta[:, k], p=1e300) for k in range(4)]
    np.testing.assert_allclose(value, max(gaps), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 0.1, 0.0])
def test_distillation_at_a_huge_temperature_is_the_exact_limit(alpha):
    """T^2 KL(q_T || p_T) -> Var_uniform(s - z) / 2 as T grows; the gradient T (p_T - q_T) ->
    (d - mean d) / C."""
    s, z = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    labels = np.array([0, 3, 1, 4])
    value, grad = L.distillation.value_and_grad(
        s, z, labels, temperature=1e300, alpha=alpha, reduction="none"
    )
    hard = L.sparse_categorical_cross_entropy(s, labels, from_logits=True, reduction="none")
    d = s - z
    np.testing.assert_allclose(value, alpha * hard + (1 - alpha) * 0.5 * d.var(axis=1), rtol=1e-12)
    soft_grad = (d - d.mean(axis=1, keepdims=True)) / 5
    hard_grad = L.sparse_categorical_cross_entropy.grad(s, labels, from_logits=True, reduction="none")
    np.testing.assert_allclose(grad, alpha * hard_grad + (1 - alpha) * soft_grad, rtol=1e-10, atol=1e-15)
    # continuity: a large finite temperature approaches the same value
    near = L.distillation(s, z, labels, temperature=1e6, alpha=alpha, reduction="none")
    np.testing.assert_allclose(near, value, rtol=1e-6)


def test_ssim_stabilizers_that_overflow_are_a_value_error():
    x, y = L.ssim_loss.sample(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"ssim_loss: the stabilizers .* got data_range=1e\+300"):
        L.ssim_loss(x, y, data_range=1e300)
