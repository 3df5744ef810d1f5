"""Similarity and metric-learning losses.

Contrastive, triplet, cosine embedding, margin ranking, mining, center, CosFace, ArcFace.
"""

from __future__ import annotations

__all__: list[str] = []
