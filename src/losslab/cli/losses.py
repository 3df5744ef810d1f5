"""Commands about the loss zoo: ``list``, ``show``, ``explain``."""

from __future__ import annotations

import typer
from rich.table import Table

import losslab as ll
from losslab.cli._app import app, console


@app.command("list")
def list_losses(
    task: str | None = typer.Option(None, "--task", help="Only losses of this task."),
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
