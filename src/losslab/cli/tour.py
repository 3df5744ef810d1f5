"""The main job and the experiments: ``losslab tour`` and ``losslab experiment list | run``.

Thin shells over :func:`losslab.report.write_tour` and :func:`losslab.experiments.run`.
"""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

import losslab as ll
from losslab.cli._app import app, console

_err = Console(stderr=True)

experiment_app = typer.Typer(
    name="experiment",
    help="The curriculum's experiments: list them, run one.",
    no_args_is_help=True,
)
app.add_typer(experiment_app, name="experiment")

_STYLE = {"holds": "green", "does not hold": "red"}


def _fail(message: str) -> NoReturn:
    _err.print(Text(f"Error: {message}"), soft_wrap=True)
    raise typer.Exit(2)


def _check_out_dir(out: Path) -> None:
    """``--out`` names a directory to create (or reuse) inside one that exists."""
    if out.exists() and not out.is_dir():
        _fail(f"--out must be a directory, got the file {str(out)!r}")
    parent = out.resolve().parent
    if not parent.is_dir():
        _fail(f"--out: the directory {str(parent)!r} does not exist")


def _verdict_text(verdict: str | None) -> Text:
    if verdict is None:
        return Text("error", style="magenta")
    return Text(verdict, style=_STYLE.get(verdict, "yellow"))


def _names(only: str | None) -> list[str] | None:
    if only is None:
        return None
    names = [part.strip() for part in only.split(",") if part.strip()]
    if not names:
        _fail("--only needs at least one experiment name (see `losslab experiment list`)")
    for name in names:
        try:
            ll.experiments.get(name)
        except ValueError as err:
            _fail(str(err))
    return names


@app.command("tour")
def tour(
    out: Path = typer.Option(Path("report"), "--out", help="Directory for index.html and results.json."),  # noqa: B008
    only: str | None = typer.Option(None, "--only", help="Comma-separated experiment names."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes: the whole tour in seconds."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of every experiment."),
    open_page: bool = typer.Option(False, "--open", help="Open the page in a browser when done."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
) -> None:
    """Run the curriculum's experiments and write one self-contained page, OUT/index.html."""
    names = _names(only)
    _check_out_dir(out)
    page = ll.report.write_tour(out, names, seed=seed, quick=quick, progress=not as_json)
    summary = json.loads((out / "results.json").read_text(encoding="utf-8"))
    if as_json:
        typer.echo(json.dumps({"page": str(page), **_brief(summary)}, indent=2))
    else:
        table = Table(title=f"losslab tour ({'quick' if quick else 'full'}, seed {seed})")
        for column in ("experiment", "verdict", "time"):
            table.add_column(column, overflow="fold")
        for e in summary["experiments"]:
            table.add_row(e["name"], _verdict_text(e["verdict"]), f"{e['elapsed_s']:.2f} s")
        console.print(table)
        console.print(Text(f"Wrote {page} ({summary['elapsed_s']:.1f} s)"))
    if open_page:
        webbrowser.open(page.resolve().as_uri())


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "verdict", "verdict_reason", "elapsed_s", "error")
    return {
        "seed": summary["seed"],
        "quick": summary["quick"],
        "elapsed_s": summary["elapsed_s"],
        "counts": summary["counts"],
        "experiments": [{k: e[k] for k in keep if k in e} for e in summary["experiments"]],
    }


@experiment_app.command("list")
def list_experiments(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The registered experiments, in tour order, with the claim each one tests."""
    rows = []
    for name in ll.experiments.names():
        exp = ll.experiments.get(name)
        rows.append({"name": name, "title": exp.title, "source": exp.claim.citation})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"losslab experiments ({len(rows)})")
    table.add_column("name", no_wrap=True)
    table.add_column("claim (seed, section)", overflow="fold")
    table.add_column("title", overflow="fold")
    for row in rows:
        table.add_row(row["name"], row["source"], row["title"])
    console.print(table)


@experiment_app.command("run")
def run_experiment(
    name: str = typer.Argument(..., help="An experiment name (see `losslab experiment list`)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes."),
    out: Path | None = typer.Option(None, "--out", help="Also write OUT/index.html for this experiment."),  # noqa: B008
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run one experiment: its claim, verdict, the numbers that decided it, and its tables."""
    try:
        exp = ll.experiments.get(name)
    except ValueError as err:
        _fail(str(err))
    if out is not None:
        _check_out_dir(out)
        ll.report.write_tour(out, [exp.name], seed=seed, quick=quick)
        data = json.loads((out / "results.json").read_text(encoding="utf-8"))["experiments"][0]
        if data.get("error"):
            _fail(f"{exp.name} failed:\n{data['error']}")
    else:
        data = exp.run(seed=seed, quick=quick).to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(Text(data["title"], style="bold"))
    console.print(Text(f"“{data['claim']['quote']}” — seed {exp.claim.citation}", style="italic"))
    console.print(Text.assemble("verdict: ", _verdict_text(data["verdict"])))
    for line in data["verdict_reason"].split("; "):
        console.print(Text(f"  {line}"))
    for t in data["tables"]:
        table = Table(title=t["title"])
        for column in t["columns"]:
            table.add_column(column, overflow="fold")
        for row in t["rows"]:
            table.add_row(*(_cell(c) for c in row))
        console.print(table)
    if out is not None:
        console.print(Text(f"Wrote {out / 'index.html'}"))


def _cell(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)
