"""Parameter-tree helpers: ravel / unravel, axpy, norm, random trees."""

import numpy as np
import pytest

import losslab as ll
from losslab._core.tree import tree_axpy, tree_norm, tree_random_like, tree_ravel, tree_vdot


def _tree():
    return {"W1": np.arange(6.0).reshape(2, 3), "b1": np.array([1.0, -1.0, 2.0]), "rest": [np.float32(3.0)]}


def test_ravel_round_trip_keeps_shapes_dtypes_and_order():
    tree = _tree()
    vector, unravel = ll.tree_ravel(tree)
    assert vector.tolist() == [0, 1, 2, 3, 4, 5, 1, -1, 2, 3]
    assert vector.dtype == np.float64
    back = unravel(vector)
    assert back["W1"].shape == (2, 3) and back["rest"][0].dtype == np.float32
    np.testing.assert_array_equal(back["W1"], tree["W1"])
    back["W1"][0, 0] = 99.0  # a fresh copy: the vector is untouched
    assert vector[0] == 0.0


def test_unravel_rejects_wrong_length():
    _, unravel = tree_ravel(_tree())
    with pytest.raises(ValueError, match=r"expected a vector of shape \(10,\), got \(9,\)"):
        unravel(np.zeros(9))


def test_axpy_norm_vdot():
    x, y = _tree(), _tree()
    z = tree_axpy(2.0, x, y)
    np.testing.assert_array_equal(z["W1"], 3 * x["W1"])
    vector, _ = tree_ravel(x)
    assert tree_norm(x) == pytest.approx(np.linalg.norm(vector), rel=1e-15)
    assert tree_vdot(x, z) == pytest.approx(3 * float(vector @ vector), rel=1e-15)
    with pytest.raises(ValueError, match="tree structures differ"):
        tree_axpy(1.0, x, {"W1": x["W1"]})


def test_random_like_is_seeded_and_shaped():
    a = tree_random_like(_tree(), np.random.default_rng(3))
    b = tree_random_like(_tree(), np.random.default_rng(3))
    np.testing.assert_array_equal(tree_ravel(a)[0], tree_ravel(b)[0])
    assert a["W1"].shape == (2, 3) and a["rest"][0].dtype == np.float32
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        tree_random_like(_tree(), 3)
