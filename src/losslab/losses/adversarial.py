"""Adversarial (GAN) losses: minimax, non-saturating, LSGAN, WGAN, hinge GAN, gradient penalty."""

from __future__ import annotations

__all__: list[str] = []
