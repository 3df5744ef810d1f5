"""Commands about the loss zoo: ``list``, ``show``, ``explain``.

Thin shells over :mod:`losslab.losses` and :mod:`losslab.explain`: ``list`` reads the registry,
``show`` prints :func:`losslab.explain.card`, ``explain`` prints :func:`losslab.explain.explain`.
Loss parameters and inputs of ``explain`` are read from the loss's declaration, so every
registered loss works from the command line with no change here.
"""

from __future__ import annotations

import difflib
from typing import Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

import losslab as ll
from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, escape
from losslab.cli._parse import is_number, parse_array, parse_value

__all__ = ["parse_array", "parse_explain_args", "parse_value"]

#: The error of a bad command line (kept under its first name).
CommandLineError = UsageError


def complete_loss(incomplete: str) -> list[str]:
    """Shell completion of loss names and aliases."""
    from losslab.losses._spec import _ALIASES

    return [n for n in sorted([*ll.losses.names(), *_ALIASES]) if n.startswith(incomplete)]


def _loss(name: str) -> ll.losses.Loss:
    try:
        return ll.losses.get(name)
    except (ValueError, TypeError) as err:
        raise UsageError(str(err)) from None


# --------------------------------------------------------------------------- list


@app.command("list")
def list_losses(
    task: str | None = typer.Option(None, "--task", help="Only losses of this task."),
    as_json: JsonOption = False,
) -> None:
    """Table of the registered losses: name, task, convex, robust, PyTorch equivalent."""
    names = ll.losses.names(task)
    infos = [ll.losses.get(name).info for name in names]
    if as_json:
        emit_json(
            [
                {
                    "name": i.name,
                    "task": i.task,
                    "convex": i.convex,
                    "robust": i.robust,
                    "torch": i.torch,
                    "keras": i.keras,
                    "formula": i.formula,
                    "aliases": list(i.aliases),
                    "defaults": dict(i.defaults),
                }
                for i in infos
            ]
        )
        return
    table = Table(title="losslab losses" + (f" ({task})" if task else ""))
    table.add_column("name", no_wrap=True)
    for column in ("task", "convex", "robust"):
        table.add_column(column, no_wrap=True)
    table.add_column("PyTorch", overflow="fold")
    for info in infos:
        table.add_row(info.name, info.task, _yes(info.convex), _yes(info.robust), info.torch or "-")
    console.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# --------------------------------------------------------------------------- show


def complete_shown(incomplete: str) -> list[str]:
    """Shell completion of what ``show`` knows: losses, aliases, optimizers and schedules."""
    return sorted(
        {*complete_loss(incomplete), *(n for n in ll.optim.cards.names() if n.startswith(incomplete))}
    )


@app.command("show")
def show(
    name: str = typer.Argument(
        ..., help="A loss (or alias), optimizer or schedule name.", autocompletion=complete_shown
    ),
    as_json: JsonOption = False,
) -> None:
    """The card of a loss, an optimizer or a schedule: formula, defaults, equivalents, references."""
    try:
        loss = ll.losses.get(name)
    except ValueError:
        try:
            optimizer_card = ll.optim.cards.card(name)
        except ValueError:
            known = [*complete_loss(""), *ll.optim.cards.names()]
            close = difflib.get_close_matches(name.strip().lower().replace("-", "_"), known, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UsageError(
                f"show: unknown loss, optimizer or schedule {name!r}.{hint} Losses: see `losslab list`; "
                f"optimizers and schedules: {', '.join(ll.optim.cards.names())}"
            ) from None
        _show_optimizer(optimizer_card, as_json)
        return
    _show_loss(loss, as_json)


def _show_optimizer(c: Any, as_json: bool) -> None:
    if as_json:
        emit_json(c)
        return
    console.print(Panel(Text(c.summary), title=f"[bold]{escape(c.name)}[/bold] ({c.kind})", expand=True))
    console.print(Panel(Text(c.formula or "-"), title="Formula (LaTeX)"))
    table = Table(title="Hyperparameters")
    for column in ("hyperparameter", "default", "meaning"):
        table.add_column(column)
    for key, default, meaning in c.hyperparameters:
        table.add_row(key, default if isinstance(default, str) else repr(default), meaning)
    console.print(table)
    usage = Table.grid(padding=(0, 2))
    usage.add_column(style="bold")
    usage.add_column()
    for label, value in (("PyTorch", c.torch), ("Optax", c.optax), ("Keras", c.keras)):
        usage.add_row(label, Text(value))
    usage.add_row("conventions", Text(c.conventions or "-"))
    console.print(Panel(usage, title="Equivalents and conventions"))


def _show_loss(loss: ll.losses.Loss, as_json: bool) -> None:
    c = ll.explain.card(loss)
    if as_json:
        emit_json(c)
        return
    head = Text(c.summary or c.name)
    head.append(f"\ntask: {c.task} ({c.kind.replace('_', '-')}); inputs: {', '.join(c.inputs)}; ")
    head.append(f"gradient with respect to: {', '.join(c.differentiable_inputs)}")
    if c.aliases:
        head.append(f"\naliases: {', '.join(c.aliases)}")
    console.print(Panel(head, title=f"[bold]{escape(c.name)}[/bold]", expand=True))

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


def parse_explain_args(loss: ll.losses.Loss, args: list[str]) -> tuple[list[Any], dict[str, Any], Any]:
    """``(inputs, params, sample_weight)`` from ``--INPUT values`` and ``--PARAM value`` options.

    Inputs are the loss's declared inputs (``--y-pred``, ``--y-true``, ...); parameters its
    declared parameters (``--delta 1.5``, ``--from-logits``, ``--no-from-logits``).
    """
    groups: list[tuple[str, list[str], str]] = []
    for token in args:
        if token.startswith("--") and len(token) > 2 and not is_number(token):
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


def _valid_options(loss: ll.losses.Loss) -> str:
    params = [f"--{k.replace('_', '-')} (default {p.default!r})" for k, p in loss.params.items()]
    return (
        (", ".join(params) or "none")
        + "; inputs: "
        + ", ".join(f"--{n.replace('_', '-')}" for n in (*loss.inputs, "sample_weight"))
    )


def loss_options_help(loss: ll.losses.Loss) -> str:
    """The options ``losslab explain NAME`` takes for ``loss``, from its declaration.

    >>> print(loss_options_help(ll.losses.huber))  # doctest: +NORMALIZE_WHITESPACE
    Options of huber (from its declaration):
      --y-pred VALUES         finite real numbers (required)
      --y-true VALUES         finite real numbers (required)
      --sample-weight VALUES  per-entry weights of the unreduced loss
      --delta VALUE           threshold between the quadratic and linear parts (default: 1.0)
    """
    rows = [
        (f"--{n.replace('_', '-')} VALUES", f"{getattr(loss.info, n, '') or 'an array'} (required)")
        for n in loss.inputs
    ]
    rows.append(("--sample-weight VALUES", "per-entry weights of the unreduced loss"))
    for key, p in loss.params.items():
        flag = f"--{key.replace('_', '-')}"
        if isinstance(p.default, bool):
            flag += f"/--no-{key.replace('_', '-')}"
        else:
            flag += " VALUE"
        rows.append((flag, f"{p.doc or key} (default: {p.default!r})"))
    width = max(20, *(len(f) + 2 for f, _ in rows if len(f) < 24))
    lines = [f"Options of {loss.name} (from its declaration):"]
    lines += [f"  {f.ljust(width)}{d}" if len(f) < width else f"  {f}  {d}" for f, d in rows]
    return "\n".join(lines)


@app.command(
    "explain",
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],
    },
)
def explain(
    ctx: typer.Context,
    name: str | None = typer.Argument(
        None, help="A loss name or alias (see `losslab list`).", autocompletion=complete_loss
    ),
    reduction: str | None = typer.Option(
        None, "--reduction", help="mean, sum or none (default: the loss's own, mean for most)."
    ),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown instead of text."),
    as_json: JsonOption = False,
    show_help: bool = typer.Option(
        False, "--help", "-h", help="Show this message (with NAME: also the loss's own options) and exit."
    ),
) -> None:
    """Work a loss out step by step: --y-pred 5 --y-true 3 [--PARAM VALUE ...].

    Arrays: comma or space separated (--y-pred 0.9,0.2), rows split by ';' ("1,2;3,4").

    Parameters: the loss's own (--delta 1.5, --from-logits, --label-smoothing 0.1);
    `losslab explain NAME --help` lists them.

    Values are read as int, float, bool, None, a list or a string.
    """
    if show_help:
        text = ctx.get_help()
        if name is not None:
            text += "\n\n" + loss_options_help(_loss(name))
        console.print(text, highlight=False, soft_wrap=True)
        raise typer.Exit()
    if name is None:
        raise UsageError("explain needs a loss NAME, e.g. losslab explain huber --y-pred 5 --y-true 3")
    loss = _loss(name)
    inputs, params, sample_weight = parse_explain_args(loss, list(ctx.args))
    ex = ll.explain.explain(loss, *inputs, reduction=reduction, sample_weight=sample_weight, **params)
    if as_json:
        emit_json(
            {
                "loss": ex.loss,
                "params": ex.params,
                "reduction": ex.reduction,
                "inputs": ex.inputs,
                "value": ex.value,
                "grad": ex.grad,
                "steps": [{"title": s.title, "latex": s.latex, "text": s.text} for s in ex.steps],
            }
        )
        return
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
