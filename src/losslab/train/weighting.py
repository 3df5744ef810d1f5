r"""Per-sample weights of a training objective from ``sample_weight`` and ``class_weight``.

:func:`~losslab.train.fit` weights sample :math:`i`'s loss by :math:`w_i = s_i\, c_{y_i}`:
:math:`s_i` = ``sample_weight[i]`` (default 1) times the weight :math:`c_k` of its class
(``class_weight``; default 1). The batch loss is then the loss's ``"mean"`` with that
``sample_weight``: :math:`\frac1n\sum_i w_i \ell_i` (Keras' ``sum_over_batch_size``, which is what
Keras' ``fit(class_weight=...)`` does). PyTorch's ``CrossEntropyLoss(weight=c)`` divides by
:math:`\sum_i c_{y_i}` instead; the two differ by that batch-dependent factor.

``class_weight`` is ``"balanced"`` (:math:`c_k = n / (K n_k)`, scikit-learn's rule, from
:func:`losslab.losses.class_weights`), a mapping ``{label: weight}`` (labels it omits weigh 1) or
an array indexed by label. Labels are read from ``y``: integer labels, binary 0/1 targets, or the
argmax of one-hot rows.

>>> import losslab as ll
>>> ll.train.weighting.sample_weights([0, 0, 0, 1], class_weight="balanced").tolist()
[0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
>>> ll.train.weighting.sample_weights([0, 1], sample_weight=[2.0, 1.0], class_weight={1: 3.0}).tolist()
[2.0, 3.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.arrays import as_float
from losslab.losses.weights import class_weights

__all__ = ["labels_of", "sample_weights"]


def labels_of(y: npt.ArrayLike, where: str = "fit") -> np.ndarray:
    """Integer class labels of targets ``y`` (labels, 0/1 targets, or one-hot/probability rows)."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] > 1:
        return arr.argmax(axis=1).astype(np.int64)
    flat = arr.reshape(arr.shape[0], -1)[:, 0] if arr.ndim == 2 else arr.ravel()
    if np.issubdtype(flat.dtype, np.floating) and (
        not np.isfinite(flat).all() or np.any(flat != np.round(flat))
    ):
        raise ValueError(f"{where}: class_weight needs class labels in y, got non-integer targets")
    if not (np.issubdtype(flat.dtype, np.number) or flat.dtype == np.bool_):
        raise TypeError(f"{where}: class_weight needs class labels in y, got dtype {flat.dtype}")
    labels = flat.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"{where}: class_weight needs class labels >= 0 in y, got {int(labels.min())}")
    return labels


def sample_weights(
    y: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    class_weight: str | Mapping[int, float] | npt.ArrayLike | None = None,
    where: str = "fit",
) -> np.ndarray | None:
    """The per-sample weights :math:`w_i = s_i c_{y_i}` of shape ``(n,)`` (``None`` when neither is given)."""
    arr = np.asarray(y)
    n = arr.shape[0] if arr.ndim else 0
    out = None
    if sample_weight is not None:
        s = as_float(np, sample_weight, "sample_weight", where)
        if s.shape != (n,):
            raise ValueError(
                f"{where}: sample_weight must have one weight per sample ({n},), got shape {s.shape}"
            )
        if not np.isfinite(s).all() or (s < 0).any():
            raise ValueError(f"{where}: sample_weight must hold finite weights >= 0")
        out = s.astype(np.float64)
    if class_weight is not None:
        labels = labels_of(arr, where)
        c = _class_weight_table(class_weight, labels, where)
        if labels.max() >= c.size:
            raise ValueError(
                f"{where}: class_weight gives {c.size} class weights, but y holds label {int(labels.max())}"
            )
        cw = c[labels]
        out = cw if out is None else out * cw
    return out


def _class_weight_table(class_weight: Any, labels: np.ndarray, where: str) -> np.ndarray:
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"{where}: class_weight must be 'balanced', a mapping or an array, got {class_weight!r}"
            )
        return class_weights(labels)
    if isinstance(class_weight, Mapping):
        size = max(int(labels.max()) + 1, *(int(k) + 1 for k in class_weight))
        table = np.ones(size)
        for k, w in class_weight.items():
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
                raise TypeError(f"{where}: class_weight keys must be class labels >= 0, got {k!r}")
            table[int(k)] = float(w)
    else:
        table = as_float(np, class_weight, "class_weight", where).astype(np.float64)
        if table.ndim != 1:
            raise ValueError(
                f"{where}: class_weight must be 1-D (one weight per class), got shape {table.shape}"
            )
    if not np.isfinite(table).all() or (table < 0).any():
        raise ValueError(f"{where}: class_weight must hold finite weights >= 0")
    return table
