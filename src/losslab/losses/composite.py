"""Composite and training-level losses.

Weighted sums, uncertainty weighting, self-paced weights, distillation, consistency.
"""

from __future__ import annotations

__all__: list[str] = []
