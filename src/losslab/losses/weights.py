"""Class weights for imbalanced data and label smoothing.

``class_weights`` turns label counts into per-class weights (pass them as ``class_weight`` to the
cross-entropy family, or index them by label to build a ``sample_weight``); ``smooth_labels``
builds the smoothed targets that the ``label_smoothing`` parameter of the cross-entropies uses.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_choice, check_in_range, check_int

__all__ = ["class_weights", "smooth_labels"]

WeightMethod = Literal["inverse", "inverse_sqrt", "effective_number"]
Normalization = Literal["samples", "classes", "none"]


def _labels(where: str, y: npt.ArrayLike) -> np.ndarray:
    arr = np.asarray(y)
    if arr.size == 0:
        raise ValueError(f"{where}: y is empty; class weights need at least one label")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise TypeError(f"{where}: y must hold integer class labels, got non-integer values")
        arr = arr.astype(np.int64)
    elif not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
        raise TypeError(f"{where}: y must hold integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64).ravel()
    if arr.min() < 0:
        raise ValueError(f"{where}: y must hold class labels >= 0, got {int(arr.min())}")
    return arr


def class_weights(
    y: npt.ArrayLike,
    method: WeightMethod = "inverse",
    beta: float = 0.999,
    *,
    n_classes: int | None = None,
    normalize: Normalization = "samples",
) -> np.ndarray:
    r"""Per-class weights from the label counts :math:`n_c` of ``y``.

    Raw weights, by ``method``:

    - ``"inverse"``: :math:`w_c = 1 / n_c`;
    - ``"inverse_sqrt"``: :math:`w_c = 1 / \sqrt{n_c}`;
    - ``"effective_number"``: :math:`w_c = (1 - \beta) / (1 - \beta^{n_c})`, the inverse of the
      effective number of samples :math:`E_{n} = (1 - \beta^{n}) / (1 - \beta)` (Cui et al., 2019).

    ``normalize`` rescales them: ``"samples"`` (default) so that :math:`\sum_c n_c w_c = N`, i.e.
    the average weight over the samples is 1 and the loss keeps its scale -- for ``"inverse"``
    this is scikit-learn's ``class_weight="balanced"``, :math:`N / (K n_c)`; ``"classes"`` so that
    :math:`\sum_c w_c = K` (the normalization of Cui et al.); ``"none"`` keeps the raw weights.
    :math:`K` counts the classes present. A class with no sample (possible when ``n_classes`` is
    larger than the largest label) gets weight 0: it never appears in the loss.

    ``y`` holds integer labels (any shape); ``n_classes`` defaults to ``max(y) + 1``; ``beta`` in
    [0, 1) is used by ``"effective_number"`` only (``beta = 0`` gives equal weights, ``beta -> 1``
    tends to ``"inverse"``).

    >>> class_weights([0, 0, 0, 1])
    array([0.66666667, 2.        ])
    >>> class_weights([0, 0, 0, 1], "inverse", normalize="none")
    array([0.33333333, 1.        ])

    References: Cui, Jia, Lin, Song, Belongie (2019), Class-Balanced Loss Based on Effective
    Number of Samples, CVPR, arXiv:1901.05555; scikit-learn ``compute_class_weight``.
    """
    where = "class_weights"
    check_choice(where, "method", method, ("inverse", "inverse_sqrt", "effective_number"))
    check_choice(where, "normalize", normalize, ("samples", "classes", "none"))
    beta = check_in_range(where, "beta", beta, 0.0, 1.0, closed="left")
    labels = _labels(where, y)
    top = int(labels.max()) + 1
    if n_classes is None:
        n_classes = top
    n_classes = check_int(where, "n_classes", n_classes, minimum=1)
    if top > n_classes:
        raise ValueError(f"{where}: y holds label {top - 1}, out of range for n_classes={n_classes}")
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    present = counts > 0
    n = counts[present]
    if method == "inverse":
        raw = 1.0 / n
    elif method == "inverse_sqrt":
        raw = 1.0 / np.sqrt(n)
    else:
        raw = (1.0 - beta) / -np.expm1(n * np.log(beta)) if beta > 0 else np.ones_like(n)
    if normalize == "samples":
        raw = raw * (n.sum() / np.dot(n, raw))
    elif normalize == "classes":
        raw = raw * (n.size / raw.sum())
    out = np.zeros(n_classes)
    out[present] = raw
    return out


def smooth_labels(y: npt.ArrayLike, label_smoothing: float, n_classes: int | None = None) -> np.ndarray:
    r"""Label-smoothed targets :math:`y' = (1 - \varepsilon)\,y + \varepsilon / K`.

    Integer ``y`` are class labels: they become one-hot rows over ``n_classes`` classes (default
    ``max(y) + 1``) and are then smoothed (shape ``y.shape + (K,)``). Floating ``y`` are targets
    already: each entry is smoothed with :math:`K` = ``n_classes`` if given, else the size of the
    last axis. ``n_classes=2`` on binary targets (the probability of class 1, any shape) gives the
    binary rule :math:`y(1 - \varepsilon) + \varepsilon / 2` of ``binary_cross_entropy``.
    :math:`\varepsilon` = ``label_smoothing`` in [0, 1] (Szegedy et al., 2016; PyTorch's and
    Keras' ``label_smoothing``).

    >>> smooth_labels([0, 2], 0.3, n_classes=3)
    array([[0.8, 0.1, 0.1],
           [0.1, 0.1, 0.8]])
    >>> smooth_labels([1.0, 0.0], 0.2, n_classes=2)
    array([0.9, 0.1])
    """
    where = "smooth_labels"
    eps = check_in_range(where, "label_smoothing", label_smoothing, 0.0, 1.0)
    arr = np.asarray(y)
    if n_classes is not None:
        n_classes = check_int(where, "n_classes", n_classes, minimum=1)
    if np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_):
        labels = arr.astype(np.int64)
        if labels.size == 0:
            raise ValueError(f"{where}: y is empty")
        top = int(labels.max()) + 1
        k = top if n_classes is None else n_classes
        if labels.min() < 0 or top > k:
            bad = int(labels.min()) if labels.min() < 0 else top - 1
            raise ValueError(f"{where}: y must hold class labels in [0, {k}), got {bad}")
        targets = (labels[..., None] == np.arange(k)).astype(np.float64)
    elif np.issubdtype(arr.dtype, np.floating):
        targets = arr
        if n_classes is None:
            if arr.ndim == 0:
                raise ValueError(f"{where}: a scalar float target needs n_classes (2 for binary targets)")
            k = arr.shape[-1]
        else:
            k = n_classes
            if k != 2 and (arr.ndim == 0 or arr.shape[-1] != k):
                raise ValueError(
                    f"{where}: floating y must have a class axis of size n_classes={k}, got shape {arr.shape}"
                )
    else:
        raise TypeError(f"{where}: y must hold labels or probabilities, got dtype {arr.dtype}")
    return targets * (1.0 - eps) + eps / k
