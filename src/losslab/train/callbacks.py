r"""Callbacks: early stopping and the curriculum's convergence criteria.

The curriculum's convergence criteria: stop when the gradient norm falls below a threshold
(:class:`GradientNormThreshold`, :math:`\|\nabla L(\theta_t)\|_2 < \text{tol}`), when the loss
stops changing (:class:`LossChangeThreshold`, :math:`|L_e - L_{e-1}| < \text{tol}`), or when
validation performance plateaus (:class:`ValidationPlateau`). :class:`EarlyStopping` is Keras'
callback (``patience``, ``min_delta``, ``restore_best`` = Keras' ``restore_best_weights``).

A callback sees the :class:`TrainingRun` (current ``params``, ``history``, ``epoch``, ``step``) and
may call ``run.stop(reason)`` or replace ``run.params``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from losslab._core.validation import check_choice, check_int, check_positive
from losslab.train.history import History

__all__ = [
    "Callback",
    "EarlyStopping",
    "GradientNormThreshold",
    "LossChangeThreshold",
    "TrainingRun",
    "ValidationPlateau",
]


class TrainingRun:
    """The live state of a training run that callbacks read and steer."""

    def __init__(self, model: Any, params: Any, history: History, has_validation: bool) -> None:
        self.model = model
        self.params = params
        self.history = history
        self.has_validation = has_validation
        self.epoch = 0
        self.step = 0
        self.stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current step/epoch, recording ``reason``."""
        if self.stop_reason is None:
            self.stop_reason = reason


class Callback:
    """Base class: override any of the hooks (each one is a no-op here)."""

    def on_train_begin(self, run: TrainingRun) -> None:
        """Before the first step."""

    def on_step_end(self, run: TrainingRun, step: int, logs: Mapping[str, Any]) -> None:
        """After each optimizer step; ``logs`` holds ``loss``, ``grad_norm``, ``lr``."""

    def on_epoch_end(self, run: TrainingRun, epoch: int, logs: Mapping[str, Any]) -> None:
        """After each epoch; ``logs`` holds ``loss``, ``val_loss`` and the metrics."""

    def on_train_end(self, run: TrainingRun) -> None:
        """After the last step (also after an early stop)."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``monitor`` defaults to ``"val_loss"`` with validation data and ``"loss"`` without; ``mode``
    ``"min"`` (losses) or ``"max"`` (accuracy-like metrics). With ``restore_best=True`` the run
    ends with the parameters of the best epoch (whether or not it stopped early).
    """

    def __init__(
        self,
        monitor: str | None = None,
        *,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = False,
        mode: Literal["min", "max"] = "min",
    ) -> None:
        self.monitor = monitor
        self.patience = check_int("EarlyStopping", "patience", patience, minimum=0)
        self.min_delta = check_positive("EarlyStopping", "min_delta", min_delta, strict=False)
        self.restore_best = bool(restore_best)
        self.mode = check_choice("EarlyStopping", "mode", mode, ("min", "max"))

    def on_train_begin(self, run: TrainingRun) -> None:
        self._monitor = self.monitor or ("val_loss" if run.has_validation else "loss")
        if self._monitor.startswith("val_") and not run.has_validation:
            raise ValueError(f"{type(self).__name__}: monitor={self._monitor!r} needs validation_data in fit")
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_params: Any = None
        self.wait = 0

    def on_epoch_end(self, run: TrainingRun, epoch: int, logs: Mapping[str, Any]) -> None:
        if self._monitor not in logs:
            raise ValueError(
                f"{type(self).__name__}: monitor={self._monitor!r} is not logged; "
                f"available: {', '.join(sorted(logs))}"
            )
        value = float(logs[self._monitor])
        score = value if self.mode == "min" else -value
        if score < self.best - self.min_delta:
            self.best, self.best_epoch, self.best_params, self.wait = score, epoch, run.params, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            best = self.best if self.mode == "min" else -self.best
            where = "-" if self.best_epoch is None else self.best_epoch + 1
            run.stop(
                f"early stopping: {self._monitor} did not improve by more than {self.min_delta:g} "
                f"for {self.wait} epochs (best {best:.6g} at epoch {where})"
            )

    def on_train_end(self, run: TrainingRun) -> None:
        run.history.best_epoch = self.best_epoch
        if self.restore_best and self.best_params is not None:
            run.params = self.best_params


class ValidationPlateau(EarlyStopping):
    """Stop when the validation loss plateaus (the curriculum's third convergence criterion).

    Early stopping on ``"val_loss"``; requires ``validation_data``.
    """

    def __init__(self, *, patience: int = 10, min_delta: float = 0.0, restore_best: bool = False) -> None:
        super().__init__("val_loss", patience=patience, min_delta=min_delta, restore_best=restore_best)


class GradientNormThreshold(Callback):
    r"""Stop when :math:`\|\nabla L(\theta_t)\|_2 < \text{tol}` at a step (the gradient of that
    step's mini-batch; with full-batch training, the true gradient)."""

    def __init__(self, tol: float = 1e-6) -> None:
        self.tol = check_positive("GradientNormThreshold", "tol", tol)

    def on_step_end(self, run: TrainingRun, step: int, logs: Mapping[str, Any]) -> None:
        g = logs["grad_norm"]
        if g < self.tol:
            run.stop(f"converged: gradient norm {g:.3g} < tol={self.tol:g} at step {step + 1}")


class LossChangeThreshold(Callback):
    r"""Stop when the epoch loss changes by less than ``tol`` for ``patience`` consecutive epochs:
    :math:`|L_e - L_{e-1}| < \text{tol}` (times :math:`|L_{e-1}|` with ``relative=True``)."""

    def __init__(self, tol: float = 1e-8, *, relative: bool = False, patience: int = 1) -> None:
        self.tol = check_positive("LossChangeThreshold", "tol", tol)
        self.relative = bool(relative)
        self.patience = check_int("LossChangeThreshold", "patience", patience, minimum=1)

    def on_train_begin(self, run: TrainingRun) -> None:
        self.previous: float | None = None
        self.count = 0

    def on_epoch_end(self, run: TrainingRun, epoch: int, logs: Mapping[str, Any]) -> None:
        value = float(logs["loss"])
        if self.previous is not None:
            change = abs(value - self.previous)
            bound = self.tol * abs(self.previous) if self.relative else self.tol
            self.count = self.count + 1 if change < bound else 0
            if self.count >= self.patience:
                kind = "relative " if self.relative else ""
                run.stop(
                    f"converged: loss changed by {change:.3g} < {kind}tol={self.tol:g} "
                    f"for {self.count} epoch(s) (epoch {epoch + 1})"
                )
        self.previous = value
