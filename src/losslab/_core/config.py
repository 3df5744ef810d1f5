"""Global switches: ``ll.config(validate=False)``, usable as a call or a context manager."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from losslab._core.validation import check_bool

__all__ = ["Config", "config", "get_config"]


@dataclass(frozen=True)
class Config:
    """losslab's global settings.

    validate
        Check inputs at the public boundary (shapes, finite values, probability and label
        domains). On by default; switching it off saves a few passes over big arrays.
    block_size
        Number of elements per cache-sized block in element-wise NumPy evaluation.
    """

    validate: bool = True
    block_size: int = 1 << 14


_current = Config()


def get_config() -> Config:
    """The settings in force."""
    return _current


class config:  # noqa: N801 - used like a function: ``ll.config(validate=False)``
    """Change settings; as a context manager, restore them on exit.

    >>> import losslab as ll
    >>> with ll.config(validate=False):
    ...     ll.get_config().validate
    False
    >>> ll.get_config().validate
    True
    """

    def __init__(self, **changes: Any) -> None:
        global _current
        known = {f.name for f in fields(Config)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"config: unknown setting(s) {unknown}; valid settings are {sorted(known)}")
        if "block_size" in changes and (
            not isinstance(changes["block_size"], int) or changes["block_size"] < 256
        ):
            raise ValueError(f"config: block_size must be an int >= 256, got {changes['block_size']!r}")
        if "validate" in changes:
            check_bool("config", "validate", changes["validate"])
        self._previous = _current
        _current = replace(_current, **changes)

    def __enter__(self) -> Config:
        return _current

    def __exit__(self, *exc: object) -> None:
        global _current
        _current = self._previous

    def __repr__(self) -> str:
        return repr(_current)
