"""The names PyTorch and Keras users already know, resolved by ``ll.losses.get``.

An alias may carry parameters: ``bce_with_logits`` is ``binary_cross_entropy`` bound to
``from_logits=True`` (PyTorch's ``binary_cross_entropy_with_logits``), ``poisson`` is Keras'
Poisson (``log_input=False, eps=1e-7``). Every alias is also an attribute of ``ll.losses``.

The argument order stays losslab's ``(y_pred, y_true)`` -- PyTorch's ``(input, target)``; a
Keras user writes ``loss(y_true=t, y_pred=p)`` to be safe.

Conventions that differ from the framework with the same name:

- ``cross_entropy`` / ``nll_loss``: logits / log-probabilities with integer class targets
  (sparse categorical CE with ``from_logits=True``; ``log_softmax`` of log-probabilities is
  themselves, so ``nll_loss`` is exact). PyTorch's ``cross_entropy`` also takes probability
  targets: use ``categorical_cross_entropy(from_logits=True)`` for those.
- ``kl_div``: PyTorch's ``F.kl_div(input=log q, target=p)`` with ``reduction="batchmean"``;
  losslab's ``"mean"`` is the batch mean (PyTorch's default ``"mean"`` divides by every element).
- ``binary_focal_crossentropy``: Keras' default has no class balancing (``alpha=None`` here);
  ``categorical_focal_crossentropy``: Keras' default ``alpha=0.25``.

>>> import losslab as ll
>>> ll.losses.get("mse_loss") is ll.losses.mse, ll.losses.get("binary_crossentropy") is ll.losses.bce
(True, True)
>>> ll.losses.bce_with_logits.info.defaults["from_logits"]
True
"""

from __future__ import annotations

from typing import Any

from losslab.losses._spec import register_alias

__all__ = ["FRAMEWORK_ALIASES"]

#: ``alias -> (loss name, bound parameters)``.
FRAMEWORK_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    # PyTorch (torch.nn.functional names; torchvision's focal loss)
    "mse_loss": ("mse", {}),
    "l1_loss": ("mae", {}),
    "huber_loss": ("huber", {}),
    "cross_entropy": ("sparse_categorical_cross_entropy", {"from_logits": True}),
    "nll_loss": ("sparse_categorical_cross_entropy", {"from_logits": True}),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy", {"from_logits": True}),
    "bce_with_logits": ("binary_cross_entropy", {"from_logits": True}),
    "kl_div": ("kl_divergence", {"from_logits": True}),
    "poisson_nll_loss": ("poisson_nll", {}),
    "gaussian_nll_loss": ("gaussian_nll", {}),
    "margin_ranking_loss": ("margin_ranking", {}),
    "triplet_margin_loss": ("triplet_margin", {}),
    "cosine_embedding_loss": ("cosine_embedding", {}),
    "sigmoid_focal_loss": ("binary_focal", {"from_logits": True}),
    # Keras (keras.losses function names)
    "binary_crossentropy": ("binary_cross_entropy", {}),
    "categorical_crossentropy": ("categorical_cross_entropy", {}),
    "sparse_categorical_crossentropy": ("sparse_categorical_cross_entropy", {}),
    "kld": ("kl_divergence", {}),
    "kullback_leibler_divergence": ("kl_divergence", {}),
    "poisson": ("poisson_nll", {"log_input": False, "eps": 1e-7}),
    "binary_focal_crossentropy": ("binary_focal", {"alpha": None}),
    "categorical_focal_crossentropy": ("categorical_focal", {"alpha": 0.25}),
}

for _alias, (_name, _params) in FRAMEWORK_ALIASES.items():
    register_alias(_alias, _name, **_params)
