"""Commands about optimization: ``race``, ``train``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

import losslab as ll
from losslab.cli._app import app, console


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _learning_rates(lr: str | None, names: list[str]) -> list[float | None]:
    if lr is None:
        return [None] * len(names)
    try:
        values = [float(v) for v in _split(lr)]
    except ValueError:
        raise typer.BadParameter(
            f"expected a number or a comma-separated list, got {lr!r}", param_hint="--lr"
        ) from None
    if len(values) == 1:
        return [values[0]] * len(names)
    if len(values) != len(names):
        raise typer.BadParameter(
            f"give one learning rate or one per optimizer ({len(names)}), got {len(values)}",
            param_hint="--lr",
        )
    out: list[float | None] = [*values]
    return out


@app.command("race")
def race(
    function: str = typer.Argument(..., help="Test function: " + ", ".join(ll.landscape.functions.names())),
    optimizers: str = typer.Option("sgd,momentum,adam", "--optimizers", help="Comma-separated names."),
    lr: str | None = typer.Option(None, "--lr", help="Learning rate, or one per optimizer."),
    steps: int = typer.Option(100, "--steps", min=0, help="Number of steps."),
    tol: float = typer.Option(1e-6, "--tol", help="Tolerance on f(w) - f* for 'steps to tolerance'."),
    out: Path | None = typer.Option(None, "--out", help="Write a contour figure of the paths."),  # noqa: B008
) -> None:
    """Race optimizers on a test function from the same start; print a table, optionally draw the paths."""
    try:
        fn = ll.landscape.functions.get(function)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="FUNCTION") from None
    names = _split(optimizers)
    if not names:
        raise typer.BadParameter("name at least one optimizer", param_hint="--optimizers")
    built: dict[str, Any] = {}
    for name, rate in zip(names, _learning_rates(lr, names)):
        try:
            built[name] = ll.optim.get(name) if rate is None else ll.optim.get(name, lr=rate)
        except (TypeError, ValueError) as err:
            raise typer.BadParameter(str(err), param_hint="--optimizers") from None
    entries = ll.train.race(fn, built, steps=steps, tol=tol)
    table = Table(title=f"race on {fn.name} from {fn.start.tolist()} ({steps} steps)")
    for column in ("optimizer", "final value", "distance to minimum", "steps to tol"):
        table.add_column(column, justify="left" if column == "optimizer" else "right")
    for e in entries:
        hit = "-" if e.steps_to_tol is None else str(e.steps_to_tol)
        final = "diverged" if e.diverged else f"{e.final_value:.6g}"
        table.add_row(e.name, final, f"{e.distance:.6g}", hit)
    console.print(table)
    if out is not None:
        _race_figure(fn, entries, out)
        console.print(f"figure written to {out}")


def _race_figure(fn: Any, entries: list[Any], out: Path) -> None:
    """Contours of the function with each optimizer's path (Agg backend, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    (x0, x1), (y0, y1) = fn.limits
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    z = fn.value(np.stack([gx, gy], axis=-1))
    fig, ax = plt.subplots(figsize=(7, 6))
    log_levels = np.geomspace(max(float(z.min()), 1e-3), float(z.max()), 30)
    levels = log_levels if fn.name == "rosenbrock" else 30
    ax.contour(gx, gy, z, levels=levels, cmap="Greys")
    for e in entries:
        ax.plot(e.path[:, 0], e.path[:, 1], "-o", ms=2, lw=1.2, label=e.name)
    for m in fn.minima:
        ax.plot(m[0], m[1], "r*", ms=12)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title(f"Optimizer paths on {fn.name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


@app.command("train")
def train(
    data: str = typer.Option("outliers", "--data", help="Dataset: " + ", ".join(ll.data.names())),
    model: str = typer.Option("linear", "--model", help="Model: " + ", ".join(ll.train.MODEL_KINDS)),
    loss: str | None = typer.Option(None, "--loss", help="Loss name (default: the task's usual loss)."),
    optimizer: str = typer.Option("adam", "--optimizer", help="Optimizer: " + ", ".join(ll.optim.names())),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: 0.05)."),
    epochs: int = typer.Option(100, "--epochs", min=0),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Batch size (default: all)."),
    hidden: str = typer.Option("16,16", "--hidden", help="Hidden layer widths of the MLP."),
    activation: str = typer.Option("relu", "--activation", help="Hidden activation of the MLP."),
    seed: int = typer.Option(0, "--seed"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on a terminal."),
) -> None:
    """Train a model on a dataset and print the final loss, metrics and (small models) parameters."""
    try:
        info = ll.data.info(data)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--data") from None
    X, y = info.make()
    try:
        widths = [int(w) for w in _split(hidden)]
        net = ll.train.make_model(model, X, y, task=info.task, hidden=widths, activation=activation)  # type: ignore[arg-type]
        opt = ll.optim.get(optimizer, lr=0.05 if lr is None else lr)
        loss_name = loss or ll.train.default_loss(info.task)  # type: ignore[arg-type]
        ll.losses.get(loss_name)
    except (TypeError, ValueError) as err:
        raise typer.BadParameter(str(err)) from None
    history = ll.train.fit(
        net,
        X,
        y,
        loss=loss_name,
        optimizer=opt,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
    )
    table = Table(title=f"{net!r} on {info.name} ({info.task}), {loss_name} + {optimizer}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("epochs", str(history.n_epochs))
    final = f"{history.epochs['loss'][-1]:.6g}" if history.n_epochs else "-"
    table.add_row(f"final loss ({loss_name})", final)
    for name, value in ll.train.evaluate(net, history.params, X, y, task=info.task).items():  # type: ignore[arg-type]
        table.add_row(name, "n/a" if math.isnan(value) else f"{value:.4f}")
    if net.n_params <= 8:
        for key, value in history.params.items():
            table.add_row(key, ", ".join(f"{v:.4f}" for v in value.ravel()))
    console.print(table)
    if history.stop_reason:
        console.print(history.stop_reason)
