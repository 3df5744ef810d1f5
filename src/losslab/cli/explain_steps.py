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
from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

import losslab as ll
from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, step
from losslab.cli._parse import complete_from, parse_array, parse_params, parse_value

if TYPE_CHECKING:
    import numpy as np

__all__ = ["build_model", "explanation_data", "parse_grad", "parse_options"]

_MODELS = ("mlp", "linear", "logistic", "softmax")


def build_model(spec: str, activation: str, output_activation: str | None, loss: str) -> ll.models.Model:
    """A model from ``mlp:2,2,1``, ``linear:3``, ``logistic:2`` or ``softmax:3,4`` (inputs, classes).

    An MLP's output activation defaults to the one its loss expects: ``sigmoid`` for the binary
    losses with probabilities (BCE, focal), ``softmax`` for the categorical ones, else identity.
    """
    kind, _, sizes_text = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in _MODELS or not sizes_text:
        raise UsageError(f"--model must be one of {', '.join(m + ':SIZES' for m in _MODELS)}, got {spec!r}")
    try:
        sizes = [int(s) for s in sizes_text.split(",")]
    except ValueError:
        raise UsageError(f"--model: sizes must be integers, got {sizes_text!r}") from None
    if kind == "mlp":
        if output_activation is None:
            task = ll.losses.get(loss).info.task
            output_activation = {"binary": "sigmoid", "multiclass": "softmax"}.get(task)
            if "hinge" in loss:
                output_activation = None
        return ll.models.MLP(sizes, activation=activation, output_activation=output_activation)
    if output_activation is not None:
        raise UsageError(f"--output-activation applies to mlp models; {kind} has its own")
    expected = 2 if kind == "softmax" else 1
    if len(sizes) != expected:
        raise UsageError(f"--model {kind} takes {expected} size(s), got {sizes_text!r}")
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
            raise UsageError(f"unexpected argument {token!r}; options look like --lr 0.1")
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


# ``--grad C*w``: the gradient of C/2 ||w||^2
_C_TIMES_W = re.compile(r"\s*([-+]?[0-9.eE+-]+)\s*\*\s*w\s*")


def parse_grad(text: str) -> np.ndarray | Any:
    """``--grad``: numbers (the same gradient at every step) or ``C*w`` (the gradient of ``C/2 w^2``,
    evaluated at each step's parameters: ``2*w`` is the curriculum's :math:`L(W) = W^2`)."""
    match = _C_TIMES_W.fullmatch(text)
    if match:
        try:
            c = float(match.group(1))
        except ValueError:
            raise UsageError(f"--grad: cannot read {text!r}") from None
        import numpy as np

        return lambda w: c * np.asarray(w)
    return parse_array([text], "grad")


def curvature_args(text: str, gradient: Any) -> dict[str, Any]:
    r"""What second-order optimizers ask for besides the gradient, from the loss ``--grad`` implies:
    for ``C*w`` (:math:`L = C/2\,\lVert w\rVert^2`) the Hessian :math:`C I` and the value; for a
    constant gradient :math:`g` (:math:`L = g \cdot w`) the zero Hessian and :math:`g \cdot w`."""
    import numpy as np

    if callable(gradient):
        match = _C_TIMES_W.fullmatch(text)
        c = float(match.group(1)) if match else 0.0
        return {
            "hessian": lambda w: c * np.eye(np.size(w)),
            "value": lambda w: 0.5 * c * float(np.sum(np.square(w))),
        }
    g = np.asarray(gradient, dtype=np.float64)
    return {
        "hessian": lambda w: np.zeros((np.size(w), np.size(w))),
        "value": lambda w: float(np.sum(g * np.asarray(w))),
    }


def explanation_data(ex: ll.explain.Explanation) -> dict[str, Any]:
    """An explanation as data: header, steps (title, text, formula) and results (NumPy values kept;
    :func:`losslab.cli._app.jsonable` turns them into JSON types)."""
    out: dict[str, Any] = {
        "header": ex.header,
        "steps": [{"title": s.title, "text": s.text, "formula": s.latex} for s in ex.steps],
    }
    if isinstance(ex, ll.explain.BackpropExplanation):
        out.update(
            loss=ex.loss,
            value=float(ex.value),
            grads=ex.grad,
            new_params=ex.new_params,
            deltas=ex.deltas,
        )
    elif isinstance(ex, ll.explain.OptimizerExplanation):
        out.update(
            optimizer=ex.optimizer,
            hyperparams={k: v for k, v in ex.params.items() if not callable(v)},
            trajectory=ex.trajectory,
            grads=ex.grads,
            updates=ex.updates,
        )
    return out


def _print(ex: ll.explain.Explanation, markdown: bool, as_json: bool) -> None:
    if as_json:
        emit_json(explanation_data(ex))
        return
    if markdown:
        console.print(Text(ex.to_markdown()), soft_wrap=True)
        return
    out = Text(ex.header + "\n", style="bold")
    for k, worked in enumerate(ex.steps, 1):
        out.append(f"\n{k}. {worked.title}\n", style="bold cyan")
        if worked.latex:
            out.append(f"   formula: {worked.latex}\n", style="dim")
        for line in worked.text.splitlines():
            out.append(f"   {line}\n")
    console.print(out, soft_wrap=True, end="")


def _read_params(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--params-json: no such file: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"--params-json: cannot read {str(path)!r} as JSON ({err})") from None
    if not isinstance(data, dict):
        raise UsageError('--params-json: expected an object {"W1": [[...]], "b1": [...], ...}')
    import numpy as np

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
    as_json: JsonOption = False,
) -> None:
    """Backprop through a model by hand: forward values, loss, deltas, every gradient, the update.

    `explain NAME` works out a loss, `backprop` a model, `explain-step NAME` an optimizer.

    Example (the 2-2-1 network of the curriculum, with its weights in a JSON file):
    losslab backprop --model mlp:2,2,1 --x 1,0 --y 1 --params-json net.json --lr 0.1
    """
    m = build_model(model, activation, output_activation, loss)
    params = _read_params(params_json) if params_json is not None else m.init(seed)
    X = parse_array([x], "x")
    X = X.reshape(1, -1) if X.ndim <= 1 and m.n_in > 1 or X.ndim == 0 else X
    Y = parse_array([y], "y")
    Y = Y.reshape(1) if Y.ndim == 0 else Y
    loss_params = parse_params(loss_param, "--loss-param")
    with step("working out the backward pass"):
        ex = ll.explain.backprop(m, params, X, Y, loss=loss, lr=lr, **loss_params)
    _print(ex, markdown, as_json)


@app.command(
    "explain-step",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def explain_step(
    ctx: typer.Context,
    optimizer: str = typer.Argument(
        ...,
        help="A registered optimizer, e.g. gd or adam (ll.optim.names()).",
        autocompletion=complete_from(lambda: ll.optim.names()),
    ),
    params: str = typer.Option(..., "--params", help="Starting parameters: 4 or 1.5,-0.5."),
    grad: str = typer.Option(..., "--grad", help="The gradient (numbers), or C*w: the gradient of C/2 w^2."),
    steps: int = typer.Option(1, "--steps", help="Number of steps."),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown instead of text."),
    as_json: JsonOption = False,
) -> None:
    """Work optimizer steps out by hand, with the optimizer's state: --lr 0.1 [--OPT-PARAM VALUE ...].

    `explain NAME` works out a loss, `backprop` a model, `explain-step NAME` an optimizer.

    Hyperparameters are the optimizer's own (--lr 0.3, --momentum 0.9, --betas 0.9,0.999, --nesterov).

    Example (the curriculum's W^2 descent): losslab explain-step gd --params 4 --grad 2*w --lr 0.3 --steps 4
    """
    hyperparams = parse_options(list(ctx.args))
    start, gradient = parse_array([params], "params"), parse_grad(grad)
    with step("working out the optimizer steps"):
        extra = curvature_args(grad, gradient)
        ex = ll.explain.optimizer_step(optimizer, start, gradient, steps, extra_args=extra, **hyperparams)
    _print(ex, markdown, as_json)
