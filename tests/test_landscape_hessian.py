"""Hessians of objectives: dense vs torch.autograd.functional.hessian, Lanczos vs eigh, Hutchinson, SLQ."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from losslab._core.tree import tree_leaves_with_paths

TORCH_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def _problem(activation="tanh", sizes=(3, 5, 5, 2), skip=True, loss="mse", n=16, seed=0):
    rng = np.random.default_rng(seed)
    model = ll.models.MLP(list(sizes), activation=activation, skip=skip)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.normal(size=(n, sizes[-1]))
    params = ll._core.tree.tree_random_like(model.init(seed), np.random.default_rng(seed + 1))
    return model, model.objective(X, y, loss=loss), params, X, y


def _torch_hessian(model, params, X, y):
    """torch.autograd.functional.hessian of the MSE of the torch twin, over the flat vector."""
    leaves = tree_leaves_with_paths(params)
    shapes = [np.shape(leaf) for _, leaf in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    x0 = torch.from_numpy(ll.tree_ravel(params)[0])
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def f(flat):
        parts, offset = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(flat[offset : offset + size].reshape(shape))
            offset += size
        h = Xt
        last = len(model.keys) - 1
        for l in range(last + 1):
            z = h @ parts[2 * l] + parts[2 * l + 1]
            if l == last:
                return ((z - yt) ** 2).mean()
            a = TORCH_ACT[model.activation.name](z)
            h = a + h if model.skips[l] else a
        raise AssertionError

    return torch.autograd.functional.hessian(f, x0).numpy()


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_dense_hessian_is_symmetric_and_equals_torch(activation):
    model, obj, params, X, y = _problem(activation)
    H = ll.landscape.hessian_matrix(obj, params)
    assert H.shape == (model.n_params, model.n_params)
    np.testing.assert_array_equal(H, H.T)
    reference = _torch_hessian(model, params, X, y)
    np.testing.assert_allclose(H, reference, rtol=1e-9, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("which", ["largest", "smallest"])
def test_lanczos_extreme_eigenpairs_match_eigh(which):
    model, obj, params, _, _ = _problem(sizes=(3, 6, 6, 2))  # 80 parameters: the Lanczos path
    assert model.n_params > 20
    w, U = np.linalg.eigh(ll.landscape.hessian_matrix(obj, params))
    vals, vecs = ll.landscape.hessian_eigs(obj, params, k=4, which=which)
    expected = w[::-1][:4] if which == "largest" else w[:4]
    ref_vecs = U[:, ::-1][:, :4] if which == "largest" else U[:, :4]
    np.testing.assert_allclose(vals, expected, rtol=1e-9, atol=1e-12 * np.abs(w).max())
    assert vecs.shape == (model.n_params, 4)
    np.testing.assert_allclose(np.abs(np.sum(vecs * ref_vecs, axis=0)), 1.0, atol=1e-8)
    if which == "smallest":
        assert vals[0] < 0  # a random point of a tanh network is a saddle region


def test_small_problems_use_the_dense_eigendecomposition():
    model = ll.models.Linear(2)
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    obj = model.objective(X, np.zeros(3), loss="mse")
    vals, vecs = ll.landscape.hessian_eigs(obj, model.init(0), k=3)
    A = np.c_[X, np.ones(3)]
    np.testing.assert_allclose(vals, np.linalg.eigvalsh(2 * A.T @ A / 3)[::-1], rtol=1e-12)
    with pytest.raises(ValueError, match=r"hessian_eigs: k=4 exceeds the number of parameters \(3\)"):
        ll.landscape.hessian_eigs(obj, model.init(0), k=4)


def test_hutchinson_trace_within_its_statistical_tolerance():
    _, obj, params, _, _ = _problem()
    H = ll.landscape.hessian_matrix(obj, params)
    m = 200
    estimate, stderr = ll.landscape.hessian_trace(obj, params, n_probes=m, seed=0, return_stderr=True)
    # Rademacher probes: Var(z^T H z) = 2 (||H||_F^2 - sum_j H_jj^2)
    sd = np.sqrt(2 * (np.sum(H**2) - np.sum(np.diag(H) ** 2)) / m)
    assert abs(estimate - np.trace(H)) <= 4 * sd
    assert 0.5 * sd <= stderr <= 2 * sd
    assert ll.landscape.hessian_trace(obj, params, n_probes=m, seed=0) == estimate  # seeded


def test_slq_moments_nodes_and_density():
    model, obj, params, _, _ = _problem()
    H = ll.landscape.hessian_matrix(obj, params)
    lam = np.linalg.eigvalsh(H)
    n = lam.size
    sd = ll.landscape.spectral_density(obj, params, n_probes=20, lanczos_steps=12, seed=1)
    for w in sd.weights:
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
    # E_v[v^T H v] = tr(H)/n for unit Gaussian probes; Var = 2/(n+2) (mean(lam^2) - mean(lam)^2)
    spread = np.sqrt(2 / (n + 2) * (np.mean(lam**2) - np.mean(lam) ** 2) / 20)
    assert abs(sd.moment(1) - lam.mean()) <= 4 * spread
    assert abs(sd.moment(2) - np.mean(lam**2)) <= 0.5 * np.mean(lam**2)
    assert np.trapezoid(sd.density, sd.grid) == pytest.approx(1.0, abs=1e-3)
    assert sd.bandwidth == pytest.approx(
        (max(x.max() for x in sd.nodes) - min(x.min() for x in sd.nodes)) / 100
    )
    # n Lanczos steps: the nodes are eigenvalues of H (the extreme ones always carry weight)
    full = ll.landscape.spectral_density(obj, params, n_probes=1, lanczos_steps=n, seed=2)
    nodes = full.nodes[0]
    assert np.min(np.abs(nodes[:, None] - lam[None, :]), axis=1).max() <= 1e-8 * np.abs(lam).max()
    assert nodes.min() == pytest.approx(lam.min(), rel=1e-9)
    assert nodes.max() == pytest.approx(lam.max(), rel=1e-9)


class GradientOnly:
    """An objective with a value and a gradient but no Hessian-vector product."""

    def __init__(self, obj):
        self.obj = obj

    def value(self, params):
        return self.obj.value(params)

    def grad(self, params):
        return self.obj.grad(params)


def test_generic_hvp_exact_and_central_differences():
    _, obj, params, _, _ = _problem()
    v = ll.landscape.random_direction(params, seed=3, normalization="none", bias="random")
    exact = ll.landscape.hvp(obj, params, v)
    central = ll.landscape.hvp(GradientOnly(obj), params, v)
    for k in exact:
        np.testing.assert_allclose(central[k], exact[k], rtol=1e-6, atol=1e-8 * np.abs(exact[k]).max())
    with pytest.raises(TypeError, match="method='exact' needs an obj with hvp or hessian"):
        ll.landscape.hvp(GradientOnly(obj), params, v, method="exact")
    # a test function's dense Hessian
    f = ll.landscape.functions.get("rosenbrock")
    x = np.array([-1.0, 1.5])
    np.testing.assert_allclose(ll.landscape.hvp(f, x, np.array([1.0, 2.0])), f.hessian(x) @ [1.0, 2.0])
    vals, _ = ll.landscape.hessian_eigs(f, np.array([1.0, 1.0]), k=2)
    np.testing.assert_allclose(vals, np.linalg.eigvalsh(f.hessian(np.array([1.0, 1.0])))[::-1])


def test_eigenvalue_ratio_map_equals_pointwise_eigh():
    _, obj, params, _, _ = _problem(sizes=(2, 3, 1), skip=False)
    d1 = ll.landscape.random_direction(params, seed=0)
    d2 = ll.landscape.random_direction(params, seed=1)
    alphas, betas = [-0.5, 0.0, 0.5], [0.0, 1.0]
    R = ll.landscape.eigenvalue_ratio_map(obj, params, d1, d2, alphas, betas)
    assert R.shape == (2, 3)
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            p = {k: params[k] + a * d1[k] + b * d2[k] for k in params}
            w = np.linalg.eigvalsh(ll.landscape.hessian_matrix(obj, p))
            assert R[i, j] == pytest.approx(abs(w[0] / w[-1]), rel=1e-9)


def test_hessian_errors():
    _, obj, params, _, _ = _problem()
    with pytest.raises(ValueError, match=r"hessian_matrix: 62 parameters exceed max_params=10"):
        ll.landscape.hessian_matrix(obj, params, max_params=10)
    with pytest.raises(ValueError, match="which must be one of"):
        ll.landscape.hessian_eigs(obj, params, which="top")
    with pytest.raises(ValueError, match=r"hessian_trace: params contains NaN or infinite values \(in W1\)"):
        ll.landscape.hessian_trace(obj, {**params, "W1": np.full((3, 5), np.nan)})
    with pytest.raises(ValueError, match="hvp: v must have the structure and shapes of params"):
        ll.landscape.hvp(obj, params, {**params, "W1": np.ones((5, 3))})
    with pytest.raises(ValueError, match="n_probes must be"):
        ll.landscape.hessian_trace(obj, params, n_probes=0)
