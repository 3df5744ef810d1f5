"""Wasserstein distances: SciPy parity, an independent quantile computation, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

import losslab as ll
from loss_cases import central_difference

W1D = ll.losses.wasserstein_1d
SW = ll.losses.sliced_wasserstein


def _quantile_wp(u, v, uw=None, vw=None, p=1.0):
    """W_p by evaluating both quantile functions on every interval between merged breakpoints."""
    uw = np.ones_like(u) if uw is None else np.asarray(uw, float)
    vw = np.ones_like(v) if vw is None else np.asarray(vw, float)
    iu, iv = np.argsort(u), np.argsort(v)
    cu, cv = np.cumsum(uw[iu]) / uw.sum(), np.cumsum(vw[iv]) / vw.sum()
    t = np.unique(np.concatenate([[0.0], cu, cv]))
    mid = 0.5 * (t[1:] + t[:-1])  # quantile F^{-1}(s) = smallest value with cumulative weight >= s
    qu = u[iu][np.minimum(np.searchsorted(cu, mid), u.size - 1)]
    qv = v[iv][np.minimum(np.searchsorted(cv, mid), v.size - 1)]
    return float(np.sum(np.diff(t) * np.abs(qu - qv) ** p) ** (1 / p))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weighted", [False, True])
def test_p1_matches_scipy(seed, weighted):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=7 + seed), rng.normal(1.0, 2.0, size=4 + 2 * seed)
    uw = rng.uniform(0.1, 3.0, size=u.size) if weighted else None
    vw = rng.uniform(0.1, 3.0, size=v.size) if weighted else None
    expected = scipy.stats.wasserstein_distance(u, v, uw, vw)
    assert W1D(u, v, u_weights=uw, v_weights=vw) == pytest.approx(expected, rel=1e-12)


def test_p1_matches_scipy_with_ties_zero_weights_and_integers():
    u, v = [0, 1, 1, 3, 3, 3], [1, 2, 2, 5]
    uw, vw = [1.0, 0.0, 2.0, 1.0, 0.5, 0.5], [3, 1, 1, 2]
    assert W1D(u, v) == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-13)
    assert W1D(u, v, u_weights=uw, v_weights=vw) == pytest.approx(
        scipy.stats.wasserstein_distance(u, v, uw, vw), rel=1e-13
    )
    assert float(W1D([0.0, 1.0, 3.0], [5.0, 6.0, 8.0])) == 5.0  # every quantile moves by 5


def test_batches_are_independent_distributions():
    rng = np.random.default_rng(5)
    u, v = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 3, 4))
    uw = rng.uniform(0.5, 2.0, size=6)  # broadcast to every row
    values = W1D(u, v, u_weights=uw, reduction="none")
    assert values.shape == (2, 3)
    for i in np.ndindex(2, 3):
        assert values[i] == pytest.approx(scipy.stats.wasserstein_distance(u[i], v[i], uw), rel=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.5, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_general_p_matches_a_direct_quantile_computation(p, weighted):
    rng = np.random.default_rng(int(p * 10) + weighted)
    u, v = rng.normal(size=9), rng.exponential(size=5)
    uw = rng.uniform(0.1, 2.0, size=9) if weighted else None
    vw = rng.uniform(0.1, 2.0, size=5) if weighted else None
    assert W1D(u, v, u_weights=uw, v_weights=vw, p=p) == pytest.approx(
        _quantile_wp(u, v, uw, vw, p), rel=1e-12
    )


def test_equal_sizes_p2_is_the_sorted_matching():
    rng = np.random.default_rng(6)
    u, v = rng.normal(size=8), rng.normal(size=8)
    assert W1D(u, v, p=2) == pytest.approx(np.sqrt(np.mean((np.sort(u) - np.sort(v)) ** 2)), rel=1e-13)


def test_metric_properties():
    rng = np.random.default_rng(7)
    u, v, w = rng.normal(size=6), rng.normal(size=5), rng.normal(size=7)
    for p in (1, 2, 3):
        assert W1D(u, u[::-1], p=p) == 0.0
        assert W1D(u + 2.5, u, p=p) == pytest.approx(2.5, rel=1e-13)  # a shift moves every quantile
        assert W1D(u, v, p=p) == pytest.approx(W1D(v, u, p=p), rel=1e-13)
        assert W1D(u, w, p=p) <= W1D(u, v, p=p) + W1D(v, w, p=p) + 1e-12
        assert W1D(3 * u, 3 * v, p=p) == pytest.approx(3 * W1D(u, v, p=p), rel=1e-12)
    assert W1D(u, v, p=1) <= W1D(u, v, p=2) <= W1D(u, v, p=3)


@pytest.mark.parametrize("p", [1.0, 2.0, 1.5])
def test_gradients_for_both_samples_match_finite_differences(p):
    rng = np.random.default_rng(8)
    u, v = rng.normal(size=(2, 6)), rng.normal(size=(2, 4))
    uw, vw = rng.uniform(0.2, 2.0, size=(2, 6)), rng.uniform(0.2, 2.0, size=(2, 4))
    kw = dict(u_weights=uw, v_weights=vw, p=p, reduction="sum", sample_weight=np.array([1.5, 0.5]))
    gu, gv = W1D.grad(u, v, **kw)
    np.testing.assert_allclose(gu, central_difference(lambda a: W1D(a, v, **kw), u), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gv, central_difference(lambda b: W1D(u, b, **kw), v), rtol=1e-6, atol=1e-9)


def test_torch_values_with_numpy_weights_and_autograd():
    rng = np.random.default_rng(9)
    u, v, uw = rng.normal(size=7), rng.normal(size=5), rng.uniform(0.5, 1.5, size=7)
    tu, tv = torch.tensor(u, requires_grad=True), torch.tensor(v, requires_grad=True)
    value = W1D(tu, tv, u_weights=uw, p=2)
    assert isinstance(value, torch.Tensor)
    value.backward()
    gu, gv = W1D.grad(u, v, u_weights=uw, p=2)
    np.testing.assert_allclose(tu.grad.numpy(), gu, rtol=1e-10)
    np.testing.assert_allclose(tv.grad.numpy(), gv, rtol=1e-10)
    assert value.item() == pytest.approx(_quantile_wp(u, v, uw, None, 2.0), rel=1e-12)


def test_wasserstein_1d_errors():
    u = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="wasserstein_1d: v_values contains NaN"):
        W1D(u, [0.0, np.nan])
    with pytest.raises(ValueError, match="u_values is empty"):
        W1D([], u)
    with pytest.raises(ValueError, match="p must be >= 1"):
        W1D(u, u, p=0.5)
    with pytest.raises(ValueError, match="u_weights must hold finite non-negative"):
        W1D(u, u, u_weights=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="v_weights must have a positive sum"):
        W1D(u, u, v_weights=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="u_weights of shape \\(2,\\) does not broadcast"):
        W1D(u, u, u_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="same leading \\(batch\\) shape"):
        W1D(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least 1 axes"):
        W1D(1.0, u)


# --------------------------------------------------------------------------- sliced


def test_sliced_in_one_dimension_is_wasserstein_1d():
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(7, 1)), rng.normal(size=(4, 1))
    for p in (1, 2):
        assert SW(x, y, p=p, seed=0, n_projections=3) == pytest.approx(W1D(x[:, 0], y[:, 0], p=p), rel=1e-13)


def test_sliced_of_a_shift_by_hand():
    # per direction theta, the projections shift by theta . c, so W_p = |theta . c|
    rng = np.random.default_rng(11)
    x, c = rng.normal(size=(6, 3)), np.array([1.0, -2.0, 0.5])
    theta = np.random.default_rng(4).normal(size=(3, 16))
    theta /= np.linalg.norm(theta, axis=0)
    for p in (1, 2, 3):
        expected = np.mean(np.abs(c @ theta) ** p) ** (1 / p)
        assert SW(x + c, x, p=p, seed=4, n_projections=16) == pytest.approx(expected, rel=1e-12)


def test_sliced_is_seeded_zero_at_equal_samples_and_rotation_free_in_the_limit():
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(15, 2)) + [1.0, 0.0]
    assert SW(x, y, seed=3) == SW(x, y, seed=3)
    assert SW(x, y, seed=3) != SW(x, y, seed=4)
    gen = np.random.default_rng(3)
    assert SW(x, y, seed=gen) == SW(x, y, seed=3)  # a Generator is used as given
    assert SW(x, x[::-1], seed=None) == 0.0
    batched = SW(np.stack([x, x + 1]), np.stack([y, y + 1]), seed=5, reduction="none")
    np.testing.assert_allclose(batched, [SW(x, y, seed=5)] * 2, rtol=1e-12)


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_sliced_gradients_match_finite_differences(p):
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    kw = dict(p=p, seed=7, n_projections=6)
    gx, gy = SW.grad(x, y, **kw)
    np.testing.assert_allclose(gx, central_difference(lambda a: SW(a, y, **kw), x), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gy, central_difference(lambda b: SW(x, b, **kw), y), rtol=1e-6, atol=1e-9)


def test_sliced_errors():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="must share the batch shape and the dimension d"):
        SW(x, np.zeros((4, 2)), seed=0)
    with pytest.raises(ValueError, match="at least 2 axes"):
        SW(np.zeros(4), np.zeros(4), seed=0)
    with pytest.raises(ValueError, match="n_projections must be >= 1"):
        SW(x, x, n_projections=0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        SW(x, x, seed=1.5)
    with pytest.raises(ValueError, match="sliced_wasserstein: y contains infinite"):
        SW(x, x + np.inf, seed=0)
