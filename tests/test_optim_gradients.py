"""Numerical gradients, gradient checking and random search."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import losslab as ll

O = ll.optim


def f_tree(p):
    return float(np.sum(np.sin(p["w"]) * p["w"] ** 2) + np.sum(np.exp(0.5 * p["b"][0])))


def grad_tree(p):
    w = p["w"]
    return {"w": np.cos(w) * w**2 + 2 * w * np.sin(w), "b": [0.5 * np.exp(0.5 * p["b"][0])]}


POINT = {"w": np.array([[0.3, -1.2], [2.0, 0.0]]), "b": [np.array([0.7, -0.4])]}


@pytest.mark.parametrize(("method", "rtol"), [("forward", 1e-6), ("central", 1e-9), ("five_point", 1e-11)])
def test_numerical_grad_accuracy_per_method(method, rtol):
    x = np.array([0.5, -1.3, 2.2])
    g = O.numerical_grad(lambda v: float(np.sum(np.exp(v) * np.cos(v))), x, method=method)
    exact = np.exp(x) * (np.cos(x) - np.sin(x))
    np.testing.assert_allclose(g, exact, rtol=rtol)


def test_numerical_grad_on_a_tree_keeps_structure_and_does_not_mutate():
    point = copy.deepcopy(POINT)
    g = O.numerical_grad(f_tree, point, method="five_point")
    np.testing.assert_allclose(g["w"], grad_tree(point)["w"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g["b"][0], 0.5 * np.exp(0.5 * POINT["b"][0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(point["w"], POINT["w"])
    np.testing.assert_array_equal(point["b"][0], POINT["b"][0])


def test_numerical_grad_float32_stays_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = O.numerical_grad(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [2.0, 4.0], rtol=1e-3)


def test_gradcheck_passes_and_finds_the_worst_coordinate():
    good = O.gradcheck(f_tree, grad_tree, POINT)
    assert good.passed and good.max_rel_error < 1e-6  # the w = 0 entry: rounding noise 2e-13 over the floor

    def wrong(p):
        g = grad_tree(p)
        g["w"][1, 0] *= 1.01  # a 1 % bug in one coordinate
        return g

    bad = O.gradcheck(f_tree, wrong, POINT)
    assert not bad.passed
    assert bad.worst == (("w",), (1, 0))
    assert bad.max_rel_error == pytest.approx(0.01 / 1.01, rel=1e-4)
    assert bad.worst_analytic == pytest.approx(1.01 * bad.worst_numerical, rel=1e-8)


def test_gradcheck_of_a_registered_loss():
    y_true = np.array([0.5, -1.0, 2.0])
    y_pred = np.array([0.0, 0.3, 4.5])
    loss = ll.losses.get("huber")
    result = O.gradcheck(lambda p: loss(p, y_true), lambda p: loss.grad(p, y_true), y_pred)
    assert result.passed


def test_random_search_with_bounds_and_sampler():
    def f(x):
        return float(np.sum((np.asarray(x) - 0.5) ** 2))

    a = O.random_search(f, [[-1, 1], [-1, 1]], 300, seed=3)
    b = O.random_search(f, [[-1, 1], [-1, 1]], 300, seed=3)
    assert a.value == b.value and np.array_equal(a.x, b.x)
    assert a.history.shape == (300,) and a.value == a.history.min() == f(a.x)
    assert np.all(np.abs(a.x) <= 1)
    c = O.random_search(lambda p: f(p["x"]), lambda rng: {"x": rng.normal(size=2)}, 50, seed=0)
    assert isinstance(c.x, dict) and c.value == pytest.approx(f(c.x["x"]))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: O.numerical_grad(lambda v: 0.0, np.ones(2), method="backward"),
            ValueError,
            r"numerical_grad: method must be one of .*'five_point'; got method='backward'",
        ),
        (
            lambda: O.numerical_grad(lambda v: v, np.ones(2)),
            ValueError,
            r"numerical_grad: f must return a scalar",
        ),
        (lambda: O.numerical_grad(lambda v: float("nan"), np.ones(2)), ValueError, r"non-finite value"),
        (lambda: O.numerical_grad(lambda v: 0.0, np.ones(2), eps=0.0), ValueError, r"eps must be > 0"),
        (
            lambda: O.gradcheck(lambda v: 0.0, lambda v: np.ones(3), np.ones(2)),
            ValueError,
            r"gradcheck: grad_f\(x\) leaf \(\) has shape \(3,\), expected \(2,\)",
        ),
        (lambda: O.random_search(lambda v: 0.0, [[0, 1, 2]], 5), ValueError, r"bounds of shape \(d, 2\)"),
        (lambda: O.random_search(lambda v: 0.0, [[1, 0]], 5), ValueError, r"low <= high"),
        (lambda: O.random_search(lambda v: 0.0, [[0, 1]], 0), ValueError, r"n_trials must be >= 1"),
    ],
)
def test_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
