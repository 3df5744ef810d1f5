"""``losslab advise``: which loss and optimizer to use, from a description or from a CSV file.

A thin shell over :func:`losslab.advise.recommend` (describe the task: ``--task regression
--outliers --asymmetric-cost 3``) and :func:`losslab.advise.from_data` (measure it: ``--data
file.csv --target y [--verify]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

import losslab as ll
from losslab.cli._app import app, console

_err = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    _err.print(Text(f"Error: {message}"), soft_wrap=True)
    raise typer.Exit(2)


@app.command("advise")
def advise(
    task: str | None = typer.Option(
        None, "--task", help="regression, binary or multiclass (inferred with --data)."
    ),
    outliers: bool = typer.Option(False, "--outliers", help="The regression targets have gross outliers."),
    heavy_tails: bool = typer.Option(False, "--heavy-tails", help="The regression noise is heavy-tailed."),
    counts: bool = typer.Option(False, "--counts", help="The regression targets are counts."),
    imbalance: float | None = typer.Option(
        None, "--imbalance", help="The minority class's share, e.g. 0.05."
    ),
    asymmetric_cost: float | None = typer.Option(
        None,
        "--asymmetric-cost",
        help="Cost of an under-prediction (a false negative) over the opposite error.",
    ),
    label_noise: float = typer.Option(0.0, "--label-noise", help="Share of ambiguous or wrong labels."),
    n_classes: int | None = typer.Option(None, "--n-classes", help="Number of classes (multiclass)."),
    data: Path | None = typer.Option(None, "--data", help="A CSV file with a header row: measure the data."),  # noqa: B008
    target: str | None = typer.Option(None, "--target", help="The target column of --data."),
    verify: bool = typer.Option(
        False, "--verify", help="Check the ranking by k-fold cross-validation on --data."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the folds and the fits of --verify."),
    folds: int = typer.Option(5, "--folds", min=2, help="Number of folds of --verify."),
    epochs: int = typer.Option(300, "--epochs", min=1, help="Training epochs per fold of --verify."),
    as_json: bool = typer.Option(False, "--json", help="Print the advice as JSON."),
) -> None:
    """Rank losses (with parameters, optimizer, learning rates, schedule) and give the reasons.

    Describe the task (--task binary --imbalance 0.05) or measure it (--data train.csv --target y);
    each reason cites the curriculum's rule (002 §8.1, 001 §8.5, 000) or the measured statistic.
    """
    try:
        if data is None:
            if target is not None or verify:
                raise ValueError(("--target" if target is not None else "--verify") + " needs --data FILE")
            advice = ll.advise.recommend(
                task or "regression",
                outliers=outliers,
                heavy_tails=heavy_tails,
                counts=counts,
                imbalance=imbalance,
                asymmetric_cost=asymmetric_cost,
                label_noise=label_noise,
                n_classes=n_classes,
            )
        else:
            if target is None:
                raise ValueError("--data needs --target COLUMN")
            described = {
                "--outliers": outliers,
                "--heavy-tails": heavy_tails,
                "--counts": counts,
                "--imbalance": imbalance is not None,
                "--label-noise": label_noise != 0.0,
                "--n-classes": n_classes is not None,
            }
            given = [name for name, on in described.items() if on]
            if given:
                raise ValueError(f"{', '.join(given)} is measured from --data; drop it (or drop --data)")
            X, y = ll.data.load_csv(data, target)
            advice = ll.advise.from_data(
                X,
                y,
                task=task,
                verify=verify,
                seed=seed,
                asymmetric_cost=asymmetric_cost,
                folds=folds,
                epochs=epochs,
            )
    except FileNotFoundError as err:
        _fail(str(err))
    except (ValueError, TypeError) as err:
        _fail(str(err))
    _show(advice, as_json)


def _show(advice: Any, as_json: bool) -> None:
    if as_json:
        console.print_json(advice.to_json())
        return
    console.print(Text(advice.to_text()), soft_wrap=True, end="")
