"""Settings: ``ll.config(validate=False)``, usable as a call or a context manager.

The settings live in a :class:`contextvars.ContextVar`, so they are local to the thread (and to
the asyncio task) that changes them: one thread's ``with ll.config(validate=False):`` never
switches validation off in another, and blocks nest and restore in any interleaving. A new
thread starts from the defaults (Python gives each thread a fresh context); to carry settings
into a worker, run it in a copy of the caller's context (``contextvars.copy_context().run``).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, fields, replace
from typing import Any

from losslab._core.validation import check_bool

__all__ = ["Config", "config", "get_config"]


@dataclass(frozen=True)
class Config:
    """losslab's settings.

    validate
        Check inputs at the public boundary (shapes, finite values, probability and label
        domains). On by default; switching it off saves a few passes over big arrays.
    block_size
        Number of elements per cache-sized block in element-wise NumPy evaluation.
    """

    validate: bool = True
    block_size: int = 1 << 14


_DEFAULT = Config()
_current: ContextVar[Config] = ContextVar("losslab_config", default=_DEFAULT)


def get_config() -> Config:
    """The settings in force in the calling thread or task."""
    return _current.get()


class config:  # noqa: N801 - used like a function: ``ll.config(validate=False)``
    """Change settings for the calling thread or task; as a context manager, restore them on exit.

    Called plainly, ``ll.config(validate=False)`` changes the settings of the current context
    until changed again. As ``with ll.config(...):`` the change lasts until the block exits,
    and the previous settings come back even when blocks of several threads or tasks
    interleave (each block restores its own context's settings).

    >>> import losslab as ll
    >>> with ll.config(validate=False):
    ...     ll.get_config().validate
    False
    >>> ll.get_config().validate
    True
    """

    def __init__(self, **changes: Any) -> None:
        known = {f.name for f in fields(Config)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"config: unknown setting(s) {unknown}; valid settings are {sorted(known)}")
        if "block_size" in changes and (
            isinstance(changes["block_size"], bool)
            or not isinstance(changes["block_size"], int)
            or changes["block_size"] < 256
        ):
            raise ValueError(f"config: block_size must be an int >= 256, got {changes['block_size']!r}")
        if "validate" in changes:
            changes["validate"] = check_bool("config", "validate", changes["validate"])
        self._token: Token[Config] | None = _current.set(replace(_current.get(), **changes))

    def __enter__(self) -> Config:
        return _current.get()

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    def __repr__(self) -> str:
        return repr(_current.get())
