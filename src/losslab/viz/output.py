"""Writing figures to files: PNG, SVG or PDF by extension, atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losslab.viz.style import check_dpi

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "save"]

#: File extensions :func:`save` writes.
FORMATS = (".png", ".svg", ".pdf")


def check_target(where: str, path: str | os.PathLike[str], formats: tuple[str, ...]) -> Path:
    """``path`` as a :class:`~pathlib.Path` with a supported extension in an existing directory."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a str or os.PathLike, got {type(path).__name__}")
    target = Path(path)
    ext = target.suffix.lower()
    if ext not in formats:
        raise ValueError(
            f"{where}: unsupported file extension {target.suffix or '(none)'!r} in {str(target)!r}; "
            f"expected one of {', '.join(formats)}"
        )
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{where}: directory {str(parent)!r} does not exist (for {str(target)!r})")
    return target


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[str]:
    """A temporary path next to ``target``, moved onto it (``os.replace``) once the block succeeds."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent or ".")
    os.close(fd)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give it the mode a plain open() would have.
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def save(fig: Figure, path: str | os.PathLike[str], *, dpi: float | None = None, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path``; the extension picks the format (``.png``, ``.svg``, ``.pdf``).

    The file is written to a temporary name in the same directory and moved into place, so a
    reader never sees a half-written figure and a failed write leaves any old file untouched.
    ``dpi`` (raster formats) defaults to the figure's own; other keywords go to
    :meth:`matplotlib.figure.Figure.savefig`. Returns the path written.

    >>> import os, tempfile, losslab as ll
    >>> fig = ll.viz.loss_curves(["mse", "mae"], n=41)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = ll.viz.save(fig, os.path.join(d, "curves.png"), dpi=50)
    ...     out.name, out.stat().st_size > 0
    ('curves.png', True)
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"save: fig must be a matplotlib Figure, got {type(fig).__name__}")
    target = check_target("save", path, FORMATS)
    resolution: Any = "figure" if dpi is None else check_dpi("save", dpi)
    with atomic_file(target) as tmp:
        fig.savefig(tmp, format=target.suffix.lower()[1:], dpi=resolution, **kwargs)
    return target
