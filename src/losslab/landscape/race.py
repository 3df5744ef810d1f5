r"""Races on test functions in any dimension, and the convergence rates of momentum on quadratics.

:func:`race` is :func:`losslab.train.race` (one implementation): paths, values, gradient norms,
divergence with its step, optional gradient noise, second-order optimizers fed the Hessian.

Rates (Goh, "Why Momentum Really Works", Distill 2017). Heavy-ball momentum in PyTorch's form,
:math:`z_{k+1} = \beta z_k + \nabla f(w_k)`, :math:`w_{k+1} = w_k - \alpha z_{k+1}`
(``ll.optim.sgd(lr=alpha, momentum=beta)``), on :math:`f(w) = \tfrac12 w^\top A w` decouples along
the eigenvectors of :math:`A`: each eigenvalue :math:`\lambda` evolves
:math:`(z, w) \mapsto R (z, w)` with

.. math:: R = \begin{pmatrix} \beta & \lambda \\ -\alpha\beta & 1 - \alpha\lambda \end{pmatrix},
   \qquad \sigma^2 - (1 + \beta - \alpha\lambda)\sigma + \beta = 0,

so the error shrinks like :math:`\rho^k` with :math:`\rho = \max_\lambda \max|\sigma|`. When
:math:`(1 + \beta - \alpha\lambda)^2 < 4\beta` the roots are complex and :math:`|\sigma| = \sqrt\beta`;
:math:`\beta = 0` is gradient descent, :math:`\rho = \max_\lambda |1 - \alpha\lambda|`. The
curriculum's EMA form :math:`v = \beta v + (1 - \beta) g`, :math:`w \mathrel{-}= \eta v` is the same
iteration with :math:`\alpha = \eta (1 - \beta)`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_int
from losslab.optim import sgd
from losslab.optim.base import step as optimizer_step
from losslab.train.race import RaceEntry, race

__all__ = ["RaceEntry", "RateMap", "momentum_rate", "momentum_rate_map", "race"]


def _eigenvalues(where: str, eigenvalues: npt.ArrayLike) -> np.ndarray:
    lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"{where}: eigenvalues must be finite and >= 0, got eigenvalues={eigenvalues!r}")
    return lam


def momentum_rate(lr: npt.ArrayLike, beta: npt.ArrayLike, eigenvalues: npt.ArrayLike) -> np.ndarray | float:
    r"""Convergence rate :math:`\rho` of heavy-ball momentum (``beta = 0``: gradient descent) on a quadratic.

    :math:`\rho = \max_\lambda \max |\sigma_\pm(\lambda)|`, the roots of
    :math:`\sigma^2 - (1 + \beta - \alpha\lambda)\sigma + \beta = 0` (see the module docstring);
    :math:`\sqrt\beta` in the complex regime, :math:`|1 - \alpha\lambda|` for :math:`\beta = 0`.
    :math:`\rho < 1` converges (the error shrinks like :math:`\rho^k`), :math:`\rho > 1` diverges.
    ``lr`` (:math:`\alpha`) and ``beta`` broadcast against each other; the result has their shape
    (a float for scalars). The optimum over :math:`\alpha, \beta` is
    :math:`(\sqrt\kappa - 1)/(\sqrt\kappa + 1)`, :math:`\kappa = \lambda_{max}/\lambda_{min}`.

    >>> float(momentum_rate(0.15, 0.0, [1.0, 10.0]))          # max(|1 - 0.15|, |1 - 1.5|)
    0.85
    >>> round(float(momentum_rate(4 / (1 + 10**0.5) ** 2, ((10**0.5 - 1) / (10**0.5 + 1)) ** 2, [1.0, 10.0])), 6)
    0.519494
    """
    where = "momentum_rate"
    a = np.asarray(lr, dtype=np.float64)
    b = np.asarray(beta, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(a > 0)):
        raise ValueError(f"{where}: lr must be finite and > 0, got lr={lr!r}")
    if not (np.all(np.isfinite(b)) and np.all((b >= 0) & (b < 1))):
        raise ValueError(f"{where}: beta must be in [0, 1), got beta={beta!r}")
    lam = _eigenvalues(where, eigenvalues)
    a, b = np.broadcast_arrays(a, b)
    s = 1.0 + b[..., None] - a[..., None] * lam  # trace of R
    disc = s * s - 4.0 * b[..., None]
    root = np.sqrt(np.maximum(disc, 0.0))
    real = np.maximum(np.abs(s + root), np.abs(s - root)) / 2.0
    rate = np.where(disc < 0, np.sqrt(b)[..., None], real).max(axis=-1)
    return float(rate) if rate.ndim == 0 else rate


class RateMap(NamedTuple):
    """Measured and closed-form rates on an ``(lr, beta)`` grid; ``[i, j]`` is at ``(lrs[j], betas[i])``."""

    lrs: np.ndarray
    betas: np.ndarray
    measured: np.ndarray  # (len(betas), len(lrs))
    predicted: np.ndarray  # momentum_rate on the same grid


def momentum_rate_map(
    eigenvalues: npt.ArrayLike,
    lrs: npt.ArrayLike,
    betas: npt.ArrayLike,
    *,
    steps: int = 200,
    window: int = 20,
) -> RateMap:
    r"""Measure heavy ball's rate by running ``ll.optim.sgd(momentum=beta)`` on :math:`\tfrac12\sum_i\lambda_i w_i^2`.

    For each :math:`\beta` one optimizer runs every learning rate at once (the gradient is
    pre-scaled, :math:`\alpha\nabla f` with ``lr=1``, which is the same iteration), from
    :math:`w_0 = (1, \dots, 1)`. The rate is read off the error envelope
    :math:`e_k = \max_{k - W < j \le k} \lVert w_j\rVert` (window :math:`W` = ``window``, which
    smooths the oscillation of complex roots):
    :math:`\hat\rho = (e_T / e_{T/2})^{2/T}`, :math:`T` = ``steps``. It matches
    :func:`momentum_rate` up to the polynomial factor of a repeated root (at critical damping,
    within :math:`2^{2/T} - 1`).

    >>> m = momentum_rate_map([1.0, 10.0], [0.05, 0.1], [0.0, 0.5])
    >>> bool(np.allclose(m.measured, m.predicted, rtol=0.02))
    True
    """
    where = "momentum_rate_map"
    lam = _eigenvalues(where, eigenvalues)
    lr_axis = np.asarray(lrs, dtype=np.float64).reshape(-1)
    beta_axis = np.asarray(betas, dtype=np.float64).reshape(-1)
    predicted = np.asarray(momentum_rate(lr_axis[None, :], beta_axis[:, None], lam))
    T = check_int(where, "steps", steps, minimum=4)  # noqa: N806
    W = check_int(where, "window", window, minimum=1)  # noqa: N806
    if W > T // 2:
        raise ValueError(f"{where}: window must be <= steps // 2, got window={W}, steps={T}")
    measured = np.empty((beta_axis.size, lr_axis.size))
    scale = lr_axis[:, None] * lam[None, :]
    for i, beta in enumerate(beta_axis):
        opt = sgd(lr=1.0, momentum=float(beta))
        w = np.ones((lr_axis.size, lam.size))
        state = opt.init(w)
        norms = np.empty((T + 1, lr_axis.size))
        norms[0] = np.linalg.norm(w, axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(1, T + 1):
                w, state = optimizer_step(opt, scale * w, state, w)
                norms[k] = np.linalg.norm(w, axis=1)
        late = norms[T - W + 1 : T + 1].max(axis=0)
        mid = norms[T // 2 - W + 1 : T // 2 + 1].max(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            measured[i] = np.where(mid > 0, (late / mid) ** (1.0 / (T - T // 2)), 0.0)
    return RateMap(lr_axis, beta_axis, measured, predicted)
