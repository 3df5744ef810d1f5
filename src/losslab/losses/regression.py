"""Regression losses: per-element penalties of the residual r = y_pred - y_true.

Each declaration reads top to bottom: the formula, its derivative right under it, the optional
Hessian and fused NumPy kernel (one cache-sized block: returns the block's loss sum and writes
``scale * dl/dy_pred`` into ``out``), then the metadata.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from losslab._core.validation import check_positive
from losslab.losses._spec import ElementwiseLoss, Param, register

__all__ = ["huber", "mae", "mse"]


def _same(rng: np.random.Generator, **_: Any) -> tuple[np.ndarray, np.ndarray]:
    """Perfect prediction: y_pred == y_true."""
    y = rng.normal(size=(4, 3))
    return y.copy(), y


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
    return abs(r), float(r > 0.0) - float(r < 0.0)


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
