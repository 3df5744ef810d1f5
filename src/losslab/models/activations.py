r"""Activation functions with their derivatives, written for manual backprop.

Each activation maps pre-activations ``z`` to ``a = f(z)``; ``backward(z, a, da)`` returns
``dz = da * f'(z)`` (the vector-Jacobian product; for ``softmax`` the full Jacobian over the last
axis, :math:`dz = a \odot (da - \langle da, a\rangle)`).

========== ======================================== =============================================
name       :math:`f(z)`                             :math:`f'(z)`
========== ======================================== =============================================
sigmoid    :math:`\sigma(z) = 1/(1+e^{-z})`         :math:`\sigma(z)(1-\sigma(z))`
tanh       :math:`\tanh z`                          :math:`1-\tanh^2 z`
relu       :math:`\max(z, 0)`                       :math:`[z>0]` (0 at the kink, as PyTorch)
leaky_relu :math:`z` if :math:`z>0` else :math:`0.01z`  1 if :math:`z>0` else 0.01 (PyTorch's default slope)
linear     :math:`z`                                1
softmax    :math:`e^{z_k}/\sum_j e^{z_j}`           :math:`a_k(\delta_{kj}-a_j)`
========== ======================================== =============================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from losslab._core.validation import check_choice

__all__ = ["ACTIVATIONS", "LEAKY_SLOPE", "Activation", "get", "names"]

LEAKY_SLOPE = 0.01


class Activation(NamedTuple):
    """``forward(z) -> a`` and ``backward(z, a, da) -> dz``."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return expit(z)


def _sigmoid_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return da * a * (1.0 - a)


def _tanh_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return da * (1.0 - a * a)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return da * (z > 0)


def _leaky(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def _leaky_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return np.where(z > 0, da, LEAKY_SLOPE * da)


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _identity_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return da


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return a * (da - np.sum(da * a, axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_back),
    "tanh": Activation("tanh", np.tanh, _tanh_back),
    "relu": Activation("relu", _relu, _relu_back),
    "leaky_relu": Activation("leaky_relu", _leaky, _leaky_back),
    "linear": Activation("linear", _identity, _identity_back),
    "softmax": Activation("softmax", _softmax, _softmax_back),
}


def names() -> list[str]:
    """The activation names."""
    return sorted(ACTIVATIONS)


def get(name: str | None, where: str = "activation") -> Activation:
    """The activation called ``name`` (``None`` means ``"linear"``)."""
    if name is None:
        name = "linear"
    check_choice(where, "activation", name, sorted(ACTIVATIONS))
    return ACTIVATIONS[name]
