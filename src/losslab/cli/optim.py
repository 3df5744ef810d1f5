"""Commands about optimization: ``race``, ``train``.

``race`` takes its default learning rates from :mod:`losslab.landscape.rates` (one measured rate
per test function and optimizer); ``--lr`` overrides them. Hyperparameters go through
``--optimizer-param KEY=VALUE`` (``momentum.beta=0.5`` for one optimizer of a race) and loss
parameters through ``--loss-param KEY=VALUE``. ``--out`` writes a figure drawn by
:mod:`losslab.viz` (the race's paths, PNG/SVG/PDF or a GIF of them growing; the training curves
beside the fitted line or decision boundary) at ``--dpi``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

import losslab as ll
from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, step
from losslab.cli._parse import dataset_info, output_path, parse_params, parse_scoped_params
from losslab.cli._train_options import read_class_weight, read_curriculum, read_dropout, read_regularizer

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


#: ``--out`` of ``race`` takes the figure formats and a GIF of the race.
_RACE_FORMATS = ("png", "svg", "pdf", "gif")
_DPI_HELP = "Resolution of raster output (PNG, GIF) in dots per inch (default: 150 for PNG, 80 for GIF)."


def _dpi(dpi: float | None) -> float | None:
    if dpi is not None and not (math.isfinite(dpi) and dpi > 0):
        raise UsageError(f"--dpi: must be a positive finite number, got {dpi!r}")
    return dpi


def _write_figure(fig: Any, target: Path, dpi: float | None) -> None:
    ll.viz.save(fig, target, dpi=ll.viz.style.SAVE_DPI if dpi is None else dpi)


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
        None, "--out", help="Write the paths over the contours (.png/.svg/.pdf), or a .gif of the race."
    ),
    dpi: float | None = typer.Option(None, "--dpi", help=_DPI_HELP),
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
    target = None if out is None else output_path(out, default_name=f"race-{fn.name}", formats=_RACE_FORMATS)
    dpi = _dpi(dpi)
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
        lrs = {k: r for k, r in rates.items() if r is not None}
        with step(f"writing the figure {target}"):
            if target.suffix.lower() == ".gif":
                ll.viz.animate_race(fn, entries, target, lrs=lrs, dpi=80.0 if dpi is None else dpi)
            else:
                _write_figure(ll.viz.paths(fn, entries, lrs=lrs), target, dpi)
        if not as_json:
            console.print(f"figure written to {target}")


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


#: The ``--resample`` methods (:func:`losslab.data.resample`).
_RESAMPLERS = ("oversample", "undersample", "smote")


def _class_table(report: dict[str, Any]) -> Table:
    """Per-class precision, recall, F1 and support, then the confusion matrix's row of each class."""
    confusion = report["confusion"]
    table = Table(title="per class (confusion matrix: rows true, columns predicted)")
    for column in (
        "class",
        "precision",
        "recall",
        "F1",
        "support",
        *(f"pred {j}" for j in range(len(confusion))),
    ):
        table.add_column(column, justify="right")
    for c in range(len(confusion)):
        table.add_row(
            str(c),
            f"{report['precision'][c]:.4f}",
            f"{report['recall'][c]:.4f}",
            f"{report['f1'][c]:.4f}",
            str(int(report["support"][c])),
            *(str(int(n)) for n in confusion[c]),
        )
    return table


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
    regularizer: str | None = typer.Option(
        None,
        "--regularizer",
        help="Penalty R(theta) on the weights: l1=S, l2=S or elastic_net=S1,S2 (several joined by +).",
    ),
    dropout: str | None = typer.Option(
        None, "--dropout", help="Dropout rate of the MLP's hidden layers, or one per layer (0.2,0.1)."
    ),
    init: str | None = typer.Option(
        None, "--init", help="Initializer of the MLP: he, xavier, orthogonal, lsuv, ... (default: its own)."
    ),
    class_weight: str | None = typer.Option(
        None, "--class-weight", help="Class weights of the loss: balanced, or LABEL=WEIGHT pairs (0=1,1=9)."
    ),
    resample: str | None = typer.Option(
        None,
        "--resample",
        help="Balance the training classes first: oversample, undersample or smote (metrics on the original data).",
    ),
    curriculum: str | None = typer.Option(
        None,
        "--curriculum",
        help="Self-paced learning, easy samples first: self_paced or self_paced_linear[=THRESHOLD,GROWTH].",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on a terminal."),
    out: Path | None = typer.Option(  # noqa: B008
        None,
        "--out",
        help="Write the training curves (.png/.svg/.pdf), beside the fitted line (1-D regression data) "
        "or the decision boundary (2-D classification data).",
    ),
    dpi: float | None = typer.Option(None, "--dpi", help=_DPI_HELP),
    as_json: JsonOption = False,
) -> None:
    """Train a model on a dataset and print the final loss, metrics and (small models) parameters.

    Classification runs also print each class's precision, recall, F1 and support and the
    confusion matrix (rows: true class, columns: predicted class).
    """
    info = dataset_info(data)
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise typer.BadParameter(f"must be a positive finite number, got {lr!r}", param_hint="--lr")
    target = None if out is None else output_path(out, default_name=f"train-{info.name}")
    if target is not None and epochs == 0:
        raise UsageError("--out: no training curve to draw with --epochs 0")
    dpi = _dpi(dpi)
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
    penalty = read_regularizer(regularizer)
    rates = read_dropout(dropout)
    weights = read_class_weight(class_weight)
    pacing = read_curriculum(curriculum)
    if init is not None and init not in ll.models.init.names():
        raise typer.BadParameter(
            f"unknown initializer {init!r}; known: {', '.join(ll.models.init.names())}", param_hint="--init"
        )
    if resample is not None and resample not in _RESAMPLERS:
        raise typer.BadParameter(
            f"expected one of {', '.join(_RESAMPLERS)}, got {resample!r}", param_hint="--resample"
        )
    if (resample is not None or weights is not None) and info.task == "regression":
        option = "--resample" if resample is not None else "--class-weight"
        raise UsageError(
            f"train: {option} needs a classification dataset; {info.name} is a regression dataset"
        )
    loss_obj = ll.losses.get(loss or ll.train.default_loss(info.task))  # type: ignore[arg-type]
    _check_loss_fits(loss_obj, info.task, info.name)
    loss_obj.resolve_params(loss_params)  # unknown or invalid parameters: a usage error now
    opt = ll.optim.get(optimizer, **opt_params)
    with step(f"building the {info.name} data and the {model} model"):
        X, y = info.make()
        net = ll.train.make_model(
            model,
            X,
            y,
            task=info.task,  # type: ignore[arg-type]
            hidden=widths,
            activation=activation,
            dropout=rates,
            init=init,
        )
    X_fit, y_fit = X, y
    if resample is not None:
        with step(f"resampling the {info.name} classes ({resample})"):
            X_fit, y_fit = ll.data.resample(X, y, method=resample, seed=seed)  # type: ignore[arg-type]
    with step(f"training {loss_obj.name} + {optimizer} on {info.name}"):
        history = ll.train.fit(
            net,
            X_fit,
            y_fit,
            loss=loss_obj.name,
            loss_params=loss_params,
            optimizer=opt,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            progress=progress and not as_json,
            regularizer=penalty,
            class_weight=weights,
            curriculum=pacing,
        )
    with step("evaluating the trained model"):
        metrics = ll.train.evaluate(net, history.params, X, y, task=info.task)  # type: ignore[arg-type]
        report = None if info.task == "regression" else ll.train.class_report(net, history.params, X, y)
    final = history.epochs["loss"][-1] if history.n_epochs else None
    if target is not None:
        with step(f"writing the figure {target}"):
            fit = f"{loss_obj.name} + {optimizer} (lr={opt_params['lr']:g})"
            fig = ll.viz.training_summary(
                history, net, X, y, task=info.task, label=fit, title=f"{net!r} on {info.name}: {fit}"
            )
            _write_figure(fig, target, dpi)
    final_penalty = (
        history.epochs["penalty"][-1] if history.n_epochs and "penalty" in history.epochs else None
    )
    admitted = history.epochs.get("curriculum_fraction", [])
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
                "regularizer": penalty,
                "final_penalty": final_penalty,
                "dropout": rates,
                "init": init,
                "class_weight": None
                if weights is None
                else (weights if isinstance(weights, str) else {str(k): v for k, v in weights.items()}),
                "resample": resample,
                "curriculum": pacing,
                "curriculum_fraction": list(admitted) if pacing is not None else None,
                "n_train": len(X_fit),
                "metrics": metrics,
                "class_report": None if report is None else {k: v.tolist() for k, v in report.items()},
                "params": history.params if net.n_params <= 8 else None,
                "stop_reason": history.stop_reason or None,
                "figure": None if target is None else str(target),
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
    if final_penalty is not None:
        table.add_row(f"final penalty ({' + '.join(penalty or {})})", f"{final_penalty:.6g}")
    if pacing is not None and len(admitted):
        table.add_row("samples admitted (first, last epoch)", f"{admitted[0]:.0%}, {admitted[-1]:.0%}")
    if resample is not None:
        table.add_row(f"training samples ({resample})", f"{len(X_fit)} (from {len(X)})")
    for name, value in metrics.items():
        table.add_row(name, "n/a" if math.isnan(value) else f"{value:.4f}")
    if net.n_params <= 8:
        for key, value in history.params.items():
            table.add_row(key, ", ".join(f"{v:.4f}" for v in value.ravel()))
    console.print(table)
    if report is not None:
        console.print(_class_table(report))
    if history.stop_reason:
        console.print(history.stop_reason)
    if target is not None:
        console.print(f"figure written to {target}")
