"""Optimizers as pure gradient transformations (Optax-style core, PyTorch names and defaults)."""

from losslab.optim.base import (
    EmptyState,
    GradientTransformation,
    apply_updates,
    chain,
    identity,
    scale,
)

__all__ = ["EmptyState", "GradientTransformation", "apply_updates", "chain", "identity", "scale"]
