"""Worked steps beyond one loss: ``backprop`` (a model) and ``explain-step`` (an optimizer).

The three worked-computation commands each explain one kind of object, so each takes that
object's own options: ``explain NAME`` a loss (inputs and loss parameters), ``backprop`` a model
(architecture, parameters, a sample and its loss), ``explain-step NAME`` an optimizer (parameters,
gradient, hyperparameters). Thin shells over :func:`losslab.explain.backprop` and
:func:`losslab.explain.optimizer_step`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.text import Text

import losslab as ll
from losslab.cli._app import app, console
from losslab.cli.losses import CommandLineError, parse_array, parse_value

__all__ = ["build_model", "explanation_data", "parse_grad", "parse_options"]

_err = Console(stderr=True)

_MODELS = ("mlp", "linear", "logistic", "softmax")


def _fail(message: str) -> NoReturn:
    _err.print(Text(f"Error: {message}"), soft_wrap=True)
    raise typer.Exit(2)


def build_model(spec: str, activation: str, output_activation: str | None, loss: str) -> ll.models.Model:
    """A model from ``mlp:2,2,1``, ``linear:3``, ``logistic:2`` or ``softmax:3,4`` (inputs, classes).

    An MLP's output activation defaults to the one its loss expects: ``sigmoid`` for the binary
    losses with probabilities (BCE, focal), ``softmax`` for the categorical ones, else identity.
    """
    kind, _, sizes_text = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in _MODELS or not sizes_text:
        raise CommandLineError(
            f"--model must be one of {', '.join(m + ':SIZES' for m in _MODELS)}, got {spec!r}"
        )
    try:
        sizes = [int(s) for s in sizes_text.split(",")]
    except ValueError:
        raise CommandLineError(f"--model: sizes must be integers, got {sizes_text!r}") from None
    if kind == "mlp":
        if output_activation is None:
            task = ll.losses.get(loss).info.task
            output_activation = {"binary": "sigmoid", "multiclass": "softmax"}.get(task)
            if "hinge" in loss:
                output_activation = None
        return ll.models.MLP(sizes, activation=activation, output_activation=output_activation)
    if output_activation is not None:
        raise CommandLineError(f"--output-activation applies to mlp models; {kind} has its own")
    expected = 2 if kind == "softmax" else 1
    if len(sizes) != expected:
        raise CommandLineError(f"--model {kind} takes {expected} size(s), got {sizes_text!r}")
    if kind == "linear":
        return ll.models.Linear(sizes[0])
    if kind == "logistic":
        return ll.models.Logistic(sizes[0])
    return ll.models.Softmax(sizes[0], sizes[1])


def parse_options(tokens: list[str]) -> dict[str, Any]:
    """``--name value`` / ``--flag`` / ``--no-flag`` pairs as a dict (names with ``_``)."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or len(token) == 2:
            raise CommandLineError(f"unexpected argument {token!r}; options look like --lr 0.1")
        key, eq, value = token[2:].partition("=")
        key = key.replace("-", "_")
        if eq:
            out[key] = parse_value(value)
            i += 1
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            out[key] = parse_value(tokens[i + 1])
            i += 2
        elif key.startswith("no_"):
            out[key[3:]] = False
            i += 1
        else:
            out[key] = True
            i += 1
    return out


def parse_grad(text: str) -> np.ndarray | Any:
    """``--grad``: numbers (the same gradient at every step) or ``C*w`` (the gradient of ``C/2 w^2``,
    evaluated at each step's parameters: ``2*w`` is the curriculum's :math:`L(W) = W^2`)."""
    match = re.fullmatch(r"\s*([-+]?[0-9.eE+-]+)\s*\*\s*w\s*", text)
    if match:
        try:
            c = float(match.group(1))
        except ValueError:
            raise CommandLineError(f"--grad: cannot read {text!r}") from None
        return lambda w: c * np.asarray(w)
    return parse_array([text], "grad")


def explanation_data(ex: ll.explain.Explanation) -> dict[str, Any]:
    """An explanation as JSON-ready data: header, steps (title, text, formula) and results."""
    out: dict[str, Any] = {
        "header": ex.header,
        "steps": [{"title": s.title, "text": s.text, "formula": s.latex} for s in ex.steps],
    }
    if isinstance(ex, ll.explain.BackpropExplanation):
        out.update(
            loss=ex.loss,
            value=float(ex.value),
            grads=_plain(ex.grad),
            new_params=_plain(ex.new_params),
            deltas=_plain(ex.deltas),
        )
    elif isinstance(ex, ll.explain.OptimizerExplanation):
        out.update(
            optimizer=ex.optimizer,
            hyperparams=_plain({k: v for k, v in ex.params.items() if not callable(v)}),
            trajectory=_plain(ex.trajectory),
            grads=_plain(ex.grads),
            updates=_plain(ex.updates),
        )
    return out


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x).tolist()
    return x


def _print(ex: ll.explain.Explanation, markdown: bool, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(explanation_data(ex)))
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


def _read_params(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CommandLineError(f"--params-json: no such file: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CommandLineError(f"--params-json: cannot read {str(path)!r} as JSON ({err})") from None
    if not isinstance(data, dict):
        raise CommandLineError('--params-json: expected an object {"W1": [[...]], "b1": [...], ...}')
    return {k: np.asarray(v, dtype=np.float64) for k, v in data.items()}


@app.command("backprop")
def backprop(
    model: str = typer.Option(..., "--model", help="mlp:2,2,1 | linear:N | logistic:N | softmax:N,K"),
    x: str = typer.Option(..., "--x", help="One sample (1,0) or a small batch, rows split by ';'."),
    y: str = typer.Option(..., "--y", help="Targets: one per sample (rows split by ';')."),
    loss: str = typer.Option("binary_cross_entropy", "--loss", help="A registered loss name."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate of the gradient-descent update."),
    activation: str = typer.Option("sigmoid", "--activation", help="Hidden activation of an mlp."),
    output_activation: str | None = typer.Option(
        None, "--output-activation", help="Output activation of an mlp (default: what the loss expects)."
    ),
    params_json: Path | None = typer.Option(  # noqa: B008
        None, "--params-json", help='Parameters as JSON {"W1": [[...]], "b1": [...], ...}.'
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the initial parameters when no --params-json."),
    loss_param: list[str] = typer.Option(  # noqa: B008
        [], "--loss-param", help="A loss parameter NAME=VALUE (repeatable), e.g. delta=1.5."
    ),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown instead of text."),
    as_json: bool = typer.Option(False, "--json", help="Print the steps and numbers as JSON."),
) -> None:
    """Backprop through a model by hand: forward values, loss, deltas, every gradient, the update.

    `explain NAME` works out a loss, `backprop` a model, `explain-step NAME` an optimizer.

    Example (the 2-2-1 network of the curriculum, with its weights in a JSON file):
    losslab backprop --model mlp:2,2,1 --x 1,0 --y 1 --params-json net.json --lr 0.1
    """
    try:
        m = build_model(model, activation, output_activation, loss)
        params = _read_params(params_json) if params_json is not None else m.init(seed)
        X = parse_array([x], "x")
        X = X.reshape(1, -1) if X.ndim <= 1 and m.n_in > 1 or X.ndim == 0 else X
        Y = parse_array([y], "y")
        Y = Y.reshape(1) if Y.ndim == 0 else Y
        loss_params = {}
        for item in loss_param:
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise CommandLineError(f"--loss-param expects NAME=VALUE, got {item!r}")
            loss_params[key.strip().replace("-", "_")] = parse_value(value)
        ex = ll.explain.backprop(m, params, X, Y, loss=loss, lr=lr, **loss_params)
    except (CommandLineError, ValueError, TypeError) as err:
        _fail(str(err))
    _print(ex, markdown, as_json)


@app.command(
    "explain-step",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def explain_step(
    ctx: typer.Context,
    optimizer: str = typer.Argument(..., help="A registered optimizer: " + ", ".join(ll.optim.names())),
    params: str = typer.Option(..., "--params", help="Starting parameters: 4 or 1.5,-0.5."),
    grad: str = typer.Option(..., "--grad", help="The gradient (numbers), or C*w: the gradient of C/2 w^2."),
    steps: int = typer.Option(1, "--steps", help="Number of steps."),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown instead of text."),
    as_json: bool = typer.Option(False, "--json", help="Print the steps and numbers as JSON."),
) -> None:
    """Work optimizer steps out by hand, with the optimizer's state: --lr 0.1 [--OPT-PARAM VALUE ...].

    `explain NAME` works out a loss, `backprop` a model, `explain-step NAME` an optimizer.

    Hyperparameters are the optimizer's own (--lr 0.3, --momentum 0.9, --betas 0.9,0.999, --nesterov).

    Example (the curriculum's W^2 descent): losslab explain-step gd --params 4 --grad 2*w --lr 0.3 --steps 4
    """
    try:
        hyperparams = parse_options(list(ctx.args))
        ex = ll.explain.optimizer_step(
            optimizer, parse_array([params], "params"), parse_grad(grad), steps, **hyperparams
        )
    except (CommandLineError, ValueError, TypeError) as err:
        _fail(str(err))
    _print(ex, markdown, as_json)
