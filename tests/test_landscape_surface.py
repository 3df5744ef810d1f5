"""Grids and loss surfaces: closed form and streamed surfaces equal brute force (rel 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll
from loss_cases import all_cases
from losslab.landscape import surface
from losslab.landscape._piecewise import PIECEWISE

# --------------------------------------------------------------------------- grids


def test_grid_contains_its_centre_exactly_and_orders_like_meshgrid():
    g = ll.landscape.grid(center=(0.1, -0.7), radius=(0.3, 2.2), num=(7, 5), labels=("w", "b"))
    assert g.x[3] == 0.1 and g.y[2] == -0.7 and g.center == (0.1, -0.7)
    assert (g.x_label, g.y_label) == ("w", "b") and g.shape == (5, 7)
    np.testing.assert_allclose(g.x[[0, -1]], [-0.2, 0.4], rtol=1e-15)
    X, Y = g.mesh()
    P = g.points()
    assert X.shape == Y.shape == (5, 7) and P.shape == (5, 7, 2)
    i, j = 4, 1
    assert X[i, j] == g.x[j] and Y[i, j] == g.y[i] and tuple(P[i, j]) == (g.x[j], g.y[i])
    f = ll.landscape.functions.get("himmelblau")
    h = ll.landscape.grid(limits=f.limits, num=101)
    assert h.center == (0.0, 0.0) and h.x[0] == -5.0 and h.x[-1] == 5.0


def test_grid_refuses_even_counts_and_too_many_points():
    with pytest.raises(
        ValueError, match="grid: num must be odd so the grid contains its centre exactly, got num=120 for x"
    ):
        ll.landscape.grid(num=120)
    with pytest.raises(
        ValueError, match=r"grid: 1001 x 1001 = 1002001 points is more than max_points=1000000"
    ):
        ll.landscape.grid(num=1001, max_points=10**6)
    with pytest.raises(ValueError, match="grid: y radius must be > 0"):
        ll.landscape.grid(radius=(1.0, 0.0))
    with pytest.raises(ValueError, match="grid: limits must be increasing pairs"):
        ll.landscape.grid(limits=((1.0, 0.0), (0.0, 1.0)))


# --------------------------------------------------------------------------- linear regression


def _curriculum_data(n=60):
    rng = np.random.default_rng(0)  # 000 cell 1
    x = rng.uniform(-3, 3, size=n)
    return x, 2.0 * x + 1.0 + rng.normal(0, 0.6, size=x.shape)


def test_mse_closed_form_equals_the_curriculum_broadcast():
    x, y = _curriculum_data()
    w, b = np.linspace(-1.5, 4.0, 120), np.linspace(-2.0, 4.0, 120)
    W, B, Z = ll.landscape.linear_regression_surface(x, y, "mse", w, b)
    Wc, Bc = np.meshgrid(w, b)
    brute = np.mean((Wc[None] * x[:, None, None] + Bc[None] - y[:, None, None]) ** 2, axis=0)
    np.testing.assert_array_equal(W, Wc)
    np.testing.assert_array_equal(B, Bc)
    np.testing.assert_allclose(Z, brute, rtol=1e-10)
    # the minimum of the surface is at the least-squares line, and the alias and (N, 1) inputs agree
    slope, intercept = np.polyfit(x, y, 1)
    _, _, Zmin = ll.landscape.linear_regression_surface(x[:, None], y, "l2", [slope], [intercept])
    assert Zmin[0, 0] == pytest.approx(np.mean((slope * x + intercept - y) ** 2), rel=1e-12)
    assert Zmin[0, 0] <= Z.min()
    _, _, Zc = ll.landscape.linear_regression_surface(
        np.full(5, 2.0), np.arange(5.0), "mse", [0.5, 1.0], [0.0]
    )
    np.testing.assert_allclose(
        Zc[0], [np.mean((wv * 2.0 - np.arange(5.0)) ** 2) for wv in (0.5, 1.0)], rtol=1e-12
    )


REGRESSION = all_cases(lambda L: L.info.task == "regression" and len(L.inputs) == 2)


def _brute_regression(loss, x, y, w, b, params):
    return np.array([[float(loss(wj * x + bi, y, **params)) for wj in w] for bi in b])


def _regression_data(loss, n, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 1.5 * x - 0.5 + rng.standard_t(2, size=n)
    if loss.name == "poisson_nll":
        y = rng.poisson(2.0, size=n).astype(float)
    return x, y


@pytest.mark.parametrize(("loss", "params"), REGRESSION)
@pytest.mark.parametrize("path", ["blocks", "points", "piecewise"])
def test_streamed_surface_equals_brute_force(loss, params, path, monkeypatch):
    if path == "piecewise" and loss.name not in PIECEWISE:
        return  # no piecewise-quadratic form: always streamed
    if path != "piecewise":
        monkeypatch.setattr(surface, "pieces_of", lambda name, params: None)
    x, y = _regression_data(loss, 50)
    w, b = np.linspace(-1.0, 3.0, 7), np.linspace(-1.0, 1.0, 5)
    if params.get("log_input") is False:  # rates: positive predictions
        x, w, b = np.abs(x) + 0.1, np.linspace(0.1, 3.0, 7), np.linspace(0.1, 1.0, 5)
    if path == "points":
        monkeypatch.setattr(surface, "POINTWISE_SAMPLES", 1)
    else:
        monkeypatch.setattr(surface, "BLOCK_ELEMENTS", 3 * 50)  # blocks of 3 grid points, a partial last one
    W, B, Z = ll.landscape.linear_regression_surface(x, y, loss.name, w, b, **params)
    assert Z.shape == (5, 7)
    np.testing.assert_allclose(Z, _brute_regression(loss, x, y, w, b, params), rtol=1e-10)


@pytest.mark.parametrize(("loss", "params"), [c for c in REGRESSION if c.values[0].name in PIECEWISE])
def test_piecewise_forms_are_the_registered_losses(loss, params):
    full = loss.resolve_params(params)
    pieces = PIECEWISE[loss.name](full)
    breaks = [v for lo, hi, _ in pieces for v in (lo, hi) if np.isfinite(v)]
    e = np.concatenate([np.random.default_rng(0).normal(scale=3.0, size=200), breaks, [0.0, 1e4, -1e4]])
    form = np.empty_like(e)
    for lo, hi, (c2, c1, c0) in pieces:
        inside = (e >= lo) & (e < hi)
        form[inside] = c2 * e[inside] ** 2 + c1 * e[inside] + c0
    y_true = np.linspace(-1.0, 1.0, e.size)
    np.testing.assert_allclose(
        form, loss(y_true + e, y_true, reduction="none", **params), rtol=1e-12, atol=1e-12
    )
    assert set(PIECEWISE) <= {c.values[0].name for c in REGRESSION}


def test_huber_surface_of_the_curriculum_double_loop():
    legacy = np.random.RandomState(42)  # 002 §7.3 (np.random.seed(42)), Huber (delta = 1.5) for MSE
    X = legacy.randn(50)
    y = 2 * X + 1 + 0.3 * legacy.randn(50)
    w_range, b_range = np.linspace(-1, 5, 100), np.linspace(-2, 4, 100)
    W, B, Z = ll.landscape.linear_regression_surface(
        X, y, ll.losses.huber, w_range[::9], b_range[::11], delta=1.5
    )
    J = np.zeros_like(W)
    for i in range(W.shape[1]):
        for j in range(W.shape[0]):
            e = W[j, i] * X + B[j, i] - y
            J[j, i] = np.mean(np.where(np.abs(e) <= 1.5, 0.5 * e**2, 1.5 * np.abs(e) - 0.5 * 1.5**2))
    np.testing.assert_allclose(Z, J, rtol=1e-10)


def test_regression_surface_errors(monkeypatch):
    x, y = _curriculum_data(10)
    f = ll.landscape.linear_regression_surface
    with pytest.raises(
        ValueError, match="loss 'binary_cross_entropy' is a binary loss; expected a regression loss"
    ):
        f(x, y, "bce", [1.0], [0.0])
    with pytest.raises(ValueError, match="gaussian_nll' takes 3 inputs"):
        f(x, y, "gaussian_nll", [1.0], [0.0])
    with pytest.raises(ValueError, match="x and y must have the same number of samples"):
        f(x, y[:-1], "mse", [1.0], [0.0])
    with pytest.raises(ValueError, match="b contains NaN"):
        f(x, y, "mse", [1.0], [np.nan])
    with pytest.raises(ValueError, match="w must be a non-empty 1-D array"):
        f(x, y, "huber", np.ones((2, 2)), [0.0])
    with pytest.raises(TypeError, match="huber: unknown parameter.s. tau"):
        f(x, y, "huber", [1.0], [0.0], tau=0.5)
    with pytest.raises(TypeError, match="mse: unknown parameter.s. delta"):
        f(x, y, "mse", [1.0], [0.0], delta=0.5)
    with pytest.raises(ValueError, match="poisson_nll: y_true must hold non-negative numbers"):
        f(x, y - 100, "poisson_nll", [1.0], [0.0])
    # the first block is validated by the loss; a later invalid one cannot become a silent NaN
    xp, yp = np.abs(x) + 0.1, np.abs(y)
    monkeypatch.setattr(surface, "POINTWISE_SAMPLES", 1)  # one grid point per block
    with pytest.raises(
        ValueError, match=r"the loss is not finite at grid point 1 \(coefficients \[-5.0, 0.0\]\)"
    ):
        f(xp, yp, "poisson_nll", [1.0, -5.0], [0.0], log_input=False)
    with pytest.raises(ValueError, match="poisson_nll: y_pred must hold non-negative rates"):
        f(xp, yp, "poisson_nll", [-5.0, 1.0], [0.0], log_input=False)


# --------------------------------------------------------------------------- logistic


def _curriculum_classes():
    rng = np.random.default_rng(1)  # 000 cell 2
    n = 100
    X = np.vstack([rng.normal(1.5, 0.6, size=(n // 2, 2)), rng.normal(-1.5, 0.6, size=(n // 2, 2))])
    return X, np.hstack([np.ones(n // 2), np.zeros(n // 2)])


def test_logistic_surface_is_the_curriculum_cross_entropy_without_its_clipping():
    X, y = _curriculum_classes()
    w = np.linspace(-4, 4, 21)
    W1, W2, Z = ll.landscape.logistic_surface(X, y, w, w)
    z = W1[None] * X[:, 0, None, None] + W2[None] * X[:, 1, None, None]
    P = 1.0 / (1.0 + np.exp(-z))
    clipped = -np.mean(
        y[:, None, None] * np.log(P + 1e-10) + (1 - y)[:, None, None] * np.log(1 - P + 1e-10), axis=0
    )
    exact = np.mean(np.logaddexp(0.0, z) - y[:, None, None] * z, axis=0)
    np.testing.assert_allclose(Z, exact, rtol=1e-10)
    # the curriculum's eps only matters where the loss is tiny
    np.testing.assert_allclose(clipped, exact, rtol=1e-3)
    assert Z[10, 10] == pytest.approx(np.log(2.0), rel=1e-14)  # w = 0: p = 1/2 everywhere


LOGISTIC_CASES = [
    pytest.param("binary_cross_entropy", {}, None, id="bce"),
    pytest.param("binary_cross_entropy", {"pos_weight": 4.0}, None, id="bce(pos_weight=4)"),
    pytest.param("binary_cross_entropy", {"from_logits": False}, None, id="bce(from_logits=False)"),
    pytest.param("binary_cross_entropy", {}, "class", id="bce(class weights 5:1)"),
    pytest.param("binary_focal", {"gamma": 2.0, "alpha": 0.25}, None, id="binary_focal(gamma=2, alpha=0.25)"),
    pytest.param("hinge", {}, None, id="hinge"),
    pytest.param("squared_hinge", {}, None, id="squared_hinge"),
]


@pytest.mark.parametrize(("loss", "params", "weights"), LOGISTIC_CASES)
def test_logistic_surface_variants_equal_brute_force(loss, params, weights):
    X, y = _curriculum_classes()
    y = y[::3]
    X = X[::3]
    sw = np.where(y == 1, 5.0, 1.0) if weights == "class" else None
    w1, w2, b = np.linspace(-3, 3, 5), np.linspace(-2, 2, 4), 0.7
    _, _, Z = ll.landscape.logistic_surface(X, y, w1, w2, b=b, loss=loss, sample_weight=sw, **params)
    L = ll.losses.get(loss)
    kw = dict(params)
    brute = np.empty((4, 5))
    for i, b2 in enumerate(w2):
        for j, a1 in enumerate(w1):
            z = a1 * X[:, 0] + b2 * X[:, 1] + b
            if "from_logits" in L.params:
                if kw.get("from_logits", True):
                    kw["from_logits"] = True
                else:
                    z = 1.0 / (1.0 + np.exp(-z))
            brute[i, j] = L(z, y, sample_weight=sw, **kw)
    np.testing.assert_allclose(Z, brute, rtol=1e-10)


def test_moving_the_bias_moves_the_surface():
    X, y = _curriculum_classes()
    w = np.linspace(-4, 4, 9)
    _, _, Z0 = ll.landscape.logistic_surface(X, y, w, w, b=0.0)
    _, _, Z2 = ll.landscape.logistic_surface(X, y, w, w, b=2.0)
    # at w = 0 every logit is b: the loss is softplus(b) - b * mean(y) = softplus(2) - 1
    assert Z0[4, 4] == pytest.approx(np.log(2.0), rel=1e-14)
    assert Z2[4, 4] == pytest.approx(np.logaddexp(0.0, 2.0) - 1.0, rel=1e-14)
    assert np.abs(Z2 - Z0).max() > 0.1


def test_logistic_surface_errors():
    X, y = _curriculum_classes()
    f = ll.landscape.logistic_surface
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        f(X[:, :1], y, [0.0], [0.0])
    with pytest.raises(ValueError, match="X and y must have the same number of samples"):
        f(X, y[:-1], [0.0], [0.0])
    with pytest.raises(ValueError, match="loss 'mse' is a regression loss; expected a binary loss"):
        f(X, y, [0.0], [0.0], loss="mse")
    with pytest.raises(ValueError, match="sample_weight must have one weight per sample"):
        f(X, y, [0.0], [0.0], sample_weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="logistic_surface: b must be a real number"):
        f(X, y, [0.0], [0.0], b="zero")
    with pytest.raises(ValueError, match="binary_cross_entropy: y_true must"):
        f(X, y + 3, [0.0], [0.0])


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e4])
def test_piecewise_surface_keeps_its_precision_far_from_the_origin(offset):
    rng = np.random.default_rng(1)
    x = rng.normal(size=500) + offset / 100
    y = 2 * x + offset + rng.standard_t(2, size=500)
    w, b = np.linspace(1.0, 3.0, 5), np.linspace(offset - 5, offset + 5, 7)
    for name, params in [("huber", {"delta": 0.5}), ("mae", {}), ("asymmetric_huber", {"delta": 0.3})]:
        _, _, Z = ll.landscape.linear_regression_surface(x, y, name, w, b, **params)
        brute = _brute_regression(ll.losses.get(name), x, y, w, b, params)
        np.testing.assert_allclose(Z, brute, rtol=1e-11)
