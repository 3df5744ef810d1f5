"""Figures of ll.viz: every function renders headless, its artists carry the data, bad input fails clearly."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading

import matplotlib.pyplot as plt  # only to read pyplot's global figure list; no pyplot figure is made
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import losslab as ll

V = ll.viz
BOWL = ll.landscape.functions.get("quadratic_bowl")
ROSEN = ll.landscape.functions.get("rosenbrock")


def _png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=30)
    return buf.getvalue()


def _legend_texts(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg is not None else []


@pytest.fixture(scope="module")
def regression_runs():
    X, y = ll.data.outliers()
    runs = {}
    for loss, lr in (("mse", 0.01), ("huber", 0.05)):
        runs[loss] = ll.train.fit(
            ll.models.Linear(1), X, y, loss=loss, optimizer=ll.optim.sgd(lr=lr), epochs=15,
            seed=0, record_params=True, progress=False,
        )  # fmt: skip
    return X, y, runs


@pytest.fixture(scope="module")
def classifier():
    X, y = ll.data.two_blobs(n=40, seed=0)
    model = ll.models.Logistic(2)
    h = ll.train.fit(model, X, y, optimizer=ll.optim.adam(lr=0.1), epochs=10, seed=0, progress=False,
                     metrics=["accuracy"], validation_data=(X, y))  # fmt: skip
    return model, h, X, y


def _race(steps=20):
    opts = {"gd": ll.optim.sgd(lr=0.15), "adam": ll.optim.adam(lr=0.25)}
    return ll.train.race(BOWL, opts, steps=steps)


BUILDERS = {
    "loss_curves": lambda r, c: V.loss_curves(["mse", "mae", "huber"], n=21),
    "loss_curves_logit": lambda r, c: V.loss_curves(["binary_cross_entropy", "hinge"], x="logit", n=21),
    "focal_effect": lambda r, c: V.focal_effect(n=21),
    "contour": lambda r, c: V.contour(ROSEN, resolution=30),
    "contour_filled": lambda r, c: V.contour(BOWL, resolution=20, filled=True),
    "surface_3d": lambda r, c: V.surface_3d(BOWL, resolution=12),
    "paths": lambda r, c: V.paths(BOWL, _race(), resolution=25),
    "training_curves": lambda r, c: V.training_curves(r[2]),
    "training_curves_metrics": lambda r, c: V.training_curves(c[1], x="step", lr=True),
    "trajectories": lambda r, c: V.trajectories(r[2], truth=[2.0, 3.0]),
    "fit_lines": lambda r, c: V.fit_lines(r[0], r[1], r[2], outliers=ll.data.OUTLIER_INDEX, truth=(2, 3)),
    "decision_boundary": lambda r, c: V.decision_boundary(c[0], c[1], c[2], c[3], resolution=20),
    "schedules": lambda r, c: V.schedules(ll.optim.schedules.warmup_cosine(0.1, 5, 20), steps=25),
    "confusion_matrix": lambda r, c: V.confusion_matrix(c[0].apply(c[1].params, c[2]), c[3]),
    "pr_curve": lambda r, c: V.pr_curve({"logistic": c[0].apply(c[1].params, c[2])}, c[3]),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_figure_renders_headless_to_png_without_pyplot(name, regression_runs, classifier):
    before = plt.get_fignums()
    fig = BUILDERS[name](regression_runs, classifier)
    assert isinstance(fig, Figure)
    data = _png_bytes(fig)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert plt.get_fignums() == before
    for ax in fig.axes:
        if ax.name == "3d" or ax.get_label() == "<colorbar>":
            continue
        assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: unlabelled axes {ax.get_title()!r}"


def test_import_losslab_does_not_import_matplotlib():
    code = "import sys, losslab; sys.exit('matplotlib' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


# --------------------------------------------------------------------------- loss curves


def test_loss_curves_lines_are_the_registered_losses_and_gradients():
    fig = V.loss_curves(["mse", ("huber", {"delta": 1.5}), "quantile"], n=31)
    value_ax, grad_ax = fig.axes
    e = value_ax.lines[0].get_xdata()
    assert e[0] == -3.0 and e[-1] == 3.0 and e.size == 31
    for line, (loss, params) in zip(
        value_ax.lines, [("mse", {}), ("huber", {"delta": 1.5}), ("quantile", {})]
    ):
        np.testing.assert_allclose(
            line.get_ydata(), ll.losses.get(loss)(e, 0 * e, reduction="none", **params)
        )
    np.testing.assert_allclose(grad_ax.lines[0].get_ydata(), 2 * e)
    np.testing.assert_allclose(grad_ax.lines[1].get_ydata(), np.clip(e, -1.5, 1.5))
    assert _legend_texts(value_ax) == ["mse", "huber (δ=1.5)", "quantile (τ=0.5)"]
    assert value_ax.get_xlabel() == "error e = ŷ − y" and grad_ax.get_ylabel() == "dℓ/de"
    assert "Mean squared error" in fig.texts[0].get_text() if fig.texts else fig._suptitle.get_text()


def test_loss_curves_accepts_objects_and_mappings_and_titles_from_info():
    fig = V.loss_curves({"huber": {"delta": 2.0}}, n=11)
    assert fig._suptitle.get_text() == ll.losses.huber.info.summary.rstrip(".")
    fig = V.loss_curves(ll.losses.mae, n=11, panels=("value",))
    assert len(fig.axes) == 1 and _legend_texts(fig.axes[0]) == ["mae"]


def test_probabilistic_losses_against_logit_and_p_t():
    z_fig = V.loss_curves(["binary_cross_entropy", "hinge", "categorical_cross_entropy"], x="logit", n=41)
    z = z_fig.axes[0].lines[0].get_xdata()
    bce, hinge, cce = z_fig.axes[0].lines
    np.testing.assert_allclose(bce.get_ydata(), np.logaddexp(0.0, -z), rtol=1e-12)
    np.testing.assert_allclose(hinge.get_ydata(), np.maximum(0.0, 1.0 - z))
    np.testing.assert_allclose(cce.get_ydata(), bce.get_ydata(), rtol=1e-12)  # softmax([z, 0]) = sigmoid(z)
    np.testing.assert_allclose(z_fig.axes[1].lines[0].get_ydata(), -1.0 / (1.0 + np.exp(z)), rtol=1e-10)
    p_fig = V.loss_curves(["binary_cross_entropy", "hinge"], x="p_t", n=41)
    p = p_fig.axes[0].lines[0].get_xdata()
    np.testing.assert_allclose(p_fig.axes[0].lines[0].get_ydata(), -np.log(p), rtol=1e-12)
    np.testing.assert_allclose(p_fig.axes[1].lines[0].get_ydata(), -1.0 / p, rtol=1e-9)
    # the hinge on the p_t axis: chain rule through z = logit(p)
    zp = np.log(p / (1 - p))
    np.testing.assert_allclose(p_fig.axes[0].lines[1].get_ydata(), np.maximum(0.0, 1.0 - zp), atol=1e-12)
    assert V.loss_curves(["binary_cross_entropy"], n=5).axes[0].get_xlabel().startswith("$p_t$")


def test_focal_effect_lines_are_the_focal_loss():
    fig = V.focal_effect((0, 2, 5), n=50)
    loss_ax, ratio_ax = fig.axes
    p = loss_ax.lines[0].get_xdata()
    for line, g in zip(loss_ax.lines, (0, 2, 5)):
        np.testing.assert_allclose(line.get_ydata(), -((1 - p) ** g) * np.log(p), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(ratio_ax.lines[1].get_ydata(), (1 - p[:-1]) ** 2, rtol=1e-10)
    assert _legend_texts(loss_ax) == ["γ=0 (cross-entropy)", "γ=2", "γ=5"]
    assert ratio_ax.get_yscale() == "log"


def test_stable_colours_per_loss_and_optimizer_across_figures(regression_runs):
    X, y, runs = regression_runs
    curves = V.loss_curves(["huber", "mse"], n=5).axes[0].lines
    fits = [ln for ln in V.fit_lines(X, y, runs).axes[0].lines]
    assert to_hex(curves[1].get_color()) == to_hex(fits[0].get_color()) == V.style.loss_color("mse")
    assert to_hex(curves[0].get_color()) == to_hex(fits[1].get_color()) == V.style.loss_color("huber")
    p1 = V.paths(BOWL, _race(), resolution=10).axes[0].lines
    assert to_hex(p1[1].get_color()) == V.style.optimizer_color("adam") != V.style.optimizer_color("gd")


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: V.loss_curves(["mse", "hubber"]), ValueError, "unknown loss 'hubber'.*Did you mean huber"),
        (lambda: V.loss_curves([]), ValueError, "losses must name at least one loss"),
        (lambda: V.loss_curves(3), TypeError, "losses must be"),
        (lambda: V.loss_curves([("huber", {"delta": -1})]), ValueError, "delta must be > 0"),
        (lambda: V.loss_curves([("huber", {"gamma": 1})]), TypeError, "unknown parameter"),
        (
            lambda: V.loss_curves(["binary_cross_entropy"], x="error"),
            ValueError,
            "cannot be drawn against the error",
        ),
        (lambda: V.loss_curves(["mse"], x="logit"), ValueError, "regression loss"),
        (lambda: V.loss_curves(["triplet_margin"]), ValueError, "not a loss of one prediction"),
        (lambda: V.loss_curves(["mse"], x="margin"), ValueError, "x must be one of"),
        (lambda: V.loss_curves(["mse"], limits=(2, 1)), ValueError, "limits must be increasing"),
        (lambda: V.loss_curves(["bce"], x="p_t", limits=(0, 1)), ValueError, "inside \\(0, 1\\)"),
        (lambda: V.loss_curves(["mse"], panels=("values",)), ValueError, "panels must be one of"),
        (lambda: V.focal_effect((-1,)), ValueError, "gammas must be >= 0"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_loss_figure_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------- surfaces and paths


def test_contour_accepts_functions_meshgrids_and_axes():
    w, b = np.linspace(-1, 5, 13), np.linspace(-2, 4, 9)
    W, B = np.meshgrid(w, b)
    Z = (W - 2.0) ** 2 + 2 * (B - 1.0) ** 2
    for surface in ((W, B, Z), (w, b, Z)):
        ax = V.contour(surface, axis_labels=("w", "b")).axes[0]
        assert ax.collections, "no contour set"
        star = next(ln for ln in ax.lines if ln.get_label() == "minimum")
        assert (star.get_xdata()[0], star.get_ydata()[0]) == (2.0, 1.0)
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("w", "b")
        assert ax.texts, "contour levels are labelled"
    ax = V.contour(ROSEN, resolution=40).axes[0]
    star = next(ln for ln in ax.lines if ln.get_label() == "minimum")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1.0, 1.0)


def test_levels_are_log_spaced_where_the_range_needs_them():
    from losslab.viz.surfaces import auto_levels, grid_of

    levels, log = auto_levels(grid_of("t", ROSEN, resolution=60).Z, 10)
    assert log and np.allclose(np.diff(np.log(levels - 0.0)), np.log(levels[1] / levels[0]), rtol=1e-3)
    levels, log = auto_levels(grid_of("t", BOWL, resolution=60).Z, 10)
    assert not log and np.allclose(np.diff(levels), levels[1] - levels[0])
    cs = next(
        c for c in V.contour(ROSEN, resolution=40, levels=12).axes[0].collections if hasattr(c, "levels")
    )
    assert len(cs.levels) == 12 and cs.levels[0] < 1.0 < cs.levels[-1] / 100


@pytest.mark.parametrize(
    ("surface", "match"),
    [
        ((np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((4, 3))), "must share one shape"),
        (
            (np.arange(4.0), np.arange(3.0), np.zeros((4, 3))),
            r"Z must have shape \(len\(y\), len\(x\)\) = \(3, 4\)",
        ),
        ((np.arange(4.0), np.arange(3.0), np.zeros(12)), "Z must be 2-D"),
        ((np.arange(4.0), np.arange(3.0), np.full((3, 4), np.nan)), "no finite value"),
        ((np.array([0.0, 2.0, 1.0]), np.arange(2.0), np.zeros((2, 3))), "strictly monotonic"),
    ],
    ids=["meshgrid-shape", "axes-shape", "flat-Z", "all-nan", "unsorted-axis"],
)
def test_wrong_grids_raise(surface, match):
    with pytest.raises(ValueError, match=match):
        V.contour(surface)


def test_contour_rejects_other_objects():
    with pytest.raises(TypeError, match="expected a test function"):
        V.contour("rosenbrock")


def test_paths_draws_each_run_with_learning_rates_start_and_minimum():
    runs = _race(steps=30)
    ax = V.paths(BOWL, runs, lrs={"gd": 0.15, "adam": 0.25}, resolution=30).axes[0]
    assert _legend_texts(ax) == ["gd (lr=0.15)", "adam (lr=0.25)", "start", "minimum"]
    gd = ax.lines[0]
    np.testing.assert_allclose(np.column_stack([gd.get_xdata(), gd.get_ydata()]), runs[0].path)
    start = next(ln for ln in ax.lines if ln.get_label() == "start")
    assert (start.get_xdata()[0], start.get_ydata()[0]) == (3.5, 3.5)
    assert ax.collections and ax.get_xlabel() == "w1"
    cs = next(c for c in ax.collections if hasattr(c, "levels"))
    assert cs.levels[0] < 0.1  # a level close to the minimum: paths converge among visible contours


def test_paths_labels_a_diverged_run_and_reads_optional_fields():
    runs = ll.train.race(BOWL, {"gd": ll.optim.sgd(lr=0.5)}, steps=2000)
    assert runs[0].diverged
    k = len(runs[0].path)
    ax = V.paths(BOWL, runs, lrs={"gd": 0.5}, resolution=20).axes[0]
    assert _legend_texts(ax)[0] == f"gd (lr=0.5) — diverged at step {k}"

    class Entry:  # the fields ll.landscape.race adds: diverged_step, lr
        name, diverged, diverged_step, lr = "adam", True, 7, 3.0
        path = np.array([[3.5, 3.5], [1.0, 1.0], [9.0, -9.0]])
        values = np.array([1.0, 2.0, 3.0])

    ax = V.paths(BOWL, [Entry()], resolution=20).axes[0]
    assert _legend_texts(ax)[0] == "adam (lr=3) — diverged at step 7"


def test_long_paths_are_thinned_keeping_the_ends():
    path = np.column_stack([np.linspace(3, 0, 5001), np.linspace(3, 0, 5001) ** 2])

    class Entry:
        name, diverged, values = "sgd", False, np.zeros(5001)

    Entry.path = path
    line = V.paths(BOWL, [Entry()], max_points=100, resolution=10).axes[0].lines[0]
    xs = line.get_xdata()
    assert len(xs) <= 100 and xs[0] == 3.0 and xs[-1] == 0.0


def test_paths_errors():
    with pytest.raises(ValueError, match="at least one entry"):
        V.paths(BOWL, [])
    with pytest.raises(TypeError, match="name and path"):
        V.paths(BOWL, [object()])
    bad = _race()[0]._replace(path=np.zeros(5))
    with pytest.raises(ValueError, match=r"must have shape \(steps \+ 1, 2\)"):
        V.paths(BOWL, [bad])


def test_drawing_into_a_given_axes_returns_its_figure():
    from matplotlib.figure import Figure as F

    fig = F()
    left, right = fig.subplots(1, 2)
    assert V.contour(BOWL, resolution=10, ax=left) is fig
    assert V.paths(BOWL, _race(), resolution=10, ax=right) is fig
    assert V.loss_curves(["mse"], n=5, ax=[left], panels=("value",)) is fig
    with pytest.raises(ValueError, match="one Axes per panel"):
        V.loss_curves(["mse"], n=5, ax=left)


# --------------------------------------------------------------------------- training figures


def test_training_curves_carry_the_history(regression_runs, classifier):
    _, _, runs = regression_runs
    fig = V.training_curves(runs, log=True)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), runs["mse"].loss)
    assert ax.get_yscale() == "log" and _legend_texts(ax) == ["mse", "huber"]
    _, h, _, _ = classifier
    fig = V.training_curves(h, x="step", lr=True)
    loss_ax, lr_ax, metric_ax = fig.axes
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), h.step_loss)
    np.testing.assert_allclose(lr_ax.lines[0].get_ydata(), h.steps["lr"])
    assert lr_ax.get_ylabel() == "learning rate" and "accuracy (validation)" in _legend_texts(metric_ax)
    ax = V.training_curves(h).axes[0]
    assert _legend_texts(ax) == ["training", "validation"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), h.val_loss)


def test_training_curves_errors():
    with pytest.raises(ValueError, match="history is empty"):
        V.training_curves(ll.train.History())
    with pytest.raises(TypeError, match="must be a History"):
        V.training_curves({"a": [1, 2]})
    with pytest.raises(ValueError, match="x must be one of"):
        V.training_curves(ll.train.History(), x="batch")


def test_trajectories_draw_the_recorded_parameters(regression_runs):
    _, _, runs = regression_runs
    ax = V.trajectories(runs, truth={"W": [[2.0]], "b": [3.0]}).axes[0]
    path = runs["mse"].path()
    np.testing.assert_allclose(ax.lines[0].get_xdata(), path[:, 0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), path[:, 1])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("W", "b")
    assert "true (2, 3)" in _legend_texts(ax)
    with pytest.raises(ValueError, match="record_params=True"):
        V.trajectories(ll.train.History(trajectory=None))
    with pytest.raises(ValueError, match="truth must have 2 values"):
        V.trajectories(runs, truth=[1, 2, 3])


def test_fit_lines_and_decision_boundary(regression_runs, classifier):
    X, y, runs = regression_runs
    ax = V.fit_lines(X, y, runs, outliers=ll.data.OUTLIER_INDEX).axes[0]
    w = float(runs["mse"].params["W"][0, 0])
    assert _legend_texts(ax)[:3] == [
        "data",
        "outliers",
        f"mse (w={w:.2f}, b={float(runs['mse'].params['b'][0]):.2f})",
    ]
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), w * line.get_xdata() + runs["mse"].params["b"][0])
    outl = ax.collections[1].get_offsets()
    assert len(outl) == len(ll.data.OUTLIER_INDEX)
    with pytest.raises(ValueError, match="X must be 1-D data"):
        V.fit_lines(np.zeros((4, 2)), np.zeros(4), runs)
    model, h, Xc, yc = classifier
    ax = V.decision_boundary(model, h, Xc, yc, resolution=25).axes[0]
    assert "boundary (p = 0.5)" in _legend_texts(ax)
    with pytest.raises(ValueError, match="X must have 2 features"):
        V.decision_boundary(model, h, np.zeros((4, 3)), np.zeros(4))
    sm = ll.models.Softmax(2, 3)
    X3, y3 = ll.data.multiclass_blobs(n=30, seed=0)
    ax = V.decision_boundary(sm, sm.init(0), X3, y3, resolution=15).axes[0]
    assert _legend_texts(ax) == ["class 0", "class 1", "class 2"]


def test_schedules_lines_are_the_schedule_values():
    s = ll.optim.schedules.warmup_cosine(0.1, 5, 20)
    line = V.schedules({"warm": s}, steps=30).axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), [s(k) for k in range(31)])
    with pytest.raises(TypeError, match="must be a schedule"):
        V.schedules({"x": 3})


# --------------------------------------------------------------------------- save


@pytest.mark.parametrize("ext", [".png", ".svg", ".pdf"])
def test_save_writes_each_format_atomically(tmp_path, ext):
    fig = V.loss_curves(["mse"], n=5)
    out = V.save(fig, tmp_path / f"f{ext}", dpi=40)
    head = out.read_bytes()[:5]
    assert head == {".png": b"\x89PNG\r", ".svg": b"<?xml", ".pdf": b"%PDF-"}[ext]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f{ext}"]  # no temporary file left
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    from losslab.viz.output import _umask as read

    return read()


def test_save_errors_and_a_failed_write_keeps_the_old_file(tmp_path):
    fig = V.loss_curves(["mse"], n=5)
    with pytest.raises(ValueError, match=r"unsupported file extension '\.jpg'.*\.png, \.svg, \.pdf"):
        V.save(fig, tmp_path / "f.jpg")
    with pytest.raises(ValueError, match="unsupported file extension '\\(none\\)'"):
        V.save(fig, tmp_path / "figure")
    with pytest.raises(ValueError, match="directory .*missing.* does not exist"):
        V.save(fig, tmp_path / "missing" / "f.png")
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        V.save("fig", tmp_path / "f.png")
    with pytest.raises(ValueError, match="dpi must be > 0"):
        V.save(fig, tmp_path / "f.png", dpi=0)
    old = tmp_path / "keep.png"
    old.write_bytes(b"old")

    def broken_savefig(fname, **kwargs):  # half a file, then the disk fills up
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        raise OSError("No space left on device")

    fig.savefig = broken_savefig
    with pytest.raises(OSError, match="No space left"):
        V.save(fig, old)
    assert old.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_figures_can_be_drawn_from_several_threads():
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work(i):
        try:
            fig = V.loss_curves(["mse", ("huber", {"delta": 0.5 + i})], n=21)
            results.append(_png_bytes(fig))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and all(r[:4] == b"\x89PNG" for r in results)


# --------------------------------------------------------------------------- imbalance figures


def test_confusion_matrix_counts_and_normalizes():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.eye(3)[[0, 1, 0, 1, 2, 2]]
    ax = V.confusion_matrix(y_pred, y_true, labels=["a", "b", "c"]).axes[0]
    assert ax.images[0].get_array().tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    rows = V.confusion_matrix(y_pred, y_true, normalize="true").axes[0].images[0].get_array()
    np.testing.assert_allclose(rows, [[2 / 3, 1 / 3, 0], [0, 0.5, 0.5], [0, 0, 1]])
    with pytest.raises(ValueError, match="normalize must be one of"):
        V.confusion_matrix(y_pred, y_true, normalize="rows")
    with pytest.raises(ValueError, match="labels must name all 3 classes"):
        V.confusion_matrix(y_pred, y_true, labels=["a"])


def test_pr_curve_area_is_the_average_precision():
    rng = np.random.default_rng(0)
    t = (rng.random(200) < 0.2).astype(float)
    s = t * 0.4 + rng.random(200)
    ax = V.pr_curve({"bce": s}, t).axes[0]
    line = ax.lines[0]
    r, p = line.get_xdata(), line.get_ydata()
    ap = ll.train.metrics.average_precision(s, t)
    np.testing.assert_allclose(np.sum(np.diff(r) * p[1:]), ap, rtol=1e-12)
    assert (
        _legend_texts(ax)[0] == f"bce (AP = {ap:.3f})"
        and _legend_texts(ax)[1] == f"chance (positive rate {t.mean():.3g})"
    )
    with pytest.raises(ValueError, match="both classes"):
        V.pr_curve(s, np.zeros(200))


# --------------------------------------------------------------------------- animation


def test_animate_race_writes_a_gif_with_capped_frames(tmp_path):
    from PIL import Image

    runs = _race(steps=40)
    out = V.animate_race(BOWL, runs, tmp_path / "race.gif", max_frames=6, resolution=15, dpi=30)
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 6
    short = V.animate_race(BOWL, _race(steps=3), tmp_path / "short.gif", max_frames=50, resolution=10, dpi=20)
    with Image.open(short) as im:
        assert im.n_frames == 4  # steps + 1 frames when that is under the cap
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.gif", "short.gif"]
    with pytest.raises(ValueError, match="unsupported file extension '.png'.*expected one of .gif"):
        V.animate_race(BOWL, runs, tmp_path / "race.png")
    with pytest.raises(ValueError, match="max_frames must be >= 1"):
        V.animate_race(BOWL, runs, tmp_path / "race.gif", max_frames=0)


DRAWABLE = [
    n
    for n in ll.losses.names()
    if ll.losses.get(n).info.kind in ("elementwise", "class_axis") and n != "poisson_nll"
]


@pytest.mark.parametrize("name", DRAWABLE)
def test_every_registered_prediction_target_loss_has_finite_curves(name):
    loss = ll.losses.get(name)
    axes = ["error"] if loss.info.task == "regression" else ["logit", "p_t"]
    for x in axes:
        fig = V.loss_curves([name], x=x, n=15)
        assert fig.axes[0].get_legend().get_texts()[0].get_text() == V.loss_label(name)
        for ax in fig.axes:
            assert np.isfinite(ax.lines[0].get_ydata()).all(), (name, x, ax.get_title())


def test_losses_that_are_not_functions_of_the_error_say_so():
    with pytest.raises(ValueError, match="poisson_nll is not a function of the error"):
        V.loss_curves(["poisson_nll"])


def test_convergence_draws_the_gap_per_step():
    runs = _race(steps=25)
    ax = V.convergence(runs, lrs={"gd": 0.15, "adam": 0.25}).axes[0]
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), np.maximum(runs[0].values, ax.lines[0].get_ydata().min())
    )
    assert ax.get_yscale() == "log" and _legend_texts(ax) == ["gd (lr=0.15)", "adam (lr=0.25)"]
    diverged = ll.train.race(BOWL, {"gd": ll.optim.sgd(lr=0.5)}, steps=2000)
    ax = V.convergence(diverged, log=False).axes[0]
    assert _legend_texts(ax)[0].endswith(f"diverged at step {len(diverged[0].path)}")


def test_decision_boundary_of_a_score_model_is_at_zero():
    X, y = ll.data.two_blobs(n=30, seed=0)
    model = ll.models.Linear(2)
    params = {"W": np.array([[1.0], [1.0]]), "b": np.array([0.5])}
    ax = V.decision_boundary(model, params, X, y, resolution=20).axes[0]
    assert "boundary (score = 0)" in _legend_texts(ax)


def test_long_titles_wrap_inside_the_figure_and_keep_math_whole():
    model = ll.models.MLP([2, 32, 32, 2], activation="relu", output_activation="softmax", dropout=0.1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    history = ll.train.fit(
        model, X, y, loss="sparse_categorical_cross_entropy", optimizer=ll.optim.adam(0.05), epochs=2, seed=0
    )
    title = f"{model!r} on a toy set: sparse_categorical_cross_entropy + adam (lr=0.05)"
    fig = ll.viz.training_summary(history, model, X, y, task="multiclass", title=title)
    fig.canvas.draw()
    text = fig._suptitle
    assert text.get_text().replace("\n", " ") == title and "\n" in text.get_text()
    box = text.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # no line runs off an edge
    focal = ll.viz.focal_effect(alpha=0.25)
    assert "$(1 - p_t)^\\gamma$" in focal._suptitle.get_text()  # math is never split


def test_a_loss_keeps_its_colour_across_figures_and_one_figure_never_repeats_one():
    from losslab.viz.style import PALETTE, colors_for, loss_color

    labels = ["bce", "weighted_bce", "focal", "focal_a0.75"]
    colors = colors_for(labels)
    assert colors[0] == loss_color("binary_cross_entropy") and colors[2] == loss_color("binary_focal")
    assert len(set(colors)) == 4 and set(colors) <= set(PALETTE)
    assert colors_for(["mse", "mse (lr=0.1)"])[0] == loss_color("mse") != colors_for(["mse", "mse x"])[1]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    scores = {name: rng.random(200) for name in labels}
    curve = ll.viz.pr_curve(scores, y)
    bars = ll.viz.bars({"recall": {name: 0.5 for name in labels}})
    line_colors = {ln.get_label().split(" (")[0]: to_hex(ln.get_color()) for ln in curve.axes[0].lines}
    bar_colors = {c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in bars.axes[0].containers}
    assert all(line_colors[name] == bar_colors[name] for name in labels)
