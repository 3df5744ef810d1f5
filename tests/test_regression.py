"""Regression losses: the curriculum's hand computations, equivalences, kinks, extremes and errors.

The registry-wide tests (test_loss_registry.py) already check every declaration against finite
differences and PyTorch on random inputs; this file pins the exact numbers a reader computes by
hand and the special points random inputs never hit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import losslab as ll

L = ll.losses
F = torch.nn.functional
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _t(x, grad=False):
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


# --------------------------------------------------------------------------- the curriculum


def test_worked_example_one_sample_y3_yhat5_delta_1_5():
    # Seed 002, Example 1: e = 5 - 3 = 2. MSE 4 (grad 2e = 4), MAE 2 (grad 1),
    # Huber(1.5): |e| = 2 > 1.5, linear branch: 1.5 * 2 - 0.5 * 1.5^2 = 1.875 (grad 1.5 * sign(e)).
    for loss, expected_value, expected_grad in ((L.mse, 4.0, 4.0), (L.mae, 2.0, 1.0)):
        value, grad = loss.value_and_grad([5.0], [3.0])
        assert value == expected_value
        np.testing.assert_array_equal(grad, [expected_grad])
    value, grad = L.huber.value_and_grad([5.0], [3.0], delta=1.5)
    assert value == 1.875
    np.testing.assert_array_equal(grad, [1.5])
    # The same numbers as the command line's `losslab explain huber --y-pred 5 --y-true 3 --delta 1.5`.
    assert float(L.get("huber")(5.0, 3.0, delta=1.5)) == 1.875
    assert float(L.huber.grad(5.0, 3.0, delta=1.5)) == 1.5


def test_gradient_table_mse_mae_huber_delta_1_5():
    # Seed 002, section 7.5: "Error | MSE grad | MAE grad | Huber grad" with delta = 1.5 (all correct).
    errors = np.array([-3, -2, -1, -0.1, 0, 0.1, 1, 2, 3])
    table = {
        "mse": [-6.00, -4.00, -2.00, -0.20, 0.00, 0.20, 2.00, 4.00, 6.00],
        "mae": [-1.00, -1.00, -1.00, -1.00, 0.00, 1.00, 1.00, 1.00, 1.00],
        "huber": [-1.50, -1.50, -1.00, -0.10, 0.00, 0.10, 1.00, 1.50, 1.50],
    }
    zeros = np.zeros_like(errors)
    for name, expected in table.items():
        params = {"delta": 1.5} if name == "huber" else {}
        grad = L.get(name).grad(errors, zeros, reduction="none", **params)
        np.testing.assert_allclose(grad, expected, rtol=1e-12, err_msg=name)


def test_printed_pytorch_outputs_corrected():
    # Seed 002, section 7.4 prints "MSE: 0.1450 MAE: 0.3000 Huber: 0.0950" for these tensors.
    # Residuals r = y_pred - y_true = [-0.5, 0.3, -0.2, 0.2]:
    #   MSE = mean(r^2) = (0.25 + 0.09 + 0.04 + 0.04) / 4 = 0.42 / 4 = 0.105   (printed 0.1450 is wrong)
    #   MAE = mean(|r|) = 1.2 / 4 = 0.3                                       (printed 0.3000 is right)
    #   Huber(delta=1) = mean(r^2 / 2), every |r| <= 1: 0.21 / 4 = 0.0525     (printed 0.0950 is wrong)
    y_pred, y_true = [2.5, 0.3, 1.8, 4.2], [3.0, 0.0, 2.0, 4.0]
    assert float(L.mse(y_pred, y_true)) == pytest.approx(0.105, rel=1e-12)
    assert float(L.mae(y_pred, y_true)) == pytest.approx(0.3, rel=1e-12)
    assert float(L.huber(y_pred, y_true, delta=1.0)) == pytest.approx(0.0525, rel=1e-12)
    p, t = _t(y_pred), _t(y_true)
    assert F.mse_loss(p, t).item() == pytest.approx(0.105, rel=1e-12)
    assert F.huber_loss(p, t, delta=1.0).item() == pytest.approx(0.0525, rel=1e-12)


def test_swiggy_eta_mse_and_mae_models():
    # Seed 002, Example 2: errors [2, -2, 2, -8, -35] -> MSE 1301/5 = 260.2; [1, -1, 1, -5, -25] -> MAE 33/5.
    actual = [30.0, 45.0, 25.0, 60.0, 120.0]
    assert float(L.mse([32.0, 43.0, 27.0, 52.0, 85.0], actual)) == pytest.approx(260.2, rel=1e-12)
    assert float(L.mae([31.0, 44.0, 26.0, 55.0, 95.0], actual)) == pytest.approx(6.6, rel=1e-12)
    # Seed 002, opening: a 20-minute error is 16x worse than a 5-minute one under MSE, 4x under MAE.
    assert float(L.mse([20.0], [0.0]) / L.mse([5.0], [0.0])) == 16.0
    assert float(L.mae([20.0], [0.0]) / L.mae([5.0], [0.0])) == 4.0


def test_asymmetric_mse_curriculum_example():
    # Seed 002, AsymmetricMSE(under_weight=3.0, over_weight=1.0) on y_pred=[8, 12], y_true=[10, 10]:
    # Under: 3.0 * (8 - 10)^2 = 12, Over: 1.0 * (12 - 10)^2 = 4, Mean = 8.0. Those are the defaults.
    y_pred, y_true = [8.0, 12.0], [10.0, 10.0]
    assert float(L.asymmetric_mse(y_pred, y_true)) == 8.0
    assert float(L.asymmetric_mse(y_pred, y_true, under_weight=3.0, over_weight=1.0)) == 8.0
    np.testing.assert_array_equal(L.asymmetric_mse(y_pred, y_true, reduction="none"), [12.0, 4.0])
    # Gradient of the mean: 2 w r / n = [2 * 3 * (-2) / 2, 2 * 1 * 2 / 2] = [-6, 2].
    np.testing.assert_array_equal(L.asymmetric_mse.grad(y_pred, y_true), [-6.0, 2.0])
    # The curriculum's PyTorch module, written out, agrees (value and autograd).
    p, t = _t(y_pred, grad=True), _t(y_true)
    r = p - t
    reference = torch.mean(torch.where(r < 0, 3.0, 1.0) * r**2)
    reference.backward()
    assert reference.item() == 8.0
    np.testing.assert_array_equal(p.grad.numpy(), [-6.0, 2.0])


def test_uber_asymmetric_loss_alpha_3():
    # Seed 002, Example 3: under-predicting by 10 costs 3 * 100 = 300, over-predicting by 10 costs 100.
    loss = L.asymmetric_mse([100.0, 160.0], [110.0, 150.0], under_weight=3.0, reduction="none")
    np.testing.assert_array_equal(loss, [300.0, 100.0])


def test_linear_regression_step_from_mse_gradient():
    # Seed 000, Example A: x=2, y=5, w=1, b=0: y_hat=2, r=-3, dl/dy_hat = 2r = -6,
    # dl/dw = 2 r x = -12, dl/db = -6; with eta=0.1: w' = 2.2, b' = 0.6.
    x, y, w, b, eta = 2.0, 5.0, 1.0, 0.0, 0.1
    d = float(L.mse.grad([w * x + b], [y])[0])
    assert d == -6.0
    assert (w - eta * d * x, b - eta * d) == pytest.approx((2.2, 0.6), rel=1e-12)
    # Seed 002, GATE Q2: x=2, y=5, w=1, b=1: y_hat=3, dL/dy_hat = -4, dL/dw = -8 (no option matches,
    # as the text finds); with x=3: y_hat=4, dL/dw = 2(4 - 5) * 3 = -6.
    assert float(L.mse.grad([3.0], [5.0])[0]) * 2.0 == -8.0
    assert float(L.mse.grad([4.0], [5.0])[0]) * 3.0 == -6.0


def test_huber_derivative_branches_example_c():
    # Seed 000, Example C: |r| <= delta -> r; else delta * sign(r).
    r = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_array_equal(
        L.huber.grad(r, np.zeros(4), reduction="none", delta=1.0), [-1.0, -0.5, 0.5, 1.0]
    )


def test_log_cosh_is_the_curriculums_sum_of_log_cosh():
    # Seed 001, 2.5: LogCosh = sum_i log(cosh(y_i - y_hat_i)); losslab's "sum" reduction is that sum.
    rng = np.random.default_rng(0)
    y_pred, y_true = rng.normal(size=20), rng.normal(size=20)
    expected = np.sum(np.log(np.cosh(y_true - y_pred)))
    assert float(L.log_cosh(y_pred, y_true, reduction="sum")) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(
        L.log_cosh.grad(y_pred, y_true, reduction="sum"), np.tanh(y_pred - y_true), rtol=1e-14
    )


def test_quantile_by_hand():
    # tau = 0.9, y_true = 10: under-predicting by 2 costs 0.9 * 2 = 1.8, over-predicting by 2 costs 0.2.
    loss, grad = L.quantile.value_and_grad([8.0, 12.0, 10.0], [10.0, 10.0, 10.0], tau=0.9, reduction="none")
    np.testing.assert_allclose(loss, [1.8, 0.2, 0.0], rtol=1e-12)
    np.testing.assert_allclose(grad, [-0.9, 0.1, 0.0], rtol=1e-12)
    assert L.get("pinball") is L.quantile


# --------------------------------------------------------------------------- equivalences


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, delta=st.floats(0.05, 5.0))
def test_huber_is_delta_times_smooth_l1(seed, delta):
    rng = np.random.default_rng(seed)
    y_pred, y_true = rng.normal(0, 3, 50), rng.normal(0, 3, 50)
    h, gh = L.huber.value_and_grad(y_pred, y_true, delta=delta, reduction="none")
    s, gs = L.smooth_l1.value_and_grad(y_pred, y_true, beta=delta, reduction="none")
    np.testing.assert_allclose(h, delta * s, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gh, delta * gs, rtol=1e-12, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS)
def test_twice_quantile_half_is_mae(seed):
    rng = np.random.default_rng(seed)
    y_pred, y_true = rng.normal(size=40), rng.normal(size=40)
    y_pred[:5] = y_true[:5]  # the kink: both give 0 and gradient 0
    q, gq = L.quantile.value_and_grad(y_pred, y_true, tau=0.5, reduction="none")
    m, gm = L.mae.value_and_grad(y_pred, y_true, reduction="none")
    np.testing.assert_allclose(2 * q, m, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(2 * gq, gm)


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, w=st.floats(0.1, 10.0), delta=st.floats(0.1, 3.0))
def test_asymmetric_losses_with_equal_weights_are_scaled_mse_and_huber(seed, w, delta):
    rng = np.random.default_rng(seed)
    y_pred, y_true = rng.normal(0, 2, 30), rng.normal(0, 2, 30)
    a, ga = L.asymmetric_mse.value_and_grad(y_pred, y_true, under_weight=w, over_weight=w)
    m, gm = L.mse.value_and_grad(y_pred, y_true)
    np.testing.assert_allclose([a, *ga], w * np.array([m, *gm]), rtol=1e-12, atol=1e-15)
    a, ga = L.asymmetric_huber.value_and_grad(y_pred, y_true, delta=delta, under_weight=w, over_weight=w)
    h, gh = L.huber.value_and_grad(y_pred, y_true, delta=delta)
    np.testing.assert_allclose([a, *ga], w * np.array([h, *gh]), rtol=1e-12, atol=1e-15)


def test_smooth_l1_beta_zero_is_l1_as_in_pytorch():
    y_pred, y_true = np.array([-2.0, 0.0, 0.5, 3.0]), np.array([0.0, 0.0, 1.0, 1.0])
    v, g = L.smooth_l1.value_and_grad(y_pred, y_true, beta=0.0)
    assert v == L.mae(y_pred, y_true)
    np.testing.assert_array_equal(g, L.mae.grad(y_pred, y_true))
    p = _t(y_pred, grad=True)
    F.smooth_l1_loss(p, _t(y_true), beta=0.0).backward()
    np.testing.assert_array_equal(g, p.grad.numpy())


def test_asymmetric_weights_side_and_defaults():
    # under_weight applies where y_pred < y_true; r = 0 takes over_weight (value and gradient are 0 there).
    loss = L.asymmetric_huber([0.0, 4.0, 1.0, 1.5], [1.0, 1.0, 1.0, 1.0], reduction="none")
    # defaults delta=1, under_weight=2, over_weight=1: [2 * 0.5, 1 * (3 - 0.5), 0, 1 * 0.125]
    np.testing.assert_allclose(loss, [1.0, 2.5, 0.0, 0.125], rtol=1e-15)
    assert L.asymmetric_huber.info.defaults == {"delta": 1.0, "under_weight": 2.0, "over_weight": 1.0}
    assert L.asymmetric_mse.info.defaults == {"under_weight": 3.0, "over_weight": 1.0}


# --------------------------------------------------------------------------- kinks and extremes


@pytest.mark.parametrize("delta", [0.5, 1.0, 1.5])
def test_huber_and_smooth_l1_at_the_kinks_match_pytorch(delta):
    r = np.array([-delta, 0.0, delta, -2 * delta, 2 * delta])
    y_true = np.linspace(-1.0, 1.0, 5)
    y_pred = y_true + r
    for loss, fn, kw in (
        (L.huber, F.huber_loss, {"delta": delta}),
        (L.smooth_l1, F.smooth_l1_loss, {"beta": delta}),
    ):
        p = _t(y_pred, grad=True)
        reference = fn(p, _t(y_true), reduction="sum", **kw)
        reference.backward()
        value, grad = loss.value_and_grad(y_pred, y_true, reduction="sum", **kw)
        assert value == pytest.approx(reference.item(), rel=1e-14)
        np.testing.assert_allclose(grad, p.grad.numpy(), rtol=1e-14, atol=0)
    # At |r| = delta both branches agree: value delta^2/2 (Huber) and gradient +-delta.
    np.testing.assert_allclose(
        L.huber.grad(y_pred[:3], y_true[:3], reduction="none", delta=delta), [-delta, 0, delta], rtol=1e-12
    )


def test_mae_and_quantile_subgradient_zero_at_the_kink():
    for loss, params in ((L.mae, {}), (L.quantile, {"tau": 0.2}), (L.smooth_l1, {"beta": 0.0})):
        np.testing.assert_array_equal(loss.grad([1.0, -2.0], [1.0, -2.0], **params), [0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_residuals_stay_finite(dtype):
    y_pred = np.array([1e4, -1e4, 0.0], dtype=dtype)
    y_true = np.zeros(3, dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = L.log_cosh.value_and_grad(y_pred, y_true, reduction="none")
    assert value.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(value, [1e4 - math.log(2), 1e4 - math.log(2), 0.0], rtol=1e-6)
    np.testing.assert_array_equal(grad, [1.0, -1.0, 0.0])
    for name, params, expected in (
        ("huber", {"delta": 1.0}, 1e4 - 0.5),
        ("smooth_l1", {"beta": 2.0}, 1e4 - 1.0),
        ("quantile", {"tau": 0.3}, 0.3e4),  # under-prediction by 1e4 costs tau * 1e4
        ("asymmetric_huber", {}, 2 * (1e4 - 0.5)),
    ):
        loss = L.get(name)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            v, g = loss.value_and_grad(y_pred[1:2], y_true[1:2], reduction="none", **params)
        assert v.dtype == dtype and np.isfinite(g).all(), name
        np.testing.assert_allclose(v, [expected], rtol=1e-6, err_msg=name)


def test_log_cosh_fused_kernel_at_extremes_in_float32():
    rng = np.random.default_rng(1)
    y_pred = rng.normal(0, 1e3, 4096).astype(np.float32)
    y_pred[:4] = [1e4, -1e4, 0.0, 1e-3]
    y_true = np.zeros_like(y_pred)
    with ll.config(block_size=256), np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = L.log_cosh.value_and_grad(y_pred, y_true)
    direct = L.log_cosh(y_pred.astype(np.float64), y_true.astype(np.float64), reduction="none")
    assert value.dtype == np.float32 and grad.dtype == np.float32
    assert float(value) == pytest.approx(direct.mean(), rel=1e-5)
    np.testing.assert_allclose(grad, np.tanh(y_pred.astype(np.float64)) / y_pred.size, rtol=1e-6)


def test_log_cosh_hessian_is_sech_squared():
    r = np.array([-3.0, 0.0, 0.5, 20.0])
    h = L.log_cosh.hessian_diag(r, np.zeros(4), reduction="sum")
    np.testing.assert_allclose(h, 1.0 / np.cosh(r) ** 2, rtol=1e-9, atol=1e-17)


# --------------------------------------------------------------------------- Poisson NLL


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_nll_matches_pytorch_on_counts_with_zeros_and_ones(log_input, full):
    # Integer targets including 0 and 1, where the Stirling term is masked out (target <= 1).
    y_true = np.array([0.0, 1.0, 2.0, 5.0, 0.0, 1.0, 7.0, 3.0])
    y_pred = np.array([0.1, -1.0, 0.7, 1.6, 0.0, 2.0, 1.9, 1.0])
    if not log_input:
        y_pred = np.abs(y_pred)  # rates, including 0 (log(0 + eps))
    for reduction in ("mean", "sum", "none"):
        p = _t(y_pred, grad=True)
        reference = F.poisson_nll_loss(p, _t(y_true), log_input=log_input, full=full, reduction=reduction)
        reference.sum().backward()
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value, grad = L.poisson_nll.value_and_grad(
                y_pred, y_true, log_input=log_input, full=full, reduction=reduction
            )
        np.testing.assert_allclose(value, reference.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(grad, p.grad.numpy(), rtol=1e-12)


def test_poisson_nll_by_hand():
    # log_input: exp(x) - y x at x = log 2, y = 3: 2 - 3 log 2; gradient exp(x) - y = -1.
    value, grad = L.poisson_nll.value_and_grad([math.log(2.0)], [3.0])
    assert float(value) == pytest.approx(2 - 3 * math.log(2), rel=1e-14)
    assert float(grad[0]) == pytest.approx(-1.0, rel=1e-14)
    # full=True adds y log y - y + log(2 pi y)/2 = 3 log 3 - 3 + log(6 pi)/2 for y = 3 > 1.
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(6 * math.pi)
    assert float(L.poisson_nll([math.log(2.0)], [3.0], full=True)) == pytest.approx(
        2 - 3 * math.log(2) + stirling, rel=1e-14
    )
    # Rates: x - y log(x + eps) at x = 3, y = 3 (the minimum): 3 - 3 log 3, gradient ~ 0.
    value, grad = L.poisson_nll.value_and_grad([3.0], [3.0], log_input=False)
    assert float(value) == pytest.approx(3 - 3 * math.log(3 + 1e-8), rel=1e-14)
    assert abs(float(grad[0])) < 1e-8


def test_poisson_nll_domains_and_flags():
    with pytest.raises(
        ValueError, match=r"poisson_nll: y_pred must hold non-negative rates \(log_input=False\)"
    ):
        L.poisson_nll([-0.5, 1.0], [1.0, 1.0], log_input=False)
    L.poisson_nll([-0.5, 1.0], [1.0, 1.0])  # log-rates may be negative
    with pytest.raises(ValueError, match="poisson_nll: y_true must hold non-negative numbers"):
        L.poisson_nll([0.5, 1.0], [-1.0, 1.0])
    with pytest.raises(TypeError, match=r"poisson_nll: log_input must be True or False, got log_input='yes'"):
        L.poisson_nll([0.5], [1.0], log_input="yes")
    with pytest.raises(TypeError, match="poisson_nll: full must be True or False, got full=1"):
        L.poisson_nll([0.5], [1.0], full=1)
    with pytest.raises(ValueError, match="poisson_nll: eps must be > 0, got eps=0"):
        L.poisson_nll([0.5], [1.0], eps=0)


# --------------------------------------------------------------------------- Gaussian NLL


def test_gaussian_nll_by_hand():
    # mean 1, target 3, var 4: (log 4 + 4/4)/2; d/dmean = r/var = -0.5; d/dvar = (1/var - r^2/var^2)/2 = 0.
    value, (d_mean, d_var) = L.gaussian_nll.value_and_grad([1.0], [3.0], [4.0])
    assert float(value) == pytest.approx(0.5 * (math.log(4.0) + 1.0), rel=1e-15)
    assert (float(d_mean[0]), float(d_var[0])) == (-0.5, 0.0)
    full = L.gaussian_nll([1.0], [3.0], [4.0], full=True)
    assert float(full) == pytest.approx(0.5 * (math.log(4.0) + 1.0 + math.log(2 * math.pi)), rel=1e-15)


VAR_SHAPES = [
    pytest.param((4, 3), id="heteroscedastic"),
    pytest.param((4,), id="one-per-sample"),
    pytest.param((4, 1), id="trailing-1"),
    pytest.param((1, 3), id="leading-1"),
]


@pytest.mark.parametrize("var_shape", VAR_SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_matches_pytorch_with_broadcast_var_and_clamping(var_shape, reduction, full):
    rng = np.random.default_rng(0)
    y_pred, y_true = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    var = rng.uniform(0.1, 2.0, size=var_shape)
    var.flat[0] = 1e-9  # below eps: clamped, gradient passed straight through as PyTorch does
    var.flat[-1] = 0.0
    p, v = _t(y_pred, grad=True), _t(var, grad=True)
    reference = F.gaussian_nll_loss(p, _t(y_true), v, full=full, reduction=reduction)
    reference.sum().backward()
    value, (d_mean, d_var) = L.gaussian_nll.value_and_grad(
        y_pred, y_true, var, full=full, reduction=reduction
    )
    np.testing.assert_allclose(value, reference.detach().numpy(), rtol=1e-12)
    assert d_mean.shape == y_pred.shape and d_var.shape == var.shape
    np.testing.assert_allclose(d_mean, p.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(d_var, v.grad.numpy(), rtol=1e-12)


def test_gaussian_nll_scalar_var_is_pytorchs_float_var():
    rng = np.random.default_rng(1)
    y_pred, y_true = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    reference = F.gaussian_nll_loss(_t(y_pred), _t(y_true), 0.7)
    value, (_, d_var) = L.gaussian_nll.value_and_grad(y_pred, y_true, 0.7)
    assert float(value) == pytest.approx(reference.item(), rel=1e-12)
    # One shared variance: its gradient is the sum over every element's.
    per_element = L.gaussian_nll.grad(y_pred, y_true, np.full((5, 2), 0.7))[1]
    assert d_var.shape == () and float(d_var) == pytest.approx(per_element.sum(), rel=1e-12)


def test_gaussian_nll_torch_tensors_autograd_matches_pytorch_at_clamped_var():
    y_pred, y_true = _t([0.5, -1.0, 2.0], grad=True), _t([0.0, 0.0, 1.0])
    var = _t([1e-9, 0.3, 2.0], grad=True)
    value = L.gaussian_nll(y_pred, y_true, var, reduction="sum")
    assert isinstance(value, torch.Tensor)
    value.backward()
    p, v = _t([0.5, -1.0, 2.0], grad=True), _t([1e-9, 0.3, 2.0], grad=True)
    reference = F.gaussian_nll_loss(p, _t([0.0, 0.0, 1.0]), v, reduction="sum")
    reference.backward()
    assert value.item() == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(y_pred.grad.numpy(), p.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var.grad.numpy(), v.grad.numpy(), rtol=1e-12)


def test_gaussian_nll_sample_weight_and_float32():
    y_pred, y_true, var = np.array([1.0, 2.0]), np.array([0.0, 0.0]), np.array([1.0, 4.0])
    per = L.gaussian_nll(y_pred, y_true, var, reduction="none")
    weighted = L.gaussian_nll(y_pred, y_true, var, sample_weight=[2.0, 0.5])
    assert float(weighted) == pytest.approx((2.0 * per[0] + 0.5 * per[1]) / 2, rel=1e-14)
    v32, (g_mean, g_var) = L.gaussian_nll.value_and_grad(
        *(x.astype(np.float32) for x in (y_pred, y_true, var))
    )
    assert v32.dtype == np.float32 and g_mean.dtype == np.float32 and g_var.dtype == np.float32
    # A Python float var does not promote float32 inputs.
    v32, (g_mean, g_var) = L.gaussian_nll.value_and_grad(
        y_pred.astype(np.float32), y_true.astype(np.float32), 0.5
    )
    assert v32.dtype == np.float32 and g_mean.dtype == np.float32 and g_var.dtype == np.float32


def test_gaussian_nll_errors_name_the_argument():
    y = np.zeros((4, 3))
    with pytest.raises(
        ValueError, match="gaussian_nll: var must hold non-negative numbers, got a value -1.0"
    ):
        L.gaussian_nll(y, y, np.full((4, 3), -1.0))
    bad = np.ones((4, 3))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="gaussian_nll: var contains NaN"):
        L.gaussian_nll(y, y, bad)
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="gaussian_nll: var contains infinite values"):
        L.gaussian_nll(y, y, bad)
    with pytest.raises(
        ValueError, match=r"gaussian_nll: var must have y_pred's shape \(4, 3\).*got var of shape"
    ):
        L.gaussian_nll(y, y, np.ones((2, 3)))
    with pytest.raises(ValueError, match="var must have"):
        L.gaussian_nll(y, y, np.ones((1, 1)))  # two mismatched axes: PyTorch refuses it too
    with pytest.raises(ValueError, match="gaussian_nll: y_true contains NaN"):
        L.gaussian_nll(y, np.full((4, 3), np.nan), np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"y_pred and y_true must have the same shape, got \(4, 3\) and \(4, 2\)"
    ):
        L.gaussian_nll(y, np.zeros((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="gaussian_nll: y_pred is empty"):
        L.gaussian_nll(np.zeros((0, 3)), np.zeros((0, 3)), np.ones((0, 3)))
    with pytest.raises(TypeError, match=r"gaussian_nll: expected 3 arrays \(y_pred, y_true, var\), got 2"):
        L.gaussian_nll(y, y)
    with pytest.raises(ValueError, match="gaussian_nll: eps must be > 0, got eps=-1e-06"):
        L.gaussian_nll(y, y, np.ones((4, 3)), eps=-1e-6)


# --------------------------------------------------------------------------- parameter errors


@pytest.mark.parametrize(
    ("name", "params", "error", "message"),
    [
        ("quantile", {"tau": 0.0}, ValueError, r"quantile: tau must be in \(0, 1\), got tau=0.0"),
        ("quantile", {"tau": 1.0}, ValueError, r"quantile: tau must be in \(0, 1\), got tau=1.0"),
        ("quantile", {"tau": 1.5}, ValueError, r"quantile: tau must be in \(0, 1\), got tau=1.5"),
        ("quantile", {"tau": "0.5"}, TypeError, "quantile: tau must be a real number, got tau='0.5'"),
        ("smooth_l1", {"beta": -1.0}, ValueError, "smooth_l1: beta must be >= 0, got beta=-1.0"),
        ("smooth_l1", {"beta": math.inf}, ValueError, "smooth_l1: beta must be finite, got beta=inf"),
        ("huber", {"delta": 0.0}, ValueError, "huber: delta must be > 0, got delta=0.0"),
        ("asymmetric_mse", {"under_weight": 0.0}, ValueError, "asymmetric_mse: under_weight must be > 0"),
        ("asymmetric_mse", {"over_weight": -2}, ValueError, "asymmetric_mse: over_weight must be > 0"),
        ("asymmetric_huber", {"delta": -1}, ValueError, "asymmetric_huber: delta must be > 0, got delta=-1"),
        ("asymmetric_huber", {"under_weight": True}, TypeError, "under_weight must be a real number"),
        ("log_cosh", {"delta": 1.0}, TypeError, "log_cosh: unknown parameter.*delta; valid parameters: none"),
    ],
)
def test_bad_parameters_raise_naming_them(name, params, error, message):
    with pytest.raises(error, match=message):
        L.get(name)([1.0, 2.0], [0.0, 0.0], **params)


def test_registered_names_and_aliases():
    assert set(L.names(task="regression")) >= {
        "mse",
        "mae",
        "huber",
        "smooth_l1",
        "quantile",
        "log_cosh",
        "asymmetric_mse",
        "asymmetric_huber",
        "poisson_nll",
        "gaussian_nll",
    }
    assert L.get("pinball") is L.quantile
    assert L.get("log-cosh") is L.log_cosh
    assert L.gaussian_nll.info.inputs == ("y_pred", "y_true", "var")
    assert L.gaussian_nll.info.differentiable_inputs == ("y_pred", "var")
