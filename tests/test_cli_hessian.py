"""The ``hessian`` command through Typer's test runner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

runner = CliRunner()


def test_hessian_of_linear_regression_is_the_closed_form():
    result = runner.invoke(
        app,
        [
            "hessian",
            "--data",
            "linear",
            "--model",
            "linear",
            "--top",
            "2",
            "--json",
            "--optimizer",
            "gd",
            "--lr",
            "0.3",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    X, _ = ll.data.info("linear").make()
    A = np.c_[X, np.ones(len(X))]
    exact = np.linalg.eigvalsh(2 * A.T @ A / len(X))  # MSE: the Hessian does not depend on the point
    np.testing.assert_allclose(report["largest"], exact[::-1], rtol=1e-10)
    np.testing.assert_allclose(report["smallest"], exact, rtol=1e-10)
    assert np.isclose(report["trace_exact"], np.trace(2 * A.T @ A / len(X)), rtol=1e-12)
    assert report["n_params"] == 2 and report["loss_name"] == "mse"
    # gradient descent at rate |1 - 0.3 lambda| <= 0.4 reaches the least-squares minimum: strict
    assert report["critical"] == {
        "kind": "minimum",
        "index": 0,
        "is_critical": True,
        "grad_tol": report["critical"]["grad_tol"],
        "eigenvalue_tol": pytest.approx(1e-6 * exact.max(), rel=1e-9),
    }
    assert report["grad_norm"] <= report["critical"]["grad_tol"]


def test_hessian_table_for_an_mlp():
    result = runner.invoke(
        app, ["hessian", "--data", "two_blobs", "--model", "mlp:2,6,1", "--epochs", "20", "--top", "3"]
    )
    assert result.exit_code == 0, result.output
    texts = ("Hessian of binary_cross_entropy", "MLP([2, 6, 1]", "largest 3", "smallest 3", "trace")
    for text in (*texts, "critical-point kind", "not critical: gradient norm >"):
        assert text in result.output


def test_hessian_bad_inputs():
    result = runner.invoke(app, ["hessian", "--data", "nope"])
    assert result.exit_code != 0 and "nope" in result.output
    result = runner.invoke(app, ["hessian", "--model", "linear:3"])
    assert result.exit_code != 0 and "only mlp takes widths" in result.output
    result = runner.invoke(app, ["hessian", "--data", "two_blobs", "--model", "mlp:2,4,3"])
    assert result.exit_code != 0 and "last width" in result.output
    result = runner.invoke(app, ["hessian", "--loss", "dice"])
    assert result.exit_code != 0 and "no Hessian-vector product" in result.output
