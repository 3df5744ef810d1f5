r"""Multi-task training: one model, several heads, one loss per task, fixed or learned task weights.

A model with :math:`n_{out} = \sum_t k_t` outputs serves :math:`T` tasks: task :math:`t` reads
its :math:`k_t` output columns (``outputs``) and its own target, and has its own loss
:math:`L_t`. The tasks are combined (001 §6.1) by

- ``"weighted_sum"``: :math:`L = \sum_t w_t L_t` with fixed ``weights`` (default 1);
- ``"uncertainty_weighting"`` (Kendall, Gal & Cipolla 2018): :math:`L = \sum_t \tfrac12
  e^{-s_t} L_t + \tfrac12 s_t` with learned :math:`s_t = \log\sigma_t^2`, trained jointly with the
  network by the same optimizer (a parameter ``"log_vars"`` of shape ``(T,)``, starting at 0).
  For fixed :math:`L_t` the optimum is :math:`s_t = \log L_t`: each task is weighted by the inverse
  of its own loss level, :math:`\tfrac12 e^{-s_t} = 1/(2L_t)`. This is the registered
  ``uncertainty_weighting`` loss with ``reduction="sum"``.

Pass the specification as ``loss=`` to :func:`~losslab.train.fit` with ``y`` a list of the
tasks' targets. The history then holds, per epoch, each task's loss (``"<name>_loss"``,
evaluation mode, unweighted) and with learned weights :math:`\sigma_t = e^{s_t/2}`
(``"<name>_sigma"``) and :math:`s_t` (``"<name>_log_var"``).

Heads see the model's output activation: for a classification head on a linear output, give the
loss ``from_logits=True``.

>>> import numpy as np, losslab as ll
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 1))
>>> y1 = 2 * X[:, 0] + rng.normal(0, 0.1, 200)
>>> y2 = -X[:, 0] + rng.normal(0, 1.0, 200)
>>> tasks = ll.train.multitask(["mse", "mse"], weighting="uncertainty_weighting", names=["precise", "noisy"])
>>> h = ll.train.fit(ll.models.Linear(1, 2), X, [y1, y2], loss=tasks, optimizer=ll.optim.adam(lr=0.05),
...                  epochs=400, seed=0, progress=False)
>>> bool(h.epochs["precise_sigma"][-1] < h.epochs["noisy_sigma"][-1])
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from losslab._core.validation import check_choice, check_int, check_number
from losslab.losses._spec import Loss
from losslab.losses._spec import get as get_loss
from losslab.losses.composite import uncertainty_weighting
from losslab.models._base import Model
from losslab.train._batch import BatchObjective

__all__ = ["MultiTask", "MultiTaskObjective", "multitask"]

Weighting = Literal["weighted_sum", "uncertainty_weighting"]
LOG_VARS = "log_vars"


class MultiTask:
    """A multi-task loss specification (build it with :func:`multitask`)."""

    def __init__(
        self,
        tasks: Sequence[tuple[Loss, dict[str, Any]]],
        outputs: Sequence[int],
        weighting: Weighting,
        weights: Sequence[float],
        names: Sequence[str],
    ) -> None:
        self.tasks = list(tasks)
        self.outputs = [int(k) for k in outputs]
        self.weighting = weighting
        self.weights = np.asarray(weights, dtype=np.float64)
        self.names = list(names)
        edges = np.cumsum([0, *self.outputs])
        self.columns = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]

    @property
    def learned(self) -> bool:
        """Whether the task weights are learned (``uncertainty_weighting``)."""
        return self.weighting == "uncertainty_weighting"

    @property
    def n_outputs(self) -> int:
        """The number of model outputs the heads read."""
        return sum(self.outputs)

    # -- targets: one packed float array so that fit shuffles and batches them like any y

    def pack(self, y: Any, n: int, where: str = "fit") -> tuple[np.ndarray, list[tuple[int, int, Any, int]]]:
        """The tasks' targets as one ``(n, m)`` array and its layout ``[(start, stop, dtype, ndim)]``."""
        T = len(self.tasks)
        if isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] == T:
            parts = [y[:, t] for t in range(T)]
        elif isinstance(y, (list, tuple)):
            parts = [np.asarray(p) for p in y]
        else:
            raise TypeError(f"{where}: a multi-task y must be a list of {T} targets, one per task")
        if len(parts) != T:
            raise ValueError(f"{where}: a multi-task y must give one target per task ({T}), got {len(parts)}")
        cols, layout, start = [], [], 0
        for name, p in zip(self.names, parts):
            if p.ndim == 0 or p.shape[0] != n:
                raise ValueError(
                    f"{where}: the target of task {name!r} must have {n} rows, got shape {p.shape}"
                )
            col = p.reshape(n, -1).astype(np.float64)
            layout.append((start, start + col.shape[1], p.dtype, p.ndim))
            start += col.shape[1]
            cols.append(col)
        return np.concatenate(cols, axis=1), layout

    def check_model(self, model: Model, where: str = "fit") -> None:
        if model.n_out != self.n_outputs:
            raise ValueError(
                f"{where}: the tasks read {self.n_outputs} outputs ({'+'.join(map(str, self.outputs))}), "
                f"the model has {model.n_out}"
            )
        if model.output_activation.derivative is None:
            raise ValueError(
                f"{where}: multi-task heads need an element-wise output activation, "
                f"got {model.output_activation.name!r}"
            )

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={loss.name}" for n, (loss, _) in zip(self.names, self.tasks))
        return f"MultiTask({parts}, weighting={self.weighting!r})"


def multitask(
    losses: Sequence[str | Loss | tuple[str | Loss, Mapping[str, Any]]],
    *,
    outputs: Sequence[int] | None = None,
    weighting: Weighting = "weighted_sum",
    weights: Sequence[float] | None = None,
    names: Sequence[str] | None = None,
) -> MultiTask:
    r"""One loss per task, combined by fixed ``weights`` or learned uncertainty weights (module docstring).

    ``losses``: for each task a registered name, a loss, or ``(loss, params)``. ``outputs``: each
    task's number of output columns (default 1 each), in order. ``names``: labels for the
    history (default ``task1``, ``task2``, ...).

    Raises ``ValueError`` naming the task for a task with no loss, and for weights that do not
    match the tasks.
    """
    where = "multitask"
    if isinstance(losses, (str, Loss)) or not isinstance(losses, Sequence) or len(losses) == 0:
        raise ValueError(f"{where}: losses must give one loss per task, got {losses!r}")
    T = len(losses)
    names = [f"task{t + 1}" for t in range(T)] if names is None else [str(n) for n in names]
    if len(names) != T or len(set(names)) != T:
        raise ValueError(f"{where}: names must be {T} distinct labels, got {names!r}")
    tasks = []
    for name, entry in zip(names, losses):
        loss_like, params = entry if isinstance(entry, tuple) else (entry, {})
        if loss_like is None:
            raise ValueError(f"{where}: task {name!r} has no loss")
        loss = get_loss(loss_like) if not isinstance(loss_like, Loss) else loss_like
        try:
            loss.resolve_params(dict(params))
        except (TypeError, ValueError) as err:
            raise type(err)(f"{where}: task {name!r}: {err}") from None
        if loss.inputs[:2] != ("y_pred", "y_true"):
            raise ValueError(f"{where}: task {name!r}: {loss.name} is not a loss of (y_pred, y_true)")
        tasks.append((loss, dict(params)))
    widths = [1] * T if outputs is None else [check_int(where, "outputs", k, minimum=1) for k in outputs]
    if len(widths) != T:
        raise ValueError(f"{where}: outputs must give one width per task ({T}), got {len(widths)}")
    check_choice(where, "weighting", weighting, ("weighted_sum", "uncertainty_weighting"))
    if weighting == "uncertainty_weighting":
        if weights is not None:
            raise ValueError(f"{where}: uncertainty_weighting learns the weights; got weights={weights!r}")
        w = [1.0] * T
    else:
        w = [1.0] * T if weights is None else [check_number(where, "weights", x) for x in weights]
        if len(w) != T:
            raise ValueError(f"{where}: weights must give one weight per task ({T}), got {len(w)}")
    return MultiTask(tasks, widths, weighting, w, names)


class MultiTaskObjective(BatchObjective):
    """The batch objective of a :class:`MultiTask` loss (``"log_vars"`` trained with the network)."""

    def __init__(
        self, model: Model, tasks: MultiTask, layout: list[tuple[int, int, Any, int]], **kw: Any
    ) -> None:
        super().__init__(model, uncertainty_weighting, {}, **kw)
        self.tasks = tasks
        self.layout = layout

    def init_params(
        self, params: dict[str, np.ndarray], given: Mapping[str, Any] | None
    ) -> dict[str, np.ndarray]:
        if not self.tasks.learned:
            return params
        T = len(self.tasks.tasks)
        start = np.zeros(T) if given is None or LOG_VARS not in given else np.asarray(given[LOG_VARS], float)
        if start.shape != (T,):
            raise ValueError(f"fit: init_params['log_vars'] must have shape ({T},), got {start.shape}")
        return {**params, LOG_VARS: start.copy()}

    def _targets(self, y: np.ndarray) -> list[np.ndarray]:
        out = []
        for lo, hi, dtype, ndim in self.layout:
            col = y[:, lo:hi]
            col = col[:, 0] if ndim == 1 else col
            out.append(col.astype(dtype) if np.issubdtype(dtype, np.integer) else col)
        return out

    def _task_terms(
        self,
        params: Mapping[str, np.ndarray],
        X: np.ndarray,
        y: np.ndarray,
        weights: Any,
        masks: Any,
        need_grad: bool,
    ) -> tuple[list[float], tuple[Any, ...]]:
        """Each task's loss and, with ``need_grad``, ``(z, cache, a, dL_t/da)`` for backprop."""
        model = self.model
        z, cache = model._forward(dict(params), X, keep=need_grad, masks=masks)
        out = model.output_activation
        a = out.forward(z)
        da = np.zeros_like(a) if need_grad else None
        values = []
        for (loss, lp), (lo, hi), target in zip(self.tasks.tasks, self.tasks.columns, self._targets(y)):
            squeeze = hi - lo == 1 and target.ndim == 1
            pred = a[:, lo] if squeeze else a[:, lo:hi]
            sw = None
            if weights is not None:
                sw = weights if squeeze or loss.kind == "class_axis" else weights[:, None]
            if da is not None:
                v, d = loss.value_and_grad(pred, target, sample_weight=sw, **lp)
                da[:, lo:hi] = d[:, None] if squeeze else d
            else:
                v = loss(pred, target, sample_weight=sw, **lp)
            values.append(float(v))
        return values, (z, cache, a, da)

    def _combine(
        self, params: Mapping[str, np.ndarray], values: list[float]
    ) -> tuple[float, np.ndarray, Any]:
        """Total, per-task coefficients dL/dL_t and dL/ds (``None`` for fixed weights)."""
        L = np.asarray(values)
        if not self.tasks.learned:
            return float(self.tasks.weights @ L), self.tasks.weights, None
        total, (coef, d_s) = uncertainty_weighting.value_and_grad(L, params[LOG_VARS], reduction="sum")
        return float(total), np.asarray(coef), np.asarray(d_s)

    def _evaluate(
        self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, weights: Any, masks: Any
    ) -> tuple[Any, float, dict[str, np.ndarray]]:
        values, (z, cache, a, da) = self._task_terms(params, X, y, weights, masks, need_grad=True)
        total, coef, d_s = self._combine(params, values)
        for c, (lo, hi) in zip(coef, self.tasks.columns):
            da[:, lo:hi] *= c
        out = self.model.output_activation
        grads = self.model._backward(dict(params), cache, out.backward(z, a, da), masks)
        if d_s is not None:
            grads[LOG_VARS] = d_s
        return self._add_penalty(total, grads, params)

    def value(self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
        values = self._task_terms(params, X, y, None, None, need_grad=False)[0]
        return self._combine(params, values)[0]

    def epoch_logs(self, params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        values = self._task_terms(params, X, y, None, None, need_grad=False)[0]
        logs = {f"{name}_loss": v for name, v in zip(self.tasks.names, values)}
        if self.tasks.learned:
            for name, s in zip(self.tasks.names, params[LOG_VARS]):
                logs[f"{name}_log_var"] = float(s)
                logs[f"{name}_sigma"] = float(np.exp(0.5 * s))
        return logs
