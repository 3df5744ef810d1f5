"""Datasets: the curriculum's recipes, seeding, registry and CSV errors."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll


def test_outliers_reproduce_the_lab_recipe():
    # np.random.seed(42); X = linspace(0, 10, 50); y = 2X + 3 + randn(50) * 1.5; 5 shifted points.
    X, y = ll.data.outliers()
    x = np.linspace(0, 10, 50)
    expected = 2 * x + 3 + np.random.RandomState(42).randn(50) * 1.5
    expected[[10, 20, 30, 40, 45]] += [15, -12, 18, -10, 20]
    assert X.shape == (50, 1)
    np.testing.assert_array_equal(X[:, 0], x)
    np.testing.assert_array_equal(y, expected)
    assert ll.data.OUTLIER_INDEX == (10, 20, 30, 40, 45)


def test_linear_reproduces_the_sgd_cell():
    # rng = default_rng(2); x = rng.uniform(-2, 2, 200); y = 1.2x - 0.7 + rng.normal(0, 0.3, 200)
    X, y = ll.data.linear()
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, size=200)
    np.testing.assert_array_equal(X[:, 0], x)
    np.testing.assert_array_equal(y, 1.2 * x - 0.7 + rng.normal(0, 0.3, size=200))


def test_linear_with_a_weight_vector_and_no_noise_is_exact():
    X, y = ll.data.linear(n=30, w=[1.0, -2.0, 0.5], b=4.0, noise=0.0, seed=1)
    assert X.shape == (30, 3)
    np.testing.assert_allclose(y, X @ [1.0, -2.0, 0.5] + 4.0, rtol=1e-15)


@pytest.mark.parametrize("name", ll.data.names())
def test_every_dataset_is_seeded_and_well_formed(name):
    make = ll.data.get(name)
    X1, y1 = make(seed=3)
    X2, y2 = make(seed=3)
    X3, y3 = make(seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not (np.array_equal(X1, X3) and np.array_equal(y1, y3))
    assert X1.ndim == 2 and y1.shape == (X1.shape[0],) and np.isfinite(X1).all()
    task = ll.data.info(name).task
    if task == "binary":
        assert set(np.unique(y1)) == {0.0, 1.0}
    if task == "multiclass":
        assert y1.dtype == np.int64 and y1.min() == 0


def test_class_balances():
    _, y = ll.data.imbalanced()
    assert y.size == 1000 and y.sum() == 50  # 95% / 5%
    _, y = ll.data.imbalanced(n=200, positive_fraction=0.1)
    assert y.sum() == 20
    _, y = ll.data.two_blobs(n=101)
    assert y.sum() == 50
    _, y = ll.data.multiclass_blobs(n=300, n_classes=4)
    assert np.bincount(y).tolist() == [75, 75, 75, 75]
    _, y = ll.data.spirals(n=300, n_classes=3)
    assert np.bincount(y).tolist() == [100, 100, 100]


def test_geometry_of_the_nonlinear_sets():
    X, y = ll.data.circles(n=400, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(radius[y == 1], 0.3, rtol=1e-12)
    X, y = ll.data.xor(n=400, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(float))


def test_registry():
    assert ll.data.names() == sorted(
        ["circles", "imbalanced", "linear", "multiclass_blobs", "outliers", "spirals", "two_blobs", "xor"]
    )
    assert ll.data.names("multiclass") == ["multiclass_blobs", "spirals"]
    assert ll.data.get("outliers") is ll.data.outliers
    with pytest.raises(ValueError, match="unknown dataset 'moons'; valid names: circles"):
        ll.data.get("moons")


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive_fraction must be in"):
        ll.data.imbalanced(positive_fraction=1.5)
    with pytest.raises(ValueError, match="outlier_index must lie in"):
        ll.data.outliers(n=10)
    with pytest.raises(TypeError, match="seed must be"):
        ll.data.xor(seed="zero")


# --------------------------------------------------------------------------- CSV


def _write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_load_csv(tmp_path):
    path = _write(tmp_path, "a,price,b\n1,10,2\n3, 30 ,4.5\n\n")
    X, y = ll.data.load_csv(path, "price")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4.5]])
    np.testing.assert_array_equal(y, [10, 30])
    X, _ = ll.data.load_csv(str(path), "price", features=["b"])
    np.testing.assert_array_equal(X, [[2], [4.5]])


def test_load_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        ll.data.load_csv(tmp_path / "missing.csv", "y")
    path = _write(tmp_path, "a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="target column 'price' not found; columns are: a, b, c"):
        ll.data.load_csv(path, "price")
    with pytest.raises(ValueError, match=r"feature column\(s\) \['z'\] not found; columns are: a, b, c"):
        ll.data.load_csv(path, "a", features=["z"])
    path = _write(tmp_path, "a,label\n1,0\nx,1\n")
    with pytest.raises(ValueError, match="column 'a' must be numeric; line 3 holds 'x'"):
        ll.data.load_csv(path, "label")
    path = _write(tmp_path, "a,label\n1,\n")
    with pytest.raises(ValueError, match="column 'label' must be numeric; line 2 holds an empty value"):
        ll.data.load_csv(path, "label")
    path = _write(tmp_path, "a,label\n")
    with pytest.raises(ValueError, match="no data rows"):
        ll.data.load_csv(path, "label")
    path = _write(tmp_path, "a,label\n1,2,3\n")
    with pytest.raises(ValueError, match="line 2 has 3 fields, the header has 2"):
        ll.data.load_csv(path, "label")
