"""Commands about the loss zoo: ``list``, ``show``, ``explain``.

Thin shells over :mod:`losslab.losses` and :mod:`losslab.explain`: ``list`` reads the registry,
``show`` prints :func:`losslab.explain.card`, ``explain`` prints :func:`losslab.explain.explain`.
Loss parameters and inputs of ``explain`` are read from the loss's declaration, so every
registered loss works from the command line with no change here.
"""

from __future__ import annotations

import ast
import re
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

import losslab as ll
from losslab.cli._app import app, console

__all__ = ["parse_array", "parse_explain_args", "parse_value"]

_err = Console(stderr=True)


class CommandLineError(ValueError):
    """A bad command line: printed as one clear message, exit code 2."""


def _fail(message: str) -> NoReturn:
    _err.print(Text(f"Error: {message}"), soft_wrap=True)
    raise typer.Exit(2)


def _loss(name: str) -> ll.losses.Loss:
    try:
        return ll.losses.get(name)
    except (ValueError, TypeError) as err:
        _fail(str(err))


# --------------------------------------------------------------------------- list


@app.command("list")
def list_losses(
    task: str | None = typer.Option(None, "--task", help="Only losses of this task."),
) -> None:
    """Table of the registered losses: name, task, convex, robust, PyTorch equivalent."""
    try:
        names = ll.losses.names(task)
    except ValueError as err:
        _fail(str(err))
    table = Table(title="losslab losses" + (f" ({task})" if task else ""))
    table.add_column("name", no_wrap=True)
    for column in ("task", "convex", "robust"):
        table.add_column(column, no_wrap=True)
    table.add_column("PyTorch", overflow="fold")
    for name in names:
        info = ll.losses.get(name).info
        table.add_row(name, info.task, _yes(info.convex), _yes(info.robust), info.torch or "-")
    console.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# --------------------------------------------------------------------------- show


@app.command("show")
def show(name: str = typer.Argument(..., help="A loss name or alias (see `losslab list`).")) -> None:
    """Formula, gradient, properties, defaults, domains, when to use it, equivalents, references."""
    c = ll.explain.card(_loss(name))
    head = Text(c.summary or c.name)
    head.append(f"\ntask: {c.task} ({c.kind.replace('_', '-')}); inputs: {', '.join(c.inputs)}; ")
    head.append(f"gradient with respect to: {', '.join(c.differentiable_inputs)}")
    if c.aliases:
        head.append(f"\naliases: {', '.join(c.aliases)}")
    console.print(Panel(head, title=f"[bold]{c.name}[/bold]", expand=True))

    math = Table.grid(padding=(0, 2))
    math.add_column(style="bold")
    math.add_column()
    math.add_row("formula", Text(c.formula))
    math.add_row("gradient", Text(c.gradient))
    console.print(Panel(math, title="Math (LaTeX)"))

    props = Table(title="Properties", show_header=True)
    for key in c.properties:
        props.add_column(key)
    props.add_row(*(_yes(v) for v in c.properties.values()))
    params = Table(title="Parameters")
    for column in ("parameter", "default", "meaning"):
        params.add_column(column)
    for key, default, doc in c.params:
        params.add_row(f"--{key.replace('_', '-')}", repr(default), Text(doc or "-"))
    if not c.params:
        params.add_row("(none)", "-", "-")
    console.print(props)
    console.print(params)

    usage = Table.grid(padding=(0, 2))
    usage.add_column(style="bold")
    usage.add_column()
    for key, domain in c.domains:
        usage.add_row(key, Text(domain))
    usage.add_row("use when", Text(c.use_when or "-"))
    usage.add_row("PyTorch", Text(c.torch or "-"))
    usage.add_row("Keras", Text(c.keras or "-"))
    usage.add_row("conventions", Text(c.conventions or "-"))
    console.print(Panel(usage, title="Domains, use and equivalents"))
    if c.references:
        console.print(Panel(Group(*(Text(f"- {r}") for r in c.references)), title="References"))
    example = " ".join(f"--{i.replace('_', '-')} ..." for i in c.inputs)
    example += "".join(f" --{k.replace('_', '-')} {default!r}" for k, default, _ in c.params)
    console.print(Text(f"Worked example: losslab explain {c.name} {example}", style="dim"), soft_wrap=True)


# --------------------------------------------------------------------------- explain

_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_NONE = {"none", "null"}


def parse_value(text: str) -> Any:
    """A command-line value: ``int``, ``float``, ``bool``, ``None``, a list of numbers, or a string.

    >>> parse_value("1.5"), parse_value("2"), parse_value("true"), parse_value("none")
    (1.5, 2, True, None)
    >>> parse_value("0.2,0.8"), parse_value("weston_watkins")
    ([0.2, 0.8], 'weston_watkins')
    """
    t = text.strip()
    low = t.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if low in _NONE:
        return None
    number = _number(t)
    if number is not None:
        return number
    if t.startswith("[") or re.search(r"[,;\s]", t):
        try:
            return parse_array([t]).tolist()
        except CommandLineError:
            return t
    return t


def _number(t: str) -> int | float | None:
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return None


def parse_array(tokens: list[str], name: str = "value") -> np.ndarray:
    """Numbers from the command line: ``0.9,0.2``, ``"0.9 0.2"``, rows split by ``;``, or ``[[...]]``.

    One number gives a 0-d array. Integers stay integers (class indices).

    >>> parse_array(["5"]).shape, parse_array(["0.9,0.2"]).tolist(), parse_array(["1,2;3,4"]).shape
    ((), [0.9, 0.2], (2, 2))
    """
    text = " ".join(tokens).strip()
    if not text:
        raise CommandLineError(f"{name} needs a value, e.g. --{name.replace('_', '-')} 0.9,0.2")
    if text.startswith("["):
        try:
            return np.asarray(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            raise CommandLineError(f"{name}: cannot read {text!r} as a (nested) list of numbers") from None
    rows = []
    for row in text.split(";"):
        items = [s for s in re.split(r"[,\s]+", row.strip()) if s]
        numbers = [_number(s) for s in items]
        bad = [s for s, v in zip(items, numbers) if v is None]
        if bad:
            raise CommandLineError(f"{name}: expected numbers, got {bad[0]!r}")
        rows.append(numbers)
    if len(rows) == 1:
        return np.asarray(rows[0][0] if len(rows[0]) == 1 else rows[0])
    if len({len(r) for r in rows}) != 1:
        raise CommandLineError(f"{name}: rows separated by ';' must have the same length")
    return np.asarray(rows)


def parse_explain_args(loss: ll.losses.Loss, args: list[str]) -> tuple[list[Any], dict[str, Any], Any]:
    """``(inputs, params, sample_weight)`` from ``--INPUT values`` and ``--PARAM value`` options.

    Inputs are the loss's declared inputs (``--y-pred``, ``--y-true``, ...); parameters its
    declared parameters (``--delta 1.5``, ``--from-logits``, ``--no-from-logits``).
    """
    groups: list[tuple[str, list[str], str]] = []
    for token in args:
        if token.startswith("--") and len(token) > 2 and not _is_number(token):
            key, eq, value = token[2:].partition("=")
            groups.append((key.replace("-", "_"), [value] if eq else [], token))
        elif groups:
            groups[-1][1].append(token)
        else:
            raise CommandLineError(f"unexpected argument {token!r}; options look like --y-pred 0.9,0.2")
    inputs: dict[str, Any] = {}
    params: dict[str, Any] = {}
    sample_weight = None
    for key, values, token in groups:
        if key in loss.inputs:
            inputs[key] = parse_array(values, key)
        elif key == "sample_weight":
            sample_weight = parse_array(values, key)
        elif key in loss.params:
            params[key] = True if not values else parse_value(" ".join(values))
        elif key.startswith("no_") and key[3:] in loss.params and not values:
            params[key[3:]] = False
        else:
            raise CommandLineError(
                f"unknown parameter {token.partition('=')[0]} for {loss.name}; valid parameters: "
                f"{_valid_options(loss)}"
            )
    missing = [n for n in loss.inputs if n not in inputs]
    if missing:
        need = ", ".join(f"--{n.replace('_', '-')}" for n in missing)
        raise CommandLineError(f"{loss.name} needs {need} (e.g. --{missing[0].replace('_', '-')} 0.9,0.2)")
    return [inputs[n] for n in loss.inputs], params, sample_weight


def _is_number(token: str) -> bool:
    return _number(token) is not None


def _valid_options(loss: ll.losses.Loss) -> str:
    params = [f"--{k.replace('_', '-')} (default {p.default!r})" for k, p in loss.params.items()]
    return (
        (", ".join(params) or "none")
        + "; inputs: "
        + ", ".join(f"--{n.replace('_', '-')}" for n in (*loss.inputs, "sample_weight"))
    )


@app.command(
    "explain",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def explain(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A loss name or alias (see `losslab list`)."),
    reduction: str | None = typer.Option(
        None, "--reduction", help="mean, sum or none (default: the loss's own, mean for most)."
    ),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown instead of text."),
) -> None:
    """Work a loss out step by step: --y-pred 5 --y-true 3 [--PARAM VALUE ...].

    Arrays: comma or space separated (--y-pred 0.9,0.2), rows split by ';' ("1,2;3,4").

    Parameters: the loss's own (--delta 1.5, --from-logits, --label-smoothing 0.1).

    Values are read as int, float, bool, None, a list or a string.
    """
    loss = _loss(name)
    try:
        inputs, params, sample_weight = parse_explain_args(loss, list(ctx.args))
        ex = ll.explain.explain(loss, *inputs, reduction=reduction, sample_weight=sample_weight, **params)
    except (CommandLineError, ValueError, TypeError) as err:
        _fail(str(err))
    if markdown:
        console.print(Text(ex.to_markdown()), soft_wrap=True)
        return
    out = Text(ex.header + "\n", style="bold")
    for k, step in enumerate(ex.steps, 1):
        out.append(f"\n{k}. {step.title}\n", style="bold cyan")
        if step.latex:
            out.append(f"   formula: {step.latex}\n", style="dim")
        for line in step.text.splitlines():
            out.append(f"   {line}\n")
    console.print(out, soft_wrap=True, end="")
