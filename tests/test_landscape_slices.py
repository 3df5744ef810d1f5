"""Directions and slices of a network's loss (Li et al. 2018): normalization, invariance, PCA, grids."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll


def _relu_problem(n=40, seed=0):
    rng = np.random.default_rng(seed)
    model = ll.models.MLP([2, 6, 5, 1], activation="relu")
    X = rng.normal(size=(n, 2))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    params = ll._core.tree.tree_random_like(model.init(seed), np.random.default_rng(seed + 1))
    return model, model.objective(X, y, loss="mse"), params, X, y


class PointByPoint:
    """The objective without its batched ``values``: the slices then loop over the points."""

    def __init__(self, obj):
        self.obj = obj

    def value(self, params):
        return self.obj.value(params)


# --------------------------------------------------------------------------- directions


@pytest.mark.parametrize("normalization", ["filter", "layer", "weight", "none"])
@pytest.mark.parametrize("bias", ["zero", "copy", "random"])
def test_random_direction_normalizations(normalization, bias):
    _, _, params, _, _ = _relu_problem()
    d = ll.landscape.random_direction(params, seed=4, normalization=normalization, bias=bias)
    raw = ll.landscape.random_direction(params, seed=4, normalization="none", bias="random")
    assert list(d) == list(params)
    for key, theta in params.items():
        if theta.ndim == 2:
            if normalization == "filter":  # a filter is a column W[:, j]
                np.testing.assert_allclose(np.linalg.norm(d[key], axis=0), np.linalg.norm(theta, axis=0))
            elif normalization == "layer":
                assert np.linalg.norm(d[key]) == pytest.approx(np.linalg.norm(theta))
            elif normalization == "weight":
                np.testing.assert_allclose(d[key], raw[key] * np.abs(theta))
            else:
                np.testing.assert_array_equal(d[key], raw[key])
        elif bias == "zero":
            np.testing.assert_array_equal(d[key], 0.0)
        elif bias == "copy":
            np.testing.assert_array_equal(d[key], theta)
        elif normalization in ("filter", "layer"):
            assert np.linalg.norm(d[key]) == pytest.approx(np.linalg.norm(theta))


def test_directions_are_seeded_per_parameter_name():
    _, _, params, _, _ = _relu_problem()
    d = ll.landscape.random_direction(params, seed=1, normalization="none", bias="random")
    fewer = ll.landscape.random_direction({"W2": params["W2"]}, seed=1, normalization="none", bias="random")
    np.testing.assert_array_equal(d["W2"], fewer["W2"])
    other = ll.landscape.random_direction(params, seed=2, normalization="none", bias="random")
    assert not np.allclose(d["W2"], other["W2"])
    again = ll.landscape.random_direction(params, seed=1, normalization="none", bias="random")
    np.testing.assert_array_equal(d["W1"], again["W1"])


def test_orthogonalize_reports_the_cosine():
    a = {"w": np.array([1.0, 0.0, 0.0])}
    b = {"w": np.array([1.0, 1.0, 0.0])}
    d, cosine = ll.landscape.orthogonalize(b, a)
    assert cosine == pytest.approx(1 / np.sqrt(2))
    np.testing.assert_allclose(d["w"], [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="nonzero directions"):
        ll.landscape.orthogonalize(b, {"w": np.zeros(3)})


def _rescaled(params, c):
    """ReLU rescaling: layer 1 (weights and bias) times c, the next layer's weights over c."""
    return {**params, "W1": params["W1"] * c, "b1": params["b1"] * c, "W2": params["W2"] / c}


@pytest.mark.parametrize("bias", ["zero", "copy"])
def test_filter_normalized_slices_are_invariant_to_relu_rescaling(bias):
    model, obj, params, X, _ = _relu_problem()
    scaled = _rescaled(params, 5.0)
    np.testing.assert_allclose(model.apply(scaled, X), model.apply(params, X), rtol=1e-12)

    def surface(p, normalization):
        d1 = ll.landscape.random_direction(p, seed=0, normalization=normalization, bias=bias)
        d2 = ll.landscape.random_direction(p, seed=1, normalization=normalization, bias=bias)
        return ll.landscape.slice_2d(obj, p, d1, d2, 5, 5)

    np.testing.assert_allclose(surface(scaled, "filter"), surface(params, "filter"), rtol=1e-10)
    raw, raw_scaled = surface(params, "none"), surface(scaled, "none")
    assert np.max(np.abs(raw_scaled - raw) / raw) > 0.1  # un-normalized directions see another landscape


# --------------------------------------------------------------------------- slices


def test_batched_slices_equal_the_point_by_point_loop_in_grid_order():
    _, obj, params, _, _ = _relu_problem()
    d1 = ll.landscape.random_direction(params, seed=0)
    d2 = ll.landscape.random_direction(params, seed=1)
    alphas, betas = np.linspace(-1, 1, 7), np.linspace(-0.5, 0.5, 5)
    Z = ll.landscape.slice_2d(obj, params, d1, d2, alphas, betas)
    assert Z.shape == (5, 7)
    loop = ll.landscape.slice_2d(PointByPoint(obj), params, d1, d2, alphas, betas)
    np.testing.assert_allclose(Z, loop, rtol=1e-12)
    # Z[i, j] at (alphas[j], betas[i]); the centre is the point itself
    i, j = 1, 5
    point = {k: params[k] + alphas[j] * d1[k] + betas[i] * d2[k] for k in params}
    assert Z[i, j] == pytest.approx(obj.value(point), rel=1e-12)
    assert Z[2, 3] == pytest.approx(obj.value(params), rel=1e-12)
    # a memory bound of one point per pass changes nothing
    np.testing.assert_allclose(
        ll.landscape.slice_2d(obj, params, d1, d2, alphas, betas, max_bytes=1), Z, rtol=1e-12
    )
    line = ll.landscape.slice_1d(obj, params, d1, alphas)
    np.testing.assert_allclose(line, Z[2], rtol=1e-12)
    A, B, Z2 = ll.landscape.model_surface(obj, params, (d1, d2), alphas, betas)
    np.testing.assert_array_equal(Z2, Z)
    np.testing.assert_array_equal(A[0], alphas)
    np.testing.assert_array_equal(B[:, 0], betas)


def test_slice_metrics_train_test_and_accuracy():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 2, size=30).astype(float)
    model = ll.models.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid")
    obj = model.objective(X[:20], y[:20], loss="bce")
    test = obj.with_data(X[20:], y[20:])
    params = model.init(0)
    d = ll.landscape.random_direction(params, seed=0)
    s = ll.landscape.slice_metrics(obj, params, [d], 5, test=test)
    np.testing.assert_allclose(s.loss, ll.landscape.slice_1d(obj, params, d, 5))
    np.testing.assert_allclose(s.test_loss, ll.landscape.slice_1d(test, params, d, 5))
    point = {k: params[k] + s.alphas[1] * d[k] for k in params}
    assert s.accuracy[1] == obj.accuracy(point)
    assert s.test_accuracy[1] == test.accuracy(point)
    s2 = ll.landscape.slice_metrics(obj, params, [d, d], 3, betas=3)
    assert s2.loss.shape == (3, 3) and s2.test_loss is None
    regression = ll.landscape.slice_metrics(_relu_problem()[1], _relu_problem()[2], [_relu_problem()[2]], 3)
    assert regression.accuracy is None


def test_interpolation_and_plane():
    _, obj, params, _, _ = _relu_problem()
    other = ll._core.tree.tree_random_like(params, np.random.default_rng(9))
    third = ll._core.tree.tree_random_like(params, np.random.default_rng(10))
    origin, direction = ll.landscape.interpolation(params, other)
    values = ll.landscape.slice_1d(obj, origin, direction, [0.0, 0.5, 1.0])
    assert values[0] == pytest.approx(obj.value(params), rel=1e-12)
    assert values[2] == pytest.approx(obj.value(other), rel=1e-12)
    pl = ll.landscape.plane(params, other, third)
    for point, (a, b) in zip([params, other, third], pl.coordinates):
        rebuilt = {k: pl.origin[k] + a * pl.d1[k] + b * pl.d2[k] for k in params}
        for k in params:
            np.testing.assert_allclose(rebuilt[k], point[k], atol=1e-12)
    assert abs(ll._core.tree.tree_vdot(pl.d1, pl.d2)) < 1e-10
    with pytest.raises(ValueError, match="lie on one line"):
        ll.landscape.plane(params, other, {k: 2 * other[k] - params[k] for k in params})


def test_pca_directions_of_a_training_trajectory():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = X[:, 0] - 2 * X[:, 1]
    model = ll.models.MLP([2, 4, 1], activation="tanh")
    history = ll.train.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=ll.optim.sgd(lr=0.05),
        epochs=30,
        seed=0,
        record_params=True,
        progress=False,
    )
    pca = ll.landscape.pca_directions(history.trajectory, n_components=2)
    ratio = pca.explained_variance_ratio
    assert np.all((ratio >= 0) & (ratio <= 1)) and ratio.sum() <= 1 + 1e-12
    assert ratio[0] >= ratio[1]
    assert pca.coordinates.shape == (len(history.trajectory), 2)
    np.testing.assert_array_equal(pca.coordinates[-1], 0.0)  # the path ends at the final point
    lstsq = ll.landscape.pca_directions(history.trajectory, n_components=2, projection="lstsq")
    np.testing.assert_allclose(lstsq.coordinates, pca.coordinates, atol=1e-12)
    assert ll._core.tree.tree_norm(pca.directions[0]) == pytest.approx(1.0)
    assert abs(ll._core.tree.tree_vdot(*pca.directions)) < 1e-12
    # all components: the projection reconstructs the path exactly
    k = min(len(history.trajectory), model.n_params)
    full = ll.landscape.pca_directions(history.trajectory, n_components=k)
    assert full.explained_variance_ratio.sum() == pytest.approx(1.0)
    start = {
        key: full.origin[key] + sum(c * d[key] for c, d in zip(full.coordinates[0], full.directions))
        for key in model.init(0)
    }
    for key in start:
        np.testing.assert_allclose(start[key], history.trajectory[0][key], atol=1e-10)


def test_hessian_directions_are_unit_eigenvectors():
    _, obj, params, _, _ = _relu_problem()
    top, second = ll.landscape.hessian_directions(obj, params, k=2)
    hv = obj.hvp(params, top)
    lam = ll._core.tree.tree_vdot(top, hv)
    for k in params:
        np.testing.assert_allclose(hv[k], lam * top[k], atol=1e-8 * abs(lam))
    assert abs(ll._core.tree.tree_vdot(top, second)) < 1e-8


def test_slice_errors_are_clear():
    _, obj, params, _, _ = _relu_problem()
    d = ll.landscape.random_direction(params)
    with pytest.raises(ValueError, match="alphas=4 must be an odd count"):
        ll.landscape.slice_1d(obj, params, d, 4)
    with pytest.raises(ValueError, match=r"the grid has 10201 points, more than max_points=10000"):
        ll.landscape.slice_2d(obj, params, d, d, 101, 101, max_points=10_000)
    with pytest.raises(ValueError, match="slice_1d: d must have the structure and shapes of params"):
        ll.landscape.slice_1d(obj, params, {**d, "W1": np.ones((6, 2))}, 3)
    with pytest.raises(ValueError, match=r"slice_1d: params contains NaN or infinite values \(in b2\)"):
        ll.landscape.slice_1d(obj, {**params, "b2": np.array([np.inf])}, d, 3)
    with pytest.raises(ValueError, match="slice_2d: betas contains NaN"):
        ll.landscape.slice_2d(obj, params, d, d, 3, [0.0, np.nan])
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D array"):
        ll.landscape.slice_1d(obj, params, d, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="normalization must be one of"):
        ll.landscape.random_direction(params, normalization="filters")
    with pytest.raises(ValueError, match="bias must be one of"):
        ll.landscape.random_direction(params, bias="ignore")
    with pytest.raises(
        ValueError, match=r"random_direction: params contains NaN or infinite values \(in W1\)"
    ):
        ll.landscape.random_direction({**params, "W1": np.full((2, 6), np.nan)})
    with pytest.raises(ValueError, match="at least 2 parameter sets"):
        ll.landscape.pca_directions([params])
    with pytest.raises(ValueError, match="does not move"):
        ll.landscape.pca_directions([params, params, params])
