"""The training-toolbox options of ``losslab train``, read from their command-line spelling.

Each reader turns one option's text into the argument the library takes, raising ``ValueError``
with the option's spelling on bad input:

``--regularizer l2=1e-3``           -> ``{"l2_regularizer": {"strength": 0.001}}``
``--regularizer elastic_net=1e-3,1e-2`` -> ``{"elastic_net": {"l1_strength": 0.001, "l2_strength": 0.01}}``
``--dropout 0.2`` / ``0.2,0.1``      -> ``0.2`` / ``[0.2, 0.1]``
``--class-weight balanced`` / ``0=1,1=9`` -> ``"balanced"`` / ``{0: 1.0, 1: 9.0}``
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_class_weight", "read_dropout", "read_regularizer"]

_NAMES = {
    "l1": "l1_regularizer",
    "l1_regularizer": "l1_regularizer",
    "l2": "l2_regularizer",
    "l2_regularizer": "l2_regularizer",
    "elastic_net": "elastic_net",
}


def _number(option: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option}: expected a number, got {text!r}") from None


def read_regularizer(text: str | None) -> dict[str, dict[str, Any]] | None:
    """``NAME=STRENGTH`` (``l1``, ``l2``) or ``elastic_net=L1,L2``; several joined with ``+``."""
    if text is None or not text.strip():
        return None
    out: dict[str, dict[str, Any]] = {}
    for part in text.split("+"):
        name, sep, value = part.strip().partition("=")
        key = _NAMES.get(name.strip().lower())
        if key is None or not sep:
            raise ValueError(
                f"--regularizer: expected l1=STRENGTH, l2=STRENGTH or elastic_net=L1,L2, got {part.strip()!r}"
            )
        numbers = [_number("--regularizer", v) for v in value.split(",")]
        if key == "elastic_net":
            if len(numbers) != 2:
                raise ValueError(f"--regularizer: elastic_net takes two strengths L1,L2, got {value!r}")
            out[key] = {"l1_strength": numbers[0], "l2_strength": numbers[1]}
        else:
            if len(numbers) != 1:
                raise ValueError(f"--regularizer: {name} takes one strength, got {value!r}")
            out[key] = {"strength": numbers[0]}
    return out


def read_dropout(text: str | None) -> float | list[float]:
    """One rate for every hidden layer, or one per hidden layer separated by commas."""
    if text is None or not text.strip():
        return 0.0
    rates = [_number("--dropout", v) for v in text.split(",")]
    return rates[0] if len(rates) == 1 else rates


def read_class_weight(text: str | None) -> str | dict[int, float] | None:
    """``balanced``, or ``LABEL=WEIGHT`` pairs separated by commas."""
    if text is None or not text.strip():
        return None
    if text.strip() == "balanced":
        return "balanced"
    out: dict[int, float] = {}
    for part in text.split(","):
        label, sep, value = part.partition("=")
        if not sep or not label.strip().isdigit():
            raise ValueError(
                f"--class-weight: expected 'balanced' or LABEL=WEIGHT pairs, got {part.strip()!r}"
            )
        out[int(label)] = _number("--class-weight", value)
    return out
