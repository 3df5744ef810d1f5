"""Small pieces several experiments share: a converged line fit, a line's distance to the truth."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import losslab as ll

__all__ = ["fit_line", "line_distance", "train"]


def train(model: Any, X: np.ndarray, y: np.ndarray, **kwargs: Any) -> ll.train.History:
    """``ll.train.fit`` without progress bar and without per-step input checks (the inputs are ours)."""
    with ll.config(validate=False):
        return ll.train.fit(model, X, y, progress=False, **kwargs)


def fit_line(
    X: np.ndarray,
    y: np.ndarray,
    loss: str,
    loss_params: Mapping[str, Any] | None = None,
    *,
    epochs: int = 400,
    lr: float = 0.5,
) -> tuple[float, float, ll.train.History]:
    """Fit ``y = w x + b`` to convergence: full-batch gradient descent, cosine-decayed rate.

    The decay to zero lets the non-smooth losses (MAE, quantile) settle on their minimizer
    instead of oscillating around it. The fit runs on the standardized feature and the
    median-centred target, and the line is mapped back (:math:`w = w'/s`,
    :math:`b = b' + c - w' m / s`): every residual, hence the loss, is unchanged, so the minimizer is
    the same -- only better scaled for the optimizer. Returns ``(w, b, history)`` (the history is
    the standardized fit's).
    """
    m, s = float(X[:, 0].mean()), float(X[:, 0].std()) or 1.0
    c = float(np.median(y))
    opt = ll.optim.sgd(lr=ll.optim.schedules.cosine_decay(lr, T_max=epochs))
    history = train(
        ll.models.Linear(1),
        (X - m) / s,
        y - c,
        loss=loss,
        loss_params=loss_params,
        optimizer=opt,
        epochs=epochs,
    )
    w_std, b_std = float(history.params["W"][0, 0]), float(history.params["b"][0])
    return w_std / s, b_std + c - w_std * m / s, history


def line_distance(w: float, b: float, w_true: float, b_true: float, low: float, high: float) -> float:
    r"""Root-mean-square vertical distance between two lines over ``[low, high]``:
    :math:`\sqrt{\frac{1}{h-l}\int_l^h ((w-w^*)x + (b-b^*))^2\,dx}`."""
    dw, db = w - w_true, b - b_true
    # mean of (dw x + db)^2 over a uniform x on [low, high]
    m1 = (low + high) / 2
    m2 = (low * low + low * high + high * high) / 3
    return float(np.sqrt(dw * dw * m2 + 2 * dw * db * m1 + db * db))
