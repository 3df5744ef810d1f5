"""Landscape figures of ll.viz (slices, spectra, critical points) and the training summary."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt  # only to read pyplot's global figure list
import numpy as np
import pytest

import losslab as ll

V = ll.viz
BOWL = ll.landscape.functions.get("quadratic_bowl")


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _renders(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=30)
    return buf.getvalue()[:4] == b"\x89PNG"


def test_slice_1d_draws_each_curve_and_marks_alpha_zero():
    a = np.linspace(-1.0, 1.0, 11)
    before = plt.get_fignums()
    fig = V.slice_1d(a, np.stack([a**2, np.abs(a)]))
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), a**2)
    assert _legend(ax) == ["direction 1", "direction 2"]
    assert ax.lines[2].get_xdata()[0] == 0.0  # the vertical line at the parameters
    assert _renders(fig) and plt.get_fignums() == before
    with pytest.raises(ValueError, match=r"one value per alpha \(11\), got shape \(3,\)"):
        V.slice_1d(a, {"mse": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="alphas must be a 1-D array"):
        V.slice_1d([0.0], [1.0])


def test_slice_2d_contours_the_slice_with_the_origin_marked():
    a, b = np.linspace(-1, 1, 9), np.linspace(-2, 2, 7)
    A, B = np.meshgrid(a, b)
    ax = V.slice_2d(a, b, A**2 + B**2).axes[0]
    assert ax.collections and _legend(ax) == ["θ (α = β = 0)"]
    with pytest.raises(ValueError, match=r"Z must have shape \(len\(y\), len\(x\)\) = \(7, 9\)"):
        V.slice_2d(a, b, (A**2).T)


def test_eigenvalue_bars_and_spectral_density():
    ax = V.eigenvalues([0.5, -0.25, 4.0]).axes[0]
    assert [float(p.get_height()) for p in ax.patches] == [4.0, 0.5, -0.25]
    assert "1 negative" in ax.get_title() and ax.get_ylabel() == "eigenvalue λᵢ"
    with pytest.raises(ValueError, match="needs positive eigenvalues"):
        V.eigenvalues([1.0, -1.0], log=True)
    with pytest.raises(ValueError, match="at least one eigenvalue"):
        V.eigenvalues([])
    ev = np.array([0.0, 0.0, 5.0])
    line = V.spectral_density(ev, sigma=0.5, n=201, log=False).axes[0].lines[0]
    x, d = line.get_xdata(), line.get_ydata()
    assert abs(np.sum(d) * (x[1] - x[0]) - 1.0) < 1e-3  # a density: integrates to 1
    assert d[np.argmin(np.abs(x))] == pytest.approx(2 / 3 / (0.5 * np.sqrt(2 * np.pi)), rel=1e-3)
    grid = np.linspace(0, 1, 5)
    given = V.spectral_density((grid, grid**2)).axes[0]
    np.testing.assert_allclose(given.lines[0].get_ydata(), grid**2)
    assert given.get_yscale() == "log"
    with pytest.raises(ValueError, match="grid and density must be 1-D of one length"):
        V.spectral_density((grid, grid[:3]))


def test_critical_points_are_marked_by_kind():
    saddle = type("Saddle", (), {})()
    saddle.value = lambda w: np.asarray(w)[..., 0] ** 2 - np.asarray(w)[..., 1] ** 2
    saddle.hessian = lambda w: np.diag([2.0, -2.0])
    saddle.limits = ((-1.0, 1.0), (-1.0, 1.0))
    saddle.name = "saddle"
    ax = V.critical_points(saddle, [[0.0, 0.0]], resolution=20).axes[0]
    assert _legend(ax) == ["saddle (1)"]

    class Classified:  # what ll.landscape.classify_critical_point reports
        kind, point = "minimum", np.zeros(2)

    ax = V.critical_points(BOWL, [Classified()], resolution=20).axes[0]
    assert _legend(ax) == ["minimum (1)"] and ax.get_title() == "Critical points of quadratic_bowl"
    ax = V.critical_points(BOWL, {"maximum": [[1.0, 1.0], [2.0, 2.0]]}, resolution=20).axes[0]
    assert _legend(ax) == ["maximum (2)"]
    with pytest.raises(ValueError, match="must be a 2-D location"):
        V.critical_points(BOWL, [[0.0, 0.0, 0.0]], resolution=10)


def test_training_summary_adds_fit_lines_or_the_decision_boundary():
    X, y = ll.data.linear(n=30, seed=0)
    m = ll.models.Linear(1)
    h = ll.train.fit(m, X, y, optimizer=ll.optim.sgd(lr=0.1), epochs=5, seed=0, progress=False)
    fig = V.training_summary(h, m, X, y, label="mse")
    assert [ax.get_title() for ax in fig.axes] == ["Loss per epoch", "Fitted lines"]
    line = next(ln for ln in fig.axes[1].lines if ln.get_label() == "mse")
    np.testing.assert_allclose(line.get_ydata(), m.apply(h.params, line.get_xdata()[:, None])[:, 0])
    Xc, yc = ll.data.two_blobs(n=30, seed=0)
    mc = ll.models.Logistic(2)
    hc = ll.train.fit(mc, Xc, yc, optimizer=ll.optim.adam(lr=0.1), epochs=5, seed=0, progress=False)
    titles = [ax.get_title() for ax in V.training_summary(hc, mc, Xc, yc).axes]
    assert titles[:2] == ["Loss per epoch", "Decision boundary"]
    X3 = np.column_stack([X, X, X])
    m3 = ll.models.Linear(3)
    h3 = ll.train.fit(m3, X3, y, optimizer=ll.optim.sgd(lr=0.01), epochs=2, seed=0, progress=False)
    assert len(V.training_summary(h3, m3, X3, y).axes) == 1  # 3-D data: the loss alone
    with pytest.raises(TypeError, match="history must be a History"):
        V.training_summary({"loss": [1.0]})
