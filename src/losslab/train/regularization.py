r"""Penalties :math:`R(\theta)` added to a training objective: L1, L2 and elastic net on chosen parameters.

:func:`~losslab.train.fit` minimizes :math:`L(\theta) = L_{data}(\theta) + R(\theta)` (001 §1.1,
§6.3) with :math:`R` a sum of the registered regularizer losses (``l1_regularizer``,
``l2_regularizer``, ``elastic_net``), each on a set of parameters -- the weight matrices by
default, as the curriculum's :math:`R(\theta)` (biases are not penalized, as in Keras'
``kernel_regularizer`` and the usual ridge regression). The specification is a mapping
``{name: params}``:

- ``name``: a registered regularizer (``"l2_regularizer"``) or its short form (``"l1"``,
  ``"l2"``, ``"elastic_net"``);
- ``params``: the regularizer's hyperparameters (``{"strength": 1e-3}``), a bare number for the
  strength of ``l1``/``l2``, or ``None`` for the defaults; the extra key ``"params"`` names the
  model parameters it applies to (a list of names, ``"weights"`` -- the default -- or ``"all"``).

``l2_regularizer(strength=lambda)`` is :math:`\tfrac{\lambda}{2}\sum w^2`, whose gradient
:math:`\lambda w` is what PyTorch's ``weight_decay=lambda`` adds (on every parameter there, on the
weights only here unless ``"params": "all"``).

>>> import numpy as np, losslab as ll
>>> model = ll.models.MLP([2, 3, 1])
>>> penalty = ll.train.regularization.resolve({"l2": 0.1}, model)
>>> params = {k: np.ones_like(v) for k, v in model.init(0).items()}
>>> value, grads = ll.train.regularization.value_and_grad(penalty, params)
>>> float(value), sorted(grads)  # 0.05 * (6 + 3) weights, biases untouched
(0.45, ['W1', 'W2'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from losslab.losses._spec import Loss
from losslab.losses._spec import get as get_loss
from losslab.models._base import Model

__all__ = ["Penalty", "resolve", "value_and_grad"]

_SHORT = {"l1": "l1_regularizer", "l2": "l2_regularizer", "elastic": "elastic_net"}


class Penalty(NamedTuple):
    """One term of :math:`R(\\theta)`: a regularizer, its hyperparameters and the parameters it takes."""

    loss: Loss
    params: dict[str, Any]
    keys: tuple[str, ...]


def resolve(regularizer: Any, model: Model, where: str = "fit") -> list[Penalty]:
    """The penalties a ``regularizer`` specification describes (see the module docstring).

    Raises ``ValueError`` naming the regularizer for an unknown name, a loss that is not a
    regularizer, invalid hyperparameters or a parameter the model does not have.
    """
    if regularizer is None:
        return []
    if isinstance(regularizer, str):
        regularizer = {regularizer: None}
    if not isinstance(regularizer, Mapping):
        raise TypeError(
            f"{where}: regularizer must be a name or a mapping name -> params, "
            f"e.g. {{'l2_regularizer': {{'strength': 1e-3}}}}, got {type(regularizer).__name__}"
        )
    all_keys = [k for pair in model.keys for k in pair]
    out = []
    for name, spec in regularizer.items():
        loss = _regularizer_loss(where, name)
        if spec is None:
            spec = {}
        elif not isinstance(spec, Mapping):
            if "strength" not in loss.params:
                raise TypeError(
                    f"{where}: regularizer {loss.name!r} takes a mapping of parameters "
                    f"({', '.join(loss.params)}), got {spec!r}"
                )
            spec = {"strength": spec}
        hyper = dict(spec)
        targets = hyper.pop("params", "weights")
        keys = _target_keys(where, loss.name, targets, model, all_keys)
        try:
            loss.resolve_params(dict(hyper))
        except (TypeError, ValueError) as err:
            raise type(err)(f"{where}: regularizer {loss.name!r}: {err}") from None
        out.append(Penalty(loss, hyper, keys))
    return out


def _regularizer_loss(where: str, name: Any) -> Loss:
    if isinstance(name, Loss):
        loss = name
    elif isinstance(name, str):
        try:
            loss = get_loss(_SHORT.get(name.lower(), name))
        except ValueError:
            raise ValueError(
                f"{where}: unknown regularizer {name!r}; expected l1_regularizer, l2_regularizer or "
                "elastic_net (or l1, l2)"
            ) from None
    else:
        raise TypeError(f"{where}: regularizer names must be strings, got {name!r}")
    if loss.info.task != "regularizer":
        raise ValueError(
            f"{where}: {loss.name!r} is not a regularizer; expected l1_regularizer, l2_regularizer or elastic_net"
        )
    return loss


def _target_keys(where: str, name: str, targets: Any, model: Model, all_keys: list[str]) -> tuple[str, ...]:
    if isinstance(targets, str):
        if targets == "weights":
            return model.weight_keys
        if targets == "all":
            return tuple(all_keys)
        targets = [targets]
    if not isinstance(targets, Sequence) or not targets:
        raise TypeError(
            f"{where}: regularizer {name!r}: params must be 'weights', 'all' or a list of parameter names, "
            f"got {targets!r}"
        )
    unknown = [k for k in targets if k not in all_keys]
    if unknown:
        raise ValueError(
            f"{where}: regularizer {name!r} names unknown parameter {unknown[0]!r}; "
            f"the model's parameters are {', '.join(all_keys)}"
        )
    return tuple(dict.fromkeys(targets))


def value_and_grad(
    penalties: Sequence[Penalty], params: Mapping[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    r"""``(R(theta), {name: dR/dparam})`` summed over the penalties; only penalized names appear."""
    total = 0.0
    grads: dict[str, Any] = {}
    for p in penalties:
        value, g = p.loss.value_and_grad({k: params[k] for k in p.keys}, **p.params)
        total += float(value)
        for k, gk in g.items():
            grads[k] = gk if k not in grads else grads[k] + gk
    return total, grads
