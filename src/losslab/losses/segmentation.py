"""Segmentation and image losses: Dice, Tversky, focal Tversky, IoU, SSIM, perceptual."""

from __future__ import annotations

__all__: list[str] = []
