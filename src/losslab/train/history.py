"""What a training run records: per-step and per-epoch logs, the final and optional path of parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losslab._core.tree import tree_leaves

__all__ = ["History"]


@dataclass
class History:
    """The record of :func:`losslab.train.fit`.

    ``params``
        the final parameters (the best ones when early stopping restored them).
    ``steps``
        per optimizer step: ``"loss"`` (mini-batch loss before the step), ``"grad_norm"`` (global
        L2 norm of the gradient), ``"lr"`` (the optimizer's learning rate when it exposes one,
        else ``None``).
    ``epochs``
        per epoch: ``"loss"`` (mean of the epoch's mini-batch losses, weighted by batch size --
        Keras' running average), ``"val_loss"`` with validation data, and each metric (``"r2"``,
        ``"val_r2"``, ...).
    ``trajectory``
        with ``record_params=True``: the parameters before the first step and after every step.
    ``stop_reason``
        why training ended early (early stopping, a convergence criterion, divergence), else ``None``.
    ``diverged``
        whether the loss or the gradient became non-finite.
    ``arrays``
        per epoch, the array-valued metrics: ``"confusion_matrix"`` (``(K, K)``, rows true classes),
        ``"recall_per_class"`` and the other per-class metrics (``(K,)``), ``"val_..."`` with
        validation data.
    ``curriculum``
        with a curriculum: each epoch's sample weights, an ``(n,)`` array per epoch (0 = left out).
    """

    params: Any = None
    steps: dict[str, list[Any]] = field(default_factory=lambda: {"loss": [], "grad_norm": [], "lr": []})
    epochs: dict[str, list[float]] = field(default_factory=lambda: {"loss": []})
    trajectory: list[Any] | None = None
    stop_reason: str | None = None
    diverged: bool = False
    best_epoch: int | None = None
    curriculum: list[np.ndarray] | None = None
    arrays: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def loss(self) -> np.ndarray:
        """Per-epoch training loss."""
        return np.asarray(self.epochs["loss"], dtype=np.float64)

    @property
    def val_loss(self) -> np.ndarray:
        """Per-epoch validation loss (empty without validation data)."""
        return np.asarray(self.epochs.get("val_loss", []), dtype=np.float64)

    @property
    def step_loss(self) -> np.ndarray:
        """Per-step mini-batch loss."""
        return np.asarray(self.steps["loss"], dtype=np.float64)

    @property
    def grad_norm(self) -> np.ndarray:
        """Per-step gradient norm."""
        return np.asarray(self.steps["grad_norm"], dtype=np.float64)

    @property
    def n_steps(self) -> int:
        """Number of optimizer steps taken."""
        return len(self.steps["grad_norm"])

    @property
    def n_epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.epochs["loss"])

    @property
    def stopped_early(self) -> bool:
        """Whether a callback or divergence ended training before ``epochs``."""
        return self.stop_reason is not None

    def path(self, key: str | None = None) -> np.ndarray:
        """The recorded trajectory stacked into one array ``(n_steps + 1, ...)``.

        ``key`` picks one parameter of a dict; without it every leaf is flattened and concatenated.
        """
        if self.trajectory is None:
            raise ValueError("History.path: no trajectory recorded; pass record_params=True to fit")
        if key is not None:
            return np.stack([np.asarray(p[key]) for p in self.trajectory])
        rows = []
        for p in self.trajectory:
            rows.append(np.concatenate([np.ravel(x) for x in tree_leaves(p)]))
        return np.stack(rows)

    def __repr__(self) -> str:
        last = f"{self.epochs['loss'][-1]:.6g}" if self.epochs["loss"] else "-"
        extra = f", stop_reason={self.stop_reason!r}" if self.stop_reason else ""
        return f"History(epochs={self.n_epochs}, steps={self.n_steps}, loss={last}{extra})"
