r"""Activation functions with their derivatives, written for manual backprop.

Each activation maps pre-activations ``z`` to ``a = f(z)``; ``backward(z, a, da)`` returns
``dz = da * f'(z)`` (the vector-Jacobian product; for ``softmax`` the full Jacobian over the last
axis, :math:`dz = a \odot (da - \langle da, a\rangle)`).

The element-wise activations also give ``derivative(z, a) -> f'(z)`` and
``second_derivative(z, a) -> f''(z)`` (both read whichever of ``z`` and ``a = f(z)`` is cheaper).
They drive the input gradient of a model and its mixed second derivative (double backprop, as
the WGAN-GP penalty needs); ``softmax`` is not element-wise and has neither (``None``).

========== ===================================== ================================ ===========================
name       :math:`f(z)`                          :math:`f'(z)`                    :math:`f''(z)`
========== ===================================== ================================ ===========================
sigmoid    :math:`\sigma(z) = 1/(1+e^{-z})`      :math:`\sigma(1-\sigma)`          :math:`\sigma(1-\sigma)(1-2\sigma)`
tanh       :math:`\tanh z`                       :math:`1-\tanh^2 z`              :math:`-2\tanh z\,(1-\tanh^2 z)`
relu       :math:`\max(z, 0)`                    :math:`[z>0]` (0 at the kink)    0 (almost everywhere)
leaky_relu :math:`z` if :math:`z>0` else         1 if :math:`z>0` else 0.01       0 (almost everywhere)
           :math:`0.01z` (PyTorch's slope)
linear     :math:`z`                             1                                0
softmax    :math:`e^{z_k}/\sum_j e^{z_j}`        :math:`a_k(\delta_{kj}-a_j)`     --
========== ===================================== ================================ ===========================

The kinks follow PyTorch: ``relu``'s derivative is 0 at :math:`z = 0`, ``leaky_relu``'s is the
slope 0.01 there, and both second derivatives are 0 everywhere (what ``torch.autograd`` returns on
double backward).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from losslab._core.validation import check_choice

__all__ = ["ACTIVATIONS", "LEAKY_SLOPE", "Activation", "get", "names"]

LEAKY_SLOPE = 0.01


class Activation(NamedTuple):
    """``forward(z) -> a``, ``backward(z, a, da) -> dz`` and, element-wise ones, ``f'`` and ``f''``."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    #: ``derivative(z, a) -> f'(z)`` element-wise; ``None`` for ``softmax``.
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    #: ``second_derivative(z, a) -> f''(z)`` element-wise; ``None`` for ``softmax``.
    second_derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit  # (scipy.special is slow to import: only when used)

    return expit(z)


def _sigmoid_back(z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    return da * a * (1.0 - a)


def _sigmoid_d1(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


def _sigmoid_d2(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a) * (1.0 - 2.0 * a)


def _tanh_d1(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return 1.0 - a * a


def _tanh_d2(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return -2.0 * a * (1.0 - a * a)


def _relu_d1(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    # a > 0 exactly where z > 0 (and reads the same when z was overwritten by a in place).
    return (a > 0).astype(a.dtype)


def _leaky_d1(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def _ones(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


def _zeros(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.zeros_like(z)


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
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_back, _sigmoid_d1, _sigmoid_d2),
    "tanh": Activation("tanh", np.tanh, _tanh_back, _tanh_d1, _tanh_d2),
    "relu": Activation("relu", _relu, _relu_back, _relu_d1, _zeros),
    "leaky_relu": Activation("leaky_relu", _leaky, _leaky_back, _leaky_d1, _zeros),
    "linear": Activation("linear", _identity, _identity_back, _ones, _zeros),
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
