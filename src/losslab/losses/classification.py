"""Classification losses: cross-entropies, focal, hinge family, KL and JS divergences."""

from __future__ import annotations

__all__: list[str] = []
