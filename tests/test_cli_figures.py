"""``losslab race --out`` and ``losslab train --out``: the figures come from ``ll.viz``, at ``--dpi``."""

from __future__ import annotations

import inspect
import json

import pytest
from PIL import Image
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

runner = CliRunner()


def _image(path):
    with Image.open(path) as im:
        return im.format, im.size, getattr(im, "n_frames", 1)


@pytest.fixture
def drawn(monkeypatch):
    """The figures the commands hand to ``ll.viz.save`` (still written to disk)."""
    figures = []
    save = ll.viz.save

    def keep(fig, path, **kwargs):
        figures.append(fig)
        return save(fig, path, **kwargs)

    monkeypatch.setattr(ll.viz, "save", keep)
    return figures


def test_the_commands_draw_only_through_viz():
    import losslab.cli.optim

    source = inspect.getsource(losslab.cli.optim)
    assert "matplotlib" not in source and "savefig" not in source


def test_race_png_is_the_paths_figure_at_the_dpi(tmp_path, drawn):
    out = tmp_path / "race.png"
    args = ["race", "quadratic_bowl", "--optimizers", "sgd,adam", "--lr", "0.15,0.25", "--steps", "20"]
    result = runner.invoke(app, [*args, "--out", str(out), "--dpi", "40"])
    assert result.exit_code == 0, result.output
    assert _image(out) == ("PNG", (300, 248), 1)  # a 7.5 x 6.2 inch panel at 40 dpi
    [fig] = drawn
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["sgd (lr=0.15)", "adam (lr=0.25)", "start", "minimum"]
    assert ax.get_title() == "Optimizer paths on quadratic_bowl" and ax.collections  # contours
    entries = ll.train.race(
        ll.landscape.functions.get("quadratic_bowl"), {"sgd": ll.optim.sgd(lr=0.15)}, steps=20
    )
    assert ax.lines[0].get_xdata().tolist() == entries[0].path[:, 0].tolist()


def test_race_diverged_run_is_labelled_in_the_figure(tmp_path, drawn):
    out = tmp_path / "race.svg"
    result = runner.invoke(
        app,
        ["race", "quadratic_bowl", "--optimizers", "sgd", "--lr", "0.3", "--steps", "40", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()
    [fig] = drawn
    [label] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:1]
    assert label.startswith("sgd (lr=0.3) — diverged at step ")


def test_race_gif_has_one_frame_per_step_up_to_the_cap(tmp_path):
    out = tmp_path / "race.gif"
    result = runner.invoke(
        app,
        ["race", "quadratic_bowl", "--optimizers", "sgd", "--steps", "5", "--out", str(out), "--dpi", "30"],
    )
    assert result.exit_code == 0, result.output
    fmt, (width, height), frames = _image(out)
    assert fmt == "GIF" and frames == 6 and (width, height) == (300, 186)  # 10 x 6.2 inches at 30 dpi
    raced = json.loads(
        runner.invoke(
            app,
            [
                "race",
                "quadratic_bowl",
                "--steps",
                "2",
                "--out",
                str(tmp_path / "r.gif"),
                "--dpi",
                "20",
                "--json",
            ],
        ).stdout
    )
    assert raced["figure"] == str(tmp_path / "r.gif")


def test_train_png_is_the_loss_beside_the_fitted_line(tmp_path, drawn):
    out = tmp_path / "curves.png"
    args = ["train", "--epochs", "5", "--no-progress", "--loss", "huber", "--out", str(out), "--dpi", "40"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"figure written to {out}" in result.output
    assert _image(out) == ("PNG", (560, 208), 1)  # two 7 x 5.2 inch panels at 40 dpi
    [fig] = drawn
    assert [ax.get_title() for ax in fig.axes] == ["Loss per epoch", "Fitted lines"]
    assert fig.get_suptitle() == "Linear(n_in=1, n_out=1) on outliers: huber + adam (lr=0.05)"
    assert len(fig.axes[0].lines[0].get_ydata()) == 5  # one loss per epoch


def test_train_on_2d_classification_draws_the_decision_boundary(tmp_path, drawn):
    out = tmp_path / "blobs.png"
    args = ["train", "--data", "two_blobs", "--model", "logistic", "--epochs", "3", "--no-progress"]
    data = json.loads(runner.invoke(app, [*args, "--out", str(out), "--dpi", "30", "--json"]).stdout)
    assert data["figure"] == str(out) and out.stat().st_size > 0
    assert [ax.get_title() for ax in drawn[0].axes][:2] == ["Loss per epoch", "Decision boundary"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("race", "quadratic_bowl", "--out", "r.png", "--dpi", "0"),
            "--dpi: must be a positive finite number",
        ),
        (("race", "quadratic_bowl", "--out", "r.bmp"), "use one of .png, .svg, .pdf, .gif"),
        (("train", "--out", "c.png", "--dpi", "nan"), "--dpi: must be a positive finite number"),
        (("train", "--out", "c.gif"), "cannot write 'gif' files"),
        (("train", "--out", "c.png", "--epochs", "0"), "no training curve to draw with --epochs 0"),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, tuple) else None,
)
def test_figure_options_fail_before_any_work(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*args, "--no-progress"] if args[0] == "train" else list(args))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []
