"""``losslab plot``: write a figure of :mod:`losslab.viz` to a file (PNG, SVG or PDF by extension).

Thin shells: each sub-command parses its options and calls one ``ll.viz`` function and
:func:`losslab.viz.save`.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

import losslab as ll
from losslab.cli._app import app, console
from losslab.cli.losses import parse_value

__all__ = ["parse_params", "plot_app"]

plot_app = typer.Typer(
    name="plot",
    help="Write a figure (PNG, SVG or PDF by the --out extension).",
    no_args_is_help=True,
)
app.add_typer(plot_app, name="plot")

_err = Console(stderr=True)

OUT_HELP = "Output file: .png, .svg or .pdf."
DPI_HELP = "Resolution of raster output (dots per inch)."


def _fail(message: str) -> NoReturn:
    _err.print(Text(f"Error: {message}"), soft_wrap=True)
    raise typer.Exit(2)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_params(items: list[str], names: list[str], option: str) -> dict[str, dict[str, Any]]:
    """``NAME.key=value`` (or ``key=value`` for every name) into ``{name: {key: value}}``.

    >>> parse_params(["huber.delta=1.5", "quantile.tau=0.9"], ["huber", "quantile"], "--loss-param")
    {'huber': {'delta': 1.5}, 'quantile': {'tau': 0.9}}
    >>> parse_params(["lr=0.1"], ["constant"], "--param")
    {'constant': {'lr': 0.1}}
    """
    out: dict[str, dict[str, Any]] = {n: {} for n in names}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{option} expects NAME.key=value or key=value, got {item!r}")
        target, dot, param = key.strip().rpartition(".")
        if dot:
            if target not in out:
                raise ValueError(f"{option} {item!r} names {target!r}, which is not among {', '.join(names)}")
            out[target][param] = parse_value(value)
        else:
            for n in names:
                out[n][param] = parse_value(value)
    return out


def _save(fig: Any, out: Path, dpi: float | None) -> None:
    try:
        ll.viz.save(fig, out, dpi=ll.viz.style.SAVE_DPI if dpi is None else dpi)
    except (TypeError, ValueError) as err:
        _fail(str(err))
    console.print(f"figure written to {out}")


def _check_out(out: Path) -> None:
    """Fail before any work when the file cannot be written (bad extension, missing directory)."""
    try:
        ll.viz.output.check_target("plot", out, ll.viz.FORMATS)
    except ValueError as err:
        _fail(str(err))


@plot_app.command("losses")
def plot_losses(
    losses: str = typer.Argument(..., help="Comma-separated loss names, e.g. mse,mae,huber."),
    loss_param: list[str] = typer.Option([], "--loss-param", help="NAME.key=value, e.g. huber.delta=1.5."),  # noqa: B008
    x: str | None = typer.Option(None, "--x", help="x-axis: error, logit or p_t (default: by task)."),
    limits: str | None = typer.Option(None, "--limits", help="x-range LOW,HIGH."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),  # noqa: B008
    dpi: float | None = typer.Option(None, "--dpi", help=DPI_HELP),
) -> None:
    """Loss values and derivatives, side by side (ll.viz.loss_curves)."""
    _check_out(out)
    names = _split(losses)
    try:
        params = parse_params(loss_param, names, "--loss-param")
        span = None
        if limits is not None:
            parts = [float(v) for v in _split(limits)]
            if len(parts) != 2:
                raise ValueError(f"--limits expects LOW,HIGH, got {limits!r}")
            span = (parts[0], parts[1])
        fig = ll.viz.loss_curves([(n, params[n]) for n in names], x=x, limits=span)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        _fail(str(err))
    _save(fig, out, dpi)


@plot_app.command("focal")
def plot_focal(
    gammas: str = typer.Option("0,1,2,5", "--gammas", help="Comma-separated focusing parameters."),
    alpha: float | None = typer.Option(None, "--alpha", help="Class weight of positives (default: none)."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),  # noqa: B008
    dpi: float | None = typer.Option(None, "--dpi", help=DPI_HELP),
) -> None:
    """The focal loss against p_t for several gammas (ll.viz.focal_effect)."""
    _check_out(out)
    try:
        values = [float(g) for g in _split(gammas)]
        fig = ll.viz.focal_effect(values, alpha=alpha)
    except (TypeError, ValueError) as err:
        _fail(str(err))
    _save(fig, out, dpi)


def _schedule_names() -> list[str]:
    return sorted(n for n in ll.optim.schedules.__all__ if n != "Schedule")


@plot_app.command("schedule")
def plot_schedule(
    schedules: str = typer.Argument(..., help="Comma-separated schedules: " + ", ".join(_schedule_names())),
    lr: float = typer.Option(0.1, "--lr", help="Base learning rate."),
    param: list[str] = typer.Option(  # noqa: B008
        [], "--param", help="key=value for every schedule, or NAME.key=value (e.g. warmup_steps=10)."
    ),
    steps: int = typer.Option(100, "--steps", min=1, help="Steps to draw."),
    log: bool = typer.Option(False, "--log/--linear", help="Log-scaled learning-rate axis."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),  # noqa: B008
    dpi: float | None = typer.Option(None, "--dpi", help=DPI_HELP),
) -> None:
    """Learning rate against step (ll.viz.schedules)."""
    _check_out(out)
    names = _split(schedules)
    valid = _schedule_names()
    built = []
    try:
        params = parse_params(param, names, "--param")
        for name in names:
            if name not in valid:
                raise ValueError(f"unknown schedule {name!r}; valid names: {', '.join(valid)}")
            factory = getattr(ll.optim.schedules, name)
            accepted = inspect.signature(factory).parameters
            given = {k: v for k, v in params[name].items() if k in accepted}
            unknown = sorted(set(params[name]) - set(accepted)) if len(names) == 1 else []
            if unknown:
                raise ValueError(
                    f"{name} has no parameter {', '.join(unknown)}; it takes {', '.join(accepted)}"
                )
            try:
                built.append(factory(lr=lr, **given))
            except TypeError as err:
                raise ValueError(f"{name}{inspect.signature(factory)}: {err}") from None
        fig = ll.viz.schedules(built, steps=steps, log=log)
    except (TypeError, ValueError) as err:
        _fail(str(err))
    _save(fig, out, dpi)


def _function(name: str, params: list[str]) -> Any:
    try:
        kwargs = parse_params(params, [name], "--param")[name]
        return ll.landscape.functions.get(name, **kwargs)
    except (TypeError, ValueError) as err:
        _fail(str(err))


@plot_app.command("contour")
def plot_contour(
    function: str = typer.Argument(..., help="Test function: " + ", ".join(ll.landscape.functions.names())),
    param: list[str] = typer.Option([], "--param", help="Function parameter key=value (e.g. b=100)."),  # noqa: B008
    levels: int = typer.Option(30, "--levels", min=1, help="Number of contour levels."),
    surface: bool = typer.Option(False, "--surface", help="A 3-D surface beside the contours."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),  # noqa: B008
    dpi: float | None = typer.Option(None, "--dpi", help=DPI_HELP),
) -> None:
    """Contours of a test function with its minima marked (ll.viz.contour / ll.viz.surface_3d)."""
    _check_out(out)
    fn = _function(function, param)
    fig = ll.viz.surface_3d(fn) if surface else ll.viz.contour(fn, levels=levels)
    _save(fig, out, dpi)
