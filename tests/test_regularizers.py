"""Regularizers on arrays and parameter trees, and their conventions against PyTorch and Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll

PARAMS = {"W1": np.array([[1.0, -2.0], [0.0, 3.0]]), "b1": np.array([0.5, -0.5]), "layers": [np.array([4.0])]}


def test_tree_values_sum_over_leaves():
    leaves = np.concatenate([PARAMS["W1"].ravel(), PARAMS["b1"], PARAMS["layers"][0]])
    assert ll.losses.regularizers.l1(PARAMS, strength=0.1) == pytest.approx(0.1 * np.abs(leaves).sum())
    assert ll.losses.regularizers.l2(PARAMS, strength=0.1) == pytest.approx(0.05 * (leaves**2).sum())
    assert ll.losses.elastic_net(PARAMS, l1_strength=0.1, l2_strength=0.2) == pytest.approx(
        0.1 * np.abs(leaves).sum() + 0.1 * (leaves**2).sum()
    )


def test_tree_gradients_keep_the_structure():
    grads = ll.losses.elastic_net.grad(PARAMS, l1_strength=0.1, l2_strength=0.2)
    assert set(grads) == {"W1", "b1", "layers"} and isinstance(grads["layers"], list)
    np.testing.assert_allclose(grads["W1"], 0.1 * np.sign(PARAMS["W1"]) + 0.2 * PARAMS["W1"])
    np.testing.assert_allclose(grads["layers"][0], [0.1 + 0.8])


def test_l2_gradient_is_pytorch_weight_decay():
    w = np.array([0.3, -1.2, 2.0])
    p = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.SGD([p], lr=1.0, weight_decay=0.05)
    p.grad = torch.zeros_like(p)
    opt.step()  # p <- p - lr * (0 + weight_decay * p)
    np.testing.assert_allclose(
        w - ll.losses.l2_regularizer.grad(w, strength=0.05), p.detach().numpy(), rtol=1e-15
    )


def test_l1_subgradient_at_zero_and_errors():
    np.testing.assert_array_equal(ll.losses.l1_regularizer.grad(np.zeros(3)), 0.0)
    with pytest.raises(ValueError, match="strength must be >= 0"):
        ll.losses.l2_regularizer(np.ones(2), strength=-1.0)
    with pytest.raises(ValueError, match="reduction='sum'"):
        ll.losses.regularizers.l1(PARAMS, reduction="mean")
