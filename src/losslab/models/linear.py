r"""One-layer models: linear regression, logistic regression, softmax regression.

All three compute :math:`z = XW + b` with ``W`` of shape ``(n_in, n_out)`` and ``b`` of shape
``(n_out,)`` (PyTorch's ``nn.Linear`` stores ``W.T``). They differ in the output map:
identity (``Linear``), :math:`\sigma(z)` (``Logistic``) and :math:`\mathrm{softmax}(z)`
(``Softmax``). For the last two, cross-entropy is evaluated on the logits, so its gradient is
the familiar :math:`\partial\ell/\partial z = (\hat p - y)/n`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from losslab._core.validation import check_int
from losslab.models._base import Model

__all__ = ["Linear", "Logistic", "Softmax"]


class Linear(Model):
    r"""Linear regression :math:`\hat y = XW + b`; params ``W`` ``(n_in, n_out)``, ``b`` ``(n_out,)``.

    Default loss ``mse``; parameters start at zero (``init="zeros"``, the curriculum's
    :math:`w = b = 0`) unless another initializer is named.

    >>> import numpy as np, losslab as ll
    >>> model = ll.models.Linear(1)
    >>> params = {"W": np.array([[1.0]]), "b": np.array([0.0])}
    >>> value, grads = model.value_and_grad(params, [[2.0]], [5.0], loss="mse")
    >>> float(value), grads["W"].tolist(), grads["b"].tolist()
    (9.0, [[-12.0]], [-6.0])
    """

    name = "Linear"
    default_loss = "mse"

    def __init__(self, n_in: int, n_out: int = 1, *, init: str = "zeros", dtype: Any = np.float64) -> None:
        n_in = check_int(self.name, "n_in", n_in, minimum=1)
        n_out = check_int(self.name, "n_out", n_out, minimum=1)
        super().__init__([n_in, n_out], output_activation=None, init=init, keys=[("W", "b")], dtype=dtype)

    def __repr__(self) -> str:
        return f"Linear(n_in={self.n_in}, n_out={self.n_out})"


class Logistic(Model):
    r"""Logistic regression :math:`p = \sigma(XW + b)`; ``apply`` returns probabilities ``(n, 1)``.

    The default loss is ``binary_cross_entropy``, evaluated on the logits with
    ``from_logits=True``: :math:`\ell = \mathrm{softplus}(z) - yz`, :math:`\partial\ell/\partial z
    = \sigma(z) - y` -- finite for any logit.
    """

    name = "Logistic"
    default_loss = "binary_cross_entropy"

    def __init__(self, n_in: int, *, init: str = "zeros", dtype: Any = np.float64) -> None:
        n_in = check_int(self.name, "n_in", n_in, minimum=1)
        super().__init__([n_in, 1], output_activation="sigmoid", init=init, keys=[("W", "b")], dtype=dtype)

    def __repr__(self) -> str:
        return f"Logistic(n_in={self.n_in})"


class Softmax(Model):
    r"""Softmax regression :math:`p = \mathrm{softmax}(XW + b)`; ``apply`` returns ``(n, n_classes)``.

    The default loss is ``sparse_categorical_cross_entropy`` (integer labels; use
    ``categorical_cross_entropy`` for one-hot targets), evaluated on the logits:
    :math:`\partial\ell/\partial z = p - \mathrm{onehot}(y)` per sample.
    """

    name = "Softmax"
    default_loss = "sparse_categorical_cross_entropy"

    def __init__(self, n_in: int, n_classes: int, *, init: str = "zeros", dtype: Any = np.float64) -> None:
        n_in = check_int(self.name, "n_in", n_in, minimum=1)
        n_classes = check_int(self.name, "n_classes", n_classes, minimum=2)
        super().__init__(
            [n_in, n_classes], output_activation="softmax", init=init, keys=[("W", "b")], dtype=dtype
        )
        self.n_classes = n_classes

    def __repr__(self) -> str:
        return f"Softmax(n_in={self.n_in}, n_classes={self.n_classes})"
