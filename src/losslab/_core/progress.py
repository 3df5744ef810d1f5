"""One Rich progress bar for every long loop (training epochs, the tour's experiments).

Silent unless enabled and standard output is a terminal, so logs, pipes and CI stay clean.
Rich is imported only when a bar is shown.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ProgressBar", "is_tty"]


def is_tty() -> bool:
    """Whether standard output is a terminal (``False`` when it cannot tell)."""
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """``with ProgressBar(enabled, total, "training") as bar: ... bar.advance(status)``.

    ``label`` heads the bar; each :meth:`advance` moves it one step and shows ``status``;
    :meth:`status` changes the text without moving. ``remaining=True`` shows the estimated time
    left (even steps, as epochs), else the time elapsed (uneven steps, as experiments).
    """

    def __init__(self, enabled: bool, total: int, label: str, *, remaining: bool = True) -> None:
        self.enabled = bool(enabled) and total > 0 and is_tty()
        self.total = total
        self.label = label
        self.remaining = remaining
        self.progress: Any = None
        self.task: Any = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            clock = TimeRemainingColumn() if self.remaining else TimeElapsedColumn()
            self.progress = Progress(
                TextColumn(f"[bold]{self.label}[/bold]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                clock,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task(self.label, total=self.total, status="")
        return self

    def status(self, text: str) -> None:
        """Show ``text`` beside the bar without moving it."""
        if self.progress is not None:
            self.progress.update(self.task, status=text)

    def advance(self, text: str = "") -> None:
        """One step done; show ``text``."""
        if self.progress is not None:
            self.progress.update(self.task, advance=1, status=text)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
