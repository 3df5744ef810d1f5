"""The Typer application and the console shared by every command module."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

app = typer.Typer(
    name="losslab",
    help="The loss-function and optimization lab.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# A terminal sets its own width; piped output (files, CI logs) gets room for the wide tables.
console = Console(width=None if sys.stdout.isatty() else 150)


@app.callback()
def _root() -> None:
    """The loss-function and optimization lab: losses, optimizers, landscapes, experiments."""
