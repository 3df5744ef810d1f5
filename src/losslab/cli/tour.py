"""The main job and the experiments: ``losslab tour`` and ``losslab experiment list | run``.

Thin shells over :func:`losslab.report.write_tour` and :func:`losslab.experiments.run`, in the
command line's one error style (:mod:`losslab.cli._app`): a bad name or ``--out`` is one
``Error: ...`` line and exit code 2, before anything is written; ``--json`` prints plain JSON.
"""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

import losslab as ll
from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, step

experiment_app = typer.Typer(
    name="experiment",
    help="The curriculum's experiments: list them, run one.",
    no_args_is_help=True,
)
app.add_typer(experiment_app, name="experiment")

_STYLE = {"holds": "green", "does not hold": "red"}


def _check_out_dir(out: Path) -> None:
    """``--out`` names a directory to create (or reuse) inside one that exists."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a directory, got the file {str(out)!r}")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"--out: the directory {str(parent)!r} does not exist")


def _verdict_text(verdict: str | None) -> Text:
    if verdict is None:
        return Text("error", style="magenta")
    return Text(verdict, style=_STYLE.get(verdict, "yellow"))


def _names(only: str | None) -> list[str] | None:
    if only is None:
        return None
    names = [part.strip() for part in only.split(",") if part.strip()]
    if not names:
        raise UsageError("--only needs at least one experiment name (see `losslab experiment list`)")
    for name in names:
        ll.experiments.get(name)  # an unknown name: ValueError naming it and the close matches
    return names


@app.command("tour")
def tour(
    out: Path = typer.Option(Path("report"), "--out", help="Directory for index.html and results.json."),  # noqa: B008
    only: str | None = typer.Option(None, "--only", help="Comma-separated experiment names."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes: the whole tour in seconds."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of every experiment."),
    open_page: bool = typer.Option(False, "--open", help="Open the page in a browser when done."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Experiments run at once, each in its own process (default: one per core).",
    ),
    as_json: JsonOption = False,
) -> None:
    """Run the curriculum's experiments and write one self-contained page, OUT/index.html."""
    names = _names(only)
    _check_out_dir(out)
    with step(f"writing the tour to {out}"):
        page = ll.report.write_tour(out, names, seed=seed, quick=quick, progress=not as_json, workers=workers)
        summary = json.loads((out / "results.json").read_text(encoding="utf-8"))
    if as_json:
        emit_json({"page": str(page), **_brief(summary)})
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
def list_experiments(as_json: JsonOption = False) -> None:
    """The registered experiments, in tour order, with the claim each one tests."""
    rows = []
    for name in ll.experiments.names():
        exp = ll.experiments.get(name)
        rows.append({"name": name, "title": exp.title, "source": exp.claim.citation})
    if as_json:
        emit_json(rows)
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
    as_json: JsonOption = False,
) -> None:
    """Run one experiment: its claim, verdict, the numbers that decided it, and its tables."""
    exp = ll.experiments.get(name)  # an unknown name: ValueError naming it and the close matches
    if out is not None:
        _check_out_dir(out)
        with step(f"writing {exp.name}'s page to {out}"):
            ll.report.write_tour(out, [exp.name], seed=seed, quick=quick, progress=False)
            data = json.loads((out / "results.json").read_text(encoding="utf-8"))["experiments"][0]
        if data.get("error"):
            raise ExperimentFailed(
                f"{exp.name} failed (see {out / 'index.html'}): {_last_line(data['error'])}"
            )
    else:
        with step(f"running {exp.name}"):
            data = exp.run(seed=seed, quick=quick).to_dict()
    if as_json:
        emit_json(data)
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


class ExperimentFailed(RuntimeError):
    """An experiment raised while its page was written (the page shows the traceback)."""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _cell(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)
