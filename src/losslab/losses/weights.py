"""Class weights and label smoothing helpers."""

from __future__ import annotations

__all__: list[str] = []
