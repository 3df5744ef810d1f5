"""Functional models (linear, logistic, softmax, MLP) with manual backprop through the losses' gradients.

A model holds no state: ``params = model.init(rng)`` is a dict of arrays,
``model.apply(params, X)`` the output and ``model.value_and_grad(params, X, y, loss=...)`` the
loss and its gradients, computed layer by layer from ``loss.grad``. A model with one output is also
a WGAN-GP critic (``input_grad``, ``input_grad_vjp``, ``params_vjp``; :func:`as_critic`).

>>> import numpy as np, losslab as ll
>>> model = ll.models.Linear(2)
>>> params = model.init(0)
>>> model.apply(params, np.ones((3, 2))).shape
(3, 1)
"""

from losslab.models import activations, curvature, init
from losslab.models._base import Model
from losslab.models.critic import ModelCritic, as_critic
from losslab.models.linear import Linear, Logistic, Softmax
from losslab.models.mlp import MLP
from losslab.models.objective import Objective

__all__ = [
    "MLP",
    "Linear",
    "Logistic",
    "Model",
    "ModelCritic",
    "Objective",
    "Softmax",
    "activations",
    "as_critic",
    "curvature",
    "init",
]
