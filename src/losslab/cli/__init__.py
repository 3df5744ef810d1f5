"""The ``losslab`` command: a thin shell over library calls (Typer + Rich)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

import losslab as ll

app = typer.Typer(
    name="losslab",
    help="The loss-function and optimization lab.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@app.callback()
def _root() -> None:
    """The loss-function and optimization lab: losses, optimizers, landscapes, experiments."""


@app.command("list")
def list_losses(
    task: str | None = typer.Option(None, "--task", help="Only losses of this task."),  # noqa: UP007
) -> None:
    """Table of the registered losses: name, task, convex, robust, PyTorch equivalent."""
    try:
        names = ll.losses.names(task)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--task") from None
    table = Table(title="losslab losses")
    for column in ("name", "task", "convex", "robust", "PyTorch"):
        table.add_column(column)
    for name in names:
        info = ll.losses.get(name).info
        table.add_row(name, info.task, _yes(info.convex), _yes(info.robust), info.torch or "-")
    console.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def main() -> None:
    """Entry point of the ``losslab`` console script."""
    app()
