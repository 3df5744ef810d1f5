"""Commands about optimization: ``race``, ``train``.

``race`` takes its default learning rates from :mod:`losslab.landscape.rates` (one measured rate
per test function and optimizer); ``--lr`` overrides them. Hyperparameters go through
``--optimizer-param KEY=VALUE`` (``momentum.beta=0.5`` for one optimizer of a race) and loss
parameters through ``--loss-param KEY=VALUE``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

import losslab as ll
from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, step
from losslab.cli._parse import output_path, parse_params, parse_scoped_params

_MOMENTUM_FORMS = "momentum, nesterov (PyTorch), ema_momentum, velocity, sutskever_nesterov"


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


def _label(name: str, lr: float | None) -> str:
    return name if lr is None else f"{name} (lr={lr:g})"


@app.command("race")
def race(
    function: str = typer.Argument(..., help="Test function (see losslab.landscape.functions.names())."),
    optimizers: str = typer.Option(
        "sgd,momentum,adam",
        "--optimizers",
        help=f"Comma-separated optimizer names; momentum forms: {_MOMENTUM_FORMS}.",
    ),
    lr: str | None = typer.Option(
        None, "--lr", help="Learning rate, or one per optimizer (default: the measured race rates)."
    ),
    optimizer_param: list[str] | None = typer.Option(  # noqa: B008
        None,
        "--optimizer-param",
        help="KEY=VALUE for every optimizer, or NAME.KEY=VALUE for one (repeatable).",
    ),
    steps: int = typer.Option(100, "--steps", min=0, help="Number of steps."),
    tol: float = typer.Option(1e-6, "--tol", help="Tolerance on f(w) - f* for 'steps to tolerance'."),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Write a contour figure of the paths (.png/.svg/.pdf)."
    ),
    as_json: JsonOption = False,
) -> None:
    """Race optimizers on a test function from the same start; print a table, optionally draw the paths."""
    try:
        fn = ll.landscape.functions.get(function)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="FUNCTION") from None
    names = _split(optimizers)
    if not names:
        raise typer.BadParameter("name at least one optimizer", param_hint="--optimizers")
    target = None if out is None else output_path(out, default_name=f"race-{fn.name}")
    hyper = parse_scoped_params(optimizer_param, "--optimizer-param", names)
    built: dict[str, Any] = {}
    rates: dict[str, float | None] = {}
    for name, rate in zip(names, _learning_rates(lr, names)):
        if rate is None:
            rate = hyper[name].get("lr", ll.landscape.default_learning_rate(fn.name, name.lower()))
        params = {**hyper[name], **({} if rate is None else {"lr": rate})}
        key = name if name not in built else _label(name, rate)
        if key in built:
            raise UsageError(f"race: {key} is given twice")
        built[key] = ll.landscape.rates.race_optimizer(name, **params)
        rates[key] = rate
    with step(f"racing on {fn.name}"):
        entries = ll.train.race(fn, built, steps=steps, tol=tol)
    if as_json:
        emit_json(
            {
                "function": fn.name,
                "start": fn.start,
                "steps": steps,
                "tol": tol,
                "entries": [
                    {
                        "optimizer": e.name,
                        "lr": rates[e.name],
                        "final_value": e.final_value,
                        "distance": e.distance,
                        "steps_to_tol": e.steps_to_tol,
                        "diverged": e.diverged,
                        "path": e.path,
                    }
                    for e in entries
                ],
                "figure": None if target is None else str(target),
            }
        )
    else:
        table = Table(title=f"race on {fn.name} from {fn.start.tolist()} ({steps} steps)")
        for column in ("optimizer", "lr", "final value", "distance to minimum", "steps to tol"):
            table.add_column(column, justify="left" if column == "optimizer" else "right")
        for e in entries:
            hit = "-" if e.steps_to_tol is None else str(e.steps_to_tol)
            final = "diverged" if e.diverged else f"{e.final_value:.6g}"
            rate = rates[e.name]
            table.add_row(e.name, "-" if rate is None else f"{rate:g}", final, f"{e.distance:.6g}", hit)
        console.print(table)
    if target is not None:
        with step(f"writing the figure {target}"):
            _race_figure(fn, entries, {k: _label(k, r) for k, r in rates.items()}, target)
        if not as_json:
            console.print(f"figure written to {target}")


def _race_figure(fn: Any, entries: list[Any], labels: dict[str, str], out: Path) -> None:
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
        ax.plot(e.path[:, 0], e.path[:, 1], "-o", ms=2, lw=1.2, label=labels.get(e.name, e.name))
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


#: The dataset tasks a loss of each task can be trained on (regression losses score 0/1 labels too).
_FITS = {
    "regression": ("regression", "binary"),
    "binary": ("binary",),
    "multiclass": ("multiclass",),
    "segmentation": ("binary",),
}


def _check_loss_fits(loss: ll.losses.Loss, task: str, data: str) -> None:
    """A usage error when ``loss`` cannot score one prediction per sample of a ``task`` dataset."""
    if tuple(loss.inputs) != ("y_pred", "y_true"):
        raise UsageError(
            f"train: {loss.name} takes {', '.join(loss.inputs)}; train fits losses of (y_pred, y_true) "
            f"(for {data}, a {task} dataset: {', '.join(_losses_for(task))})"
        )
    if task not in _FITS.get(loss.info.task, ()):
        raise UsageError(
            f"train: {loss.name} is a {loss.info.task} loss and {data} is a {task} dataset; "
            f"losses for it: {', '.join(_losses_for(task))}"
        )


def _losses_for(task: str) -> list[str]:
    return ll.losses.names("regression" if task == "regression" else task)


@app.command("train")
def train(
    data: str = typer.Option("outliers", "--data", help="Dataset (see losslab.data.names())."),
    model: str = typer.Option("linear", "--model", help="Model: linear, logistic, softmax or mlp."),
    loss: str | None = typer.Option(None, "--loss", help="Loss name (default: the task's usual loss)."),
    loss_param: list[str] | None = typer.Option(  # noqa: B008
        None, "--loss-param", help="A loss parameter KEY=VALUE, e.g. delta=2 (repeatable)."
    ),
    optimizer: str = typer.Option("adam", "--optimizer", help="Optimizer (see `losslab show adam`)."),
    optimizer_param: list[str] | None = typer.Option(  # noqa: B008
        None,
        "--optimizer-param",
        help="An optimizer hyperparameter KEY=VALUE, e.g. betas=0.9,0.99 (repeatable).",
    ),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: 0.05)."),
    epochs: int = typer.Option(100, "--epochs", min=0),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Batch size (default: all)."),
    hidden: str = typer.Option("16,16", "--hidden", help="Hidden layer widths of the MLP."),
    activation: str = typer.Option("relu", "--activation", help="Hidden activation of the MLP."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the initialization and batch order."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on a terminal."),
    as_json: JsonOption = False,
) -> None:
    """Train a model on a dataset and print the final loss, metrics and (small models) parameters."""
    try:
        info = ll.data.info(data)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--data") from None
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise typer.BadParameter(f"must be a positive finite number, got {lr!r}", param_hint="--lr")
    loss_params = parse_params(loss_param, "--loss-param")
    opt_params = parse_params(optimizer_param, "--optimizer-param")
    if lr is not None or "lr" not in opt_params:
        opt_params["lr"] = 0.05 if lr is None else lr
    try:
        widths = [int(w) for w in _split(hidden)]
    except ValueError:
        raise typer.BadParameter(
            f"expected comma-separated integers, got {hidden!r}", param_hint="--hidden"
        ) from None
    ll.models.activations.get(activation)  # an unknown name is a usage error even for non-MLP models
    loss_obj = ll.losses.get(loss or ll.train.default_loss(info.task))  # type: ignore[arg-type]
    _check_loss_fits(loss_obj, info.task, info.name)
    loss_obj.resolve_params(loss_params)  # unknown or invalid parameters: a usage error now
    opt = ll.optim.get(optimizer, **opt_params)
    with step(f"building the {info.name} data and the {model} model"):
        X, y = info.make()
        net = ll.train.make_model(model, X, y, task=info.task, hidden=widths, activation=activation)  # type: ignore[arg-type]
    with step(f"training {loss_obj.name} + {optimizer} on {info.name}"):
        history = ll.train.fit(
            net,
            X,
            y,
            loss=loss_obj.name,
            loss_params=loss_params,
            optimizer=opt,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            progress=progress and not as_json,
        )
    with step("evaluating the trained model"):
        metrics = ll.train.evaluate(net, history.params, X, y, task=info.task)  # type: ignore[arg-type]
    final = history.epochs["loss"][-1] if history.n_epochs else None
    if as_json:
        emit_json(
            {
                "data": info.name,
                "task": info.task,
                "model": repr(net),
                "loss": loss_obj.name,
                "loss_params": loss_obj.resolve_params(loss_params),
                "optimizer": optimizer,
                "optimizer_params": opt_params,
                "epochs": history.n_epochs,
                "final_loss": final,
                "metrics": metrics,
                "params": history.params if net.n_params <= 8 else None,
                "stop_reason": history.stop_reason or None,
            }
        )
        return
    shown = ", ".join(f"{k}={v!r}" for k, v in loss_params.items())
    title = (
        f"{net!r} on {info.name} ({info.task}), {loss_obj.name}{f'({shown})' if shown else ''} + {optimizer}"
    )
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("epochs", str(history.n_epochs))
    table.add_row(f"final loss ({loss_obj.name})", "-" if final is None else f"{final:.6g}")
    for name, value in metrics.items():
        table.add_row(name, "n/a" if math.isnan(value) else f"{value:.4f}")
    if net.n_params <= 8:
        for key, value in history.params.items():
            table.add_row(key, ", ".join(f"{v:.4f}" for v in value.ravel()))
    console.print(table)
    if history.stop_reason:
        console.print(history.stop_reason)
