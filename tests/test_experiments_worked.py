"""The worked-computation and advanced-loss experiments: their numbers, beyond the registry checks
of tests/test_experiments.py (which run every experiment and its counterfactual)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

import losslab as ll


@functools.cache
def quick(name: str, **overrides):
    return ll.experiments.run(name, seed=0, quick=True, **overrides)


def _column(table, key_column: int = 0) -> dict:
    return {row[key_column]: row for row in table.rows}


# --------------------------------------------------------------------------- backprop-by-hand


def test_backprop_by_hand_has_the_correct_numbers_of_the_errata():
    rows = _column(quick("backprop-by-hand").tables[0])
    correct = {"z3": 1.0133, "y_hat = sigma(z3)": 0.7337, "L = -log y_hat": 0.3097,
               "delta3 = y_hat - y": -0.2663, "w13 after one step": 0.7153}  # fmt: skip
    for name, value in correct.items():
        assert rows[name][2] == pytest.approx(value, abs=5e-5), name
        assert rows[name][3] == "no"  # the curriculum prints another number
    # the forward values before z3 are printed correctly
    for name in ("z1", "a1 = sigma(z1)", "z2", "a2 = sigma(z2)"):
        assert rows[name][3] == "yes", name
    # sigma(z3), -log y_hat and y_hat - y agree with the library's own loss and gradient
    net = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    from losslab.experiments.backprop_by_hand import WEIGHTS

    value, grad = net.value_and_grad(
        WEIGHTS, np.array([[1.0, 0.0]]), np.array([[1.0]]), "binary_cross_entropy"
    )
    assert rows["L = -log y_hat"][2] == pytest.approx(float(value), abs=1e-6)
    assert rows["dL/dw13"][2] == pytest.approx(float(grad["W2"][0, 0]), abs=1e-6)


def test_backprop_by_hand_locates_the_slip_at_z3():
    r = quick("backprop-by-hand")
    chain = r.tables[1].rows
    assert chain[0][0].startswith("z3") and chain[0][3] == "no"
    assert chain[0][2] == pytest.approx(0.7 * 0.574 + 0.5 * 0.622 + 0.3)
    assert r.metrics["n_match"] == 8 and r.metrics["n_quantities"] == 22
    assert r.metrics["gradcheck_rel_error"] < 1e-6
    # the update table: every parameter moves by -lr * gradient
    for _, before, g, after in r.tables[2].rows:
        assert after == pytest.approx(before - 0.1 * g)


def test_backprop_by_hand_other_sample_changes_the_numbers():
    r = ll.experiments.run("backprop-by-hand", quick=True, y=0.0)
    assert r.metrics["loss"] == pytest.approx(-math.log(1 - 0.7336733), abs=1e-6)
    rows = _column(r.tables[0])
    assert rows["delta3 = y_hat - y"][2] == pytest.approx(0.7336733, abs=1e-6)  # y_hat - 0
    assert rows["dL/dw13"][2] == pytest.approx(0.7336733 * 0.5744425, abs=1e-6)


# --------------------------------------------------------------------------- gradient tools


def test_gradient_check_error_is_v_shaped_in_the_step():
    r = quick("gradient-check")
    table = r.tables[0].rows
    central = [row[2] for row in table]
    best = int(np.argmin(central))
    assert 0 < best < len(central) - 1  # truncation error on the left, rounding error on the right
    assert central[0] > 100 * central[best] and central[-1] > 100 * central[best]
    # central differences are second-order: 10x smaller h, about 100x smaller error (large h)
    assert central[1] / central[2] == pytest.approx(100, rel=0.05)
    assert r.metrics["evaluations_numerical"] == 2 * r.metrics["n_params"]


def test_gradient_check_at_a_kink_flags_the_hinge():
    r = quick("gradient-check", at_kink=True)
    assert r.metrics["gradcheck_rel_error"] > 1e-3 and r.verdict == "does not hold"


def test_random_search_is_beaten_by_the_gradient_but_beats_chance():
    m = quick("random-search").metrics
    assert m["chance"] == pytest.approx(1 / 5)
    assert m["accuracy_random_search"] > m["chance"]
    assert m["accuracy_gradient"] > m["accuracy_random_search"] + 0.2
    assert 0 < m["accuracy_numerical_gradient"] <= 1


# --------------------------------------------------------------------------- advanced losses


def test_distillation_draws_both_students_with_viz():
    r = quick("distillation")
    figures = r.figures
    assert list(figures) == ["student trained on hard labels", "student trained on soft targets"]
    for fig in figures.values():
        assert isinstance(fig, Figure) and fig.axes[0].get_title().startswith("Student on ")
    assert r.metrics["teacher_accuracy"] > 0.7 and r.metrics["distilled_accuracy"] > 0.25


def test_distillation_random_teacher_hurts():
    m = quick("distillation", teacher="random").metrics
    assert m["gain"] < 0 and m["teacher_accuracy"] < quick("distillation").metrics["teacher_accuracy"]


def test_metric_learning_needs_the_random_baseline():
    with pytest.raises(ValueError, match="metric-learning: strategies must include 'random'"):
        ll.experiments.run("metric-learning", quick=True, strategies="hard,semi_hard")


def test_metric_learning_training_separates_the_classes():
    m = quick("metric-learning").metrics
    assert m["knn_random"] > m["knn_start"] + 0.3
    assert 0 <= m["inactive_share_random"] <= 1


def test_gan_toy_gradients_against_the_optimal_opponent():
    r = quick("gan-toy")
    rows = r.tables[0].rows
    assert [row[5] for row in rows] == [-1.0] * len(rows)  # dW1/db = -1: fake left of real
    assert rows[-1][1] == pytest.approx(math.log(2), abs=1e-6)  # JS saturates at log 2
    for row in rows:  # W1 of two equal-spread Gaussians is the mean gap (up to sampling)
        assert row[4] == pytest.approx(row[0], abs=0.05)
    assert abs(rows[-1][2]) < 1e-20 < abs(rows[-1][3])  # minimax vanishes, non-saturating does not


def test_gan_toy_trains_with_fit_gan():
    r = ll.experiments.run("gan-toy", quick=True, train_steps=3)
    assert "not trained" not in r.tables[1].title
    m = r.metrics
    assert all(math.isfinite(m[k]) for k in ("wgan_mean_error", "gan_mean_error"))
    assert m["wgan_mean_error"] < 3.0  # three steps already move the generator towards the data
