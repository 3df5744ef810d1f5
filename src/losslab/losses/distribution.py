r"""Distribution losses: 1-D and sliced Wasserstein distances between empirical samples.

Both work on the quantile functions of (weighted) empirical distributions:

.. math::
    W_p(\mu, \nu) = \Big(\int_0^1 |F_\mu^{-1}(t) - F_\nu^{-1}(t)|^p\,dt\Big)^{1/p}

For empirical distributions :math:`F^{-1}` is a step function. Merging the breakpoints (the
normalized cumulative weights) of both splits :math:`[0, 1]` into intervals
:math:`(t_{k-1}, t_k]` on which both quantiles are constant, so
:math:`W_p^p = \sum_k (t_k - t_{k-1})\,|u_{(i_k)} - v_{(j_k)}|^p` -- a sort, a merge and a sum,
computed in the inputs' array namespace (NumPy, PyTorch, ...). Its gradient with respect to a
sample value is the sum of :math:`p\,(t_k - t_{k-1})\,|d_k|^{p-1}\operatorname{sign}(d_k)` over
the intervals where that value is the quantile (locally constant coupling; at ties in the values
any split is a subgradient).

>>> import losslab as ll
>>> float(ll.losses.wasserstein_1d([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]))
5.0
>>> float(ll.losses.wasserstein_1d([0.0, 2.0], [0.0, 0.0], p=2))  # sqrt((0 + 4) / 2)
1.4142135623730951
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from losslab._core.arrays import as_float, is_numpy_namespace, result_float_dtype
from losslab._core.config import get_config
from losslab._core.validation import check_int, check_number
from losslab.losses._spec import REAL, Loss, Param, Terms, register

__all__ = ["sliced_wasserstein", "wasserstein_1d"]


# --------------------------------------------------------------------------- shared helpers


def _native(xp: ModuleType, x: Any) -> Any:
    """``x`` as an array of ``xp`` (NumPy arrays and lists converted for foreign namespaces)."""
    if is_numpy_namespace(xp):
        return np.asarray(x)
    return x if hasattr(x, "dtype") and not isinstance(x, (np.ndarray, np.generic)) else xp.asarray(x)


def _check_p(where: str, name: str, value: Any) -> float:
    out = check_number(where, name, value)
    if out < 1:
        raise ValueError(f"{where}: {name} must be >= 1 (W_p is a metric for p >= 1), got {name}={value!r}")
    return out


def _check_weights_param(where: str, name: str, value: Any) -> Any:
    if value is None or hasattr(value, "shape"):
        return value
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: {name} must be array-like of numbers or None, got {name}={value!r}"
        ) from None


def _take(xp: ModuleType, a: Any, idx: Any) -> Any:
    return xp.take_along_axis(a, idx, axis=-1)


def _cumulative(xp: ModuleType, values: Any, weights: Any) -> tuple[Any, Any]:
    """Sorting permutation and normalized cumulative weights of each row (``weights`` may be None)."""
    perm = xp.argsort(values, axis=-1, stable=True)
    n = values.shape[-1]
    if weights is None:
        steps = xp.arange(1, n + 1, dtype=values.dtype) / n
        return perm, xp.broadcast_to(steps, tuple(values.shape))
    cw = xp.cumulative_sum(_take(xp, weights, perm), axis=-1)
    return perm, cw / cw[..., -1:]


def _wasserstein_pp(xp: ModuleType, u: Any, v: Any, uw: Any, vw: Any, p: float):
    """``W_p^p`` per row of ``u`` (..., n) and ``v`` (..., m), scaled, with a VJP ``g -> (du, dv)``.

    Returns ``(total, vjp, s)``. For p = 1: ``total = W_1`` and ``s = None``. Otherwise ``s`` (a
    kept last axis) is the largest quantile gap of the row and ``total = sum dt (|d| / s)^p``, so
    ``W_p = s total^(1/p)`` without overflow for any p (p = 1e300 gives the largest gap, the
    exact limit); ``vjp`` is then the VJP of ``s * total`` with ``s`` held fixed.
    """
    n, m = u.shape[-1], v.shape[-1]
    batch = tuple(u.shape[:-1])
    perm_u, cu = _cumulative(xp, u, uw)
    perm_v, cv = _cumulative(xp, v, vw)
    us, vs = _take(xp, u, perm_u), _take(xp, v, perm_v)
    t_all = xp.concat([cu, cv], axis=-1)
    flag = xp.concat([xp.ones(batch + (n,), dtype=xp.int64), xp.zeros(batch + (m,), dtype=xp.int64)], axis=-1)
    order = xp.argsort(t_all, axis=-1, stable=True)
    ts = _take(xp, t_all, order)
    is_u = _take(xp, flag, order)
    # interval (t_{k-1}, t_k] uses the quantile u_(i) with i = number of u-breakpoints before k
    iu = xp.clip(xp.cumulative_sum(is_u, axis=-1) - is_u, 0, n - 1)
    is_v = 1 - is_u
    iv = xp.clip(xp.cumulative_sum(is_v, axis=-1) - is_v, 0, m - 1)
    dt = xp.concat([ts[..., :1], ts[..., 1:] - ts[..., :-1]], axis=-1)
    d = _take(xp, us, iu) - _take(xp, vs, iv)
    a = xp.abs(d)
    scale = None
    if p == 1.0:
        total = xp.sum(dt * a, axis=-1)
    else:
        gap = xp.max(xp.where(dt > 0, a, xp.zeros_like(a)), axis=-1, keepdims=True)
        scale = xp.where(gap > 0, gap, xp.ones_like(gap))
        r = xp.where(dt > 0, a / scale, xp.zeros_like(a))  # <= 1 (empty intervals count 0)
        total = xp.sum(dt * r**p, axis=-1)

    def vjp(g: Any) -> tuple[Any, Any]:
        g = g if isinstance(g, (int, float)) else g[..., None]
        slope = xp.sign(d) if scale is None else p * r ** (p - 1.0) * xp.sign(d)
        cum = xp.cumulative_sum(g * dt * slope, axis=-1)
        pos = xp.argsort(order, axis=-1, stable=True)  # merged position of each breakpoint
        last = cum[..., -1:]

        def segments(positions: Any) -> Any:
            # value j collects the intervals (pos_{j-1}, pos_j], the last one up to the end
            ends = xp.concat([_take(xp, cum, positions[..., :-1]), last], axis=-1)
            return ends - xp.concat([xp.zeros_like(last), ends[..., :-1]], axis=-1)

        gu = segments(pos[..., :n])
        gv = -segments(pos[..., n:])
        inv_u = xp.argsort(perm_u, axis=-1, stable=True)
        inv_v = xp.argsort(perm_v, axis=-1, stable=True)
        return _take(xp, gu, inv_u), _take(xp, gv, inv_v)

    return total, vjp, scale


def _root(xp: ModuleType, total: Any, p: float, scale: Any = None) -> tuple[Any, Any]:
    """``W = scale * total^(1/p)`` and ``dW/d(scale * total)`` with ``scale`` held fixed, i.e.
    ``total^(1/p - 1) / p`` (0 where ``total = 0`` and p > 1); p = 1: ``(total, None)``."""
    if p == 1.0:
        return total, None
    pos = total > 0
    safe = xp.where(pos, total, xp.ones_like(total))
    w = xp.where(pos, safe ** (1.0 / p), xp.zeros_like(total))
    if scale is not None:
        w = scale * w
    slope = xp.where(pos, safe ** (1.0 / p - 1.0) / p, xp.zeros_like(total))
    return w, slope


def _values(xp: ModuleType, x: Any, name: str, where: str, dtype: Any, min_ndim: int) -> Any:
    x = as_float(xp, _native(xp, x), name, where, dtype=dtype)
    if x.ndim < min_ndim:
        raise ValueError(f"{where}: {name} must have at least {min_ndim} axes, got shape {tuple(x.shape)}")
    axis = -1 if min_ndim == 1 else -2
    if x.shape[axis] == 0:
        raise ValueError(f"{where}: {name} is empty (shape {tuple(x.shape)}); a distribution needs a sample")
    if get_config().validate:
        REAL.check(xp, x, name, where)
    return x


def _weights(xp: ModuleType, w: Any, values: Any, name: str, where: str) -> Any:
    if w is None:
        return None
    w = as_float(xp, _native(xp, w), name, where, dtype=values.dtype)
    try:
        w = xp.broadcast_to(w, tuple(values.shape))
    except (ValueError, RuntimeError):
        raise ValueError(
            f"{where}: {name} of shape {tuple(w.shape)} does not broadcast against the values of shape "
            f"{tuple(values.shape)}"
        ) from None
    if get_config().validate:
        if not bool(xp.all(xp.isfinite(w))) or bool(xp.any(w < 0)):
            raise ValueError(f"{where}: {name} must hold finite non-negative weights")
        if bool(xp.any(xp.sum(w, axis=-1) <= 0)):
            raise ValueError(f"{where}: {name} must have a positive sum for every distribution")
    return w


# --------------------------------------------------------------------------- 1-D


def _w1d_prepare(xp, u_values, v_values, *, u_weights, v_weights, p):
    where = "wasserstein_1d"
    u_values, v_values = _native(xp, u_values), _native(xp, v_values)
    dtype = result_float_dtype(xp, u_values, v_values)
    u = _values(xp, u_values, "u_values", where, dtype, 1)
    v = _values(xp, v_values, "v_values", where, dtype, 1)
    if tuple(u.shape[:-1]) != tuple(v.shape[:-1]):
        raise ValueError(
            f"{where}: u_values and v_values must have the same leading (batch) shape, got "
            f"{tuple(u.shape)} and {tuple(v.shape)}"
        )
    return (
        u,
        v,
        _weights(xp, u_weights, u, "u_weights", where),
        _weights(xp, v_weights, v, "v_weights", where),
    )


def _w1d_forward(xp, u, v, uw, vw, *, need_grad, u_weights, v_weights, p):
    total, vjp_pp, scale = _wasserstein_pp(xp, u, v, uw, vw, p)
    loss, slope = _root(xp, total, p, None if scale is None else scale[..., 0])
    if not need_grad:
        return Terms(loss)
    return Terms(loss, vjp=lambda cot: vjp_pp(cot if slope is None else cot * slope))


def _w1d_sample(rng, **_):
    return rng.normal(size=(3, 7)), rng.normal(0.5, 1.5, size=(3, 5))


def _w1d_perfect(rng, *, u_weights, v_weights, **_):
    """Equal distributions. Weighted: u = (a, b, c, d, e, e, e) against v = (a, b, c, d, e), equal
    in law for the declared test weights (v's weights are u's with the last three merged)."""
    if u_weights is None and v_weights is None:
        u = rng.normal(size=(3, 6))
        return u, u[:, ::-1].copy()
    v = rng.normal(size=(3, 5))
    return np.concatenate([v, v[:, -1:], v[:, -1:]], axis=1), v


wasserstein_1d = register(
    Loss(
        "wasserstein_1d",
        task="distribution",
        inputs=("u_values", "v_values"),
        differentiable=("u_values", "v_values"),
        params={
            "u_weights": Param(None, _check_weights_param, "non-negative weights of u_values (None: equal)"),
            "v_weights": Param(None, _check_weights_param, "non-negative weights of v_values (None: equal)"),
            "p": Param(1.0, _check_p, "order of the distance, >= 1"),
        },
        prepare=_w1d_prepare,
        forward=_w1d_forward,
        sample=_w1d_sample,
        perfect=_w1d_perfect,
        test_params=(
            {},
            {"p": 2},
            {"p": 1.5},
            {"u_weights": (1.0, 2.0, 0.5, 3.0, 1.0, 0.2, 1.5), "v_weights": (2.0, 4.0, 1.0, 6.0, 5.4)},
            {"v_weights": (1.0, 1.0, 1.0, 1.0, 3.0), "p": 3},
        ),
        info=dict(
            summary="1-D Wasserstein distance W_p between two (weighted) empirical distributions.",
            formula=(
                r"W_p = \Big(\int_0^1 |F_u^{-1}(t) - F_v^{-1}(t)|^p dt\Big)^{1/p}"
                r" = \Big(\sum_k \Delta t_k |u_{(i_k)} - v_{(j_k)}|^p\Big)^{1/p}"
            ),
            gradient=(
                r"\partial W_p/\partial u_{(i)} = W_p^{1-p}\sum_{k: i_k = i}\Delta t_k"
                r"|d_k|^{p-1}\operatorname{sign}(d_k),\ d_k = u_{(i_k)} - v_{(j_k)}"
            ),
            y_pred="u_values: samples (..., n), last axis the sample",
            y_true="v_values: samples (..., m), same leading shape",
            aliases=("wasserstein", "earth_movers_distance"),
            use_when="Comparing 1-D distributions (histograms of outputs, quantiles) with a true metric.",
            conventions=(
                "Returns W_p itself, not W_p^p (POT's wasserstein_1d returns W_p^p). p=1 equals "
                "scipy.stats.wasserstein_distance (with and without weights). Leading axes are a batch "
                "of independent distributions; the unreduced loss has the leading shape. Weights are "
                "not differentiable. For p > 1 the gradient at W_p = 0 is taken as 0."
            ),
            references=(
                "Villani (2009), Optimal Transport: Old and New, Remark 2.19",
                "Ramdas, Garcia, Cuturi (2017), On Wasserstein Two-Sample Testing, arXiv:1509.02237",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- sliced


def _check_seed(where: str, name: str, value: Any) -> Any:
    if value is None or isinstance(value, np.random.Generator):
        return value
    return check_int(where, name, value, minimum=0)


def _directions(seed: Any, dim: int, n: int) -> np.ndarray:
    """``n`` unit vectors in R^dim, uniform on the sphere (normalized Gaussians), as columns."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    theta = rng.normal(size=(dim, n))
    return theta / np.linalg.norm(theta, axis=0, keepdims=True)


def _sw_prepare(xp, x, y, **_):
    where = "sliced_wasserstein"
    x, y = _native(xp, x), _native(xp, y)
    dtype = result_float_dtype(xp, x, y)
    x = _values(xp, x, "x", where, dtype, 2)
    y = _values(xp, y, "y", where, dtype, 2)
    if tuple(x.shape[:-2]) != tuple(y.shape[:-2]) or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"{where}: x (..., n, d) and y (..., m, d) must share the batch shape and the dimension d, "
            f"got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    return x, y


def _sw_forward(xp, x, y, *, need_grad, n_projections, p, seed):
    theta = xp.asarray(_directions(seed, x.shape[-1], n_projections), dtype=x.dtype)
    px = xp.matrix_transpose(x @ theta)  # (..., L, n)
    py = xp.matrix_transpose(y @ theta)
    total, vjp_pp, scale = _wasserstein_pp(xp, px, py, None, None, p)
    weight = None
    if scale is None:
        loss, slope = _root(xp, xp.mean(total, axis=-1), p)
    else:
        # one scale for all projections: the largest, S; projection L enters as (s_L / S)^p
        big = xp.max(scale, axis=-2, keepdims=True)  # (..., 1, 1)
        ratio = (scale / big)[..., 0]  # (..., L), <= 1
        loss, slope = _root(xp, xp.mean(total * ratio**p, axis=-1), p, big[..., 0, 0])
        weight = ratio ** (p - 1.0)  # d(mean_L T_L ratio_L^p) / d(s_L T_L), times S
    if not need_grad:
        return Terms(loss)

    def vjp(cot: Any) -> tuple[Any, Any]:
        g = cot if slope is None else cot * slope
        g = g / n_projections if isinstance(g, (int, float)) else (g / n_projections)[..., None]
        if weight is not None:
            g = g * weight
        gpx, gpy = vjp_pp(g)
        theta_t = xp.matrix_transpose(theta)
        return xp.matrix_transpose(gpx) @ theta_t, xp.matrix_transpose(gpy) @ theta_t

    return Terms(loss, vjp=vjp)


def _sw_sample(rng, **_):
    return rng.normal(size=(6, 3)), rng.normal(0.5, 1.2, size=(5, 3))


def _sw_perfect(rng, **_):
    x = rng.normal(size=(6, 3))
    return x, x[::-1].copy()


sliced_wasserstein = register(
    Loss(
        "sliced_wasserstein",
        task="distribution",
        inputs=("x", "y"),
        differentiable=("x", "y"),
        params={
            "n_projections": Param(50, lambda w, n, v: check_int(w, n, v, minimum=1), "random directions"),
            "p": Param(2.0, _check_p, "order of the distance, >= 1"),
            "seed": Param(None, _check_seed, "int, np.random.Generator or None (fresh directions)"),
        },
        prepare=_sw_prepare,
        forward=_sw_forward,
        sample=_sw_sample,
        perfect=_sw_perfect,
        test_params=(
            {"seed": 0, "n_projections": 8},
            {"seed": 1, "n_projections": 5, "p": 1},
            {"seed": 2, "n_projections": 4, "p": 3},
        ),
        info=dict(
            summary="Sliced Wasserstein distance: W_p averaged over random 1-D projections of N-d samples.",
            formula=(
                r"SW_p = \Big(\frac1L\sum_{l=1}^L W_p^p(\theta_l^\top x, \theta_l^\top y)\Big)^{1/p},"
                r"\ \theta_l \sim \mathrm{Unif}(S^{d-1})"
            ),
            gradient=(
                r"\partial SW_p/\partial x_i = \frac{SW_p^{1-p}}{pL}\sum_l"
                r"\frac{\partial W_p^p}{\partial (\theta_l^\top x_i)}\,\theta_l"
            ),
            y_pred="x: samples (..., n, d)",
            y_true="y: samples (..., m, d), same d",
            use_when="Matching N-d distributions (generative models, domain adaptation) at O(L n log n).",
            conventions=(
                "Monte-Carlo over n_projections unit directions (normalized Gaussians) drawn from seed; "
                "seed=None draws fresh directions on every call (a stochastic estimate), so pass a seed "
                "for a deterministic loss. (mean_l W_p^p)^(1/p) as POT's sliced_wasserstein_distance; "
                "the directions differ from POT's random stream. Uniform sample weights."
            ),
            references=(
                "Rabin, Peyre, Delon, Bernot (2011), Wasserstein Barycenter and its Application to "
                "Texture Mixing",
                "Bonneel, Rabin, Peyre, Pfister (2015), Sliced and Radon Wasserstein Barycenters of Measures",
            ),
        ),
    )
)
