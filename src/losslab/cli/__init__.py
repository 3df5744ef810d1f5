"""The ``losslab`` command: a thin shell over library calls (Typer + Rich).

Each module registers its commands on the shared app; no logic lives only here.
"""

from __future__ import annotations

from losslab.cli import advise, explain_steps, hessian, losses, optim, plot, tour  # noqa: F401  (registers the commands)
from losslab.cli._app import app, console

__all__ = ["app", "console", "main"]


def main() -> None:
    """Entry point of the ``losslab`` console script (and of ``python -m losslab``)."""
    app(prog_name="losslab")
