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
from losslab.models import activations as _activations
from losslab.models._base import Model
from losslab.train import metrics as _metrics

__all__ = ["MODEL_KINDS", "class_report", "default_loss", "evaluate", "make_model"]

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
    dropout: float | Sequence[float] = 0.0,
    init: str | None = None,
) -> Model:
    """A model of ``kind`` sized for ``X`` and the ``task``.

    ``"linear"``: :class:`~losslab.models.Linear` (regression); ``"logistic"``:
    :class:`~losslab.models.Logistic` (binary); ``"softmax"``: :class:`~losslab.models.Softmax` with
    ``max(y) + 1`` classes; ``"mlp"``: ``MLP([d, *hidden, k])`` with a sigmoid output for binary
    tasks, a softmax output for multiclass tasks and none for regression, with ``dropout`` on its
    hidden layers and the ``init`` initializer (default: the model's own).
    """
    check_choice("make_model", "kind", kind, MODEL_KINDS)
    check_choice("make_model", "task", task, ("regression", "binary", "multiclass"))
    _activations.get(activation, "make_model")  # an unknown name is an error for every kind
    n_in = int(np.shape(X)[1])
    ya = np.asarray(y)
    if kind != "mlp" and (
        np.any(np.asarray(dropout, dtype=float) != 0.0) or (init is not None and init != "zeros")
    ):
        raise ValueError(
            f"make_model: dropout and init apply to kind='mlp' (hidden layers), got kind={kind!r}"
        )
    kw: dict[str, Any] = {"skip": skip, "dropout": dropout}
    if init is not None:
        kw["init"] = init
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
        return MLP([n_in, *hidden, _n_classes(ya)], activation, output_activation="softmax", **kw)
    out = "sigmoid" if task == "binary" else None
    return MLP([n_in, *hidden, 1], activation, output_activation=out, **kw)


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


def class_report(
    model: Model, params: Mapping[str, Any], X: npt.ArrayLike, y: npt.ArrayLike
) -> dict[str, np.ndarray]:
    """Per-class ``precision``, ``recall``, ``f1`` and ``support`` (true count) arrays and the ``confusion`` matrix.

    >>> import losslab as ll
    >>> X, y = ll.data.two_blobs(n=40, seed=0)
    >>> model = ll.models.Logistic(2)
    >>> report = ll.train.class_report(model, {"W": [[1.0], [1.0]], "b": [0.0]}, X, y)
    >>> sorted(report), report["confusion"].shape
    (['confusion', 'f1', 'precision', 'recall', 'support'], (2, 2))
    """
    pred = model.apply(params, X)
    confusion = _metrics.confusion_matrix(pred, y)
    return {
        "precision": _metrics.precision_per_class(pred, y),
        "recall": _metrics.recall_per_class(pred, y),
        "f1": _metrics.f1_per_class(pred, y),
        "support": confusion.sum(axis=1),
        "confusion": confusion,
    }
