"""Distribution losses: 1-D and sliced Wasserstein distances."""

from __future__ import annotations

__all__: list[str] = []
