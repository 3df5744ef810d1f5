"""The ``hessian`` command: curvature of a trained model's loss (extreme eigenvalues, trace)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

import losslab as ll
from losslab.cli._app import JsonOption, app, console, emit_json
from losslab.cli._parse import complete_from, dataset_info
from losslab.cli.optim import _split

if TYPE_CHECKING:
    import numpy as np


def _model_spec(spec: str, X: np.ndarray, y: np.ndarray, task: str, activation: str, skip: bool) -> Any:
    """``linear``, ``logistic``, ``softmax``, ``mlp`` (hidden 16,16), ``mlp:16,8`` (hidden widths) or
    ``mlp:2,16,1`` (all widths: the first and last must fit the data)."""
    kind, _, widths_text = spec.partition(":")
    kind = kind.strip().lower()
    hidden: list[int] = [16, 16]
    if widths_text:
        if kind != "mlp":
            raise ValueError(f"--model: only mlp takes widths (mlp:16,16), got {spec!r}")
        try:
            widths = [int(w) for w in _split(widths_text)]
        except ValueError:
            raise ValueError(f"--model: widths must be integers, got {spec!r}") from None
        if not widths:
            raise ValueError(f"--model: name at least one width after 'mlp:', got {spec!r}")
        full = ll.train.make_model("mlp", X, y, task=task, hidden=[1], activation=activation)  # type: ignore[arg-type]
        n_in, n_out = full.layer_sizes[0], full.layer_sizes[-1]
        if len(widths) >= 3 and widths[0] == n_in:
            if widths[-1] != n_out:
                raise ValueError(
                    f"--model: the last width must be the data's {n_out} output(s), got {spec!r}"
                )
            widths = widths[1:-1]
        hidden = widths
    return ll.train.make_model(kind, X, y, task=task, hidden=hidden, activation=activation, skip=skip)  # type: ignore[arg-type]


def hessian_report(
    objective: Any,
    params: Any,
    *,
    top: int,
    n_probes: int,
    seed: int,
) -> dict[str, Any]:
    """What ``losslab hessian`` prints: loss, gradient norm, extreme eigenvalues, the trace and the
    critical-point kind (:func:`losslab.landscape.classify_critical_point`: by the Hessian's
    spectrum, with ``is_critical`` saying whether the gradient is zero on the Hessian's scale)."""
    value, grads = objective.value_and_grad(params)
    n = objective.n_params
    k = min(top, n)
    largest, _ = ll.landscape.hessian_eigs(objective, params, k=k, which="largest", seed=seed)
    smallest, _ = ll.landscape.hessian_eigs(objective, params, k=k, which="smallest", seed=seed)
    trace, stderr = ll.landscape.hessian_trace(
        objective, params, n_probes=n_probes, seed=seed, return_stderr=True
    )
    report: dict[str, Any] = {
        "n_params": n,
        "loss": float(value),
        "grad_norm": ll._core.tree.tree_norm(grads),
        "largest": [float(v) for v in largest],
        "smallest": [float(v) for v in smallest],
        "trace": float(trace),
        "trace_stderr": None if not math.isfinite(stderr) else float(stderr),
        "trace_probes": n_probes,
    }
    if n <= 512:
        import numpy as np

        report["trace_exact"] = float(np.trace(ll.landscape.hessian_matrix(objective, params)))
    cp = ll.landscape.classify_critical_point(objective, params, k=max(k, 1))
    report["critical"] = {
        "kind": cp.kind,
        "index": cp.index,
        "is_critical": bool(cp.is_critical),
        "grad_tol": float(cp.grad_tol),
        "eigenvalue_tol": float(cp.eigenvalue_tol),
    }
    return report


@app.command("hessian")
def hessian(
    data: str = typer.Option(
        "linear",
        "--data",
        help="A dataset, e.g. linear or moons (ll.data.names()).",
        autocompletion=complete_from(lambda: ll.data.names()),
    ),
    model: str = typer.Option(
        "linear",
        "--model",
        help="linear, logistic, softmax, mlp, mlp:16,16 (hidden) or mlp:2,16,1 (all widths).",
    ),
    loss: str | None = typer.Option(None, "--loss", help="Loss name (default: the task's usual loss)."),
    top: int = typer.Option(5, "--top", min=1, help="How many eigenvalues at each end of the spectrum."),
    epochs: int = typer.Option(200, "--epochs", min=0, help="Training epochs before measuring (0: at init)."),
    optimizer: str = typer.Option(
        "adam",
        "--optimizer",
        help="An optimizer, e.g. adam or sgd (ll.optim.names()).",
        autocompletion=complete_from(lambda: ll.optim.names()),
    ),
    lr: float = typer.Option(0.05, "--lr", help="Learning rate of the training."),
    activation: str = typer.Option("tanh", "--activation", help="Hidden activation of the MLP."),
    skip: bool = typer.Option(False, "--skip/--no-skip", help="Residual skips between equal-width layers."),
    probes: int = typer.Option(100, "--probes", min=1, help="Rademacher probes of the trace estimate."),
    seed: int = typer.Option(0, "--seed"),
    as_json: JsonOption = False,
) -> None:
    """Train a model, then print its loss Hessian's extreme eigenvalues (Lanczos), trace (Hutchinson) and critical-point kind."""
    info = dataset_info(data)
    X, y = info.make()
    try:
        net = _model_spec(model, X, y, info.task, activation, skip)
        loss_name = loss or ll.train.default_loss(info.task)  # type: ignore[arg-type]
        ll.losses.get(loss_name).require_hvp()
        opt = ll.optim.get(optimizer, lr=lr)
    except (TypeError, ValueError, NotImplementedError) as err:
        raise typer.BadParameter(str(err)) from None
    history = ll.train.fit(net, X, y, loss=loss_name, optimizer=opt, epochs=epochs, seed=seed, progress=False)
    objective = net.objective(X, y, loss=loss_name)
    report = {
        "data": info.name,
        "model": repr(net),
        "loss_name": loss_name,
        "epochs": history.n_epochs,
        **hessian_report(objective, history.params, top=top, n_probes=probes, seed=seed),
    }
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"Hessian of {loss_name} for {net!r} on {info.name}, after {history.n_epochs} epochs")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("parameters", str(report["n_params"]))
    table.add_row("loss", f"{report['loss']:.6g}")
    table.add_row("gradient norm", f"{report['grad_norm']:.3g}")
    table.add_row(f"largest {len(report['largest'])}", ", ".join(f"{v:.6g}" for v in report["largest"]))
    table.add_row(f"smallest {len(report['smallest'])}", ", ".join(f"{v:.6g}" for v in report["smallest"]))
    stderr = report["trace_stderr"]
    table.add_row(
        f"trace (Hutchinson, {probes} probes)",
        f"{report['trace']:.6g}" + ("" if stderr is None else f" ± {stderr:.2g}"),
    )
    if "trace_exact" in report:
        table.add_row("trace (dense Hessian)", f"{report['trace_exact']:.6g}")
    cp = report["critical"]
    index = "?" if cp["index"] is None else str(cp["index"])
    note = "" if cp["is_critical"] else f" (not critical: gradient norm > {cp['grad_tol']:.2g})"
    table.add_row("critical-point kind", f"{cp['kind']}, index {index}{note}")
    console.print(table)
