r"""Curriculum and self-paced learning: which samples each epoch trains on, from easy to hard (001 §6.2).

A curriculum gives, at the start of every epoch :math:`e`, a weight :math:`v_i \in [0, 1]` per
training sample; :func:`~losslab.train.fit` trains that epoch on the samples with :math:`v_i > 0`,
each weighted by :math:`v_i` (times its ``sample_weight`` / ``class_weight``), and records the
weights in ``history.curriculum`` (one ``(n,)`` array per epoch) and the admitted fraction in
``history.epochs["curriculum_fraction"]``.

- :func:`difficulty` -- a fixed curriculum from a difficulty score per sample (Bengio et al.
  2009's "baby steps"): epoch :math:`e` admits the easiest :math:`\lceil f_e n\rceil` samples, with
  :math:`f_e = \min(1, f_0 + (1 - f_0)\, e / E)` (``start`` :math:`= f_0`, ``epochs_to_full``
  :math:`= E`); ``order=True`` also presents them from easy to hard instead of shuffled.
- :func:`self_paced` -- the model picks (Kumar, Packer & Koller 2010): with the per-sample losses
  :math:`l_i` at the epoch's start and the age :math:`\lambda_e = \lambda_0 \gamma^e`
  (:func:`~losslab.losses.self_paced_threshold`), :math:`v_i` is the closed-form minimizer of
  :math:`\sum_i v_i l_i + f(v, \lambda)` (:func:`~losslab.losses.self_paced_weights`):
  :math:`[l_i < \lambda_e]` (``"hard"``) or :math:`\max(0, 1 - l_i/\lambda_e)` (``"linear"``).
  When no sample is below the threshold yet, the easiest one is admitted so that training starts;
  ``history.epochs["self_paced_threshold"]`` records :math:`\lambda_e`.

``fit(..., curriculum=...)`` also takes the mapping forms ``{"difficulty": scores, ...}`` and
``{"self_paced": {"threshold": 1.0, "growth": 1.3}}`` (or just ``"self_paced"``).

>>> import numpy as np, losslab as ll
>>> c = ll.train.curriculum.difficulty([0.3, 0.1, 0.9, 0.5], start=0.25, epochs_to_full=3)
>>> [c.epoch_weights(e, None).tolist() for e in range(4)]
[[0.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from losslab._core.arrays import as_float
from losslab._core.validation import check_bool, check_choice, check_in_range, check_int, check_positive
from losslab.losses.composite import self_paced_threshold, self_paced_weights

__all__ = ["Curriculum", "DifficultyCurriculum", "SelfPacedCurriculum", "difficulty", "resolve", "self_paced"]

LossFn = Callable[[], np.ndarray]


class Curriculum:
    """Per-epoch sample weights for :func:`~losslab.train.fit` (see the module docstring)."""

    #: Whether the admitted samples are presented from easy to hard (else shuffled as usual).
    ordered = False
    #: Whether :meth:`epoch_weights` needs the per-sample losses at the epoch's start.
    needs_losses = False

    def epoch_weights(self, epoch: int, sample_losses: LossFn | None) -> np.ndarray:
        """The weights :math:`v_i` of epoch ``epoch``; ``sample_losses()`` gives the current per-sample losses."""
        raise NotImplementedError

    def order(self, index: np.ndarray) -> np.ndarray:
        """The admitted samples ``index`` in presentation order (easy to hard when ``ordered``)."""
        return index

    def logs(self, epoch: int) -> dict[str, float]:
        """Extra per-epoch records."""
        return {}

    def check(self, n: int) -> None:
        """Raise when the curriculum does not fit ``n`` training samples."""


class DifficultyCurriculum(Curriculum):
    """A fixed easy-to-hard curriculum from difficulty scores (build it with :func:`difficulty`)."""

    def __init__(self, scores: np.ndarray, start: float, epochs_to_full: int, ordered: bool) -> None:
        self.scores = scores
        self.start = start
        self.epochs_to_full = epochs_to_full
        self.ordered = ordered
        self.rank = np.argsort(scores, kind="stable")

    def fraction(self, epoch: int) -> float:
        r""":math:`f_e = \min(1, f_0 + (1 - f_0) e / E)`."""
        if self.epochs_to_full == 0:
            return 1.0
        return min(1.0, self.start + (1.0 - self.start) * epoch / self.epochs_to_full)

    def epoch_weights(self, epoch: int, sample_losses: LossFn | None) -> np.ndarray:
        n = self.scores.size
        k = max(1, math.ceil(self.fraction(epoch) * n - 1e-9))
        v = np.zeros(n)
        v[self.rank[:k]] = 1.0
        return v

    def order(self, index: np.ndarray) -> np.ndarray:
        return index[np.argsort(self.scores[index], kind="stable")] if self.ordered else index

    def check(self, n: int) -> None:
        if self.scores.size != n:
            raise ValueError(
                f"fit: curriculum difficulty needs one score per sample ({n}), got {self.scores.size}"
            )


class SelfPacedCurriculum(Curriculum):
    """Self-paced learning with a growing age :math:`\\lambda` (build it with :func:`self_paced`)."""

    needs_losses = True

    def __init__(self, threshold: float, growth: float, regime: str) -> None:
        self.threshold = threshold
        self.growth = growth
        self.regime = regime

    def age(self, epoch: int) -> float:
        r""":math:`\lambda_e = \lambda_0 \gamma^e`."""
        return self_paced_threshold(epoch, self.threshold, self.growth)

    def epoch_weights(self, epoch: int, sample_losses: LossFn | None) -> np.ndarray:
        if sample_losses is None:
            raise ValueError("self_paced: the curriculum needs the per-sample losses")
        losses = np.asarray(sample_losses(), dtype=np.float64)
        v = self_paced_weights(losses, self.age(epoch), self.regime)
        if not (v > 0).any():
            v[int(np.argmin(losses))] = 1.0
        return v

    def logs(self, epoch: int) -> dict[str, float]:
        return {"self_paced_threshold": self.age(epoch)}


def difficulty(
    scores: npt.ArrayLike, *, start: float = 0.2, epochs_to_full: int = 10, order: bool = True
) -> DifficultyCurriculum:
    """An easy-to-hard curriculum from a difficulty score per sample (lower is easier); see the module docstring."""
    where = "curriculum"
    arr = as_float(np, scores, "difficulty", where).ravel()
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"{where}: difficulty scores must be finite, one per sample")
    start = check_in_range(where, "start", start, 0.0, 1.0, closed="right")
    epochs_to_full = check_int(where, "epochs_to_full", epochs_to_full, minimum=0)
    return DifficultyCurriculum(arr, start, epochs_to_full, check_bool(where, "order", order))


def self_paced(
    *, threshold: float = 1.0, growth: float = 1.3, regime: Literal["hard", "linear"] = "hard"
) -> SelfPacedCurriculum:
    """Self-paced learning: samples whose loss is below a growing threshold (see the module docstring)."""
    where = "curriculum"
    threshold = check_positive(where, "threshold", threshold)
    growth = check_in_range(where, "growth", growth, 1.0, math.inf, closed="left")
    check_choice(where, "regime", regime, ("hard", "linear"))
    return SelfPacedCurriculum(threshold, growth, regime)


def resolve(curriculum: Any) -> Curriculum | None:
    """A :class:`Curriculum` from ``fit``'s ``curriculum=`` argument (an object, a mapping or a name)."""
    if curriculum is None or isinstance(curriculum, Curriculum):
        return curriculum
    if curriculum == "self_paced":
        return self_paced()
    if isinstance(curriculum, Mapping) and len(curriculum) >= 1:
        spec = dict(curriculum)
        if "difficulty" in spec:
            scores = spec.pop("difficulty")
            return difficulty(scores, **spec)
        if set(spec) == {"self_paced"}:
            return self_paced(**dict(spec["self_paced"] or {}))
    raise TypeError(
        "fit: curriculum must be ll.train.curriculum.difficulty(...) / self_paced(...), "
        f"{{'difficulty': scores, ...}} or {{'self_paced': {{...}}}}, got {curriculum!r}"
    )
