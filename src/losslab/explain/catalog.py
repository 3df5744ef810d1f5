"""``python -m losslab.explain.catalog > docs/losses.md``: write the loss catalog to stdout.

The catalog itself is :func:`losslab.explain.catalog_markdown`; this module is the command.
"""

from __future__ import annotations

from losslab.explain._catalog import LossCard, card, catalog_markdown, main

__all__ = ["LossCard", "card", "catalog_markdown", "main"]

if __name__ == "__main__":
    main()
