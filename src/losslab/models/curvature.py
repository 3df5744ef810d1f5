r"""Second order and many points at once: exact Hessian-vector products and batched forward passes.

**Hessian-vector products** (:meth:`Model.hvp <losslab.models.Model.hvp>`) by Pearlmutter's
R-operator (Pearlmutter 1994, "Fast Exact Multiplication by the Hessian"):
:math:`H v = \mathcal R_v\{\nabla_\theta L\} = \frac{d}{dt}\nabla_\theta L(\theta + t v)\big|_{t=0}`,
the directional derivative of the manual backprop of :mod:`losslab.models._base` along the
parameter direction :math:`v = (V_l, c_l)`. A forward tangent pass (with :math:`\mathcal R\{h_0\} =
0`):

.. math::

    \mathcal R z_l = \mathcal R h_{l-1} W_l + h_{l-1} V_l + c_l, \quad
    \mathcal R h_l = f'(z_l) \odot \mathcal R z_l + [\text{skip}_l]\,\mathcal R h_{l-1},

then the loss, :math:`\mathcal R \delta_L = \nabla^2_{z_L} L\,\mathcal R z_L` (``loss.hvp`` on the
logits when the output is a sigmoid or softmax read through ``from_logits=True``; otherwise the
output map's Jacobian and second derivative are chained in), and a reverse pass through both:

.. math::

    \mathcal R\{\partial_{W_l} L\} = \mathcal R h_{l-1}^\top \delta_l + h_{l-1}^\top \mathcal R\delta_l,
    \quad \mathcal R\{\partial_{b_l} L\} = \mathbf 1^\top \mathcal R\delta_l,

    \mathcal R g_{l-1} = \mathcal R\delta_l W_l^\top + \delta_l V_l^\top + [\text{skip}_l]\,
    \mathcal R g_l, \quad
    \mathcal R\delta_{l-1} = f''(z_{l-1}) \odot \mathcal R z_{l-1} \odot g_{l-1} + f'(z_{l-1}) \odot
    \mathcal R g_{l-1},

with :math:`g_l = \partial L / \partial h_l`. It costs about two gradient evaluations, is exact
(no finite differences) and equals PyTorch's double backward
(``torch.autograd.functional.hvp``); ``relu``/``leaky_relu`` have :math:`f'' = 0`, as PyTorch takes
them.

**Batched forward** (:meth:`Model.apply_batched <losslab.models.Model.apply_batched>`): ``K``
parameter sets stacked on a leading axis (``W1`` of shape ``(K, n_0, n_1)``, ``b1`` ``(K, n_1)``, ...)
evaluated in one vectorized pass, output ``(K, n, n_out)``. The first layer is one matrix product
``X @ [W1^(1) | ... | W1^(K)]``; the others are stacked products.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from losslab._core import buffers as _buffers
from losslab._core.arrays import as_float
from losslab.losses._numerics import softmax_chain_hvp
from losslab.losses._spec import Loss, Reduction

if TYPE_CHECKING:
    from losslab.models._base import Model, Params

__all__ = ["check_stacked_params", "check_tangent", "forward_batched", "hvp"]


def check_tangent(model: Model, params: Params, v: Mapping[str, Any], where: str) -> Params:
    """``v`` as a dict of finite float arrays with the keys and shapes of ``params``."""
    if not isinstance(v, Mapping):
        raise TypeError(
            f"{model.name}.{where}: v must be a dict of arrays like params, got {type(v).__name__}"
        )
    extra = sorted(set(v) - set(params))
    missing = [k for k in params if k not in v]
    if missing or extra:
        raise ValueError(
            f"{model.name}.{where}: v must have the keys of params {list(params)}, "
            f"missing {missing}, unexpected {extra}"
        )
    out: Params = {}
    for key, ref in params.items():
        arr = as_float(np, v[key], f"v[{key!r}]", f"{model.name}.{where}", dtype=ref.dtype)
        if arr.shape != ref.shape:
            raise ValueError(f"{model.name}.{where}: v[{key!r}] must have shape {ref.shape}, got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{model.name}.{where}: v[{key!r}] contains NaN or infinite values")
        out[key] = arr
    return out


def hvp(
    model: Model,
    P: Params,
    X: np.ndarray,
    y: np.ndarray,
    V: Params,
    loss: Loss,
    loss_params: Mapping[str, Any],
    reduction: Reduction = "mean",
    sample_weight: Any = None,
) -> Params:
    """The unchecked R-operator core of :meth:`Model.hvp` (see the module docstring)."""
    loss.require_hvp()
    model._check_targets(X, y)
    z, cache = model._forward(P, X, keep=True)
    act = model.activation
    assert act.derivative is not None and act.second_derivative is not None
    last = len(model.keys) - 1
    # Forward tangents: Rh_in[l] is the tangent of layer l's input (None: zero), Rz[l] of z_l.
    Rh_in: list[np.ndarray | None] = []
    Rz: list[np.ndarray] = []
    slopes: list[np.ndarray] = []
    Rh: np.ndarray | None = None
    for l, (wk, bk) in enumerate(model.keys):
        h_prev, z_l, a_l = cache[l]
        Rh_in.append(Rh)
        r = h_prev @ V[wk]
        r += V[bk]
        if Rh is not None:
            r += Rh @ P[wk]
        Rz.append(r)
        if l == last:
            break
        slopes.append(act.derivative(z_l, a_l))
        Ra = slopes[l] * r
        Rh = Ra + Rh if (model.skips[l] and Rh is not None) else Ra
    delta, Rdelta = _output_rop(model, z, Rz[last], y, loss, loss_params, reduction, sample_weight)
    out: dict[str, np.ndarray] = {}
    g: Any = None  # dL/dh_l
    Rg: Any = None
    for l in range(last, -1, -1):
        wk, bk = model.keys[l]
        h_prev, z_l, a_l = cache[l]
        if l < last:
            delta = slopes[l] * g
            Rdelta = act.second_derivative(z_l, a_l) * Rz[l] * g + slopes[l] * Rg
        hw = h_prev.T @ Rdelta
        rh = Rh_in[l]
        if rh is not None:
            hw += rh.T @ delta
        out[wk] = hw
        out[bk] = Rdelta.sum(axis=0)
        if l > 0:
            g_prev = delta @ P[wk].T
            Rg_prev = Rdelta @ P[wk].T
            Rg_prev += delta @ V[wk].T
            if model.skips[l]:
                g_prev += g
                Rg_prev += Rg
            g, Rg = g_prev, Rg_prev
    return {k: out[k] for pair in model.keys for k in pair}


def _output_rop(
    model: Model,
    z: np.ndarray,
    Rz: np.ndarray,
    y: np.ndarray,
    loss: Loss,
    loss_params: Mapping[str, Any],
    reduction: Reduction,
    sample_weight: Any,
) -> tuple[np.ndarray, np.ndarray]:
    r"""``(delta_L, R delta_L)``: the loss gradient and its directional derivative at the logits."""
    out_act, kw = model._loss_output(loss, loss_params)
    squeeze = model.n_out == 1 and y.ndim == 1
    a = out_act.forward(z)
    pred = a[:, 0] if squeeze else a

    def shaped(x: np.ndarray) -> np.ndarray:
        return x[:, None] if squeeze else x

    def loss_hvp(u: np.ndarray) -> np.ndarray:
        u = u[:, 0] if squeeze else u
        return shaped(loss.hvp(pred, y, u, reduction=reduction, sample_weight=sample_weight, **kw))

    _, d = loss.value_and_grad(pred, y, reduction=reduction, sample_weight=sample_weight, **kw)
    if not isinstance(d, np.ndarray):
        raise TypeError(f"{model.name}: loss {loss.name!r} must return one gradient array for y_pred")
    da = shaped(d)
    delta = out_act.backward(z, a, da)
    if out_act.name == "linear":
        return delta, loss_hvp(Rz)
    if out_act.name == "softmax":
        return delta, softmax_chain_hvp(np, a, da, loss_hvp, Rz)
    assert out_act.derivative is not None and out_act.second_derivative is not None
    slope = out_act.derivative(z, a)
    return delta, slope * loss_hvp(slope * Rz) + out_act.second_derivative(z, a) * Rz * da


def check_stacked_params(model: Model, stacked: Mapping[str, Any], where: str) -> tuple[Params, int]:
    """``(stacked params, K)``: every array of the model's shapes with one leading axis of length K."""
    if not isinstance(stacked, Mapping):
        raise TypeError(
            f"{model.name}.{where}: stacked_params must be a dict of arrays, got {type(stacked).__name__}"
        )
    expected = [k for pair in model.keys for k in pair]
    missing = [k for k in expected if k not in stacked]
    if missing:
        raise ValueError(
            f"{model.name}.{where}: stacked_params is missing {missing}; expected keys {expected}"
        )
    out: Params = {}
    K: int | None = None
    for l, (wk, bk) in enumerate(model.keys):
        shapes = {wk: (model.layer_sizes[l], model.layer_sizes[l + 1]), bk: (model.layer_sizes[l + 1],)}
        for key, shape in shapes.items():
            arr = as_float(np, stacked[key], f"stacked_params[{key!r}]", f"{model.name}.{where}")
            if arr.ndim != len(shape) + 1 or arr.shape[1:] != shape:
                raise ValueError(
                    f"{model.name}.{where}: stacked_params[{key!r}] must have shape (K, {', '.join(map(str, shape))}"
                    f"{',' if len(shape) == 1 else ''}), got {arr.shape}"
                )
            if K is None:
                K = arr.shape[0]
            elif arr.shape[0] != K:
                raise ValueError(
                    f"{model.name}.{where}: every stacked parameter needs the same leading K, "
                    f"got {K} and {arr.shape[0]} (stacked_params[{key!r}])"
                )
            if not np.isfinite(arr).all():
                raise ValueError(
                    f"{model.name}.{where}: stacked_params[{key!r}] contains NaN or infinite values"
                )
            out[key] = arr
    assert K is not None
    if K == 0:
        raise ValueError(f"{model.name}.{where}: stacked_params holds no parameter set (K = 0)")
    return out, K


def forward_batched(model: Model, S: Params, X: np.ndarray) -> np.ndarray:
    """Logits ``(K, n, n_out)`` of ``K`` stacked parameter sets (unchecked)."""
    f = model.activation.forward
    relu = model.activation.name == "relu"
    last = len(model.keys) - 1
    h: np.ndarray = X
    n = X.shape[0]
    for l, (wk, bk) in enumerate(model.keys):
        W = S[wk]
        K, n_in, n_out = W.shape
        z = _buffers.empty_shaped((K, n, n_out), np.result_type(h, W))
        if h.ndim == 2 and n < 4096 and K > 1:
            # Few samples: one product for all K, X (n, n_in) @ [W^(1) | ... | W^(K)] (n_in, K n_out),
            # saves K - 1 calls for one copy of the result.
            flat = h @ W.transpose(1, 0, 2).reshape(n_in, K * n_out)
            np.copyto(z, flat.reshape(n, K, n_out).transpose(1, 0, 2))
        else:
            # One BLAS product per point (NumPy's stacked matmul measured twice as slow here).
            for k in range(K):
                np.matmul(h if h.ndim == 2 else h[k], W[k], out=z[k])
        z += S[bk][:, None, :]
        if l == last:
            return z
        a = np.maximum(z, 0.0, out=z) if relu else f(z)  # z is a fresh array: ReLU in place
        if model.skips[l]:
            a += h
        h = a
    raise AssertionError("unreachable")
