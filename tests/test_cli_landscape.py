"""The ``landscape`` command, through Typer's test runner."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

runner = CliRunner()


def test_function_race_table_critical_points_and_figure(tmp_path):
    out = tmp_path / "paths.png"
    result = runner.invoke(
        app, ["landscape", "himmelblau", "--optimizers", "sgd,adam", "--steps", "50", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for text in ("race on himmelblau", "sgd", "adam", "critical points of himmelblau", "saddle", "maximum"):
        assert text in result.output
    assert result.output.count("minimum") >= 4
    image = matplotlib.image.imread(out)
    assert image.shape[0] > 100 and image.std() > 0


def test_function_json_matches_the_library():
    result = runner.invoke(
        app,
        ["landscape", "quadratic_bowl", "--optimizers", "sgd", "--lr", "0.25", "--steps", "100", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    [entry] = report["entries"]
    [expected] = ll.landscape.race(
        ll.landscape.functions.get("quadratic_bowl"), {"sgd": ll.optim.sgd(lr=0.25)}, steps=100
    )
    assert entry["diverged"] and entry["diverged_step"] == expected.diverged_step == 43
    np.testing.assert_allclose(entry["path"], expected.path)
    assert [cp["kind"] for cp in report["critical_points"]] == ["minimum"]


def test_one_dimensional_function_draws_convergence(tmp_path):
    out = tmp_path / "anatomy.png"
    result = runner.invoke(
        app, ["landscape", "anatomy", "--optimizers", "adam", "--steps", "30", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    kinds = [cp["kind"] for cp in json.loads(result.output)["critical_points"]]
    assert kinds == ["minimum", "maximum", "degenerate", "minimum"] and out.exists()


def test_regression_surface_of_a_fitted_line(tmp_path):
    out = tmp_path / "huber.png"
    result = runner.invoke(
        app,
        ["landscape", "--data", "outliers", "--model", "linear", "--loss", "huber", "--loss-param", "delta=2",
         "--resolution", "21", "--epochs", "50", "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["loss"] == "huber" and report["loss_params"] == {"delta": 2}
    w, b = report["axes"]["w"], report["axes"]["b"]
    assert (
        len(w) == len(b) == 21 and w[10] == report["trained_point"][0] and b[10] == report["trained_point"][1]
    )
    X, y = ll.data.outliers()
    _, _, Z = ll.landscape.linear_regression_surface(X[:, 0], y, "huber", [w[10]], [b[10]], delta=2)
    assert report["value_at_trained_point"] == Z[0, 0]
    assert out.exists()


def test_network_slices_with_and_without_skips(tmp_path):
    for flags in (["--skip", "--directions", "filter"], ["--no-skip", "--directions", "pca"]):
        out = tmp_path / f"slice{flags[0]}.png"
        result = runner.invoke(
            app,
            ["landscape", "--data", "spirals", "--model", "mlp:8,8", *flags, "--epochs", "20",
             "--resolution", "11", "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "slice" in result.output and out.exists()
    assert "explained variance of the directions" in result.output


def test_pca_slice_spans_the_projected_path():
    result = runner.invoke(
        app,
        ["landscape", "--data", "spirals", "--model", "mlp:8", "--directions", "pca", "--epochs", "15",
         "--resolution", "5", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    path, ratios = np.array(report["path"]), np.array(report["explained_variance_ratio"])
    assert path.shape == (16, 2) and np.all(path[-1] == 0)  # the trained point is the origin
    assert np.all((ratios >= 0) & (ratios <= 1)) and ratios.sum() <= 1 + 1e-12
    alphas, betas = report["axes"]["α (direction 1)"], report["axes"]["β (direction 2)"]
    assert alphas[-1] == 1.2 * np.abs(path[:, 0]).max() and betas[2] == 0.0


def test_errors():
    result = runner.invoke(app, ["landscape"])
    assert result.exit_code != 0 and "give a test function or --data" in result.output
    result = runner.invoke(app, ["landscape", "bowl"])
    assert result.exit_code != 0 and "unknown test function" in result.output
    result = runner.invoke(
        app, ["landscape", "--data", "spirals", "--model", "mlp", "--directions", "hessian"]
    )
    assert result.exit_code != 0 and "--directions" in result.output
    result = runner.invoke(app, ["landscape", "--data", "outliers", "--resolution", "20"])
    assert result.exit_code == 2 and "--resolution: must be odd" in result.output
    # an option of the other form is refused, not ignored
    result = runner.invoke(app, ["landscape", "rosenbrock", "--resolution", "21"])
    assert result.exit_code == 2 and "--resolution: does not apply to a test function's race" in result.output
    result = runner.invoke(app, ["landscape", "--data", "outliers", "--optimizers", "adam"])
    assert result.exit_code == 2 and "--optimizers: does not apply to a --data surface" in result.output
    result = runner.invoke(app, ["landscape", "--data", "outliers", "--radius", "inf"])
    assert result.exit_code == 2 and "--radius: must be a finite number > 0" in result.output
    result = runner.invoke(app, ["landscape", "rosenbrock", "--lr", "nan"])
    assert result.exit_code == 2 and "--lr: must be a finite number > 0" in result.output
    assert "Traceback" not in result.output
