"""What advice is made of: reasons, optimizer and schedule choices, ranked candidates."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Advice", "Candidate", "OptimizerChoice", "Reason", "ScheduleChoice"]


@dataclass(frozen=True)
class Reason:
    """One reason for (or against) a candidate: the ``text`` and where it comes from.

    ``source`` names the rule (``"002 §8.1"`` the curriculum's decision tree, ``"001 §8.5"`` its
    selection guide, ``"000 cheat-sheet"``, ...), ``"measured"`` for a statistic of the user's data
    or ``"verified"`` for a held-out comparison; ``weight`` is what it added to the score.
    """

    text: str
    source: str
    weight: float = 0.0

    def __str__(self) -> str:
        return f"{self.text} [{self.source}]"


@dataclass(frozen=True)
class OptimizerChoice:
    """An optimizer by registered name, the learning-rate range to try, its other hyperparameters."""

    name: str
    lr: tuple[float, float]
    hyperparams: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def __str__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self.hyperparams.items())
        return f"{self.name} (lr {self.lr[0]:g} to {self.lr[1]:g}{extra})"


@dataclass(frozen=True)
class ScheduleChoice:
    """A learning-rate schedule (``ll.optim.schedules`` name, or ``"reduce_on_plateau"``)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({inner})" if inner else self.name


@dataclass
class Candidate:
    """One recommended loss: a registered ``loss`` name with its ``params``, the optimizer and
    schedule to train it with, the ``reasons`` (each citing its rule or statistic) and the score
    the rules gave it. ``label`` names the variant (``"weighted BCE"``); ``evidence`` is the
    held-out comparison's numbers when ``verify`` ran; ``traits`` those of the loss plus what its
    parameters add (a weighted BCE handles imbalance)."""

    loss: str
    params: dict[str, Any]
    optimizer: OptimizerChoice
    schedule: ScheduleChoice
    reasons: list[Reason]
    score: float
    label: str = ""
    evidence: dict[str, Any] | None = None
    traits: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.loss}({inner})"


@dataclass
class Advice:
    """A ranked recommendation: ``ranked[0]`` is the best candidate.

    ``situation`` holds the options the rules saw (given or measured), ``profile`` the measured
    statistics when the advice came from data, ``verification`` the k-fold comparison when
    ``verify=True``, ``notes`` what the reader should know (a contradiction between the rule
    and the evidence is stated there).
    """

    task: str
    situation: dict[str, Any]
    ranked: list[Candidate]
    profile: dict[str, Any] | None = None
    verification: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> Candidate:
        return self.ranked[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (numbers as floats, tuples as lists)."""
        return _plain(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        shown = {k: v for k, v in self.situation.items() if v not in (None, False, 0, 0.0)}
        lines = [f"advice for a {self.task} task" + (f" ({_situation_text(shown)})" if shown else "")]
        if self.profile:
            lines.append("measured: " + ", ".join(f"{k} = {_short(v)}" for k, v in self.profile.items()))
        lines.append("")
        for i, c in enumerate(self.ranked, 1):
            head = f"{i}. {c}" + (f"  [{c.label}]" if c.label and c.label != c.loss else "")
            lines.append(head)
            lines.append(f"   optimizer: {c.optimizer}; schedule: {c.schedule}")
            for r in c.reasons:
                lines.append(f"   - {r}")
            if c.evidence is not None:
                lines.append(
                    f"   held-out {c.evidence['metric']}: {c.evidence['mean']:.4g} +/- {c.evidence['std']:.2g}"
                )
        if self.notes:
            lines.append("")
            lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text()


def _situation_text(shown: dict[str, Any]) -> str:
    return ", ".join(k if v is True else f"{k}={_short(v)}" for k, v in shown.items())


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_short(x) for x in np.asarray(v).tolist()) + "]"
    return str(v)


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else str(v)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
