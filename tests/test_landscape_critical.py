"""classify_critical_point and find_critical_points against every listed critical point."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import losslab as ll
from losslab._core.tree import tree_ravel

F = ll.landscape.functions
classify = ll.landscape.classify_critical_point

LISTED = [
    pytest.param(name, i, id=f"{name}[{i}]:{cp.kind}")
    for name in F.names()
    for i, cp in enumerate(F.get(name).critical_points)
]


@pytest.mark.parametrize(("name", "i"), LISTED)
def test_every_listed_critical_point_is_classified_as_listed(name, i):
    f = F.get(name)
    cp = f.critical_points[i]
    r = classify(f, cp.point)
    assert (r.kind, r.index, r.is_critical) == (cp.kind, cp.index, True)
    np.testing.assert_allclose(r.eigenvalues, np.linalg.eigvalsh(f.hessian(cp.point)), rtol=1e-12, atol=1e-12)
    # the same through Hessian-vector products only
    r2 = classify(SimpleNamespace(grad=f.grad, hvp=f.hvp), cp.point)
    assert (r2.kind, r2.index) == (cp.kind, cp.index)


def test_named_cases():
    h = F.get("himmelblau")
    kinds = [classify(h, cp.point).kind for cp in h.critical_points]
    assert kinds.count("minimum") == 4 and kinds.count("maximum") == 1 and kinds.count("saddle") == 4
    s = classify(F.get("saddle"), [0.0, 0.0])
    assert (s.kind, s.index) == ("saddle", 1) and s.eigenvalues.tolist() == [-2.0, 2.0]
    m = classify(F.get("monkey_saddle"), [0.0, 0.0])
    assert m.kind == "degenerate" and m.eigenvalue_tol == 0.0
    # away from a critical point: classified by curvature, flagged not critical
    far = classify(h, [1.0, 1.0])
    assert not far.is_critical and far.grad_norm == pytest.approx(np.linalg.norm(h.grad([1.0, 1.0])))
    # tolerance relative to the spectral scale: a tiny eigenvalue is zero only relative to the rest
    q = SimpleNamespace(grad=lambda x: np.zeros(2), hessian=lambda x: np.diag([1e-4, 1.0]))
    assert classify(q, [0.0, 0.0]).kind == "minimum"
    assert classify(q, [0.0, 0.0], tol=1e-3).kind == "degenerate"
    assert classify(q, [0.0, 0.0], scale=1e3).kind == "degenerate"


def test_large_dimension_uses_lanczos_at_both_ends():
    rng = np.random.default_rng(0)
    n = 120
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.concatenate([[-3.0, -2.0], np.linspace(0.5, 5.0, n - 2)])
    H = (Q * lam) @ Q.T
    f = SimpleNamespace(grad=lambda x: H @ x, hvp=lambda x, v: H @ v)
    r = classify(f, np.zeros(n), dense_max=20)
    assert (r.kind, r.index) == ("saddle", 2)
    np.testing.assert_allclose(r.eigenvalues[[0, 1, -1]], [-3.0, -2.0, 5.0], rtol=1e-8)
    assert r.eigenvalues.size == 12  # the 6 smallest and the 6 largest
    pd = SimpleNamespace(grad=lambda x: np.zeros(n), hvp=lambda x, v: (Q * np.abs(lam)) @ (Q.T @ v))
    assert classify(pd, np.zeros(n), dense_max=20).kind == "minimum"
    many = SimpleNamespace(grad=lambda x: np.zeros(n), hvp=lambda x, v: -(Q * np.abs(lam)) @ (Q.T @ v))
    r3 = classify(many, np.zeros(n), dense_max=20)
    assert r3.kind == "maximum" and r3.index is None  # more negative eigenvalues than k: unknown count


class _TreeQuadratic:
    """A model-objective-like quadratic on a parameter tree: value_and_grad(params), hvp(params, v)."""

    def __init__(self, A, c):
        self.A, self.c = A, c
        self.template = {"W": np.zeros((2, 2)), "b": np.zeros(1)}

    def value_and_grad(self, params):
        x, unravel = tree_ravel(params)
        d = x - self.c
        return 0.5 * d @ self.A @ d, unravel(self.A @ d)

    def hvp(self, params, v):
        _, unravel = tree_ravel(params)
        return unravel(self.A @ tree_ravel(v)[0])


def test_model_objectives_on_parameter_trees():
    A = np.diag([1.0, 2.0, -3.0, 4.0, 5.0])
    c = np.arange(5.0)
    obj = _TreeQuadratic(A, c)
    _, unravel = tree_ravel(obj.template)
    r = classify(obj, unravel(c))
    assert (r.kind, r.index, r.is_critical) == ("saddle", 1, True)
    assert isinstance(r.point, dict) and r.eigenvalues.tolist() == [-3.0, 1.0, 2.0, 4.0, 5.0]
    off = classify(obj, unravel(c + 1.0))
    assert not off.is_critical


@pytest.mark.parametrize("name", [n for n in F.names() if F.get(n).dim <= 2])
def test_find_critical_points_recovers_every_listed_one(name):
    f = F.get(name)
    axes = [np.linspace(lo, hi, 15) for lo, hi in f.limits] if f.dim == 2 else [np.linspace(*f.limits[0], 41)]
    starts = np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, f.dim)
    found = ll.landscape.find_critical_points(f, starts)
    for cp in f.critical_points:
        match = [
            r
            for r in found
            if np.linalg.norm(r.point - cp.point) <= 1e-6 * max(1.0, np.linalg.norm(cp.point))
        ]
        assert len(match) == 1, (cp, len(match))
        assert (match[0].kind, match[0].index) == (cp.kind, cp.index)
    for r in found:
        assert r.is_critical or r.grad_norm <= 1e-9
    values = [float(f.value(r.point)) for r in found]
    assert values == sorted(values)


class _OnePoint:
    """A user's function written for one point at a time: indexing ``x[1]`` of a stack of points
    would read the second point, not the second coordinate."""

    def __init__(self, f):
        self.f, self.dim = f, f.dim

    def value(self, x):
        assert np.shape(x) == (self.dim,)
        return float(self.f.value(x))

    def grad(self, x):
        assert np.shape(x) == (self.dim,)
        return np.array([float(self.f.grad(x)[i]) for i in range(self.dim)])

    def hessian(self, x):
        assert np.shape(x) == (self.dim,)
        return self.f.hessian(x)


@pytest.mark.parametrize("name", ["himmelblau", "monkey_saddle", "anatomy"])
def test_a_function_of_one_point_at_a_time_gives_the_vectorized_critical_points(name):
    f = F.get(name)
    starts = np.random.default_rng(0).uniform(*np.array(f.limits).T, size=(12, f.dim))
    vectorized = ll.landscape.find_critical_points(f, starts)
    one = ll.landscape.find_critical_points(_OnePoint(f), starts)
    assert [r.kind for r in one] == [r.kind for r in vectorized] and len(one) > 0
    np.testing.assert_allclose([r.point for r in one], [r.point for r in vectorized], rtol=0, atol=1e-12)


def test_a_function_of_one_point_at_a_time_with_the_wrong_hessian_shape_is_named():
    f = _OnePoint(F.get("booth"))
    f.hessian = lambda x: np.eye(3)
    with pytest.raises(ValueError, match=r"find_critical_points: the function's hessian must have shape"):
        ll.landscape.find_critical_points(f, np.ones((2, 2)))


def test_find_on_the_anatomy_finds_exactly_four():
    f = F.get("anatomy")
    found = ll.landscape.find_critical_points(f, np.linspace(-2.9, 2.0, 50))
    assert [r.kind for r in found] == ["minimum", "minimum", "degenerate", "maximum"]
    np.testing.assert_allclose([r.point[0] for r in found], [1.5, -2.5, 0.0, -1.5], atol=1e-7)


def test_errors():
    with pytest.raises(TypeError, match="classify_critical_point: f must have grad and hessian"):
        classify(object(), [0.0])
    with pytest.raises(ValueError, match="classify_critical_point: x must have 2 coordinates, got 3"):
        classify(F.get("booth"), [0.0, 0.0, 0.0])
    with pytest.raises(
        ValueError, match="classify_critical_point: the point and its gradient must be finite"
    ):
        classify(F.get("booth"), [np.nan, 0.0])
    with pytest.raises(ValueError, match="classify_critical_point: tol must be > 0"):
        classify(F.get("booth"), [1.0, 3.0], tol=0.0)
    with pytest.raises(ValueError, match=r"find_critical_points: starts must have shape \(S, n\)"):
        ll.landscape.find_critical_points(F.get("booth"), np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="find_critical_points: f must have grad and hessian"):
        ll.landscape.find_critical_points(SimpleNamespace(grad=None), np.zeros((1, 2)))


def _levenberg_marquardt(obj, params, iters=60):
    """Polish a trained point to the nearby minimum: damped Newton steps (H + mu I) d = g on the loss."""
    x, unravel = tree_ravel(params)
    value, lam = obj.value(params), None
    for _ in range(iters):
        g, _ = tree_ravel(obj.grad(unravel(x)))
        if np.linalg.norm(g) < 1e-12:
            break
        H = ll.landscape.hessian_matrix(obj, unravel(x))
        w = np.linalg.eigvalsh(H)
        lam = 1e-3 * np.abs(w).max() if lam is None else lam
        while lam < 1e12:
            mu = max(lam, -1.01 * w[0] + 1e-12)
            d = np.linalg.solve(H + mu * np.eye(x.size), g)
            new = obj.value(unravel(x - d))
            if new <= value:
                x, value, lam = x - d, new, lam / 10
                break
            lam *= 10
    return unravel(x)


def _sine_data():
    rng = np.random.default_rng(0)
    X = np.linspace(-2.0, 2.0, 60)[:, None]
    return X, np.sin(2.0 * X[:, 0]) + 0.1 * rng.normal(size=60)


# (data, model kind, loss, hidden widths, the kind at the trained minimum, zero eigenvalues there)
TRAINED = [
    pytest.param("linear", "linear", "mse", (), "minimum", 0, id="linear-mse"),
    pytest.param("outliers", "linear", "huber", (), "minimum", 0, id="linear-huber"),
    pytest.param("xor", "logistic", "binary_cross_entropy", (), "minimum", 0, id="logistic-bce-xor"),
    pytest.param("circles", "logistic", "binary_cross_entropy", (), "minimum", 0, id="logistic-bce-circles"),
    # softmax logits are invariant under W += u 1^T, b += beta 1: n_in + 1 = 3 flat directions
    pytest.param(
        "spirals",  # not linearly separable: the minimum is finite (blobs drift to infinity)
        "softmax",
        "sparse_categorical_cross_entropy",
        (),
        "degenerate",
        3,
        id="softmax-ce-spirals",
    ),
    pytest.param("sine", "mlp", "mse", (1,), "minimum", 0, id="mlp-1-tanh-mse"),
]


@pytest.mark.parametrize(("data", "kind", "loss", "hidden", "expected", "n_zero"), TRAINED)
def test_model_objective_at_a_trained_minimum(data, kind, loss, hidden, expected, n_zero):
    if data == "sine":
        X, y = _sine_data()
        model = ll.models.MLP([1, *hidden, 1], "tanh")
    else:
        info = ll.data.info(data)
        X, y = info.make()
        model = ll.train.make_model(kind, X, y, task=info.task, hidden=hidden, activation="tanh")
    history = ll.train.fit(
        model, X, y, loss=loss, optimizer=ll.optim.get("adam", lr=0.05), epochs=300, seed=0, progress=False
    )
    obj = model.objective(X, y, loss=loss)
    params = _levenberg_marquardt(obj, history.params)
    r = classify(obj, params)
    assert (r.kind, r.index, r.is_critical) == (expected, 0, True)
    assert isinstance(r.point, dict) and r.eigenvalues.size == obj.n_params
    np.testing.assert_allclose(
        r.eigenvalues, np.linalg.eigvalsh(ll.landscape.hessian_matrix(obj, params)), rtol=1e-9, atol=1e-12
    )
    assert int(np.sum(np.abs(r.eigenvalues) <= r.eigenvalue_tol)) == n_zero
    # the same spectrum through Lanczos at both ends (dense_max=0): the kind does not change
    assert classify(obj, params, dense_max=0, k=2).kind == expected


def test_a_parameter_tree_needs_a_tree_objective():
    with pytest.raises(TypeError, match="classify_critical_point: x is a parameter tree, so f must have hvp"):
        classify(F.get("booth"), {"w": np.zeros(2)})
