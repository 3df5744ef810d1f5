"""Regression losses: per-element penalties of the residual r = y_pred - y_true.

Each declaration reads top to bottom: the formula, its derivative right under it, the optional
Hessian and fused NumPy kernel (one cache-sized block: returns the block's loss sum and writes
``scale * dl/dy_pred`` into ``out``), then the metadata. Under-prediction means
``y_pred < y_true`` (r < 0) everywhere in this module.

>>> import losslab as ll
>>> float(ll.losses.smooth_l1([5.0], [3.0], beta=1.5)), float(ll.losses.huber([5.0], [3.0], delta=1.5))
(1.25, 1.875)
>>> y_pred, y_true = [1.0, 4.0], [2.0, 2.0]
>>> float(2 * ll.losses.quantile(y_pred, y_true, tau=0.5)) == float(ll.losses.mae(y_pred, y_true))
True
>>> float(ll.losses.asymmetric_mse([8.0, 12.0], [10.0, 10.0], under_weight=3.0, over_weight=1.0))
8.0
>>> float(ll.losses.log_cosh([1e4], [0.0]))  # |r| - log 2, no overflow
9999.30685281944
>>> value, (d_mean, d_var) = ll.losses.gaussian_nll.value_and_grad([1.0], [3.0], [4.0])
>>> float(value), float(d_mean[0]), float(d_var[0])
(1.1931471805599454, -0.5, 0.0)
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from losslab._core.arrays import as_float, is_numpy_namespace, result_float_dtype
from losslab._core.config import get_config
from losslab._core.validation import check_bool, check_in_range, check_positive
from losslab.losses._spec import (
    NONNEGATIVE,
    POSITIVE,
    REAL,
    Domain,
    ElementwiseLoss,
    Loss,
    Param,
    Terms,
    _check_nonempty,
    _check_shape_equal,
    register,
)

__all__ = [
    "asymmetric_huber",
    "asymmetric_mse",
    "gaussian_nll",
    "huber",
    "log_cosh",
    "mae",
    "mse",
    "poisson_nll",
    "quantile",
    "smooth_l1",
]

LOG2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _same(rng: np.random.Generator, **_: Any) -> tuple[np.ndarray, np.ndarray]:
    """Perfect prediction: y_pred == y_true."""
    y = rng.normal(size=(4, 3))
    return y.copy(), y


def _side_weight(xp: ModuleType, r: Any, under_weight: float, over_weight: float) -> Any:
    """``under_weight`` where r < 0 (y_pred < y_true), ``over_weight`` elsewhere (exact)."""
    under = xp.astype(r < 0, r.dtype)
    return under_weight * under + over_weight * (1.0 - under)


# --------------------------------------------------------------------------- MSE


def _mse_value(xp, y_pred, y_true):
    r = y_pred - y_true
    return r * r


def _mse_grad(xp, y_pred, y_true):
    return 2.0 * (y_pred - y_true)


def _mse_element_kernel(p, t):
    # Scalar form for the optional compiled path: (loss, dloss/dp).
    r = p - t
    return r * r, 2.0 * r


@ElementwiseLoss.compiled(_mse_element_kernel)
def _mse_kernel(p, t, out, scale):
    # einsum's contiguous dot stays on this thread; np.dot wakes BLAS threads for every block.
    r = np.subtract(p, t, out=out)
    value = float(np.einsum("i,i->", r, r))
    if out is not None:
        np.multiply(out, 2.0 * scale, out=out)
    return value


mse = register(
    ElementwiseLoss(
        "mse",
        task="regression",
        value=_mse_value,
        grad=_mse_grad,
        hessian=lambda xp, y_pred, y_true: 2.0 * xp.ones_like(y_pred),
        kernel=_mse_kernel,
        perfect=_same,
        torch_fn=lambda torch, p, t, *, reduction: torch.nn.functional.mse_loss(p, t, reduction=reduction),
        info=dict(
            summary="Mean squared error: the Gaussian negative log-likelihood up to constants.",
            formula=r"\ell = (\hat y - y)^2",
            gradient=r"\partial\ell/\partial\hat y = 2(\hat y - y)",
            convex=True,
            torch="torch.nn.MSELoss",
            keras="keras.losses.MeanSquaredError",
            aliases=("l2", "mean_squared_error"),
            use_when="Regression with roughly Gaussian noise and no gross outliers.",
            conventions="No 1/2 factor (as PyTorch and Keras); the gradient is 2(y_pred - y_true)/n.",
            references=("Gauss (1809), least squares",),
        ),
    )
)


# --------------------------------------------------------------------------- MAE


def _mae_value(xp, y_pred, y_true):
    return xp.abs(y_pred - y_true)


def _mae_grad(xp, y_pred, y_true):
    return xp.sign(y_pred - y_true)


def _mae_element_kernel(p, t):
    # Scalar form for the optional compiled path; sign(0) = 0 as np.sign. Branch-free so it
    # vectorizes; a NaN residual gives a NaN loss (validation off) but a 0 slope.
    r = p - t
    return abs(r), (1.0 if r > 0.0 else 0.0) - (1.0 if r < 0.0 else 0.0)


@ElementwiseLoss.compiled(_mae_element_kernel)
def _mae_kernel(p, t, out, scale):
    r = p - t
    if out is None:
        return float(np.abs(r).sum())
    np.sign(r, out=out)
    value = float(np.einsum("i,i->", out, r))
    np.multiply(out, scale, out=out)
    return value


mae = register(
    ElementwiseLoss(
        "mae",
        task="regression",
        value=_mae_value,
        grad=_mae_grad,
        hessian=lambda xp, y_pred, y_true: xp.zeros_like(y_pred),
        kernel=_mae_kernel,
        perfect=_same,
        grad_bound=lambda: 1.0,
        torch_fn=lambda torch, p, t, *, reduction: torch.nn.functional.l1_loss(p, t, reduction=reduction),
        info=dict(
            summary="Mean absolute error: the Laplace negative log-likelihood; estimates the median.",
            formula=r"\ell = |\hat y - y|",
            gradient=r"\partial\ell/\partial\hat y = \operatorname{sign}(\hat y - y)",
            convex=True,
            robust=True,
            differentiable=False,
            torch="torch.nn.L1Loss",
            keras="keras.losses.MeanAbsoluteError",
            aliases=("l1", "mean_absolute_error"),
            use_when="Robust regression: outliers in the targets; median-like fits.",
            conventions="The subgradient at r = 0 is 0 (PyTorch's choice).",
        ),
    )
)


# --------------------------------------------------------------------------- Huber


def _huber_value(xp, y_pred, y_true, delta):
    r = y_pred - y_true
    a = xp.abs(r)
    return xp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _huber_grad(xp, y_pred, y_true, delta):
    return xp.clip(y_pred - y_true, -delta, delta)


def _huber_element_kernel(p, t, delta):
    # Scalar form for the optional compiled path: g = clip(r, -delta, delta); min/max vectorize
    # (a NaN residual gives a NaN loss, validation off, but a clipped slope).
    r = p - t
    g = min(max(r, -delta), delta)
    return g * (r - 0.5 * g), g


@ElementwiseLoss.compiled(_huber_element_kernel)
def _huber_kernel(p, t, out, scale, delta):
    # With g = clip(r, -delta, delta): huber(r) = g * (r - g / 2) on both branches.
    r = p - t
    g = np.clip(r, -delta, delta, out=out)
    value = float(np.einsum("i,i->", g, r) - 0.5 * np.einsum("i,i->", g, g))
    if out is not None:
        np.multiply(out, scale, out=out)
    return value


huber = register(
    ElementwiseLoss(
        "huber",
        task="regression",
        params={"delta": Param(1.0, check_positive, "threshold between the quadratic and linear parts")},
        value=_huber_value,
        grad=_huber_grad,
        hessian=lambda xp, y_pred, y_true, delta: xp.astype(xp.abs(y_pred - y_true) <= delta, y_pred.dtype),
        kernel=_huber_kernel,
        perfect=_same,
        grad_bound=lambda delta: delta,
        test_params=({"delta": 1.0}, {"delta": 0.5}, {"delta": 2.0}),
        torch_fn=lambda torch, p, t, *, reduction, delta: torch.nn.functional.huber_loss(
            p, t, reduction=reduction, delta=delta
        ),
        info=dict(
            summary="Huber loss: quadratic for |r| <= delta, linear beyond; robust and smooth.",
            formula=(
                r"\ell = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\"
                r" \delta(|r| - \tfrac12\delta) & |r| > \delta \end{cases},\ r = \hat y - y"
            ),
            gradient=r"\partial\ell/\partial\hat y = \operatorname{clip}(r, -\delta, \delta)",
            convex=True,
            robust=True,
            torch="torch.nn.HuberLoss(delta=delta)",
            keras="keras.losses.Huber(delta=delta)",
            use_when="Regression with some outliers: MSE's smoothness near 0, MAE's robustness in the tails.",
            conventions="huber(delta) == delta * smooth_l1(beta=delta); Keras and PyTorch agree.",
            references=("Huber (1964), Robust Estimation of a Location Parameter",),
        ),
    )
)


# --------------------------------------------------------------------------- smooth L1


def _smooth_l1_value(xp, y_pred, y_true, beta):
    r = y_pred - y_true
    a = xp.abs(r)
    if beta == 0.0:
        return a
    return xp.where(a < beta, (0.5 / beta) * r * r, a - 0.5 * beta)


def _smooth_l1_grad(xp, y_pred, y_true, beta):
    r = y_pred - y_true
    return xp.sign(r) if beta == 0.0 else xp.clip(r, -beta, beta) / beta


def _smooth_l1_hessian(xp, y_pred, y_true, beta):
    if beta == 0.0:
        return xp.zeros_like(y_pred)
    return xp.astype(xp.abs(y_pred - y_true) < beta, y_pred.dtype) / beta


def _smooth_l1_element_kernel(p, t, beta):
    # Scalar form for the optional compiled path (beta = 0 is the L1 loss).
    r = p - t
    if beta == 0.0:
        return abs(r), (1.0 if r > 0.0 else 0.0) - (1.0 if r < 0.0 else 0.0)
    g = min(max(r, -beta), beta)
    return g * (r - 0.5 * g) / beta, g / beta


@ElementwiseLoss.compiled(_smooth_l1_element_kernel)
def _smooth_l1_kernel(p, t, out, scale, beta):
    # With g = clip(r, -beta, beta): smooth_l1(r) = g * (r - g / 2) / beta on both branches.
    if beta == 0.0:
        return _mae_kernel(p, t, out, scale)
    r = p - t
    g = np.clip(r, -beta, beta, out=out)
    value = float(np.einsum("i,i->", g, r) - 0.5 * np.einsum("i,i->", g, g)) / beta
    if out is not None:
        np.divide(out, beta, out=out)
        np.multiply(out, scale, out=out)
    return value


smooth_l1 = register(
    ElementwiseLoss(
        "smooth_l1",
        task="regression",
        params={"beta": Param(1.0, lambda w, n, v: check_positive(w, n, v, strict=False), "quadratic zone")},
        value=_smooth_l1_value,
        grad=_smooth_l1_grad,
        hessian=_smooth_l1_hessian,
        kernel=_smooth_l1_kernel,
        perfect=_same,
        grad_bound=lambda beta: 1.0,
        test_params=({"beta": 1.0}, {"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}),
        torch_fn=lambda torch, p, t, *, reduction, beta: torch.nn.functional.smooth_l1_loss(
            p, t, reduction=reduction, beta=beta
        ),
        info=dict(
            summary="Smooth L1 loss: r^2/(2 beta) for |r| < beta, |r| - beta/2 beyond; L1 when beta = 0.",
            formula=(
                r"\ell = \begin{cases} \tfrac{r^2}{2\beta} & |r| < \beta \\"
                r" |r| - \tfrac12\beta & |r| \ge \beta \end{cases},\ r = \hat y - y"
            ),
            gradient=r"\partial\ell/\partial\hat y = \operatorname{clip}(r/\beta, -1, 1)"
            r"\ (\operatorname{sign}(r)\text{ for }\beta = 0)",
            convex=True,
            robust=True,
            torch="torch.nn.SmoothL1Loss(beta=beta)",
            aliases=("smooth_l1_loss",),
            use_when="Box regression (Fast R-CNN) and other outlier-prone targets; the slope is capped at 1.",
            conventions=(
                "PyTorch's SmoothL1Loss exactly: strict |r| < beta for the quadratic part, beta = 0 gives "
                "L1 (gradient sign(r), 0 at r = 0). huber(delta) == delta * smooth_l1(beta=delta): "
                "the gradient of smooth_l1 is bounded by 1 whatever beta, Huber's by delta."
            ),
            references=("Girshick (2015), Fast R-CNN, arXiv:1504.08083",),
        ),
    )
)


# --------------------------------------------------------------------------- quantile (pinball)


def _quantile_value(xp, y_pred, y_true, tau):
    u = y_true - y_pred
    return xp.maximum(tau * u, (tau - 1.0) * u)


def _quantile_grad(xp, y_pred, y_true, tau):
    # -tau where y_pred < y_true (under-prediction), 1 - tau where y_pred > y_true, 0 at the kink.
    r = y_pred - y_true
    return xp.astype(r > 0, r.dtype) * (1.0 - tau) - xp.astype(r < 0, r.dtype) * tau


def _quantile_element_kernel(p, t, tau):
    # Scalar form for the optional compiled path: the slope g as in the NumPy kernel, loss g * r.
    r = p - t
    g = (1.0 if r > 0.0 else 0.0) - tau if r != 0.0 else 0.0
    return g * r, g


@ElementwiseLoss.compiled(_quantile_element_kernel)
def _quantile_kernel(p, t, out, scale, tau):
    # pinball(r) = (1 - tau) * r for r > 0 and -tau * r for r < 0: sum = sum(r * g) with g the gradient.
    r = p - t
    g = np.empty_like(r) if out is None else out
    np.greater(r, 0.0, out=g)
    g -= tau
    g[r == 0.0] = 0.0
    value = float(np.einsum("i,i->", g, r))
    if out is not None:
        np.multiply(out, scale, out=out)
    return value


quantile = register(
    ElementwiseLoss(
        "quantile",
        task="regression",
        params={
            "tau": Param(
                0.5,
                lambda w, n, v: check_in_range(w, n, v, 0.0, 1.0, closed="neither"),
                "the quantile level in (0, 1)",
            )
        },
        value=_quantile_value,
        grad=_quantile_grad,
        hessian=lambda xp, y_pred, y_true, tau: xp.zeros_like(y_pred),  # piecewise linear
        kernel=_quantile_kernel,
        perfect=_same,
        grad_bound=lambda tau: max(tau, 1.0 - tau),
        test_params=({"tau": 0.5}, {"tau": 0.1}, {"tau": 0.9}),
        info=dict(
            traits=("asymmetric",),
            summary="Quantile (pinball) loss: estimates the tau-quantile of y given x.",
            formula=r"\ell = \max\big(\tau(y - \hat y),\ (\tau - 1)(y - \hat y)\big)",
            gradient=(
                r"\partial\ell/\partial\hat y = \begin{cases} -\tau & \hat y < y \\"
                r" 1 - \tau & \hat y > y \\ 0 & \hat y = y \end{cases}"
            ),
            convex=True,
            robust=True,
            differentiable=False,
            aliases=("pinball",),
            use_when="Prediction intervals and asymmetric costs: tau = 0.9 fits the 90th percentile.",
            conventions=(
                "tau weights under-prediction (y_pred < y_true); tau = 0.5 is half the MAE "
                "(2 * quantile(0.5) == mae). The subgradient at r = 0 is 0, as MAE's. Same formula "
                "as TensorFlow Addons' PinballLoss; PyTorch and Keras core have none."
            ),
            references=("Koenker & Bassett (1978), Regression Quantiles, Econometrica 46(1)",),
        ),
    )
)


# --------------------------------------------------------------------------- log-cosh


def _log_cosh_value(xp, y_pred, y_true):
    # log cosh r = |r| + log(1 + e^{-2|r|}) - log 2: e^{-2|r|} <= 1, so nothing overflows.
    a = xp.abs(y_pred - y_true)
    return a + xp.log1p(xp.exp(-2.0 * a)) - LOG2


def _log_cosh_grad(xp, y_pred, y_true):
    return xp.tanh(y_pred - y_true)


def _log_cosh_hessian(xp, y_pred, y_true):
    # sech^2 r = 1 - tanh^2 r, written as 4 e^{-2|r|} / (1 + e^{-2|r|})^2: no cancellation for big |r|.
    e = xp.exp(-2.0 * xp.abs(y_pred - y_true))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _log_cosh_kernel(p, t, out, scale):
    r = p - t
    if out is not None:
        np.tanh(r, out=out)
        np.multiply(out, scale, out=out)
    np.abs(r, out=r)
    value = float(r.sum())
    np.multiply(r, -2.0, out=r)
    np.exp(r, out=r)
    np.log1p(r, out=r)
    return value + float(r.sum()) - LOG2 * r.size


log_cosh = register(
    ElementwiseLoss(
        "log_cosh",
        task="regression",
        value=_log_cosh_value,
        grad=_log_cosh_grad,
        hessian=_log_cosh_hessian,
        kernel=_log_cosh_kernel,
        perfect=_same,
        grad_bound=lambda: 1.0,
        info=dict(
            summary="Log-cosh loss: about r^2/2 near 0 and |r| - log 2 in the tails; smooth everywhere.",
            formula=r"\ell = \log\cosh r = |r| + \log(1 + e^{-2|r|}) - \log 2,\ r = \hat y - y",
            gradient=r"\partial\ell/\partial\hat y = \tanh r",
            convex=True,
            robust=True,
            keras="keras.losses.LogCosh",
            aliases=("logcosh",),
            use_when="Huber-like robustness with a gradient (tanh r) and Hessian that are smooth everywhere.",
            conventions=(
                "Evaluated as |r| + softplus(-2|r|) - log 2, finite at |r| = 1e4 in float32 (cosh "
                "overflows there). Mean over all elements; Keras averages over the last axis first, "
                "which is the same mean for equal-length rows. No PyTorch built-in."
            ),
            references=("Chen et al. (2019), Log Hyperbolic Cosine Loss Improves VAE, OpenReview",),
        ),
    )
)


# --------------------------------------------------------------------------- asymmetric MSE


def _asymmetric_mse_value(xp, y_pred, y_true, under_weight, over_weight):
    r = y_pred - y_true
    return _side_weight(xp, r, under_weight, over_weight) * (r * r)


def _asymmetric_mse_grad(xp, y_pred, y_true, under_weight, over_weight):
    r = y_pred - y_true
    return 2.0 * _side_weight(xp, r, under_weight, over_weight) * r


def _asymmetric_mse_hessian(xp, y_pred, y_true, under_weight, over_weight):
    return 2.0 * _side_weight(xp, y_pred - y_true, under_weight, over_weight)


asymmetric_mse = register(
    ElementwiseLoss(
        "asymmetric_mse",
        task="regression",
        params={
            "under_weight": Param(3.0, check_positive, "weight where y_pred < y_true (under-prediction)"),
            "over_weight": Param(1.0, check_positive, "weight where y_pred >= y_true (over-prediction)"),
        },
        value=_asymmetric_mse_value,
        grad=_asymmetric_mse_grad,
        hessian=_asymmetric_mse_hessian,
        perfect=_same,
        test_params=(
            {"under_weight": 3.0, "over_weight": 1.0},
            {"under_weight": 1.0, "over_weight": 2.5},
            {"under_weight": 1.0, "over_weight": 1.0},
        ),
        info=dict(
            traits=("asymmetric",),
            summary="Asymmetric MSE: squared error weighted by under_weight when y_pred < y_true.",
            formula=(
                r"\ell = w(r)\, r^2,\ w(r) = \begin{cases} w_{\text{under}} & r < 0 \\"
                r" w_{\text{over}} & r \ge 0 \end{cases},\ r = \hat y - y"
            ),
            gradient=r"\partial\ell/\partial\hat y = 2\, w(r)\, r",
            convex=True,
            use_when="Under- and over-prediction cost differently (demand: running short is worse).",
            conventions=(
                "Under-prediction means y_pred < y_true. Defaults under_weight=3.0, over_weight=1.0 are "
                "the curriculum's AsymmetricMSE (underestimation costs 3x). Equal weights w give w * mse. "
                "No PyTorch or Keras built-in."
            ),
            references=("Newey & Powell (1987), Asymmetric Least Squares Estimation, Econometrica 55(4)",),
        ),
    )
)


# --------------------------------------------------------------------------- asymmetric Huber


def _asymmetric_huber_value(xp, y_pred, y_true, delta, under_weight, over_weight):
    r = y_pred - y_true
    return _side_weight(xp, r, under_weight, over_weight) * _huber_value(xp, y_pred, y_true, delta)


def _asymmetric_huber_grad(xp, y_pred, y_true, delta, under_weight, over_weight):
    r = y_pred - y_true
    return _side_weight(xp, r, under_weight, over_weight) * xp.clip(r, -delta, delta)


def _asymmetric_huber_hessian(xp, y_pred, y_true, delta, under_weight, over_weight):
    r = y_pred - y_true
    inside = xp.astype(xp.abs(r) <= delta, r.dtype)
    return _side_weight(xp, r, under_weight, over_weight) * inside


asymmetric_huber = register(
    ElementwiseLoss(
        "asymmetric_huber",
        task="regression",
        params={
            "delta": Param(1.0, check_positive, "threshold between the quadratic and linear parts"),
            "under_weight": Param(2.0, check_positive, "weight where y_pred < y_true (under-prediction)"),
            "over_weight": Param(1.0, check_positive, "weight where y_pred >= y_true (over-prediction)"),
        },
        value=_asymmetric_huber_value,
        grad=_asymmetric_huber_grad,
        hessian=_asymmetric_huber_hessian,
        perfect=_same,
        grad_bound=lambda delta, under_weight, over_weight: delta * max(under_weight, over_weight),
        test_params=(
            {"delta": 1.0, "under_weight": 2.0, "over_weight": 1.0},
            {"delta": 0.5, "under_weight": 1.0, "over_weight": 3.0},
            {"delta": 2.0, "under_weight": 1.0, "over_weight": 1.0},
        ),
        info=dict(
            traits=("asymmetric",),
            summary="Asymmetric Huber: the Huber loss weighted by under_weight when y_pred < y_true.",
            formula=(
                r"\ell = w(r)\, \operatorname{huber}_\delta(r),\ w(r) = \begin{cases}"
                r" w_{\text{under}} & r < 0 \\ w_{\text{over}} & r \ge 0 \end{cases},\ r = \hat y - y"
            ),
            gradient=r"\partial\ell/\partial\hat y = w(r)\, \operatorname{clip}(r, -\delta, \delta)",
            convex=True,
            robust=True,
            use_when="Asymmetric costs with outliers (delivery ETAs: late is worse than early).",
            conventions=(
                "Under-prediction means y_pred < y_true. Defaults delta=1.0, under_weight=2.0, "
                "over_weight=1.0 follow the curriculum's ETA case (under-prediction penalized 2x). Equal "
                "weights w give w * huber(delta). No PyTorch or Keras built-in."
            ),
            references=("Huber (1964), Robust Estimation of a Location Parameter",),
        ),
    )
)


# --------------------------------------------------------------------------- Poisson NLL

RATE = Domain("non-negative rates (log_input=False)", 0.0, sample_low=0.2, sample_high=4.0)


def _stirling(xp, y_true):
    """PyTorch's full=True term y log y - y + log(2 pi y)/2, only where y > 1 (0 elsewhere)."""
    big = y_true > 1
    t = xp.where(big, y_true, xp.ones_like(y_true))
    return xp.where(big, t * xp.log(t) - t + 0.5 * xp.log((2.0 * math.pi) * t), xp.zeros_like(t))


def _poisson_value(xp, y_pred, y_true, log_input, full, eps):
    loss = xp.exp(y_pred) - y_true * y_pred if log_input else y_pred - y_true * xp.log(y_pred + eps)
    return loss + _stirling(xp, y_true) if full else loss


def _poisson_grad(xp, y_pred, y_true, log_input, full, eps):
    return xp.exp(y_pred) - y_true if log_input else 1.0 - y_true / (y_pred + eps)


def _poisson_hessian(xp, y_pred, y_true, log_input, full, eps):
    if log_input:
        return xp.exp(y_pred)
    s = y_pred + eps
    return y_true / (s * s)


def _poisson_sample(rng: np.random.Generator, *, log_input: bool, **_: Any) -> tuple[np.ndarray, ...]:
    y_true = rng.poisson(2.0, size=(4, 3)).astype(np.float64) + rng.uniform(0.0, 0.5, size=(4, 3))
    y_pred = rng.uniform(-2.0, 1.5, size=(4, 3)) if log_input else RATE.sample(rng, (4, 3))
    return y_pred, y_true


class _PoissonNLL(ElementwiseLoss):
    """Poisson NLL: y_pred is a log-rate (any real) or, with ``log_input=False``, a rate >= 0."""

    def _prepare(self, xp: ModuleType, inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
        y_pred, y_true = super()._prepare(xp, inputs, params)
        if not params["log_input"] and get_config().validate:
            RATE.check(xp, y_pred, "y_pred", self.name)
        return y_pred, y_true


poisson_nll = register(
    _PoissonNLL(
        "poisson_nll",
        task="regression",
        params={
            "log_input": Param(True, check_bool, "y_pred is the log-rate (True) or the rate (False)"),
            "full": Param(False, check_bool, "add the Stirling term of log(y!) where y > 1"),
            "eps": Param(1e-8, check_positive, "added to the rate inside the log when log_input=False"),
        },
        value=_poisson_value,
        grad=_poisson_grad,
        hessian=_poisson_hessian,
        y_true_domain=NONNEGATIVE,
        sample=_poisson_sample,
        nonnegative=False,
        test_params=(
            {"log_input": True, "full": False},
            {"log_input": True, "full": True},
            {"log_input": False, "full": False},
            {"log_input": False, "full": True},
        ),
        torch_fn=lambda torch, p, t, *, reduction, log_input, full, eps=1e-8: (
            torch.nn.functional.poisson_nll_loss(
                p, t, log_input=log_input, full=full, eps=eps, reduction=reduction
            )
        ),
        info=dict(
            traits=("counts",),
            summary="Poisson negative log-likelihood for count targets, on log-rates or rates.",
            formula=(
                r"\ell = e^{\hat y} - y\hat y\ \text{(log\_input)},\quad"
                r" \ell = \hat y - y\log(\hat y + \epsilon)\ \text{(rates)};"
                r"\ +\,[y > 1]\,(y\log y - y + \tfrac12\log(2\pi y))\ \text{if full}"
            ),
            gradient=(
                r"\partial\ell/\partial\hat y = e^{\hat y} - y\ \text{(log\_input)},\quad"
                r" 1 - y/(\hat y + \epsilon)\ \text{(rates)}"
            ),
            convex=True,
            torch="torch.nn.PoissonNLLLoss(log_input=log_input, full=full, eps=eps)",
            keras="keras.losses.Poisson (log_input=False, eps=1e-7)",
            use_when="Count targets (events per interval, clicks, arrivals) with variance close to the mean.",
            conventions=(
                "PyTorch's PoissonNLLLoss exactly: log-rates by default, eps=1e-8 only when "
                "log_input=False, the Stirling approximation of log(y!) only where y > 1. It is the NLL "
                "up to log(y!) (full=False), so it can be negative: no zero at perfect prediction. "
                "Keras' Poisson is log_input=False with eps=1e-7."
            ),
            references=("McCullagh & Nelder (1989), Generalized Linear Models, ch. 6",),
        ),
    )
)


# --------------------------------------------------------------------------- Gaussian NLL


def _gaussian_var_view(name: str, var: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``var`` broadcasts as against ``y_pred`` of ``shape``, with PyTorch's rules.

    Same shape (heteroscedastic); a 0-d ``var`` (one variance for everything, PyTorch's float
    ``var``); ``shape[:-1]`` (one variance per sample: a trailing axis of 1 is added); or the
    same rank with exactly one axis of size 1 where the sizes differ (homoscedastic along it).
    """
    vs = tuple(var.shape)
    if vs == shape or vs == ():
        return vs
    if vs == shape[:-1]:
        return (*vs, 1)
    if len(vs) == len(shape):
        differ = [v for s, v in zip(shape, vs) if s != v]
        if differ == [1]:
            return vs
    raise ValueError(
        f"{name}: var must have y_pred's shape {shape}, {shape[:-1]} (one variance per sample), "
        f"a shape with one axis of size 1, or be a scalar; got var of shape {vs}"
    )


def _gaussian_prepare(xp: ModuleType, y_pred: Any, y_true: Any, var: Any, **_: Any) -> tuple[Any, ...]:
    name = "gaussian_nll"
    if is_numpy_namespace(xp):
        y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
        # A Python number var is weakly typed (PyTorch's float var): it does not promote float32.
        var = var if isinstance(var, (int, float)) else np.asarray(var)
    dtype = result_float_dtype(xp, *(x for x in (y_pred, y_true, var) if hasattr(x, "dtype")))
    y_pred = as_float(xp, y_pred, "y_pred", name, dtype=dtype)
    y_true = as_float(xp, y_true, "y_true", name, dtype=dtype)
    var = as_float(xp, var, "var", name, dtype=dtype)
    _check_shape_equal(name, y_pred, y_true)
    _check_nonempty(name, y_pred)
    _gaussian_var_view(name, var, tuple(y_pred.shape))
    if get_config().validate:
        REAL.check(xp, y_pred, "y_pred", name)
        REAL.check(xp, y_true, "y_true", name)
        NONNEGATIVE.check(xp, var, "var", name)
    return y_pred, y_true, var


def _gaussian_forward(xp, y_pred, y_true, var, *, need_grad, full, eps):
    shape = tuple(y_pred.shape)
    view = _gaussian_var_view("gaussian_nll", var, shape)
    v = xp.reshape(var, view)
    # Clamp at eps as PyTorch does: no_grad in-place, so d/dvar passes straight through the clamp.
    clamped = xp.maximum(v, xp.full_like(v, eps))
    if hasattr(v, "detach"):
        clamped = clamped.detach() + (v - v.detach())
    r = y_pred - y_true
    r2_over_v = r * r / clamped
    loss = 0.5 * (xp.log(clamped) + r2_over_v)
    if full:
        loss = loss + HALF_LOG_2PI
    if not need_grad:
        return Terms(loss)

    def vjp(cot: Any) -> tuple[Any, Any]:
        d_mean = (r / clamped) * cot
        d_var = xp.broadcast_to((0.5 / clamped) * (1.0 - r2_over_v), shape) * cot
        axes = tuple(i for i in range(len(shape)) if view == () or (view[i] == 1 and shape[i] != 1))
        if axes:
            d_var = xp.sum(d_var, axis=axes, keepdims=True)
        return d_mean, xp.reshape(d_var, tuple(var.shape))

    return Terms(loss, vjp=vjp)


def _gaussian_sample(rng: np.random.Generator, **_: Any) -> tuple[np.ndarray, ...]:
    shape = (4, 3)
    return rng.uniform(-3, 3, shape), rng.uniform(-3, 3, shape), POSITIVE.sample(rng, shape)


gaussian_nll = register(
    Loss(
        "gaussian_nll",
        task="regression",
        params={
            "full": Param(False, check_bool, "add the constant log(2 pi)/2"),
            "eps": Param(1e-6, check_positive, "var is clamped below at eps"),
        },
        inputs=("y_pred", "y_true", "var"),
        differentiable=("y_pred", "var"),
        prepare=_gaussian_prepare,
        forward=_gaussian_forward,
        sample=_gaussian_sample,
        nonnegative=False,
        test_params=({"full": False}, {"full": True}, {"full": False, "eps": 1e-3}),
        torch_fn=lambda torch, p, t, v, *, reduction, full, eps=1e-6: torch.nn.functional.gaussian_nll_loss(
            p, t, v, full=full, eps=eps, reduction=reduction
        ),
        info=dict(
            summary="Gaussian negative log-likelihood with a predicted mean (y_pred) and variance (var).",
            formula=(
                r"\ell = \tfrac12\big(\log \sigma^2 + (\hat y - y)^2/\sigma^2\big)"
                r"\ [+\,\tfrac12\log 2\pi],\ \sigma^2 = \max(\mathrm{var}, \epsilon)"
            ),
            gradient=(
                r"\partial\ell/\partial\hat y = (\hat y - y)/\sigma^2,\quad"
                r" \partial\ell/\partial\mathrm{var} = \tfrac12\big(1/\sigma^2 - (\hat y - y)^2/\sigma^4\big)"
            ),
            torch="torch.nn.GaussianNLLLoss(full=full, eps=eps)",
            y_pred="finite real numbers (the predicted mean)",
            y_true="finite real numbers",
            use_when="Regression that predicts its own uncertainty (heteroscedastic noise).",
            conventions=(
                "PyTorch's gaussian_nll_loss exactly: arguments (y_pred, y_true, var); var is clamped "
                "at eps and, as in PyTorch, d/dvar at clamped entries is the derivative at eps passed "
                "straight through (not 0); var may have y_pred's shape, y_pred.shape[:-1], one size-1 "
                "axis, or be a scalar; 'mean' averages over y_pred's elements. Gradients are returned "
                "as (d/dy_pred, d/dvar). Negative var raises; convex in y_pred for fixed var, not "
                "jointly, and it can be negative (log var < 0)."
            ),
            references=(
                "Nix & Weigend (1994), Estimating the Mean and Variance of the Target Probability "
                "Distribution, ICNN",
            ),
        ),
    )
)
