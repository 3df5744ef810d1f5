"""Commands about optimization: ``race``, ``train``."""

from __future__ import annotations
