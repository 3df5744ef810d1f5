"""The command line's conventions: --version, python -m losslab, completion, --json, errors, markup.

Each convention is checked through Typer's runner and through a real subprocess; the bad-input
test runs every command registered on the app (so later commands are covered when they land).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import typing

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app
from losslab.cli._app import UsageError, jsonable, step
from losslab.cli._parse import output_path, parse_params, parse_scoped_params

runner = CliRunner()
SRC = pathlib.Path(__file__).resolve().parents[1] / "src"


def run(*args: str):
    return runner.invoke(app, list(args))


def shell(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m losslab ARGS`` in a fresh interpreter, with this checkout's sources."""
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "losslab", *args], capture_output=True, text=True, env=full, timeout=120
    )


def one_error_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert lines[0].startswith("Error: "), text
    assert "Traceback" not in text
    return lines[0]


# --------------------------------------------------------------------------- version, -m, completion


def test_version_through_the_runner():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"losslab {ll.__version__}"


def test_version_and_python_dash_m_in_a_subprocess():
    proc = shell("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"losslab {ll.__version__}"
    helped = shell("--help")
    assert helped.returncode == 0
    assert "Usage: losslab" in helped.stdout
    for command in ("list", "show", "explain", "race", "train"):
        assert command in helped.stdout


def test_no_arguments_prints_the_help():
    result = run()
    assert result.exit_code == 0
    assert "Usage: losslab" in result.stdout


def test_completion_script_and_completion_requests():
    script = run("--show-completion", "bash")
    assert script.exit_code == 0
    assert "_LOSSLAB_COMPLETE" in script.stdout and "complete" in script.stdout
    proc = shell(env={"_LOSSLAB_COMPLETE": "complete_bash", "COMP_WORDS": "losslab sh", "COMP_CWORD": "1"})
    assert proc.returncode == 0
    assert proc.stdout.split() == ["show"]
    names = shell(
        env={"_LOSSLAB_COMPLETE": "complete_bash", "COMP_WORDS": "losslab show hub", "COMP_CWORD": "2"}
    )
    assert "huber" in names.stdout.split()


# --------------------------------------------------------------------------- --json


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--task", "regression"),
        ("show", "huber"),
        ("show", "adam"),
        ("show", "cosine_decay"),
        ("explain", "huber", "--y-pred", "5", "--y-true", "3", "--delta", "2"),
        ("race", "quadratic_bowl", "--optimizers", "sgd,adam", "--steps", "5"),
        ("train", "--epochs", "3", "--no-progress", "--loss", "huber", "--loss-param", "delta=2"),
    ],
    ids=lambda a: " ".join(a),
)
def test_json_parses(args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data


def test_json_values():
    listed = json.loads(run("list", "--json").stdout)
    assert [row["name"] for row in listed] == ll.losses.names()
    ex = json.loads(
        run("explain", "huber", "--y-pred", "5", "--y-true", "3", "--delta", "2", "--json").stdout
    )
    # huber(5, 3; delta=2): |r| = 2 <= delta, so 0.5 r^2 = 2 and the gradient is r = 2
    assert ex["value"] == 2.0 and ex["grad"] == 2.0 and ex["params"] == {"delta": 2.0}
    raced = json.loads(run("race", "quadratic_bowl", "--optimizers", "sgd", "--lr", "0.15", "--json").stdout)
    [entry] = raced["entries"]
    assert entry["lr"] == 0.15 and entry["steps_to_tol"] == 49  # as in tests/test_cli_optim.py
    assert len(entry["path"]) == 101 and entry["path"][0] == [3.5, 3.5]


def test_train_json_uses_the_loss_parameter():
    data = json.loads(
        run(
            "train", "--epochs", "2", "--no-progress", "--loss", "huber", "--loss-param", "delta=2", "--json"
        ).stdout
    )
    assert data["loss"] == "huber" and data["loss_params"] == {"delta": 2.0}
    assert data["epochs"] == 2 and set(data["metrics"]) >= {"r2", "mae", "rmse"}


def test_jsonable_turns_non_finite_values_into_null():
    assert jsonable({"x": np.array([1.0, np.nan]), "t": (1, np.float32(2.5))}) == {
        "x": [1.0, None],
        "t": [1, 2.5],
    }


# --------------------------------------------------------------------------- markup


def test_list_keeps_brackets_of_user_strings():
    result = run("list", "--task", "composite")
    assert result.exit_code == 0
    assert "(f[i] - f[j])" in result.stdout
    assert "f[1:] - f[:-1]" in result.stdout


def test_show_keeps_brackets():
    result = run("show", "wgan_critic")
    assert result.exit_code == 0
    assert "E[D(G(z))] - E[D(x)]" in result.stdout


# --------------------------------------------------------------------------- errors


def test_usage_error_is_one_line_with_exit_code_2():
    result = run("race", "rosenbrock", "--tol", "nan")
    assert result.exit_code == 2
    assert "tol must be finite" in one_error_line(result.stderr)
    assert result.stdout == ""


def test_unknown_option_names_the_command_help():
    result = run("race", "rosenbrock", "--bogus")
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "--bogus" in line and "losslab race --help" in line


def test_unexpected_error_names_the_step_and_exit_code_1(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the race track is flooded")

    monkeypatch.setattr(ll.train, "race", broken)
    result = run("race", "rosenbrock")
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert line == (
        "Error: unexpected RuntimeError while racing on rosenbrock: the race track is flooded "
        "(run with --debug for the traceback)"
    )
    debug = run("race", "rosenbrock", "--debug")
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr and "the race track is flooded" in debug.stderr
    assert run("--debug", "race", "rosenbrock").stderr.count("Traceback") == 1


def test_unexpected_error_outside_a_step_names_the_command(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("formula")

    monkeypatch.setattr(ll.explain, "card", broken)
    result = run("show", "huber")
    assert result.exit_code == 1
    assert "unexpected KeyError while running 'losslab show'" in one_error_line(result.stderr)


def test_errors_in_a_subprocess():
    proc = shell("race", "rosenbrock", "--tol", "0")
    assert proc.returncode == 2
    assert "tol must be > 0" in one_error_line(proc.stderr)
    missing = shell("show")
    assert missing.returncode == 2
    assert "Missing argument" in one_error_line(missing.stderr)


def test_warnings_are_one_line(monkeypatch):
    import warnings

    def warn(*args, **kwargs):
        warnings.warn("slow convergence\nsecond line", RuntimeWarning, stacklevel=1)
        return []

    monkeypatch.setattr(ll.train, "race", warn)
    result = run("race", "rosenbrock", "--json")
    assert result.exit_code == 0
    assert result.stderr.strip() == "Warning: slow convergence second line"


def test_step_marks_only_the_innermost():
    with pytest.raises(OSError) as info, step("outer"), step("inner"):
        raise OSError("x")
    assert info.value.losslab_step == "inner"


# --------------------------------------------------------------------------- issue: CLI tracebacks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("race", "rosenbrock", "--tol", "nan"), "tol must be finite"),
        (("race", "rosenbrock", "--tol", "-1"), "tol must be > 0"),
        (("race", "rosenbrock", "--tol", "0"), "tol must be > 0"),
        (("race", "rosenbrock", "--tol", "1e999"), "tol must be finite"),
        (("race", "rosenbrock", "--out", "/no/such/dir/race.png"), "does not exist"),
        (("race", "rosenbrock", "--out", "race.bmp"), "cannot write 'bmp' files"),
        (("train", "--loss", "bce"), "binary_cross_entropy is a binary loss and outliers is a regression"),
        (("train", "--loss", "sparse_categorical_cross_entropy"), "is a multiclass loss"),
        (("train", "--data", "xor", "--loss", "sparse_categorical_cross_entropy"), "is a multiclass loss"),
        (("train", "--loss", "triplet_margin"), "train fits losses of (y_pred, y_true)"),
        (("train", "--loss", "perceptual"), "perceptual is a segmentation loss"),
        (("train", "--loss", "wasserstein_1d"), "takes u_values, v_values"),
        (("train", "--seed", "-1"), "'--seed'"),
        (("train", "--loss", "huber", "--loss-param", "gamma=2"), "unknown parameter(s) gamma"),
        (("train", "--loss-param", "delta"), "expected KEY=VALUE"),
        (("train", "--optimizer-param", "foo=1"), "has no hyperparameter 'foo'"),
        (("train", "--lr", "nan"), "positive finite"),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, tuple) else None,
)
def test_bad_command_lines_are_usage_errors(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args, "--no-progress") if args[0] == "train" else run(*args)
    assert result.exit_code == 2, result.output
    assert message in one_error_line(result.stderr)
    assert result.stdout == ""  # the check comes before any work: no table printed
    assert not list(tmp_path.iterdir())


def test_race_out_directory_and_missing_suffix(tmp_path):
    result = run("race", "quadratic_bowl", "--steps", "3", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    written = tmp_path / "race-quadratic_bowl.png"
    assert written.is_file()
    assert f"figure written to {written}" in result.stdout
    bare = run("race", "quadratic_bowl", "--steps", "3", "--out", str(tmp_path / "paths"))
    assert bare.exit_code == 0
    assert (tmp_path / "paths.png").is_file()
    assert f"figure written to {tmp_path / 'paths.png'}" in bare.stdout


def test_output_path_rules(tmp_path):
    assert output_path(tmp_path / "a.SVG") == tmp_path / "a.SVG"
    assert output_path(tmp_path, default_name="x") == tmp_path / "x.png"
    with pytest.raises(UsageError, match=r"--dpi-out: cannot write 'gif' files"):
        output_path(tmp_path / "a.gif", option="--dpi-out")
    with pytest.raises(UsageError, match="does not exist"):
        output_path(tmp_path / "missing" / "a.png")


# --------------------------------------------------------------------------- every command, bad inputs

#: Arguments that make each command run (quickly); commands added later get none and are still
#: checked with unknown options and bad names. Add a row for a new command to check its options.
VALID = {
    "list": [],
    "show": ["mse"],
    "explain": ["mse", "--y-pred", "1", "--y-true", "2"],
    "race": ["quadratic_bowl", "--steps", "3"],
    "train": ["--epochs", "1", "--no-progress"],
}
#: Options that take any text by design (a title, a free label): exempt from the bad-text check.
FREE_TEXT: set[tuple[str, str]] = set()
#: Options naming a directory to create: only a missing parent is bad.
DIRECTORY_OPTIONS = {("tour", "--out"), ("experiment", "--out")}
BAD_DIRECTORY = ["/no/such/dir/report"]
BAD_BY_TYPE = {
    float: ["abc", "nan", "inf"],
    int: ["abc", "-1", "1.5"],
    pathlib.Path: ["/no/such/dir/out.png", "out.unknown-suffix"],
    str: ["no-such-thing-xyz"],
}


def _commands() -> list[tuple[str, typing.Any]]:
    return sorted(typer.main.get_command(app).commands.items())


def _base_type(annotation: typing.Any) -> typing.Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list:
        return _base_type(args[0])
    return _base_type(args[0]) if len(args) == 1 else annotation


def _bad_cases() -> list[tuple[str, list[str]]]:
    cases = []
    for name, command in _commands():
        valid = VALID.get(name, [])
        cases.append((name, [*valid, "--no-such-option"]))
        cases.append((name, [*valid, "--json", "--no-such-option", "1"]))
        for param in command.params:
            kind = _base_type(param.type_descriptor.annotation)
            if param.param_type_name == "argument":
                cases.append((name, ["no-such-thing-xyz"]))
                continue
            if getattr(param, "is_flag", False) or param.opts[0] in ("--help",):
                continue
            if (name, param.opts[0]) in FREE_TEXT:
                continue
            bad_values = (
                BAD_DIRECTORY if (name, param.opts[0]) in DIRECTORY_OPTIONS else BAD_BY_TYPE.get(kind, [])
            )
            for bad in bad_values:
                cases.append((name, [*valid, param.opts[0], bad]))
    return cases


@pytest.mark.parametrize(
    ("command", "args"), _bad_cases(), ids=lambda a: " ".join(a) if isinstance(a, list) else a
)
def test_every_command_refuses_bad_input_without_a_traceback(command, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(command, *args)
    assert result.exit_code in (1, 2), result.output
    one_error_line(result.stderr)
    assert not list(tmp_path.iterdir())


def test_every_command_has_a_help_page():
    for name, _ in _commands():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert f"losslab {name}" in result.stdout


# --------------------------------------------------------------------------- parameters


def test_parse_params_reads_values():
    assert parse_params(["delta=2", "from-logits=true", "betas=0.9,0.99", "variant=crammer_singer"]) == {
        "delta": 2,
        "from_logits": True,
        "betas": [0.9, 0.99],
        "variant": "crammer_singer",
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [(["delta"], "expected KEY=VALUE"), (["=2"], "expected KEY=VALUE"), (["a=1", "a=2"], "a is given twice")],
)
def test_parse_params_errors(items, message):
    with pytest.raises(UsageError, match=message):
        parse_params(items, "--loss-param")


def test_parse_scoped_params():
    out = parse_scoped_params(
        ["momentum.beta=0.5", "weight_decay=0.1"], "--optimizer-param", ["sgd", "momentum"]
    )
    assert out == {"sgd": {"weight_decay": 0.1}, "momentum": {"weight_decay": 0.1, "beta": 0.5}}
    with pytest.raises(UsageError, match=r"--optimizer-param: 'adam' in 'adam.lr=1' is not one of sgd"):
        parse_scoped_params(["adam.lr=1"], "--optimizer-param", ["sgd"])


def test_train_loss_param_changes_the_result():
    def final(*extra: str) -> float:
        out = json.loads(
            run("train", "--epochs", "20", "--no-progress", "--loss", "huber", *extra, "--json").stdout
        )
        return out["final_loss"]

    assert final("--loss-param", "delta=2") != final()
    assert final("--loss-param", "delta=1") == final()


def test_optimizer_param_reaches_the_optimizer():
    base = json.loads(
        run("race", "quadratic_bowl", "--optimizers", "momentum", "--steps", "5", "--json").stdout
    )
    slow = json.loads(
        run(
            "race", "quadratic_bowl", "--optimizers", "momentum", "--steps", "5",
            "--optimizer-param", "momentum.beta=0.0", "--json",
        ).stdout
    )  # fmt: skip
    assert base["entries"][0]["final_value"] != slow["entries"][0]["final_value"]


def test_explain_help_lists_the_loss_parameters():
    result = run("explain", "huber", "--help")
    assert result.exit_code == 0
    assert "--delta VALUE" in result.stdout and "(default: 1.0)" in result.stdout
    focal = run("explain", "binary_focal", "--help").stdout
    for option in ("--gamma", "--alpha", "--from-logits/--no-from-logits"):
        assert option in focal
    generic = run("explain", "--help")
    assert generic.exit_code == 0 and "Options of" not in generic.stdout


# --------------------------------------------------------------------------- race defaults


RATED = [
    (function, optimizer)
    for function, row in ll.landscape.rates.DEFAULT_LEARNING_RATES.items()
    for optimizer in sorted({*row, "sutskever_nesterov"} if "nesterov" in row else row)
]


@pytest.mark.parametrize(("function", "optimizer"), RATED)
def test_race_default_rates_make_progress(function, optimizer):
    fn = ll.landscape.functions.get(function)
    rate = ll.landscape.default_learning_rate(function, optimizer)
    assert rate is not None and rate > 0
    [entry] = ll.train.race(fn, {optimizer: ll.landscape.rates.race_optimizer(optimizer, lr=rate)}, steps=100)
    assert not entry.diverged
    f_star = getattr(fn, "minimum_value", None)
    ref = f_star if f_star is not None and np.isfinite(f_star) else 0.0
    assert entry.values[-1] - ref < 0.5 * (entry.values[0] - ref)  # clear progress from the start
    for axis, (low, high) in enumerate(fn.limits):
        assert np.all((entry.path[:, axis] >= low) & (entry.path[:, axis] <= high))


def test_every_registered_optimizer_has_a_race_rate():
    for name in ll.landscape.rates.race_names():
        assert ll.landscape.default_learning_rate("any_function", name) is not None, name


def test_race_shows_rates_in_table():
    result = run("race", "rosenbrock", "--optimizers", "sgd,adam,ema_momentum,velocity,nesterov")
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│")}
    assert "0.002" in rows["sgd"] and "0.5" in rows["adam"] and "0.02" in rows["ema_momentum"]


def test_race_same_optimizer_twice_with_two_rates():
    data = json.loads(
        run("race", "quadratic_bowl", "--optimizers", "sgd,sgd", "--lr", "0.1,0.01", "--json").stdout
    )
    assert [e["optimizer"] for e in data["entries"]] == ["sgd", "sgd (lr=0.01)"]
