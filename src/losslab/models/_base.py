r"""The dense-network engine shared by every model: forward, manual backprop, loss plumbing.

A model is a stack of dense layers :math:`z_l = h_{l-1} W_l + b_l`, hidden activations
:math:`h_l = f(z_l)` (plus :math:`h_{l-1}` when the layer has a residual skip), and an output
activation :math:`\hat y = g(z_L)`. Backprop runs the chain rule layer by layer:

.. math::

    \delta_L = \frac{\partial \ell}{\partial z_L}, \quad
    \frac{\partial \ell}{\partial W_l} = h_{l-1}^\top \delta_l, \quad
    \frac{\partial \ell}{\partial b_l} = \mathbf 1^\top \delta_l, \quad
    \frac{\partial \ell}{\partial h_{l-1}} = \delta_l W_l^\top \; (+\, \partial\ell/\partial h_l
    \text{ through a skip}), \quad
    \delta_{l-1} = f'(z_{l-1}) \odot \frac{\partial \ell}{\partial h_{l-1}}.

Dropout (inverted, Srivastava et al. 2014) multiplies a hidden activation by a mask
:math:`m_l = [u \ge p_l] / (1 - p_l)`, :math:`u \sim U[0, 1)` (kept with probability
:math:`1 - p_l`, as ``torch.nn.Dropout`` in training mode): :math:`h_l = m_l \odot f(z_l)` (plus
the skip), and backprop multiplies by the same mask, :math:`\delta_l = f'(z_l) \odot m_l \odot
\partial\ell/\partial h_l`. Masks are explicit arguments (``masks=model.dropout_masks(rng, n)``);
without them every method is the evaluation-mode network, where inverted dropout is the identity.

The loss enters through ``loss.grad``. When the output activation is ``sigmoid`` or ``softmax``
and the loss has a ``from_logits`` option (binary and categorical cross-entropy, focal), the loss
is evaluated on the logits :math:`z_L` with ``from_logits=True`` -- the numerically stable path,
where :math:`\delta_L = \hat y - y` for cross-entropy -- unless ``from_logits=False`` is passed
explicitly, in which case the probabilities go to the loss and the gradient is chained through
:math:`g'`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core import buffers as _buffers
from losslab._core.arrays import as_float
from losslab._core.validation import check_in_range
from losslab.losses._spec import Loss, Reduction
from losslab.losses._spec import get as get_loss
from losslab.models import activations as _act
from losslab.models.init import as_rng, initialize

__all__ = ["Model"]

Params = dict[str, np.ndarray]
#: Dropout masks, one entry per layer (``None`` where the layer has no dropout; always ``None``
#: for the output layer), each of shape ``(n_samples, width)`` holding 0 or ``1 / (1 - rate)``.
Masks = list[np.ndarray | None]


def _like(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A recycled output for an element-wise ``a (op) b`` of ``a``'s shape (see :mod:`losslab._core.buffers`)."""
    return _buffers.empty_shaped(a.shape, np.result_type(a, b))


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` (two matrices) into a recycled array."""
    return np.matmul(a, b, out=_buffers.empty_shaped((a.shape[0], b.shape[1]), np.result_type(a, b)))


def _positive(a: np.ndarray) -> np.ndarray:
    """``a > 0`` into a recycled boolean array (ReLU's derivative)."""
    return np.greater(a, 0.0, out=_buffers.empty_shaped(a.shape, np.bool_))


class Model:
    """Base class: a stack of dense layers with manual backprop (see the module docstring)."""

    name = "model"
    #: The loss ``value_and_grad`` uses when none is given.
    default_loss = "mse"

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        activation: str = "relu",
        output_activation: str | None = None,
        skip: bool = False,
        init: str = "xavier",
        keys: Sequence[tuple[str, str]] | None = None,
        dtype: Any = np.float64,
        dropout: float | Sequence[float] = 0.0,
    ) -> None:
        sizes = [int(s) for s in layer_sizes]
        self.layer_sizes = tuple(sizes)
        self.n_in = sizes[0]
        self.n_out = sizes[-1]
        self.activation = _act.get(activation, self.name)
        if activation == "softmax":
            raise ValueError(f"{self.name}: activation must be an element-wise function, got 'softmax'")
        self.output_activation = _act.get(output_activation, self.name)
        self.skip = bool(skip)
        self.init_name = init
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"{self.name}: dtype must be a floating dtype, got {self.dtype}")
        n_layers = len(sizes) - 1
        self.keys: tuple[tuple[str, str], ...] = tuple(
            keys if keys is not None else [(f"W{i}", f"b{i}") for i in range(1, n_layers + 1)]
        )
        # Residual skips on hidden layers whose input and output widths match.
        self.skips: tuple[bool, ...] = tuple(
            self.skip and l < n_layers - 1 and sizes[l] == sizes[l + 1] for l in range(n_layers)
        )
        #: Dropout rate of each hidden layer's activation (empty for one-layer models).
        self.dropout: tuple[float, ...] = self._check_dropout(dropout, n_layers - 1)

    def _check_dropout(self, dropout: Any, n_hidden: int) -> tuple[float, ...]:
        if isinstance(dropout, (list, tuple)):
            if len(dropout) != n_hidden:
                raise ValueError(
                    f"{self.name}: dropout must give one rate per hidden layer ({n_hidden}), "
                    f"got {len(dropout)} rates"
                )
            rates = list(dropout)
        else:
            rates = [dropout] * n_hidden
        out = tuple(check_in_range(self.name, "dropout", r, 0.0, 1.0, closed="left") for r in rates)
        if n_hidden == 0 and not isinstance(dropout, (list, tuple)) and float(dropout) != 0.0:
            raise ValueError(f"{self.name}: dropout needs a hidden layer, got dropout={dropout!r}")
        return out

    @property
    def has_dropout(self) -> bool:
        """Whether any hidden layer has a dropout rate > 0."""
        return any(r > 0.0 for r in self.dropout)

    @property
    def weight_keys(self) -> tuple[str, ...]:
        """The names of the weight matrices (``W1, W2, ...``), the parameters a regularizer takes by default."""
        return tuple(wk for wk, _ in self.keys)

    def dropout_masks(self, rng: np.random.Generator | int | None, n: int) -> Masks | None:
        r"""Inverted-dropout masks for a batch of ``n`` samples (``None`` when the model has no dropout).

        Layer :math:`l` gets :math:`m = [u \ge p_l] / (1 - p_l)` with :math:`u \sim U[0, 1)` of
        shape ``(n, n_l)``: each unit is kept with probability :math:`1 - p_l` and scaled so that
        :math:`E[m] = 1`. Pass the result as ``masks=`` to ``value_and_grad``, ``apply`` or the
        critic methods to run the training-mode network with exactly these masks.
        """
        if not self.has_dropout:
            return None
        gen = as_rng(rng, f"{self.name}.dropout_masks")
        masks: Masks = []
        for l, rate in enumerate(self.dropout):
            if rate == 0.0:
                masks.append(None)
                continue
            keep = gen.random((n, self.layer_sizes[l + 1])) >= rate
            masks.append(keep.astype(self.dtype) / self.dtype.type(1.0 - rate))
        masks.append(None)
        return masks

    def _check_masks(self, masks: Any, n: int, where: str) -> Masks | None:
        if masks is None:
            return None
        n_layers = len(self.keys)
        if not isinstance(masks, (list, tuple)) or len(masks) not in (n_layers - 1, n_layers):
            raise TypeError(
                f"{self.name}.{where}: masks must be a list with one entry per hidden layer "
                f"(model.dropout_masks(rng, n)), got {type(masks).__name__}"
            )
        out: Masks = []
        for l, m in enumerate(masks):
            if m is None or l == n_layers - 1:
                if m is not None:
                    raise ValueError(f"{self.name}.{where}: the output layer takes no dropout mask")
                out.append(None)
                continue
            arr = as_float(np, m, f"masks[{l}]", f"{self.name}.{where}")
            shape = (n, self.layer_sizes[l + 1])
            if arr.shape != shape:
                raise ValueError(f"{self.name}.{where}: masks[{l}] must have shape {shape}, got {arr.shape}")
            out.append(arr)
        while len(out) < n_layers:
            out.append(None)
        return out

    # -- parameters ---------------------------------------------------------------------------

    def init(self, rng: np.random.Generator | int | None = None) -> Params:
        """Fresh parameters ``{W1: (n_0, n_1), b1: (n_1,), ...}`` drawn from ``rng`` (or a seed)."""
        gen = as_rng(rng, f"{self.name}.init")
        params: Params = {}
        for l, (wk, bk) in enumerate(self.keys):
            W, b = initialize(self.init_name, gen, self.layer_sizes[l], self.layer_sizes[l + 1], self.dtype)
            params[wk], params[bk] = W, b
        return params

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return sum(a * b + b for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:]))

    def check_params(self, params: Mapping[str, Any]) -> Params:
        """``params`` as a dict of float arrays with the expected keys and shapes (else ``ValueError``)."""
        if not isinstance(params, Mapping):
            raise TypeError(f"{self.name}: params must be a dict of arrays, got {type(params).__name__}")
        expected = [k for pair in self.keys for k in pair]
        missing = [k for k in expected if k not in params]
        if missing:
            raise ValueError(f"{self.name}: params is missing {missing}; expected keys {expected}")
        out: Params = {}
        for l, (wk, bk) in enumerate(self.keys):
            shapes = {wk: (self.layer_sizes[l], self.layer_sizes[l + 1]), bk: (self.layer_sizes[l + 1],)}
            for key, shape in shapes.items():
                arr = as_float(np, params[key], f"params[{key!r}]", self.name)
                if arr.shape != shape:
                    raise ValueError(f"{self.name}: params[{key!r}] must have shape {shape}, got {arr.shape}")
                out[key] = arr
        return out

    # -- inputs --------------------------------------------------------------------------------

    def check_X(self, X: npt.ArrayLike) -> np.ndarray:
        """``X`` as a float array of shape ``(n, n_in)``; a 1-D ``X`` is a column when ``n_in == 1``."""
        arr = as_float(np, X, "X", self.name)
        if arr.ndim == 1 and self.n_in == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.n_in:
            hint = " (use X.reshape(1, -1) for a single sample)" if arr.ndim == 1 else ""
            raise ValueError(
                f"{self.name}: X must have shape (n_samples, {self.n_in}), got {arr.shape}{hint}"
            )
        if arr.shape[0] == 0:
            raise ValueError(f"{self.name}: X is empty (shape {arr.shape})")
        if not np.isfinite(arr).all():
            raise ValueError(f"{self.name}: X contains NaN or infinite values")
        return arr

    # -- forward / backward --------------------------------------------------------------------

    def _forward(
        self, params: Params, X: np.ndarray, keep: bool, masks: Masks | None = None
    ) -> tuple[np.ndarray, list[Any]]:
        """Output logits ``z_L`` and (when ``keep``) the cache ``[(h_prev, z, a), ...]``.

        ``a = f(z)`` is the activation before any dropout mask; ``h_prev`` the layer's (masked) input.
        """
        h = X
        cache: list[Any] = []
        last = len(self.keys) - 1
        f = self.activation.forward
        relu = self.activation.name == "relu"
        for l, (wk, bk) in enumerate(self.keys):
            z = _product(h, params[wk])
            z += params[bk]
            if l == last:
                if keep:
                    cache.append((h, z, None))
                return z, cache
            # ReLU in place: z is a fresh array and ReLU's derivative reads the same off a as off z.
            a = np.maximum(z, 0.0, out=z) if relu else f(z)
            if keep:
                cache.append((h, z, a))
            mask = None if masks is None else masks[l]
            if mask is not None:
                a = np.multiply(a, mask, out=_like(a, mask))
            h = np.add(a, h, out=_like(a, h)) if self.skips[l] else a
        raise AssertionError("unreachable")

    def _backward(
        self, params: Params, cache: list[Any], dz: np.ndarray, masks: Masks | None = None
    ) -> Params:
        """Gradients of every parameter given ``dz = dloss/dz_L`` (same key order as ``params``)."""
        grads: dict[str, np.ndarray] = {}
        back = self.activation.backward
        relu = self.activation.name == "relu"
        last = len(self.keys) - 1
        dh: Any = None  # dloss/dh_l, h_l the output of layer l
        for l in range(last, -1, -1):
            wk, bk = self.keys[l]
            h_prev, z, a = cache[l]
            mask = None if masks is None else masks[l]
            if l == last:
                dz_l = dz
            elif mask is not None:  # dloss/da = m * dloss/dh (a fresh array: masked in place below)
                da = np.multiply(dh, mask, out=_like(dh, mask))
                dz_l = np.multiply(da, _positive(a), out=da) if relu else back(z, a, da)
            elif relu:  # dh is a fresh array from the layer above: mask it in place (unless a skip reads it)
                dz_l = np.multiply(dh, _positive(a), out=_like(dh, a) if self.skips[l] else dh)
            else:
                dz_l = back(z, a, dh)
            grads[wk] = h_prev.T @ dz_l
            grads[bk] = dz_l.sum(axis=0)
            if l > 0:
                dh_prev = _product(dz_l, params[wk].T)
                if self.skips[l]:  # h_l = f(z_l) + h_{l-1}: the gradient also flows straight through
                    dh_prev += dh
                dh = dh_prev
        return {k: grads[k] for pair in self.keys for k in pair}

    # -- public API ----------------------------------------------------------------------------

    def logits(
        self, params: Mapping[str, Any], X: npt.ArrayLike, *, masks: Masks | None = None
    ) -> np.ndarray:
        """The pre-activation output :math:`z_L`, shape ``(n, n_out)``."""
        Xa = self.check_X(X)
        M = self._check_masks(masks, Xa.shape[0], "logits")
        z, _ = self._forward(self.check_params(params), Xa, keep=False, masks=M)
        return z

    def apply(self, params: Mapping[str, Any], X: npt.ArrayLike, *, masks: Masks | None = None) -> np.ndarray:
        """The model's output :math:`g(z_L)`, shape ``(n, n_out)`` (probabilities for logistic/softmax).

        Evaluation mode unless dropout ``masks`` are given (see :meth:`dropout_masks`).
        """
        return self.output_activation.forward(self.logits(params, X, masks=masks))

    __call__ = apply

    def loss(
        self,
        params: Mapping[str, Any],
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        loss: str | Loss | None = None,
        *,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        masks: Masks | None = None,
        **loss_params: Any,
    ) -> Any:
        """The loss value of the model's output on ``(X, y)`` (same loss path as ``value_and_grad``)."""
        Xa = self.check_X(X)
        value, _ = self._value_and_grad(
            self.check_params(params),
            Xa,
            np.asarray(y),
            self._resolve_loss(loss),
            loss_params,
            reduction,
            sample_weight,
            need_grad=False,
            masks=self._check_masks(masks, Xa.shape[0], "loss"),
        )
        return value

    def value_and_grad(
        self,
        params: Mapping[str, Any],
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        loss: str | Loss | None = None,
        *,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        masks: Masks | None = None,
        **loss_params: Any,
    ) -> tuple[Any, Params]:
        """``(loss value, {name: dloss/dparam})`` by manual backprop through ``loss.grad``.

        ``loss`` is a registered name, a loss object, or ``None`` for the model's default.
        ``loss_params`` (e.g. ``delta=1.5``) go to the loss. A 1-D ``y`` is accepted when the model
        has one output. ``masks`` (from :meth:`dropout_masks`) run the training-mode network with
        those dropout masks. Inputs are never mutated.
        """
        Xa = self.check_X(X)
        return self._value_and_grad(
            self.check_params(params),
            Xa,
            np.asarray(y),
            self._resolve_loss(loss),
            loss_params,
            reduction,
            sample_weight,
            masks=self._check_masks(masks, Xa.shape[0], "value_and_grad"),
        )

    def grad(
        self,
        params: Mapping[str, Any],
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        loss: str | Loss | None = None,
        **kwargs: Any,
    ) -> Params:
        """The gradients only (see :meth:`value_and_grad`)."""
        return self.value_and_grad(params, X, y, loss, **kwargs)[1]

    # -- curvature and many parameter sets (losslab.models.curvature) ---------------------------

    def hvp(
        self,
        params: Mapping[str, Any],
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        v: Mapping[str, Any],
        loss: str | Loss | None = None,
        *,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        **loss_params: Any,
    ) -> Params:
        r"""The exact Hessian-vector product :math:`\nabla^2_\theta L(\theta)\, v`, a dict like ``params``.

        ``L`` is the loss of :meth:`value_and_grad` (same loss path, keywords and reduction) and
        ``v`` a dict of arrays shaped like ``params``. Computed by Pearlmutter's R-operator through
        the manual backprop (:mod:`losslab.models.curvature`): one tangent pass forward, one reverse
        pass through both, about the cost of two gradients. Equals
        ``torch.autograd.functional.hvp`` (double backward) on the equivalent PyTorch module.

        >>> import numpy as np, losslab as ll
        >>> model = ll.models.Linear(1)
        >>> params = {"W": np.array([[1.0]]), "b": np.array([0.0])}
        >>> X, y = np.array([[1.0], [3.0]]), np.array([0.0, 1.0])
        >>> hv = model.hvp(params, X, y, {"W": np.array([[1.0]]), "b": np.array([0.0])}, loss="mse")
        >>> float(hv["W"][0, 0]), float(hv["b"][0])  # MSE Hessian 2 X^T X / n = [[10, 4], [4, 2]]
        (10.0, 4.0)
        """
        from losslab.models import curvature

        P = self.check_params(params)
        V = curvature.check_tangent(self, P, v, "hvp")
        return curvature.hvp(
            self,
            P,
            self.check_X(X),
            np.asarray(y),
            V,
            self._resolve_loss(loss),
            loss_params,
            reduction,
            sample_weight,
        )

    def logits_batched(self, stacked_params: Mapping[str, Any], X: npt.ArrayLike) -> np.ndarray:
        """The logits :math:`z_L` of ``K`` parameter sets at once, shape ``(K, n, n_out)``.

        Every array of ``stacked_params`` carries a leading axis of length ``K`` (``W1`` of shape
        ``(K, n_0, n_1)``, ``b1`` of shape ``(K, n_1)``, ...); ``[k]`` equals ``logits(params_k, X)``.
        """
        from losslab.models import curvature

        S, _ = curvature.check_stacked_params(self, stacked_params, "logits_batched")
        return curvature.forward_batched(self, S, self.check_X(X))

    def apply_batched(self, stacked_params: Mapping[str, Any], X: npt.ArrayLike) -> np.ndarray:
        """The outputs of ``K`` stacked parameter sets in one vectorized pass, shape ``(K, n, n_out)``.

        ``apply_batched(stacked, X)[k]`` equals ``apply(params_k, X)`` (see :meth:`logits_batched`).

        >>> import numpy as np, losslab as ll
        >>> model = ll.models.MLP([2, 4, 1], activation="tanh")
        >>> p, q = model.init(0), model.init(1)
        >>> stacked = {k: np.stack([p[k], q[k]]) for k in p}
        >>> X = np.ones((3, 2))
        >>> out = model.apply_batched(stacked, X)
        >>> out.shape, bool(np.allclose(out[1], model.apply(q, X)))
        ((2, 3, 1), True)
        """
        return self.output_activation.forward(self.logits_batched(stacked_params, X))

    def objective(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        loss: str | Loss | None = None,
        *,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        **loss_params: Any,
    ) -> Any:
        """An :class:`~losslab.models.Objective`: the data and the loss bound once (and checked once),
        with ``value(params)``, ``value_and_grad(params)``, ``hvp(params, v)`` and the batched
        ``values(stacked_params)``."""
        from losslab.models.objective import Objective

        return Objective(self, X, y, loss, reduction=reduction, sample_weight=sample_weight, **loss_params)

    # -- critic interface: scores, input gradients, double backprop ------------------------------

    def critic_scores(
        self, params: Mapping[str, Any], X: npt.ArrayLike, *, masks: Masks | None = None
    ) -> np.ndarray:
        """The scalar output as scores of shape ``(n,)`` (``apply(params, X)[:, 0]``); needs ``n_out == 1``."""
        self._check_scalar_output("critic_scores")
        return self.apply(params, X, masks=masks)[:, 0]

    def params_vjp(
        self, params: Mapping[str, Any], X: npt.ArrayLike, cot: npt.ArrayLike, *, masks: Masks | None = None
    ) -> Params:
        r"""Gradient with respect to the parameters of :math:`\sum_i \langle c_i, \hat y(x_i)\rangle`.

        The vector-Jacobian product of the output :math:`\hat y = g(z_L)` with the cotangent
        :math:`c` = ``cot`` of shape ``(n, n_out)`` (or ``(n,)`` when ``n_out == 1``): backprop (see
        the module docstring) started from :math:`\delta_L = g'(z_L) \odot c`. It is
        ``value_and_grad``'s gradient for a loss whose ``grad`` is ``cot``, and the ``params_vjp``
        of the WGAN-GP :class:`~losslab.losses.Critic` protocol.
        """
        P, Xa = self.check_params(params), self.check_X(X)
        c = self._check_cot(cot, (Xa.shape[0], self.n_out), self._dtype(P, Xa), "params_vjp")
        M = self._check_masks(masks, Xa.shape[0], "params_vjp")
        z, cache = self._forward(P, Xa, keep=True, masks=M)
        out = self.output_activation
        return self._backward(P, cache, out.backward(z, out.forward(z), c), M)

    def input_grad(
        self, params: Mapping[str, Any], X: npt.ArrayLike, *, masks: Masks | None = None
    ) -> np.ndarray:
        r"""The gradient :math:`\nabla_x D(x_i)` of the scalar output per sample, shaped like ``X``.

        Backprop down to the input, with :math:`u_l = \partial D/\partial z_l` and
        :math:`a_l = \partial D/\partial h_l` (:math:`h_0 = x`):

        .. math::

            u_L = g'(z_L), \quad a_{l-1} = u_l W_l^\top + [\text{skip}_l]\, a_l, \quad
            u_{l-1} = f'(z_{l-1}) \odot a_{l-1}, \qquad \nabla_x D = a_0.

        Needs one output (``n_out == 1``) and an element-wise output activation; the
        ``input_grad`` of the :class:`~losslab.losses.Critic` protocol (WGAN-GP).
        """
        self._check_scalar_output("input_grad")
        P, Xa = self.check_params(params), self.check_X(X)
        M = self._check_masks(masks, Xa.shape[0], "input_grad")
        z, cache = self._forward(P, Xa, keep=True, masks=M)
        out, act = self.output_activation, self.activation
        assert out.derivative is not None and act.derivative is not None  # checked above / in __init__
        u = out.derivative(z, out.forward(z))
        last = len(self.keys) - 1
        dh: Any = None
        for l in range(last, -1, -1):
            _, z_l, a_l = cache[l]
            if l < last:
                u = act.derivative(z_l, a_l) * dh
                if M is not None and M[l] is not None:
                    u *= M[l]
            dh_prev = u @ P[self.keys[l][0]].T
            if self.skips[l]:
                dh_prev += dh
            dh = dh_prev
        return np.asarray(dh).reshape(np.shape(X))

    def input_grad_vjp(
        self, params: Mapping[str, Any], X: npt.ArrayLike, cot: npt.ArrayLike, *, masks: Masks | None = None
    ) -> Params:
        r"""Gradient with respect to the parameters of :math:`S = \sum_i \langle c_i, \nabla_x D(x_i)\rangle`.

        The mixed second derivative :math:`\partial^2 D / \partial\theta\,\partial x` contracted with
        :math:`c` = ``cot`` (shaped like ``X``): what the WGAN-GP penalty needs to reach the critic's
        parameters ("double backprop"). :math:`S` is the directional derivative of :math:`D` along
        :math:`c`, so it is computed by a forward tangent pass (forward mode in :math:`x`) and then
        reverse mode through both passes. Tangents, with :math:`\dot h_0 = c`:

        .. math::

            \dot z_l = \dot h_{l-1} W_l, \quad
            \dot h_l = f'(z_l) \odot \dot z_l + [\text{skip}_l]\, \dot h_{l-1}, \quad
            S = \textstyle\sum_i g'(z_L)_i\, \dot z_{L,i}.

        Adjoints (:math:`\bar v = \partial S/\partial v`), from
        :math:`\bar{\dot z}_L = g'(z_L)` and :math:`\bar z_L = g''(z_L) \odot \dot z_L`, down the layers:

        .. math::

            \frac{\partial S}{\partial W_l} = h_{l-1}^\top \bar z_l + \dot h_{l-1}^\top \bar{\dot z}_l,
            \quad \frac{\partial S}{\partial b_l} = \mathbf 1^\top \bar z_l,

            \bar h_{l-1} = \bar z_l W_l^\top + [\text{skip}_l]\,\bar h_l, \quad
            \bar{\dot h}_{l-1} = \bar{\dot z}_l W_l^\top + [\text{skip}_l]\,\bar{\dot h}_l,

            \bar z_{l-1} = f'(z_{l-1}) \odot \bar h_{l-1} + f''(z_{l-1}) \odot \dot z_{l-1} \odot
            \bar{\dot h}_{l-1}, \quad \bar{\dot z}_{l-1} = f'(z_{l-1}) \odot \bar{\dot h}_{l-1}.

        (:math:`\bar{\dot z}_l` is the :math:`u_l` of :meth:`input_grad`.) ``relu``/``leaky_relu``
        have :math:`f'' = 0`, as PyTorch's double backward takes them. Equals
        ``torch.autograd.grad((c * grad_x).sum(), params)`` with ``grad_x`` from
        ``torch.autograd.grad(D.sum(), x, create_graph=True)``.
        """
        self._check_scalar_output("input_grad_vjp")
        P, Xa = self.check_params(params), self.check_X(X)
        c = self._check_cot(cot, np.shape(X), self._dtype(P, Xa), "input_grad_vjp").reshape(Xa.shape)
        M = self._check_masks(masks, Xa.shape[0], "input_grad_vjp")
        z, cache = self._forward(P, Xa, keep=True, masks=M)
        out, act = self.output_activation, self.activation
        assert out.derivative is not None and out.second_derivative is not None
        assert act.derivative is not None and act.second_derivative is not None
        last = len(self.keys) - 1
        # Tangent pass: h_dot_in[l] is the tangent of layer l's input, z_dot[l] of its pre-activation.
        h_dot_in: list[np.ndarray] = []
        z_dot: list[np.ndarray] = []
        slopes: list[np.ndarray] = []  # m_l f'(z_l) of the hidden layers (m_l = 1 without dropout)
        curvatures: list[Any] = []  # m_l f''(z_l)
        h_dot = c
        for l in range(last + 1):
            h_dot_in.append(h_dot)
            z_dot.append(h_dot @ P[self.keys[l][0]])
            if l == last:
                break
            _, z_l, a_l = cache[l]
            mask = None if M is None else M[l]
            slopes.append(act.derivative(z_l, a_l) if mask is None else act.derivative(z_l, a_l) * mask)
            d2 = act.second_derivative(z_l, a_l)
            curvatures.append(d2 if mask is None else d2 * mask)
            h_next = slopes[l] * z_dot[l]
            h_dot = h_next + h_dot if self.skips[l] else h_next
        # Reverse pass through the primal and the tangent pass.
        a_out = out.forward(z)
        zd_bar = out.derivative(z, a_out)
        z_bar = out.second_derivative(z, a_out) * z_dot[last]
        grads: dict[str, np.ndarray] = {}
        h_bar: Any = None
        hd_bar: Any = None
        for l in range(last, -1, -1):
            wk, bk = self.keys[l]
            h_prev, z_l, a_l = cache[l]
            if l < last:
                z_bar = slopes[l] * h_bar + curvatures[l] * z_dot[l] * hd_bar
                zd_bar = slopes[l] * hd_bar
            grads[wk] = h_prev.T @ z_bar + h_dot_in[l].T @ zd_bar
            grads[bk] = z_bar.sum(axis=0)
            if l > 0:
                h_bar_prev = z_bar @ P[wk].T
                hd_bar_prev = zd_bar @ P[wk].T
                if self.skips[l]:
                    h_bar_prev += h_bar
                    hd_bar_prev += hd_bar
                h_bar, hd_bar = h_bar_prev, hd_bar_prev
        return {k: grads[k] for pair in self.keys for k in pair}

    def _check_scalar_output(self, what: str) -> None:
        if self.n_out != 1:
            raise ValueError(
                f"{self.name}: {what} needs a model with one output (n_out == 1), got n_out={self.n_out}; "
                "the input gradient of a multi-output model is a Jacobian, not a gradient"
            )
        if self.output_activation.derivative is None:
            raise ValueError(
                f"{self.name}: {what} needs an element-wise output activation, "
                f"got output_activation={self.output_activation.name!r}"
            )

    @staticmethod
    def _dtype(params: Params, X: np.ndarray) -> Any:
        return np.result_type(X, *params.values())

    def _check_cot(self, cot: Any, shape: tuple[int, ...], dtype: Any, what: str) -> np.ndarray:
        """``cot`` as a finite float array of ``shape`` (``(n, 1)`` and ``(n,)`` are interchangeable)."""
        arr = as_float(np, cot, "cot", f"{self.name}.{what}", dtype=dtype)
        if arr.shape != tuple(shape):
            n = shape[0]
            if len(shape) == 2 and shape[1] == 1 and arr.shape == (n,):
                arr = arr[:, None]
            elif len(shape) == 1 and arr.shape == (n, 1):
                arr = arr[:, 0]
            else:
                raise ValueError(f"{self.name}.{what}: cot must have shape {tuple(shape)}, got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{self.name}.{what}: cot contains NaN or infinite values")
        return arr

    # -- machinery -------------------------------------------------------------------------------

    def _resolve_loss(self, loss: str | Loss | None) -> Loss:
        if isinstance(loss, Loss):
            return loss
        return get_loss(self.default_loss if loss is None else loss)

    def _value_and_grad(
        self,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        loss: Loss,
        loss_params: Mapping[str, Any],
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        need_grad: bool = True,
        masks: Masks | None = None,
    ) -> tuple[Any, Params]:
        """The unchecked core used by ``value_and_grad`` and the training loop."""
        self._check_targets(X, y)
        z, cache = self._forward(params, X, keep=need_grad, masks=masks)
        # A 1-D target with a single output: the loss sees shape (n,).
        squeeze = self.n_out == 1 and y.ndim == 1
        out_act, kw = self._loss_output(loss, loss_params)
        a = out_act.forward(z)
        pred = a[:, 0] if squeeze else a
        if not need_grad:
            return loss(pred, y, reduction=reduction, sample_weight=sample_weight, **kw), {}
        value, d = loss.value_and_grad(pred, y, reduction=reduction, sample_weight=sample_weight, **kw)
        if not isinstance(d, np.ndarray):
            raise TypeError(f"{self.name}: loss {loss.name!r} must return one gradient array for y_pred")
        da = d[:, None] if squeeze else d
        dz = out_act.backward(z, a, da)
        return value, self._backward(params, cache, dz, masks)

    def _check_targets(self, X: np.ndarray, y: np.ndarray) -> None:
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"{self.name}: y must have one entry per sample ({X.shape[0]}), got shape {y.shape}"
            )

    def _loss_output(
        self, loss: Loss, loss_params: Mapping[str, Any]
    ) -> tuple[_act.Activation, dict[str, Any]]:
        """The map from the logits to what the loss reads, and the loss keywords: a sigmoid or softmax
        output meets a loss with ``from_logits`` on the logits (``from_logits=True``) unless
        ``from_logits=False`` is passed."""
        out_act = self.output_activation
        kw = dict(loss_params)
        logit_path = out_act.name in ("sigmoid", "softmax") and "from_logits" in loss.params
        if logit_path and kw.get("from_logits", True):
            kw["from_logits"] = True
            out_act = _act.ACTIVATIONS["linear"]  # the loss takes the logits
        return out_act, kw

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.layer_sizes)})"
