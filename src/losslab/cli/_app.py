"""The Typer application and the console shared by every command module."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="losslab",
    help="The loss-function and optimization lab.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


@app.callback()
def _root() -> None:
    """The loss-function and optimization lab: losses, optimizers, landscapes, experiments."""
