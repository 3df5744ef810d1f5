"""Ready-made pieces for training on a named dataset: a model that fits its shape, its task's metrics.

These are what ``losslab train`` runs; a notebook can call them too.

>>> import losslab as ll
>>> X, y = ll.data.two_blobs(seed=0)
>>> ll.train.make_model("logistic", X, y, task="binary")
Logistic(n_in=2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_choice
from losslab.models import MLP, Linear, Logistic, Softmax
from losslab.models._base import Model
from losslab.train import metrics as _metrics

__all__ = ["MODEL_KINDS", "default_loss", "evaluate", "make_model"]

MODEL_KINDS = ("linear", "logistic", "softmax", "mlp")
Task = Literal["regression", "binary", "multiclass"]


def _n_classes(y: np.ndarray) -> int:
    return int(np.max(y)) + 1 if y.size else 0


def make_model(
    kind: str,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    task: Task,
    hidden: Sequence[int] = (16, 16),
    activation: str = "relu",
    skip: bool = False,
) -> Model:
    """A model of ``kind`` sized for ``X`` and the ``task``.

    ``"linear"``: :class:`~losslab.models.Linear` (regression); ``"logistic"``:
    :class:`~losslab.models.Logistic` (binary); ``"softmax"``: :class:`~losslab.models.Softmax` with
    ``max(y) + 1`` classes; ``"mlp"``: ``MLP([d, *hidden, k])`` with a sigmoid output for binary
    tasks, a softmax output for multiclass tasks and none for regression.
    """
    check_choice("make_model", "kind", kind, MODEL_KINDS)
    check_choice("make_model", "task", task, ("regression", "binary", "multiclass"))
    n_in = int(np.shape(X)[1])
    ya = np.asarray(y)
    if kind == "linear":
        return Linear(n_in)
    if kind == "logistic":
        if task != "binary":
            raise ValueError(f"make_model: kind='logistic' needs a binary task, got task={task!r}")
        return Logistic(n_in)
    if kind == "softmax":
        if task == "regression":
            raise ValueError("make_model: kind='softmax' needs a classification task, got task='regression'")
        return Softmax(n_in, max(2, _n_classes(ya)))
    if task == "multiclass":
        return MLP([n_in, *hidden, _n_classes(ya)], activation, output_activation="softmax", skip=skip)
    out = "sigmoid" if task == "binary" else None
    return MLP([n_in, *hidden, 1], activation, output_activation=out, skip=skip)


def default_loss(task: Task) -> str:
    """The usual loss of a task: MSE, binary cross-entropy, sparse categorical cross-entropy."""
    check_choice("default_loss", "task", task, ("regression", "binary", "multiclass"))
    return {
        "regression": "mse",
        "binary": "binary_cross_entropy",
        "multiclass": "sparse_categorical_cross_entropy",
    }[task]


def evaluate(
    model: Model,
    params: Mapping[str, Any],
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    task: Task,
    metrics: Sequence[str] | None = None,
) -> dict[str, float]:
    """The task's default metrics (:data:`losslab.train.metrics.DEFAULTS`) of the model on ``(X, y)``.

    A metric undefined on the data (ROC-AUC with a single class present) is reported as NaN.
    """
    check_choice("evaluate", "task", task, ("regression", "binary", "multiclass"))
    pred = model.apply(params, X)
    out: dict[str, float] = {}
    for name in metrics or _metrics.DEFAULTS[task]:
        try:
            out[name] = float(_metrics.get(name)(pred, y))
        except ValueError:
            out[name] = float("nan")
    return out
