r"""A model's training objective with the data and the loss bound once: :math:`\theta \mapsto L(\theta)`.

``obj = model.objective(X, y, loss="huber", delta=2.0)`` checks ``X`` (shape, finite values), ``y``
(one entry per sample), the loss name and its parameters once; then ``obj.value(params)``,
``obj.value_and_grad(params)``, ``obj.hvp(params, v)`` (exact, see
:mod:`losslab.models.curvature`) and the batched ``obj.values(stacked_params) -> (K,)`` evaluate the
same function. It is what the landscape tools (slices, Hessian spectra) take.

>>> import numpy as np, losslab as ll
>>> model = ll.models.Linear(1)
>>> X, y = np.array([[1.0], [2.0]]), np.array([1.0, 3.0])
>>> obj = model.objective(X, y, loss="mse")
>>> params = {"W": np.array([[2.0]]), "b": np.array([0.0])}
>>> float(obj.value(params)), obj.n_params
(1.0, 2)
>>> stacked = {"W": np.array([[[2.0]], [[1.5]]]), "b": np.array([[0.0], [0.5]])}
>>> obj.values(stacked).tolist()
[1.0, 0.625]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_choice, check_int
from losslab.losses._spec import Loss, Reduction
from losslab.models import curvature
from losslab.models._base import Model, Params

__all__ = ["DEFAULT_MAX_BYTES", "Objective"]

# Activations per batched pass. Small enough to stay in a core's share of the last-level cache:
# on an MLP [2, 32, 32, 1] the time per point was lowest at 4-8 MiB chunks (5x faster than one point
# at a time at n = 100, about as fast at n = 10^4, where the matrix products dominate), while 64 MiB
# chunks left the cache and were 1.6x slower than one point at a time.
DEFAULT_MAX_BYTES = 8 << 20
"""Memory bound of one batched pass of :meth:`Objective.values` (activations of a chunk of points)."""


class Objective:
    """``theta -> L(theta)`` for one model, data set and loss (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        loss: str | Loss | None = None,
        *,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        **loss_params: Any,
    ) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"objective: model must be a losslab model, got {type(model).__name__}")
        self.model = model
        self.X = model.check_X(X)
        self.y = np.asarray(y)
        model._check_targets(self.X, self.y)
        self.loss = model._resolve_loss(loss)
        self.loss.resolve_params(loss_params)  # unknown or invalid parameters raise here, once
        self.loss_params = dict(loss_params)
        self.reduction: Reduction = check_choice("objective", "reduction", reduction, ("mean", "sum"))
        self.sample_weight = sample_weight
        self._out_act, self._loss_kw = model._loss_output(self.loss, self.loss_params)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters of the model."""
        return self.model.n_params

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    def with_data(self, X: npt.ArrayLike, y: npt.ArrayLike, *, sample_weight: Any = None) -> Objective:
        """The same model, loss and parameters on other data (a test set)."""
        return Objective(
            self.model,
            X,
            y,
            self.loss,
            reduction=self.reduction,
            sample_weight=sample_weight,
            **self.loss_params,
        )

    # -- one parameter set ---------------------------------------------------------------------

    def value(self, params: Mapping[str, Any]) -> float:
        """:math:`L(\\theta)`."""
        value, _ = self.model._value_and_grad(
            self.model.check_params(params),
            self.X,
            self.y,
            self.loss,
            self.loss_params,
            self.reduction,
            self.sample_weight,
            need_grad=False,
        )
        return float(value)

    __call__ = value

    def value_and_grad(self, params: Mapping[str, Any]) -> tuple[float, Params]:
        """``(L(theta), grad)`` by backprop (the gradient a dict like ``params``)."""
        value, grads = self.model._value_and_grad(
            self.model.check_params(params),
            self.X,
            self.y,
            self.loss,
            self.loss_params,
            self.reduction,
            self.sample_weight,
        )
        return float(value), grads

    def grad(self, params: Mapping[str, Any]) -> Params:
        """The gradient only."""
        return self.value_and_grad(params)[1]

    def hvp(self, params: Mapping[str, Any], v: Mapping[str, Any]) -> Params:
        """The exact Hessian-vector product :math:`\\nabla^2 L(\\theta)\\, v` (a dict like ``params``)."""
        P = self.model.check_params(params)
        V = curvature.check_tangent(self.model, P, v, "hvp")
        return curvature.hvp(
            self.model, P, self.X, self.y, V, self.loss, self.loss_params, self.reduction, self.sample_weight
        )

    # -- many parameter sets ---------------------------------------------------------------------

    def values(self, stacked_params: Mapping[str, Any], *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
        """:math:`L(\\theta_k)` for ``K`` stacked parameter sets, shape ``(K,)``.

        ``stacked_params`` carries a leading ``K`` axis on every array (see
        :meth:`~losslab.models.Model.apply_batched`). The points are evaluated a chunk at a time,
        each chunk in one batched forward pass whose activations take at most about ``max_bytes``;
        ``values(stacked)[k]`` equals ``value(params_k)`` (to rounding: the sums run in another order).
        """
        S, K = curvature.check_stacked_params(self.model, stacked_params, "values")
        out = np.empty(K, dtype=np.result_type(self.X, *S.values()))
        for start, stop in self._chunks(K, max_bytes):
            z = curvature.forward_batched(self.model, _take(S, start, stop), self.X)
            out[start:stop] = self._loss_values(z)
        return out

    def _chunks(self, K: int, max_bytes: int) -> list[tuple[int, int]]:
        max_bytes = check_int("values", "max_bytes", max_bytes, minimum=1)
        width = max(self.model.layer_sizes)
        per_point = 3 * self.n_samples * width * self.X.dtype.itemsize  # z, f(z) and h of the widest layer
        step = max(1, min(K, max_bytes // max(per_point, 1)))
        return [(s, min(s + step, K)) for s in range(0, K, step)]

    def _loss_values(self, z: np.ndarray) -> np.ndarray:
        """Loss values of a chunk of logits ``(k, n, n_out)``."""
        pred = self._out_act.forward(z)
        if self.model.n_out == 1 and self.y.ndim == 1:
            pred = pred[..., 0]
        loss, kw = self.loss, self._loss_kw
        if loss.kind == "elementwise" and self.sample_weight is None:
            # One call for the chunk: the unreduced loss, then the mean or sum of each point.
            y = np.broadcast_to(self.y, pred.shape)
            unreduced = loss(pred, y, reduction="none", **kw).reshape(pred.shape[0], -1)
            total = unreduced.sum(axis=1)
            return total / unreduced.shape[1] if self.reduction == "mean" else total
        return np.array(
            [loss(p, self.y, reduction=self.reduction, sample_weight=self.sample_weight, **kw) for p in pred]
        )

    # -- accuracy --------------------------------------------------------------------------------

    @property
    def has_accuracy(self) -> bool:
        """Whether the loss is a classification loss (task ``binary`` or ``multiclass``)."""
        return self.loss.info.task in ("binary", "multiclass")

    def accuracy(self, params: Mapping[str, Any]) -> float:
        """The fraction of samples classified correctly (see :meth:`accuracies`)."""
        z = self.model.logits(params, self.X)
        return float(self._accuracies(z[None])[0])

    def accuracies(
        self, stacked_params: Mapping[str, Any], *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> np.ndarray:
        """Accuracy of ``K`` stacked parameter sets, shape ``(K,)``.

        Binary losses: a sample is predicted positive when what the loss reads exceeds its midpoint
        (a logit or score above 0, a probability above 0.5) and is positive when its target is above
        0.5 (above 0 for the hinge family's -1/+1 labels). Multiclass: the arg-max class against the
        integer label (or the target's arg-max); ``ignore_index`` samples are left out.
        """
        S, K = curvature.check_stacked_params(self.model, stacked_params, "accuracies")
        out = np.empty(K)
        for start, stop in self._chunks(K, max_bytes):
            out[start:stop] = self._accuracies(
                curvature.forward_batched(self.model, _take(S, start, stop), self.X)
            )
        return out

    def _accuracies(self, z: np.ndarray) -> np.ndarray:
        if not self.has_accuracy:
            raise ValueError(
                f"objective: accuracy needs a classification loss (task binary or multiclass), "
                f"got {self.loss.name!r} (task {self.loss.info.task})"
            )
        read = self._out_act.forward(z)
        y = self.y
        if self.loss.info.task == "binary":
            probabilities = "from_logits" in self.loss.params and not self._loss_kw.get("from_logits", False)
            scores = read.reshape(read.shape[0], -1)
            predicted = scores > (0.5 if probabilities else 0.0)
            labels = y.reshape(-1) > (0.5 if "from_logits" in self.loss.params else 0.0)
            return np.mean(predicted == labels[None, :], axis=1)
        predicted_class = np.argmax(read, axis=-1)
        if getattr(self.loss, "targets", "labels") == "labels":
            labels = y.astype(np.int64)
            ignore = self._loss_kw.get("ignore_index")
            keep = np.ones(labels.shape, bool) if ignore is None else labels != ignore
        else:
            labels = np.argmax(y, axis=-1)
            keep = np.ones(labels.shape, bool)
        if not keep.any():
            raise ValueError("objective: accuracy needs at least one sample whose label is not ignore_index")
        return np.mean(predicted_class[:, keep] == labels[None, keep], axis=1)

    def __repr__(self) -> str:
        return f"Objective({self.model!r}, loss={self.loss.name!r}, n_samples={self.n_samples})"


def _take(S: Params, start: int, stop: int) -> Params:
    return {k: a[start:stop] for k, a in S.items()}
