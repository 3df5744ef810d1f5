"""The ``landscape`` command: a test function's race and critical points, or the loss surface of a model.

Three forms, each a thin shell over ``ll.landscape`` and ``ll.viz``:

* ``losslab landscape FUNCTION --optimizers sgd,adam --steps 200 --out paths.png``: race the
  optimizers on the test function (default rates from :mod:`losslab.landscape.rates`), list its
  critical points classified by :func:`losslab.landscape.classify_critical_point`, draw the paths;
* ``losslab landscape --data outliers --model linear --loss huber --loss-param delta=2``: fit the
  model, then the loss surface over its two parameters around the fit -- ``(w, b)`` for a line
  (:func:`losslab.landscape.linear_regression_surface`), ``(w1, w2)`` with the bias fixed for a
  logistic model on 2 features (:func:`losslab.landscape.logistic_surface`);
* ``losslab landscape --data spirals --model mlp --skip --directions filter|pca``: train the
  network, then the 2-D slice of its loss along two filter-normalized random directions or the
  trajectory's two principal directions (:func:`losslab.landscape.slice_2d`).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

import losslab as ll
from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, step
from losslab.cli._parse import dataset_info, output_path, parse_params
from losslab.cli.hessian import _model_spec
from losslab.cli.optim import _label, _learning_rates, _split

if TYPE_CHECKING:
    import numpy as np

DIRECTIONS = ("filter", "pca")


#: Options of each form with their defaults; an option of the other form is refused, not ignored.
RACE_DEFAULTS: dict[str, Any] = {
    "--optimizers": "sgd,momentum,adam",
    "--lr": None,
    "--steps": 100,
    "--noise": 0.0,
}
MODEL_DEFAULTS: dict[str, Any] = {
    "--model": "linear",
    "--loss": None,
    "--loss-param": None,
    "--skip/--no-skip": False,
    "--directions": "filter",
    "--activation": "tanh",
    "--epochs": 200,
    "--train-lr": 0.05,
    "--resolution": 41,
    "--radius": 1.0,
}


def _finite(option: str, value: float | None, *, positive: bool = False) -> None:
    if value is not None and not (math.isfinite(value) and (value > 0 or not positive and value == 0)):
        bound = "a finite number > 0" if positive else "a finite number >= 0"
        raise UsageError(f"{option}: must be {bound}, got {value}")


@app.command("landscape")
def landscape(
    function: str | None = typer.Argument(
        None, help="Test function (see losslab.landscape.functions.names()); or give --data."
    ),
    optimizers: str | None = typer.Option(
        None, "--optimizers", help="Comma-separated optimizer names [default: sgd,momentum,adam]."
    ),
    lr: str | None = typer.Option(
        None, "--lr", help="Learning rate, or one per optimizer (default: measured rates)."
    ),
    steps: int | None = typer.Option(None, "--steps", min=0, help="Race steps [default: 100]."),
    noise: float | None = typer.Option(
        None, "--noise", help="Gradient noise sigma of the race [default: 0]."
    ),
    data: str | None = typer.Option(
        None, "--data", help="Dataset (see losslab.data.names()): a model's surface."
    ),
    model: str | None = typer.Option(
        None, "--model", help="linear, logistic, mlp, mlp:16,16 [default: linear]."
    ),
    loss: str | None = typer.Option(None, "--loss", help="Loss name (default: the task's usual loss)."),
    loss_param: list[str] | None = typer.Option(None, "--loss-param", help="KEY=VALUE (repeatable)."),  # noqa: B008
    skip: bool | None = typer.Option(
        None, "--skip/--no-skip", help="Residual skips in the MLP [default: no-skip]."
    ),
    directions: str | None = typer.Option(
        None, "--directions", help="Slice directions of an MLP: filter or pca [default: filter]."
    ),
    activation: str | None = typer.Option(
        None, "--activation", help="Hidden activation of the MLP [default: tanh]."
    ),
    epochs: int | None = typer.Option(
        None, "--epochs", min=0, help="Training epochs before the surface [default: 200]."
    ),
    train_lr: float | None = typer.Option(
        None, "--train-lr", help="Learning rate of that training, Adam [default: 0.05]."
    ),
    resolution: int | None = typer.Option(
        None, "--resolution", min=3, help="Grid points per axis, odd [default: 41]."
    ),
    radius: float | None = typer.Option(
        None, "--radius", help="Half-width of the grid, relative for lines [default: 1]."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the noise, the training and the directions."),
    out: Path | None = typer.Option(None, "--out", help="Write the figure (.png/.svg/.pdf)."),  # noqa: B008
    dpi: float | None = typer.Option(None, "--dpi", help="Figure resolution."),
    as_json: JsonOption = False,
) -> None:
    """Race optimizers on a test function and classify its critical points, or draw a model's loss surface."""
    if (function is None) == (data is None):
        raise UsageError("landscape: give a test function or --data, not both and not neither")
    given = {
        "--optimizers": optimizers, "--lr": lr, "--steps": steps, "--noise": noise, "--model": model,
        "--loss": loss, "--loss-param": loss_param, "--skip/--no-skip": skip, "--directions": directions,
        "--activation": activation, "--epochs": epochs, "--train-lr": train_lr, "--resolution": resolution,
        "--radius": radius,
    }  # fmt: skip
    other, form = (
        (MODEL_DEFAULTS, "a test function's race") if function else (RACE_DEFAULTS, "a --data surface")
    )
    for option in other:
        if given[option] is not None:
            raise UsageError(f"{option}: does not apply to {form}")
    opts: dict[str, Any] = {
        k: (RACE_DEFAULTS | MODEL_DEFAULTS)[k] if v is None else v for k, v in given.items()
    }
    _finite("--noise", opts["--noise"])
    _finite("--train-lr", opts["--train-lr"], positive=True)
    _finite("--radius", opts["--radius"], positive=True)
    _finite("--dpi", dpi, positive=True)
    if opts["--resolution"] % 2 == 0:
        raise UsageError(
            f"--resolution: must be odd so the grid contains its centre, got {opts['--resolution']}"
        )
    if function is not None:
        _function_landscape(
            function,
            opts["--optimizers"],
            opts["--lr"],
            opts["--steps"],
            opts["--noise"],
            seed,
            out,
            dpi,
            as_json,
        )
        return
    assert data is not None
    if opts["--directions"] not in DIRECTIONS:
        raise UsageError(
            f"--directions: must be one of {', '.join(DIRECTIONS)}, got {opts['--directions']!r}"
        )
    _model_landscape(
        data, opts["--model"], opts["--loss"], parse_params(opts["--loss-param"], "--loss-param"),
        opts["--skip/--no-skip"], opts["--directions"], opts["--activation"], opts["--epochs"],
        opts["--train-lr"], opts["--resolution"], opts["--radius"], seed, out, dpi, as_json,
    )  # fmt: skip


# --------------------------------------------------------------------------- test functions


def _function_landscape(
    name: str,
    optimizers: str,
    lr: str | None,
    steps: int,
    noise: float,
    seed: int,
    out: Path | None,
    dpi: float | None,
    as_json: bool,
) -> None:
    try:
        fn = ll.landscape.functions.get(name)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="FUNCTION") from None
    names = _split(optimizers)
    if not names:
        raise typer.BadParameter("name at least one optimizer", param_hint="--optimizers")
    target = None if out is None else output_path(out, default_name=f"landscape-{fn.name}")
    built: dict[str, Any] = {}
    for opt_name, rate in zip(names, _learning_rates(lr, names)):
        _finite("--lr", rate, positive=True)
        if rate is None:
            rate = ll.landscape.default_learning_rate(fn.name, opt_name.lower())
        try:
            opt = ll.landscape.rates.race_optimizer(opt_name, **({} if rate is None else {"lr": rate}))
        except (TypeError, ValueError) as err:
            raise typer.BadParameter(str(err), param_hint="--optimizers") from None
        built[opt_name if opt_name not in built else _label(opt_name, rate)] = opt
    with step(f"racing on {fn.name}"):
        entries = ll.landscape.race(fn, built, steps=steps, noise=noise, seed=seed)
    classified = [(cp, ll.landscape.classify_critical_point(fn, cp.point)) for cp in fn.critical_points]
    if target is not None:
        with step(f"writing the figure {target}"):
            fig = (
                ll.viz.paths(fn, entries, dpi=dpi)
                if fn.dim == 2
                else ll.viz.convergence(entries, minimum_value=fn.minimum_value, dpi=dpi)
            )
            ll.viz.save(fig, target)
    if as_json:
        emit_json(
            {
                "function": fn.name,
                "dim": fn.dim,
                "start": fn.start,
                "steps": steps,
                "noise": noise,
                "entries": [
                    {
                        "optimizer": e.name,
                        "lr": e.lr,
                        "final_value": e.final_value,
                        "distance": e.distance,
                        "steps_to_tol": e.steps_to_tol,
                        "diverged": e.diverged,
                        "diverged_step": e.diverged_step,
                        "path": e.path,
                    }
                    for e in entries
                ],
                "critical_points": [
                    {
                        "point": cp.point,
                        "kind": r.kind,
                        "index": r.index,
                        "value": cp.value,
                        "eigenvalues": r.eigenvalues,
                    }
                    for cp, r in classified
                ],
                "figure": None if target is None else str(target),
            }
        )
        return
    table = Table(title=f"race on {fn.name} from {fn.start.tolist()} ({steps} steps)")
    for column in ("optimizer", "lr", "final value", "distance to minimum", "steps to tol"):
        table.add_column(column, justify="left" if column == "optimizer" else "right")
    for e in entries:
        final = f"diverged at step {e.diverged_step}" if e.diverged else f"{e.final_value:.6g}"
        hit = "-" if e.steps_to_tol is None else str(e.steps_to_tol)
        table.add_row(e.name, "-" if e.lr is None else f"{e.lr:g}", final, f"{e.distance:.6g}", hit)
    console.print(table)
    points = Table(title=f"critical points of {fn.name} (kind from the Hessian's eigenvalues)")
    for column in ("point", "value", "kind", "index", "eigenvalues"):
        points.add_column(column, justify="left" if column in ("point", "kind") else "right")
    for cp, r in classified:
        where = "(" + ", ".join(f"{c:.6g}" for c in cp.point) + ")"
        eig = ", ".join(f"{v:.4g}" for v in r.eigenvalues)
        points.add_row(where, f"{cp.value:.6g}", r.kind, "-" if r.index is None else str(r.index), eig)
    console.print(points)
    if target is not None:
        console.print(f"figure written to {target}")


# --------------------------------------------------------------------------- models


def _axis(center: float, half: float, n: int) -> np.ndarray:
    return ll.landscape.grid(center=(center, 0.0), radius=(half, 1.0), num=(n, 3)).x


def _model_landscape(
    data: str,
    model: str,
    loss: str | None,
    loss_params: dict[str, Any],
    skip: bool,
    directions: str,
    activation: str,
    epochs: int,
    train_lr: float,
    resolution: int,
    radius: float,
    seed: int,
    out: Path | None,
    dpi: float | None,
    as_json: bool,
) -> None:
    import numpy as np

    info = dataset_info(data)
    X, y = info.make()
    try:
        net = _model_spec(model, X, y, info.task, activation, skip)
        loss_name = loss or ll.train.default_loss(info.task)  # type: ignore[arg-type]
        ll.losses.get(loss_name).resolve_params(loss_params)
    except (TypeError, ValueError) as err:
        raise UsageError(f"landscape: {err}") from None
    target = None if out is None else output_path(out, default_name=f"landscape-{info.name}")
    kind = model.partition(":")[0].strip().lower()
    extra: dict[str, Any] = {}
    with step(f"training {net!r} on {info.name}"):
        history = ll.train.fit(
            net, X, y, loss=loss_name, loss_params=loss_params, optimizer=ll.optim.adam(lr=train_lr),
            epochs=epochs, seed=seed, progress=False, record_params=kind == "mlp",
        )  # fmt: skip
    params = history.params
    with step("computing the surface"):
        if kind == "linear" and X.shape[1] == 1:
            w0, b0 = float(params["W"][0, 0]), float(params["b"][0])
            w = _axis(w0, radius * max(1.0, abs(w0)), resolution)
            b = _axis(b0, radius * max(1.0, abs(b0)), resolution)
            surface = ll.landscape.linear_regression_surface(X[:, 0], y, loss_name, w, b, **loss_params)
            labels, origin, title = ("w", "b"), (w0, b0), f"{loss_name} over (w, b) on {info.name}"
        elif kind in ("linear", "logistic") and X.shape[1] == 2 and info.task == "binary":
            w1, w2 = float(params["W"][0, 0]), float(params["W"][1, 0])
            b0 = float(params["b"][0])
            half = radius * max(1.0, abs(w1), abs(w2))
            surface = ll.landscape.logistic_surface(
                X,
                y,
                _axis(w1, half, resolution),
                _axis(w2, half, resolution),
                b=b0,
                loss=loss_name,
                **loss_params,
            )
            labels, origin, title = (
                ("w1", "w2"),
                (w1, w2),
                f"{loss_name} over (w1, w2), b = {b0:.3g}, on {info.name}",
            )
        elif kind == "mlp":
            obj = net.objective(X, y, loss=loss_name, **loss_params)
            if directions == "pca":
                assert history.trajectory is not None  # recorded for an MLP
                found = ll.landscape.pca_directions(history.trajectory)
                d1, d2 = found.directions
                path = found.coordinates
                # Li et al.: the grid spans the projected training path (with a margin)
                half1, half2 = (radius * 1.2 * max(float(np.abs(path[:, k]).max()), 1e-3) for k in (0, 1))
                extra = {"explained_variance_ratio": found.explained_variance_ratio, "path": path}
            else:
                d1 = ll.landscape.random_direction(params, seed=seed, normalization="filter", bias="zero")
                d2 = ll.landscape.random_direction(params, seed=seed + 1, normalization="filter", bias="zero")
                half1 = half2 = radius
            alphas, betas = _axis(0.0, half1, resolution), _axis(0.0, half2, resolution)
            surface = (alphas, betas, ll.landscape.slice_2d(obj, params, d1, d2, alphas, betas))
            labels, origin = ("α (direction 1)", "β (direction 2)"), (0.0, 0.0)
            sizes = ", ".join(str(n) for n in net.layer_sizes)
            title = (
                f"{loss_name} on a {directions} slice\n"
                f"MLP [{sizes}], {activation}, {'skips' if skip else 'no skips'}, {info.name}"
            )
        else:
            raise UsageError(
                f"landscape: --model {model} on {info.name} ({X.shape[1]} features, {info.task}) has no "
                "two-parameter surface; use linear on 1 feature, linear/logistic on 2 binary features, or mlp"
            )
    ax, ay, Z = (np.asarray(a) for a in surface)
    xs = ax[0] if ax.ndim == 2 else ax
    ys = ay[:, 0] if ay.ndim == 2 else ay
    i, j = np.unravel_index(int(np.argmin(Z)), Z.shape)
    centre = float(Z[ys.size // 2, xs.size // 2])
    if target is not None:
        with step(f"writing the figure {target}"):
            if kind == "mlp" and "path" in extra:
                run = SimpleNamespace(name="training path (PCA projection)", path=extra["path"])
                fig = ll.viz.paths((xs, ys, Z), [run], axis_labels=labels, title=title, dpi=dpi)
            elif kind == "mlp":
                fig = ll.viz.slice_2d(xs, ys, Z, title=title, dpi=dpi)
            else:
                fig = ll.viz.contour((xs, ys, Z), axis_labels=labels, title=title, dpi=dpi)
            ll.viz.save(fig, target)
    report = {
        "data": info.name,
        "model": repr(net),
        "loss": loss_name,
        "loss_params": loss_params,
        "epochs": history.n_epochs,
        "axes": {labels[0]: xs, labels[1]: ys},
        "trained_point": origin,
        "value_at_trained_point": centre,
        "lowest_value": float(Z[i, j]),
        "lowest_at": (float(xs[j]), float(ys[i])),
        "figure": None if target is None else str(target),
        **extra,
    }
    if as_json:
        emit_json(report)
        return
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("grid", f"{xs.size} x {ys.size} over {labels[0]}, {labels[1]}")
    table.add_row("trained point", f"({origin[0]:.4g}, {origin[1]:.4g})")
    table.add_row("loss there", f"{centre:.6g}")
    table.add_row("lowest on the grid", f"{float(Z[i, j]):.6g} at ({xs[j]:.4g}, {ys[i]:.4g})")
    if "explained_variance_ratio" in extra:
        ratios = ", ".join(f"{r:.3g}" for r in extra["explained_variance_ratio"])
        table.add_row("explained variance of the directions", ratios)
    console.print(table)
    if target is not None:
        console.print(f"figure written to {target}")
