"""Regularizers on parameter arrays or trees: L1, L2, elastic net."""

from __future__ import annotations

__all__: list[str] = []
