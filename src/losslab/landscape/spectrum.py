r"""The Hessian's eigenvalue density by stochastic Lanczos quadrature, and curvature maps over a slice.

**Stochastic Lanczos quadrature** (Ghorbani, Krishnan, Xiao 2019, arXiv:1901.10159; Lin, Saad, Yang
2016): for a unit random probe :math:`v` (Gaussian, normalized), :math:`m` Lanczos steps with full
reorthogonalization give a tridiagonal :math:`T_m = Q \Lambda Q^\top`; its eigenvalues
:math:`\lambda_j` (nodes) and weights :math:`\tau_j = Q_{1j}^2` (:math:`\sum_j \tau_j = 1`) form a
Gauss quadrature of the spectral measure seen from :math:`v`: :math:`\sum_j \tau_j \lambda_j^p =
v^\top H^p v` exactly for :math:`p < 2m`, and :math:`E_v[v^\top H^p v] = \operatorname{tr}(H^p)/n`.
Averaging over ``n_probes`` probes and smoothing each node with a Gaussian of width
``bandwidth`` gives the density

.. math::

    \hat\phi(t) = \frac{1}{n_v} \sum_{l=1}^{n_v} \sum_{j=1}^m \tau_j^{(l)}\,
    \frac{1}{\sigma\sqrt{2\pi}} e^{-(t - \lambda_j^{(l)})^2 / (2\sigma^2)},

which integrates to 1. Ghorbani et al. fix :math:`\sigma^2 = 10^{-5}` after rescaling the spectrum to
:math:`[-1, 1]`; the default here is :math:`\sigma = (\lambda_{max} - \lambda_{min}) / 100`.

**Curvature map** (:func:`eigenvalue_ratio_map`, Li et al. 2018, Fig. 7): the ratio
:math:`|\lambda_{min} / \lambda_{max}|` of the Hessian's extreme eigenvalues at every point of a
2-D slice, near 0 where the landscape is convex along every direction and large where it has
significant negative curvature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_int, check_positive
from losslab.landscape._flat import Flat
from losslab.landscape.hessian import Method, _matvec

__all__ = ["SpectralDensity", "eigenvalue_ratio_map", "lanczos", "spectral_density"]


def lanczos(matvec: Any, v0: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, beta)``: the diagonal and off-diagonal of the Lanczos tridiagonal matrix of ``matvec``.

    Full reorthogonalization against every earlier Lanczos vector (twice, for stability); stops
    early when the Krylov space is invariant (``beta`` below 1e-12 of the largest ``alpha``).
    """
    n = v0.size
    steps = min(steps, n)
    Q = np.zeros((steps, n))
    alpha = np.zeros(steps)
    beta = np.zeros(max(steps - 1, 0))
    q = v0 / np.linalg.norm(v0)
    for j in range(steps):
        Q[j] = q
        w = np.asarray(matvec(q), dtype=np.float64)
        alpha[j] = q @ w
        for _ in range(2):
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        if j == steps - 1:
            break
        b = float(np.linalg.norm(w))
        if b <= 1e-12 * max(1.0, float(np.abs(alpha[: j + 1]).max())):
            return alpha[: j + 1], beta[:j]
        beta[j] = b
        q = w / b
    return alpha, beta


@dataclass(frozen=True)
class SpectralDensity:
    """Nodes and weights per probe, and the smoothed density on a grid.

    ``nodes``/``weights``: one array per probe (Gauss quadrature nodes :math:`\\lambda_j` and weights
    :math:`\\tau_j`, summing to 1); ``grid``/``density``: :math:`\\hat\\phi` sampled on the grid;
    ``bandwidth``: the Gaussian's :math:`\\sigma`.
    """

    nodes: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    grid: np.ndarray
    density: np.ndarray
    bandwidth: float

    def moment(self, p: int) -> float:
        r"""The quadrature's estimate of :math:`\operatorname{tr}(H^p)/n`, averaged over the probes."""
        return float(np.mean([np.sum(w * x**p) for x, w in zip(self.nodes, self.weights)]))


def spectral_density(
    obj: Any,
    params: Any,
    *,
    n_probes: int = 10,
    lanczos_steps: int = 80,
    seed: int = 0,
    grid: npt.ArrayLike | int = 512,
    bandwidth: float | None = None,
    method: Method = "auto",
) -> SpectralDensity:
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature (see the module docstring).

    ``grid`` is the number of evaluation points (spanning the nodes plus five bandwidths each side)
    or the points themselves. Costs ``n_probes * lanczos_steps`` Hessian-vector products.
    """
    F = Flat(obj, params, "spectral_density")
    n_probes = check_int("spectral_density", "n_probes", n_probes, minimum=1)
    steps = check_int("spectral_density", "lanczos_steps", lanczos_steps, minimum=1)
    mv = _matvec(F, method, None, "spectral_density")
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    for _ in range(n_probes):
        alpha, beta = lanczos(mv, rng.standard_normal(F.n), steps)
        T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        lam, Q = np.linalg.eigh(T)
        nodes.append(lam)
        weights.append(Q[0] ** 2)
    lo = min(float(x.min()) for x in nodes)
    hi = max(float(x.max()) for x in nodes)
    if bandwidth is None:
        sigma = (hi - lo) / 100 if hi > lo else max(abs(hi), 1.0) * 1e-2
    else:
        sigma = check_positive("spectral_density", "bandwidth", bandwidth)
    if isinstance(grid, (int, np.integer)):
        count = check_int("spectral_density", "grid", grid, minimum=2)
        t = np.linspace(lo - 5 * sigma, hi + 5 * sigma, count)
    else:
        t = np.asarray(grid, dtype=np.float64)
        if t.ndim != 1 or t.size < 2 or not np.isfinite(t).all():
            raise ValueError(
                f"spectral_density: grid must be a count or a 1-D array of finite points, got shape {t.shape}"
            )
    density = np.zeros_like(t)
    for lam, w in zip(nodes, weights):
        density += (w[None, :] * np.exp(-((t[:, None] - lam[None, :]) ** 2) / (2 * sigma**2))).sum(axis=1)
    density /= n_probes * sigma * np.sqrt(2 * np.pi)
    return SpectralDensity(tuple(nodes), tuple(weights), t, density, float(sigma))


def eigenvalue_ratio_map(
    obj: Any,
    params: Any,
    d1: Any,
    d2: Any,
    alphas: npt.ArrayLike,
    betas: npt.ArrayLike,
    *,
    seed: int = 0,
    method: Method = "auto",
) -> np.ndarray:
    r""":math:`|\lambda_{min} / \lambda_{max}|` of the Hessian at :math:`\theta + \alpha d_1 + \beta d_2`.

    Shape ``(len(betas), len(alphas))``, ``[i, j]`` at ``(alphas[j], betas[i])`` (the slices' grid
    order). Each point costs two extreme-eigenvalue solves (:func:`~losslab.landscape.hessian_eigs`,
    ``k=1``, largest and smallest).
    """
    from losslab.landscape.hessian import hessian_eigs
    from losslab.landscape.slices import _axis

    F = Flat(obj, params, "eigenvalue_ratio_map")
    u, w = F.ravel(d1, "d1"), F.ravel(d2, "d2")
    a = _axis("eigenvalue_ratio_map", "alphas", alphas)
    b = _axis("eigenvalue_ratio_map", "betas", betas)
    out = np.empty((b.size, a.size))
    for i, beta in enumerate(b):
        for j, alpha in enumerate(a):
            p = F.unravel(F.x0 + alpha * u + beta * w)
            top = hessian_eigs(obj, p, k=1, which="largest", seed=seed, method=method)[0][0]
            bottom = hessian_eigs(obj, p, k=1, which="smallest", seed=seed, method=method)[0][0]
            out[i, j] = abs(bottom / top) if top != 0 else np.inf
    return out
