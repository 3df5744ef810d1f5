"""One registry helper for every catalog of named things, with one error message.

A :class:`Registry` maps canonical names to items. Lookups normalize the name (strip, lower case,
and the registry's separator: ``"robust_regression"`` finds ``"robust-regression"``), and an
unknown name raises ``ValueError`` in one format for every registry::

    unknown experiment 'robust-regresion'. Did you mean robust-regression? Valid names: ...

>>> from losslab._core.registry import Registry
>>> colors = Registry("color", separator="-")
>>> colors.register("sky-blue", (0.5, 0.8, 1.0))
(0.5, 0.8, 1.0)
>>> colors.get("Sky_Blue")
(0.5, 0.8, 1.0)
>>> colors.names()
['sky-blue']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Registry", "unknown_name_message"]

T = TypeVar("T")


def unknown_name_message(kind: str, name: object, known: list[str]) -> str:
    """The one message for a name that is not registered: the name, close matches, valid names."""
    close = difflib.get_close_matches(str(name), known, n=3) if isinstance(name, str) else []
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} Valid names: {', '.join(known)}"


class Registry(Generic[T]):
    """Named items of one ``kind``; names are unique, lookups forgive case and separators.

    ``separator`` is the word separator of canonical names (``"-"`` or ``"_"``); the other one is
    accepted in lookups and converted.
    """

    def __init__(self, kind: str, *, separator: str = "_") -> None:
        if separator not in ("-", "_"):
            raise ValueError(f"Registry: separator must be '-' or '_', got separator={separator!r}")
        self.kind = kind
        self.separator = separator
        self._items: dict[str, T] = {}

    def key(self, name: str) -> str:
        """The canonical form of ``name`` (stripped, lower case, the registry's separator)."""
        other = "_" if self.separator == "-" else "-"
        return name.strip().lower().replace(other, self.separator)

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name`` and return it; a name registered twice raises ``ValueError``."""
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"register: a {self.kind} name must be a non-empty string, got {name!r}")
        key = self.key(name)
        if key in self._items:
            raise ValueError(f"register: a {self.kind} named {key!r} is already registered")
        self._items[key] = item
        return item

    def get(self, name: str) -> T:
        """The item registered under ``name``; unknown names raise ``ValueError`` listing the valid ones."""
        if not isinstance(name, str):
            raise TypeError(f"get: the {self.kind} name must be a string, got {name!r}")
        key = self.key(name)
        if key not in self._items:
            raise ValueError(unknown_name_message(self.kind, name, self.names()))
        return self._items[key]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        """``(name, item)`` pairs in registration order."""
        return list(self._items.items())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.key(name) in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} names)"
