"""Composite losses: weighted sums, uncertainty weighting, self-paced weights, distillation, consistency."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import losslab as ll


def test_weighted_sum_combines_values_and_gradients():
    combo = ll.losses.weighted_sum(["mse", ("huber", {"delta": 0.5})], [1.0, 2.0])
    y_pred, y_true = np.array([3.0, 1.2]), np.array([1.0, 1.0])
    value, grad = combo.value_and_grad(y_pred, y_true)
    expected = ll.losses.mse(y_pred, y_true) + 2 * ll.losses.huber(y_pred, y_true, delta=0.5)
    assert value == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(
        grad, ll.losses.mse.grad(y_pred, y_true) + 2 * ll.losses.huber.grad(y_pred, y_true, delta=0.5)
    )
    assert combo.name == "weighted_sum(1*mse + 2*huber)"


def test_weighted_sum_errors():
    with pytest.raises(ValueError, match="one weight per loss"):
        ll.losses.weighted_sum(["mse", "mae"], [1.0])
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        ll.losses.weighted_sum(["nope"], [1.0])
    with pytest.raises(TypeError, match="unknown parameter"):
        ll.losses.weighted_sum([("huber", {"beta": 1.0})], [1.0])
    with pytest.raises(ValueError, match="same inputs"):
        ll.losses.weighted_sum(["mse", "gan_generator"], [1.0, 1.0])


def test_uncertainty_weighting_optimum_is_log_of_the_task_loss():
    task_losses = np.array([0.3, 2.0, 7.5])
    optimum = np.log(task_losses)
    _, (_, d_s) = ll.losses.uncertainty_weighting.value_and_grad(task_losses, optimum, reduction="sum")
    np.testing.assert_allclose(d_s, 0.0, atol=1e-15)
    # ...and it is a minimum: nearby s values give a larger objective.
    at = lambda s: ll.losses.uncertainty_weighting(task_losses, s, reduction="sum")  # noqa: E731
    assert at(optimum) < at(optimum + 0.1) and at(optimum) < at(optimum - 0.1)
    # With s = 0 (sigma = 1) the objective is half the plain sum, as in Kendall et al.'s eq. 7.
    assert at(np.zeros(3)) == pytest.approx(0.5 * task_losses.sum())


def test_self_paced_weights_regimes_and_their_objective():
    losses = np.array([0.2, 0.9, 1.0, 3.0])
    np.testing.assert_array_equal(ll.losses.self_paced_weights(losses, 1.0), [1, 1, 0, 0])
    np.testing.assert_allclose(ll.losses.self_paced_weights(losses, 1.0, "linear"), [0.8, 0.1, 0.0, 0.0])
    # The registered objective's gradient with respect to the sample losses is those weights,
    # and its value is min over v in [0, 1] of v l + f(v, lambda), checked on a fine grid of v.
    for regime in ("hard", "linear"):
        value, grad = ll.losses.self_paced.value_and_grad(
            losses, reduction="none", threshold=1.0, regime=regime
        )
        np.testing.assert_allclose(grad, ll.losses.self_paced_weights(losses, 1.0, regime))
        v = np.linspace(0, 1, 100001)[:, None]
        f = -v if regime == "hard" else v * v / 2 - v
        np.testing.assert_allclose(value, np.min(v * losses + f, axis=0), atol=1e-9)


def test_self_paced_threshold_grows():
    assert ll.losses.self_paced_threshold(0, 0.5) == 0.5
    assert ll.losses.self_paced_threshold(3, 0.5, growth=2.0) == 4.0
    with pytest.raises(ValueError, match="growth must be in"):
        ll.losses.self_paced_threshold(1, 0.5, growth=0.9)
    with pytest.raises(ValueError, match="regime must be one of"):
        ll.losses.self_paced_weights([1.0], 1.0, regime="soft")


def test_distillation_with_alpha_one_is_hard_cross_entropy():
    rng = np.random.default_rng(0)
    student, teacher = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    labels = rng.integers(0, 5, size=6)
    value, grad = ll.losses.distillation.value_and_grad(student, teacher, labels, alpha=1.0, temperature=1.0)
    s = torch.tensor(student, requires_grad=True)
    ce = torch.nn.functional.cross_entropy(s, torch.tensor(labels))
    ce.backward()
    assert value == pytest.approx(ce.item(), rel=1e-13)
    np.testing.assert_allclose(grad, s.grad.numpy(), rtol=1e-12)


def test_distillation_soft_part_vanishes_when_student_equals_teacher():
    logits = np.random.default_rng(1).normal(size=(4, 3))
    value, grad = ll.losses.distillation.value_and_grad(
        logits, logits, [0, 1, 2, 0], alpha=0.0, temperature=3.0
    )
    assert value == pytest.approx(0.0, abs=1e-14)
    np.testing.assert_allclose(grad, 0.0, atol=1e-14)


def test_distillation_label_errors():
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\)"):
        ll.losses.distillation(np.zeros((2, 3)), np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="same|both have shape"):
        ll.losses.distillation(np.zeros((2, 3)), np.zeros((2, 4)), [0, 1])


def test_consistency_losses_by_hand():
    assert ll.losses.consistency_mse([1.0, 2.0], [1.0, 0.0]) == pytest.approx(2.0)
    f = np.array([[0.0], [1.0], [3.0]])
    # (0-1)^2 + (1-3)^2 = 1 + 4 per consecutive pair.
    np.testing.assert_allclose(ll.losses.temporal_consistency(f, reduction="none"), [1.0, 4.0])
    pairs = ll.losses.grid_neighbors(1, 3)
    np.testing.assert_array_equal(pairs, [[0, 1], [1, 2]])
    np.testing.assert_allclose(ll.losses.spatial_consistency(f, pairs, reduction="none"), [1.0, 4.0])
    # KL of identical distributions is 0, whatever constant is added to the logits.
    assert ll.losses.consistency_kl([[1.0, 2.0]], [[4.0, 5.0]]) == pytest.approx(0.0, abs=1e-15)
    assert ll.losses.consistency_kl([[0.0, 0.0]], [[0.0, math.log(3.0)]]) == pytest.approx(
        0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    )


def test_spatial_consistency_repeated_sites_accumulate_gradients():
    f = np.array([[1.0], [0.0], [2.0]])
    pairs = np.array([[0, 1], [0, 2], [1, 2]])
    grad = ll.losses.spatial_consistency.grad(f, pairs, reduction="sum")
    # d/df0 = 2(1-0) + 2(1-2) = 0; d/df1 = -2(1-0) + 2(0-2) = -6; d/df2 = -2(1-2) - 2(0-2) = 6
    np.testing.assert_allclose(grad[:, 0], [0.0, -6.0, 6.0])
    with pytest.raises(ValueError, match=r"pairs must index sites in \[0, 3\)"):
        ll.losses.spatial_consistency(f, [[0, 3]])
