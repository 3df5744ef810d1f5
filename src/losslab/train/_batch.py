r"""The objective of one training step: data loss (weighted, through dropout) plus the penalty.

For a batch :math:`B` with per-sample weights :math:`w_i` and dropout masks :math:`m` drawn for the
step, ``BatchObjective`` returns :math:`L_B = \frac1{|B|}\sum_{i\in B} w_i\,\ell(f_m(x_i;\theta), y_i)`
(the loss's own reduction with ``sample_weight``), :math:`R(\theta)` and
:math:`\nabla_\theta (L_B + R)`. It is the one place :func:`~losslab.train.fit` turns its options
into a value and a gradient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from losslab._core.tree import tree_ravel
from losslab.losses._spec import Loss
from losslab.models._base import Model
from losslab.train import regularization as _regularization

__all__ = ["BatchObjective", "weight_shape"]


def weight_shape(model: Model, loss: Loss, y: np.ndarray) -> tuple[int, ...]:
    """How a ``(n,)`` per-sample weight is shaped to broadcast against the unreduced loss.

    One entry per sample for losses over a class axis and for 1-D outputs, a column ``(n, 1)``
    for element-wise losses on ``(n, k)`` outputs.
    """
    squeeze = model.n_out == 1 and y.ndim == 1
    components = getattr(loss, "components", None)
    kinds = {c.kind for c, _ in components} if components else {loss.kind}
    return (-1,) if squeeze or kinds == {"class_axis"} else (-1, 1)


class BatchObjective:
    """``(data value, penalty, grads)`` of a batch for ``model``, ``loss`` and the fit's options."""

    def __init__(
        self,
        model: Model,
        loss: Loss,
        loss_params: Mapping[str, Any],
        penalties: Sequence[_regularization.Penalty],
        dropout_rng: np.random.Generator | None,
        weight_shape: tuple[int, ...] = (-1,),
    ) -> None:
        self.model = model
        self.loss = loss
        self.loss_params = dict(loss_params)
        self.penalties = list(penalties)
        self.dropout_rng = dropout_rng if model.has_dropout else None
        self.weight_shape = weight_shape
        self.masks: Any = None  # the dropout masks of the latest call, reused by hessian()

    def __call__(
        self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, weights: np.ndarray | None
    ) -> tuple[Any, float, dict[str, np.ndarray]]:
        masks = None
        if self.dropout_rng is not None:
            masks = self.model.dropout_masks(self.dropout_rng, X.shape[0])
        self.masks = masks
        return self._evaluate(params, X, y, weights, masks)

    def _evaluate(
        self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, weights: Any, masks: Any
    ) -> tuple[Any, float, dict[str, np.ndarray]]:
        sw = None if weights is None else weights.reshape(self.weight_shape)
        value, grads = self.model._value_and_grad(
            dict(params), X, y, self.loss, self.loss_params, sample_weight=sw, masks=masks
        )
        return self._add_penalty(value, grads, params)

    def _add_penalty(
        self, value: Any, grads: dict[str, np.ndarray], params: Mapping[str, np.ndarray]
    ) -> tuple[Any, float, dict[str, np.ndarray]]:
        if not self.penalties:
            return value, 0.0, grads
        penalty, pgrads = _regularization.value_and_grad(self.penalties, params)
        for k, g in pgrads.items():
            grads[k] = grads[k] + g
        return value, penalty, grads

    def value(self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
        """The data loss in evaluation mode (no dropout, no weights, no penalty): the validation loss."""
        value, _ = self.model._value_and_grad(
            dict(params), X, y, self.loss, self.loss_params, need_grad=False
        )
        return float(value)

    def sample_losses(self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each sample's unweighted loss in evaluation mode, shape ``(n,)`` (summed over its outputs)."""
        value, _ = self.model._value_and_grad(
            dict(params), X, y, self.loss, self.loss_params, reduction="none", need_grad=False
        )
        arr = np.asarray(value, dtype=np.float64)
        return arr.reshape(X.shape[0], -1).sum(axis=1)

    def epoch_logs(self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Extra per-epoch records (none for a single loss)."""
        return {}

    def init_params(
        self, params: dict[str, np.ndarray], given: Mapping[str, Any] | None
    ) -> dict[str, np.ndarray]:
        """The model's parameters plus any the objective trains itself (none for a single loss)."""
        return params

    def hessian(
        self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, weights: np.ndarray | None
    ) -> np.ndarray:
        r"""The dense Hessian of the latest batch objective (same dropout masks), ``(d, d)``.

        Central differences of the analytic gradient, column by column:
        :math:`H_{:, i} = (\nabla L(\theta + h_i e_i) - \nabla L(\theta - h_i e_i)) / 2h_i` with
        :math:`h_i = \epsilon^{1/3}\max(1, |\theta_i|)` (truncation and rounding errors both
        :math:`O(\epsilon^{2/3})`, about :math:`10^{-10}` relative), then symmetrized. It costs
        :math:`2d` backprops: meant for the small models Newton's method is run on.
        """
        vector, unravel = tree_ravel(dict(params))
        vector = vector.astype(np.float64)
        d = vector.size
        H = np.empty((d, d))
        base = np.finfo(np.float64).eps ** (1.0 / 3.0)
        for i in range(d):
            h = base * max(1.0, abs(float(vector[i])))
            shifted = vector.copy()
            shifted[i] += h
            plus = tree_ravel(self._evaluate(unravel(shifted), X, y, weights, self.masks)[2])[0]
            shifted[i] -= 2 * h
            minus = tree_ravel(self._evaluate(unravel(shifted), X, y, weights, self.masks)[2])[0]
            H[:, i] = (plus - minus) / (2 * h)
        return 0.5 * (H + H.T)
