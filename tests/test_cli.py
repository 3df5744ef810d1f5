"""The ``losslab`` loss commands: list, show, explain (exit codes and output)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app
from losslab.cli.losses import CommandLineError, parse_array, parse_explain_args, parse_value
from losslab.losses import ElementwiseLoss, Param

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


# --------------------------------------------------------------------------- list


def test_list_shows_every_loss():
    result = run("list")
    assert result.exit_code == 0, result.output
    for name in ll.losses.names():
        assert name in result.output
    assert "torch.nn.MSELoss" in result.output
    assert "PyTorch" in result.output


def test_list_by_task():
    result = run("list", "--task", "regression")
    assert result.exit_code == 0
    assert "losslab losses (regression)" in result.output
    for name in ll.losses.names("regression"):
        assert name in result.output
    other = run("list", "--task", "segmentation")
    assert other.exit_code == 0
    assert "huber" not in other.output


def test_list_bad_task_is_a_clear_error():
    result = run("list", "--task", "astrology")
    assert result.exit_code == 2
    assert "task must be one of" in result.output and "'regression'" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- show


def test_show_huber():
    result = run("show", "huber")
    assert result.exit_code == 0, result.output
    out = result.output
    for snippet in (
        "Huber loss",
        "formula",
        "gradient",
        "\\operatorname{clip}(r, -\\delta,",
        "Properties",
        "convex",
        "--delta",
        "1.0",
        "threshold between the quadratic and linear parts",
        "torch.nn.HuberLoss(delta=delta)",
        "keras.losses.Huber(delta=delta)",
        "use when",
        "conventions",
        "Huber (1964)",
        "losslab explain huber --y-pred ... --y-true ... --delta 1.0",
    ):
        assert snippet in out, snippet


def test_show_resolves_aliases():
    result = run("show", "l2")
    assert result.exit_code == 0
    assert "torch.nn.MSELoss" in result.output
    assert "mean_squared_error" in result.output


@pytest.mark.parametrize("name", ll.losses.names())
def test_show_every_registered_loss(name):
    result = run("show", name)
    assert result.exit_code == 0, result.output
    assert name in result.output


def test_show_unknown_loss():
    result = run("show", "hubber")
    assert result.exit_code == 2
    assert "unknown loss, optimizer or schedule 'hubber'. Did you mean huber" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- explain


def test_explain_huber_done_when():
    result = run("explain", "huber", "--y-pred", "5", "--y-true", "3", "--delta", "1.5")
    assert result.exit_code == 0, result.output
    out = result.output
    assert 'huber(delta=1.5), reduction="mean"' in out
    assert "r = 5 - 3 = 2" in out
    assert "|r| = 2 > delta = 1.5: linear branch" in out
    assert "l = delta * (|r| - delta/2) = 1.5 * (2 - 0.75) = 1.875" in out
    assert "value = 1.875" in out
    assert "grad = dL/dy_pred = 1.5" in out


def test_explain_arrays_comma_space_rows_and_negatives():
    comma = run("explain", "mse", "--y-pred", "0.9,0.2", "--y-true", "1,0")
    assert comma.exit_code == 0, comma.output
    assert "y_pred = [0.9, 0.2]" in comma.output
    assert f"value = {ll.explain._core.fmt(ll.losses.mse([0.9, 0.2], [1, 0]))}" in comma.output
    spaced = run("explain", "mae", "--y-pred", "-1", "-2.5", "0.5", "--y-true", "0 0 0", "--reduction", "sum")
    assert spaced.exit_code == 0, spaced.output
    assert "y_pred = [-1, -2.5, 0.5]" in spaced.output
    assert "value = 4" in spaced.output
    assert "grad = dL/dy_pred = [-1, -1, 1]" in spaced.output
    rows = run("explain", "mse", "--y-pred", "1,2;3,4", "--y-true=[[1, 2], [3, 5]]")
    assert rows.exit_code == 0, rows.output
    assert "value = 0.25" in rows.output
    assert "r[1, 1] = 4 - 5 = -1" in rows.output


def test_explain_sample_weight_and_markdown():
    result = run(
        "explain", "mse", "--y-pred", "1,2", "--y-true", "0,0", "--sample-weight", "2,1", "--markdown"
    )
    assert result.exit_code == 0, result.output
    assert '### `mse(), reduction="mean"`' in result.output
    assert "w[0] * l[0] = 2 * 1 = 2" in result.output
    assert "value = 3" in result.output


def test_explain_unknown_loss_lists_valid_names():
    result = run("explain", "hubr", "--y-pred", "5", "--y-true", "3")
    assert result.exit_code == 2
    assert "unknown loss 'hubr'" in result.output
    assert "Valid names: " in result.output
    for name in ll.losses.names():
        assert name in result.output
    assert "Traceback" not in result.output


def test_explain_unknown_parameter_lists_valid_parameters():
    result = run("explain", "huber", "--y-pred", "5", "--y-true", "3", "--beta", "2")
    assert result.exit_code == 2
    assert "unknown parameter --beta for huber; valid parameters: --delta (default 1.0)" in result.output
    assert "Traceback" not in result.output
    none = run("explain", "mse", "--y-pred", "5", "--y-true", "3", "--delta", "2")
    assert none.exit_code == 2
    assert "valid parameters: none" in none.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["huber", "--y-pred", "5", "--y-true", "3", "--delta", "-1"],
            "huber: delta must be > 0, got delta=-1",
        ),
        (["huber", "--y-pred", "5"], "huber needs --y-true"),
        (["mse", "--y-pred", "abc", "--y-true", "1"], "y_pred: expected numbers, got 'abc'"),
        (["mse", "--y-pred", "1,2", "--y-true", "1,2,3"], "must have the same shape"),
        (["mse", "5", "--y-pred", "1", "--y-true", "1"], "unexpected argument '5'"),
        (["mse", "--y-pred", "1", "--y-true", "1", "--reduction", "avg"], "reduction must be one of"),
        (["mse", "--y-pred", "nan", "--y-true", "1"], "mse: y_pred contains NaN"),
        (["mse", "--y-pred", "1;2,3", "--y-true", "1"], "rows separated by ';' must have the same length"),
    ],
)
def test_explain_bad_input_is_a_clear_error(args, message):
    result = run("explain", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_explain_help():
    result = run("explain", "--help")
    assert result.exit_code == 0
    assert "--y-pred" in result.output


def _cli_value(x) -> str:
    if x is None or isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, (int, float, str)):
        return str(x)
    return json.dumps(np.asarray(x).tolist())


def _typed_on_a_command_line(value) -> bool:
    """Numbers, flags, names and arrays can be typed; objects such as a feature extractor cannot."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return np.asarray(value).dtype.kind in "biuf"


COMMAND_LINE_LOSSES = [
    name
    for name in ll.losses.names()
    if all(_typed_on_a_command_line(v) for v in ll.losses.get(name).test_params[-1].values())
]


def test_losses_needing_objects_are_few():
    # perceptual takes a feature extractor: usable from Python only.
    assert set(ll.losses.names()) - set(COMMAND_LINE_LOSSES) == {"perceptual"}


@pytest.mark.parametrize("name", COMMAND_LINE_LOSSES)
def test_explain_every_registered_loss_from_the_command_line(name):
    loss = ll.losses.get(name)
    params = loss.test_params[-1]
    inputs = loss.sample(np.random.default_rng(0), **params)
    args = ["explain", name]
    for input_name, x in zip(loss.inputs, inputs):
        args += [f"--{input_name.replace('_', '-')}", json.dumps(np.asarray(x).tolist())]
    for key, value in params.items():
        args += [f"--{key.replace('_', '-')}", _cli_value(value)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    value = loss(*inputs, **params)
    assert f"value = {ll.explain._core.fmt(value)}" in result.output


# --------------------------------------------------------------------------- parsing


def test_parse_value():
    assert parse_value("1.5") == 1.5 and isinstance(parse_value("2"), int)
    assert parse_value("true") is True and parse_value("No") is False
    assert parse_value("none") is None and parse_value("null") is None
    assert parse_value("0.2,0.8") == [0.2, 0.8]
    assert parse_value("[1, 2, 3]") == [1, 2, 3]
    assert parse_value("weston_watkins") == "weston_watkins"
    assert parse_value("1e-6") == 1e-6


def test_parse_array():
    assert parse_array(["5"]).shape == ()
    assert parse_array(["0.9, 0.2"]).tolist() == [0.9, 0.2]
    assert parse_array(["0.9", "0.2"]).tolist() == [0.9, 0.2]
    assert parse_array(["1 2; 3 4"]).tolist() == [[1, 2], [3, 4]]
    assert parse_array(["2,0,1"]).dtype.kind == "i"
    with pytest.raises(CommandLineError, match="y_pred needs a value"):
        parse_array([], "y_pred")
    with pytest.raises(CommandLineError, match="cannot read"):
        parse_array(["[1, 2"], "y_pred")


def test_parse_explain_args_booleans_and_declared_inputs():
    loss = ElementwiseLoss(
        "flagged",
        task="binary",
        params={"from_logits": Param(False), "label_smoothing": Param(0.0), "class_weight": Param(None)},
        value=lambda xp, p, t, **_: (p - t) ** 2,
        grad=lambda xp, p, t, **_: 2 * (p - t),
        inputs=("scores", "labels"),
        info={"formula": "f", "gradient": "g"},
    )
    inputs, params, weight = parse_explain_args(
        loss, ["--scores", "0.9,0.2", "--labels", "1", "0", "--from-logits", "--label-smoothing", "0.1"]
    )
    assert [x.tolist() for x in inputs] == [[0.9, 0.2], [1, 0]]
    assert params == {"from_logits": True, "label_smoothing": 0.1} and weight is None
    _, params, _ = parse_explain_args(loss, ["--scores", "1", "--labels", "1", "--no-from-logits"])
    assert params == {"from_logits": False}
    _, params, _ = parse_explain_args(
        loss, ["--scores", "1", "--labels", "1", "--from-logits=false", "--class-weight", "1,2"]
    )
    assert params == {"from_logits": False, "class_weight": [1, 2]}
    with pytest.raises(CommandLineError, match="flagged needs --labels"):
        parse_explain_args(loss, ["--scores", "1"])
    with pytest.raises(CommandLineError, match="unknown parameter --y-pred for flagged.*inputs: --scores"):
        parse_explain_args(loss, ["--y-pred", "1"])
