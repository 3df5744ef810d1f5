r"""Multi-layer perceptron with manual backprop and optional residual skips."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from losslab._core.validation import check_choice, check_int
from losslab.models import init as _init
from losslab.models._base import Model

__all__ = ["MLP"]


class MLP(Model):
    r"""A fully connected network ``layer_sizes = [n_0, n_1, ..., n_L]``.

    Layer :math:`l` computes :math:`z_l = h_{l-1} W_l + b_l` (params ``Wl`` of shape
    ``(n_{l-1}, n_l)`` and ``bl`` of shape ``(n_l,)``), hidden layers apply ``activation``
    (:math:`h_l = f(z_l)`, or :math:`h_l = f(z_l) + h_{l-1}` with ``skip=True`` when
    :math:`n_{l-1} = n_l`: a residual connection), and the output applies ``output_activation``
    (``None``: identity; ``"sigmoid"``/``"softmax"``: probabilities, with cross-entropy computed from
    the logits). The output layer never has a skip.

    ``init`` names the weight initializer (:mod:`losslab.models.init`; default ``"xavier"``,
    biases zero).

    ``dropout`` is the inverted-dropout rate :math:`p \in [0, 1)` of every hidden layer (a float)
    or of each one (a list): in training :math:`h_l = m_l \odot f(z_l)` with
    :math:`m_l = [u \ge p] / (1 - p)`, so that :math:`E[h_l]` is the evaluation-mode activation
    and evaluation needs no rescaling (``torch.nn.Dropout``'s convention). The masks are drawn
    by :meth:`dropout_masks` -- in :func:`~losslab.train.fit` from its ``seed``, one draw per
    step -- and given to ``value_and_grad(..., masks=...)``; without masks the network runs in
    evaluation mode.

    >>> import numpy as np, losslab as ll
    >>> model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    >>> params = model.init(0)
    >>> sorted(params), params["W1"].shape, params["b2"].shape
    (['W1', 'W2', 'b1', 'b2'], (2, 2), (1,))
    """

    name = "MLP"
    default_loss = "mse"

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        skip: bool = False,
        init: str = "xavier",
        *,
        dtype: Any = np.float64,
        dropout: float | Sequence[float] = 0.0,
    ) -> None:
        if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
            raise TypeError(f"MLP: layer_sizes must be a list of integers, got {layer_sizes!r}")
        if len(layer_sizes) < 2:
            raise ValueError(f"MLP: layer_sizes needs an input and an output size, got {layer_sizes!r}")
        sizes = [check_int("MLP", "layer_sizes", s, minimum=1) for s in layer_sizes]
        check_choice("MLP", "init", init, _init.names())
        if init == "zeros" and len(sizes) > 2:
            raise ValueError("MLP: init='zeros' leaves hidden units identical forever; pick 'xavier' or 'he'")
        super().__init__(
            sizes,
            activation=activation,
            output_activation=output_activation,
            skip=skip,
            init=init,
            dtype=dtype,
            dropout=dropout,
        )
        if self.output_activation.name == "sigmoid":
            self.default_loss = "binary_cross_entropy"
        elif self.output_activation.name == "softmax":
            self.default_loss = "sparse_categorical_cross_entropy"

    def __repr__(self) -> str:
        out = self.output_activation.name
        return (
            f"MLP({list(self.layer_sizes)}, activation={self.activation.name!r}, "
            f"output_activation={out!r}, skip={self.skip}"
            + (f", dropout={list(self.dropout)}" if self.has_dropout else "")
            + ")"
        )
