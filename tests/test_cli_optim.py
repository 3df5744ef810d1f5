"""The ``race`` and ``train`` commands, through Typer's test runner."""

from __future__ import annotations

import matplotlib.image
from typer.testing import CliRunner

from losslab.cli import app

runner = CliRunner()


def test_race_prints_a_table_and_writes_a_figure(tmp_path):
    out = tmp_path / "race.png"
    result = runner.invoke(
        app,
        [
            "race",
            "quadratic_bowl",
            "--optimizers",
            "sgd,momentum,adam",
            "--lr",
            "0.15,0.3,0.25",
            "--steps",
            "60",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    for text in ("race on quadratic_bowl", "sgd", "momentum", "adam", "steps to tol", "figure written"):
        assert text in result.output
    # GD with lr 0.15 from (3.5, 3.5): f - f* < 1e-6 first at step 49 (0.5 (3.5 0.85^t)^2 + 5 (3.5 0.5^t)^2).
    sgd_row = next(line for line in result.output.splitlines() if "sgd" in line)
    assert "49" in sgd_row
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 100


def test_race_on_rosenbrock_with_one_learning_rate():
    result = runner.invoke(
        app, ["race", "rosenbrock", "--optimizers", "adam,rmsprop", "--lr", "0.01", "--steps", "50"]
    )
    assert result.exit_code == 0, result.output
    assert "rosenbrock" in result.output and "rmsprop" in result.output


def test_race_errors():
    result = runner.invoke(app, ["race", "bale"])
    assert result.exit_code != 0 and "unknown test function" in result.output
    result = runner.invoke(app, ["race", "rosenbrock", "--optimizers", "sgd,adam", "--lr", "0.1,0.2,0.3"])
    assert result.exit_code != 0 and "one per optimizer" in result.output
    result = runner.invoke(app, ["race", "rosenbrock", "--optimizers", "lbfgs"])
    assert result.exit_code != 0 and "unknown optimizer" in result.output


def test_train_outliers_linear_huber_adam():
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            "outliers",
            "--model",
            "linear",
            "--loss",
            "huber",
            "--optimizer",
            "adam",
            "--epochs",
            "200",
            "--lr",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    for text in ("final loss (huber)", "r2", "mae", "rmse", "W", "b", "200"):
        assert text in result.output


def test_train_classification_with_an_mlp():
    result = runner.invoke(
        app,
        ["train", "--data", "xor", "--model", "mlp", "--hidden", "8", "--epochs", "5", "--batch-size", "32"],
    )
    assert result.exit_code == 0, result.output
    assert (
        "binary_cross_entropy" in result.output and "accuracy" in result.output and "roc_auc" in result.output
    )


def test_train_errors():
    result = runner.invoke(app, ["train", "--data", "moons"])
    assert result.exit_code != 0 and "unknown dataset" in result.output
    result = runner.invoke(app, ["train", "--data", "outliers", "--model", "logistic"])
    assert result.exit_code != 0 and "needs a binary task" in result.output
