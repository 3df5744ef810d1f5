"""``losslab plot``: each sub-command writes its figure; bad options fail with one clear message."""

from __future__ import annotations

import pytest
from PIL import Image
from typer.testing import CliRunner

from losslab.cli import app

runner = CliRunner()


def _image(path):
    with Image.open(path) as im:
        return im.format, im.size


def test_plot_losses_with_a_loss_parameter_at_a_chosen_dpi(tmp_path):
    out = tmp_path / "f.png"
    args = [
        "plot",
        "losses",
        "mse,mae,huber",
        "--loss-param",
        "huber.delta=1.5",
        "--out",
        str(out),
        "--dpi",
        "40",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "figure written to" in result.output
    assert _image(out) == ("PNG", (560, 200))  # two 7 x 5 inch panels at 40 dpi


@pytest.mark.parametrize(
    "args",
    [
        ["focal", "--gammas", "0,2"],
        [
            "schedule",
            "warmup_cosine",
            "--param",
            "warmup_steps=5",
            "--param",
            "decay_steps=20",
            "--steps",
            "30",
        ],
        [
            "schedule",
            "step_decay,exponential_decay",
            "--param",
            "step_decay.step_size=5",
            "--param",
            "exponential_decay.gamma=0.9",
        ],
        ["contour", "rosenbrock", "--levels", "10"],
        ["contour", "quadratic_bowl", "--param", "b=20", "--surface"],
        ["losses", "binary_cross_entropy,hinge", "--x", "logit", "--limits", "-3,3"],
    ],
    ids=["focal", "schedule", "two-schedules", "contour", "surface", "logit-axis"],
)
def test_plot_commands_write_figures(tmp_path, args):
    out = tmp_path / "figure.svg"
    result = runner.invoke(app, ["plot", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["losses", "mse,hubber"], "unknown loss 'hubber'"),
        (["losses", "mse", "--loss-param", "huber.delta=1"], "names 'huber', which is not among mse"),
        (["losses", "mse", "--loss-param", "delta"], "expects NAME.key=value"),
        (["losses", "huber", "--loss-param", "delta=-1"], "delta must be > 0"),
        (["losses", "mse", "--limits", "1"], "--limits expects LOW,HIGH"),
        (["schedule", "cosine"], "unknown schedule 'cosine'"),
        (["schedule", "warmup_cosine"], "warmup_cosine\\(lr"),
        (["schedule", "step_decay", "--param", "stepsize=3"], "step_decay has no parameter stepsize"),
        (["contour", "himmelblau0"], "unknown test function"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v)[:30],
)
def test_plot_errors_are_one_clear_message(tmp_path, args, message):
    out = tmp_path / "f.png"
    result = runner.invoke(app, ["plot", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert "Error:" in result.output and __import__("re").search(message, result.output), result.output
    assert not out.exists()


def test_plot_checks_the_output_path_before_drawing(tmp_path):
    result = runner.invoke(app, ["plot", "focal", "--out", str(tmp_path / "f.jpg")])
    assert result.exit_code == 2 and "unsupported file extension '.jpg'" in result.output
    result = runner.invoke(app, ["plot", "focal", "--out", str(tmp_path / "nowhere" / "f.png")])
    assert result.exit_code == 2 and "does not exist" in result.output
