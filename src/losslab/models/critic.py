r"""Losslab models as WGAN-GP critics: the :class:`~losslab.losses.Critic` protocol on any scalar model.

Every :class:`~losslab.models.Model` with one output (``n_out == 1``) and an element-wise output
activation implements the protocol's methods itself -- ``params_vjp``, ``input_grad`` and
``input_grad_vjp`` (see :class:`~losslab.models.Model`; the mixed second derivative is worked out
by hand through every layer, residual skips included). Its ``apply`` keeps the models' ``(n, 1)``
output, while the protocol's scores are ``(batch,)``; :func:`as_critic` wraps a model so that
``apply`` returns ``(n,)`` scores (``model.critic_scores``). Passing the bare model to
:func:`~losslab.losses.wgan_gp_critic` gives the same value and gradients (its losses are
element-wise and ``params_vjp`` takes ``(n,)`` or ``(n, 1)`` cotangents); the wrapper avoids
broadcasting surprises when the scores are combined with ``(n,)`` arrays, as in a generator step.

A critic with dropout is trained as one thinned network per step: ``as_critic(model, masks=M)``
fixes the masks ``M = model.dropout_masks(rng, batch)`` for every call of the step (real, fake and
interpolated batches of one size), so the objective and all its gradients are those of the same
network; without masks the critic runs in evaluation mode.

>>> import numpy as np, losslab as ll
>>> model = ll.models.MLP([1, 8, 1], activation="tanh")
>>> critic = ll.models.as_critic(model)
>>> params = model.init(0)
>>> real, fake = np.full((4, 1), 3.0), np.zeros((4, 1))
>>> value, grads = ll.losses.wgan_gp_critic(critic, params, real, fake, seed=0)
>>> critic.apply(params, real).shape, sorted(grads) == sorted(params)
((4,), True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab.models._base import Masks, Model, Params

__all__ = ["ModelCritic", "as_critic"]


class ModelCritic:
    """A scalar-output model seen through the :class:`~losslab.losses.Critic` protocol (scores ``(n,)``)."""

    def __init__(self, model: Model, masks: Masks | None = None) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"as_critic: model must be a losslab model, got {type(model).__name__}")
        model._check_scalar_output("as_critic")
        self.model = model
        self.masks = masks

    def apply(self, params: Mapping[str, Any], x: npt.ArrayLike) -> np.ndarray:
        """The scores :math:`D(x_i)`, shape ``(n,)``."""
        return self.model.critic_scores(params, x, masks=self.masks)

    def params_vjp(self, params: Mapping[str, Any], x: npt.ArrayLike, cot: npt.ArrayLike) -> Params:
        r"""Gradient with respect to ``params`` of :math:`\sum_i c_i D(x_i)`, ``cot`` of shape ``(n,)``."""
        return self.model.params_vjp(params, x, cot, masks=self.masks)

    def input_grad(self, params: Mapping[str, Any], x: npt.ArrayLike) -> np.ndarray:
        r""":math:`\nabla_x D(x_i)` per sample, shaped like ``x``."""
        return self.model.input_grad(params, x, masks=self.masks)

    def input_grad_vjp(self, params: Mapping[str, Any], x: npt.ArrayLike, cot: npt.ArrayLike) -> Params:
        r"""Gradient with respect to ``params`` of :math:`\sum_i \langle c_i, \nabla_x D(x_i)\rangle`."""
        return self.model.input_grad_vjp(params, x, cot, masks=self.masks)

    def __repr__(self) -> str:
        return f"as_critic({self.model!r})"


def as_critic(model: Model, masks: Masks | None = None) -> ModelCritic:
    """``model`` as a WGAN-GP critic whose ``apply`` returns scores of shape ``(n,)``.

    ``masks`` (from ``model.dropout_masks(rng, n)``) fix the dropout masks of every call, for a
    critic with dropout in training mode; ``None`` is evaluation mode.

    Raises ``ValueError`` for a model with several outputs or a softmax output (the input gradient
    of a vector output is a Jacobian), ``TypeError`` for anything that is not a losslab model.
    """
    return ModelCritic(model, masks)
