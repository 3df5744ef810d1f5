"""``losslab backprop``, ``losslab explain-step`` and ``losslab advise``: output, JSON, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

runner = CliRunner()

NETWORK = {"W1": [[0.2, 0.3], [0.4, 0.1]], "b1": [0.1, 0.2], "W2": [[0.7], [0.5]], "b2": [0.3]}


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def network_file(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(NETWORK))
    return str(path)


def test_backprop_prints_the_curriculum_network(network_file):
    result = run("backprop", "--model", "mlp:2,2,1", "--x", "1,0", "--y", "1", "--params-json", network_file)
    assert result.exit_code == 0, result.output
    assert "z2[0] = 0.7 * 0.574443 + 0.5 * 0.622459 + 0.3 = 1.01334" in result.output
    assert "W2[0, 0] = 0.7 - 0.1 * (-0.152989) = 0.715299" in result.output


def test_backprop_json_matches_the_library(network_file):
    result = run(
        "backprop", "--model", "mlp:2,2,1", "--x", "1,0", "--y", "1", "--params-json", network_file, "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    params = {k: np.asarray(v) for k, v in NETWORK.items()}
    value, grads = model.value_and_grad(params, [[1.0, 0.0]], [1.0], "binary_cross_entropy")
    assert data["value"] == pytest.approx(float(value), rel=1e-14)
    assert np.allclose(data["grads"]["W2"], grads["W2"], rtol=1e-14)
    assert [s["title"] for s in data["steps"]][:2] == ["Network and inputs", "Forward, layer 1"]


def test_backprop_other_models_and_loss_params():
    result = run(
        "backprop",
        "--model",
        "linear:1",
        "--x",
        "2",
        "--y",
        "5",
        "--loss",
        "huber",
        "--loss-param",
        "delta=1.5",
    )
    assert result.exit_code == 0, result.output
    assert "loss huber(delta=1.5)" in result.output
    batch = run(
        "backprop",
        "--model",
        "softmax:2,3",
        "--x",
        "1,0;0,1",
        "--y",
        "0,2",
        "--loss",
        "sparse_categorical_cross_entropy",
    )
    assert batch.exit_code == 0, batch.output
    assert "delta1[1, 2]" in batch.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "cnn:3", "--x", "1", "--y", "1"], "--model must be one of"),
        (["--model", "mlp:2,x", "--x", "1", "--y", "1"], "sizes must be integers"),
        (["--model", "mlp:2,2,1", "--x", "1,0,3", "--y", "1"], r"X must have shape \(n_samples, 2\)"),
        (["--model", "mlp:2,1", "--x", "1,0", "--y", "1", "--params-json", "/no/such.json"], "no such file"),
        (["--model", "linear:1", "--x", "1", "--y", "1", "--loss-param", "delta"], "KEY=VALUE"),
        (
            ["--model", "linear:1", "--x", "1", "--y", "1", "--loss", "mse", "--loss-param", "delta=1"],
            "unknown parameter",
        ),
        (["--model", "linear:1", "--x", "1", "--y", "1", "--lr", "-1"], "lr must be >= 0"),
    ],
    ids=["model", "sizes", "shape", "file", "loss-param", "unknown-param", "lr"],
)
def test_backprop_errors(args, message):
    result = run("backprop", *args)
    assert result.exit_code == 2
    assert re.search(message, result.output), result.output


def test_explain_step_w_squared_and_adam():
    result = run("explain-step", "gd", "--params", "4", "--grad", "2*w", "--lr", "0.3", "--steps", "4")
    assert result.exit_code == 0, result.output
    assert "theta = 0.256 + (-0.1536) = 0.1024" in result.output
    data = json.loads(
        run("explain-step", "adam", "--params", "1,-2", "--grad", "0.5,3", "--lr", "0.1", "--json").output
    )
    assert data["optimizer"] == "adam" and np.allclose(data["trajectory"][1], [0.9, -2.1], rtol=1e-6)
    assert "m_hat = m / (1 - beta1^t) = 0.1 / 0.1 = 1" not in data["steps"][1]["text"]
    assert "theta[0]: m_hat = m / (1 - beta1^t) = 0.05 / 0.1 = 0.5" in data["steps"][1]["text"]
    nesterov = run(
        "explain-step",
        "sgd",
        "--params",
        "1",
        "--grad",
        "2*w",
        "--lr",
        "0.1",
        "--momentum",
        "0.9",
        "--nesterov",
        "--steps",
        "2",
    )
    assert nesterov.exit_code == 0 and "d = g + momentum * b" in nesterov.output


def test_explain_step_gives_second_order_optimizers_the_hessian_of_the_implied_loss():
    # --grad 2*w is L = ||w||^2: Hessian 2 I, so one Newton step lands on the minimum
    data = json.loads(run("explain-step", "newton", "--params", "4,1", "--grad", "2*w", "--json").output)
    assert np.allclose(data["trajectory"][1], [0.0, 0.0], atol=0)
    damped = json.loads(
        run("explain-step", "newton", "--params", "4", "--grad", "3*w", "--damping", "1", "--json").output
    )
    assert np.isclose(damped["trajectory"][1], 4 - 12 / (3 + 1), rtol=1e-15)  # (H + lambda)^-1 g
    # a constant gradient is a linear loss: zero Hessian, solved in the least-squares sense (no step)
    flat = json.loads(run("explain-step", "newton", "--params", "4", "--grad", "3", "--json").output)
    assert flat["trajectory"][1] == [4.0] or flat["trajectory"][1] == 4.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["adamm", "--params", "1", "--grad", "1"], "unknown optimizer 'adamm'"),
        (["adam", "--params", "1", "--grad", "1", "--lrr", "0.1"], "has no hyperparameter 'lrr'"),
        (["adam", "--params", "1,2", "--grad", "1,2,3"], r"grads must have shape \(2,\)"),
        (["adam", "--params", "1", "--grad", "1", "--steps", "0"], "steps must be >= 1"),
        (["adam", "--params", "1", "--grad", "x"], "grad: expected numbers"),
        (["adam", "--params", "1", "--grad", "1", "stray"], "unexpected argument 'stray'"),
    ],
    ids=["name", "hyperparam", "shape", "steps", "grad", "stray"],
)
def test_explain_step_errors(args, message):
    result = run("explain-step", *args)
    assert result.exit_code == 2
    assert re.search(message, result.output), result.output


def test_help_documents_the_three_explain_commands():
    for command in ("backprop", "explain-step"):
        text = " ".join(run(command, "--help").output.split())
        assert "a loss" in text and "a model" in text and "an optimizer" in text


# --------------------------------------------------------------------------- advise


def test_advise_from_a_description():
    result = run("advise", "--task", "regression", "--outliers", "--asymmetric-cost", "3")
    assert result.exit_code == 0, result.output
    assert "1. quantile(tau=0.75)" in result.output and "[002 §8.1 decision tree]" in result.output
    data = json.loads(run("advise", "--task", "binary", "--imbalance", "0.05", "--json").output)
    assert data["ranked"][0]["loss"] == "binary_focal" and data["situation"]["imbalance"] == 0.05


@pytest.fixture
def outlier_csv(tmp_path):
    X, y = ll.data.outliers()
    path = tmp_path / "lab.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="x,y", comments="")
    return str(path)


def test_advise_from_a_csv_file_with_verify(outlier_csv):
    args = [
        "advise",
        "--data",
        outlier_csv,
        "--target",
        "y",
        "--verify",
        "--folds",
        "3",
        "--epochs",
        "40",
        "--json",
    ]
    first, again = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["profile"]["n_outliers"] == 5 and data["ranked"][0]["loss"] in ("huber", "mae", "log_cosh")
    assert data["verification"]["folds"] == 3 and first.output == again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/no/such.csv", "--target", "y"], "no such file"),
        (["--data", "{csv}", "--target", "z"], "target column 'z' not found; columns are: x, y"),
        (["--data", "{bad}", "--target", "y"], "must be numeric"),
        (["--data", "{csv}"], "--data needs --target"),
        (["--verify"], "--verify needs --data"),
        (["--data", "{csv}", "--target", "y", "--outliers"], "--outliers is measured from --data"),
        (["--task", "composite"], "no rule recommends a loss for task 'composite'"),
        (["--task", "regression", "--imbalance", "0.1"], "contradicts task='regression'"),
    ],
    ids=["missing-file", "target", "unreadable", "no-target", "verify", "contradictory", "task", "options"],
)
def test_advise_errors(args, message, outlier_csv, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nthree,4\n")
    args = [a.format(csv=outlier_csv, bad=str(bad)) for a in args]
    result = run("advise", *args)
    assert result.exit_code == 2
    assert message in result.output, result.output
