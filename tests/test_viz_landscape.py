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


# --------------------------------------------------------------------------- with ll.landscape's results


def _trained_mlp():
    rng = np.random.default_rng(0)
    model = ll.models.MLP([2, 4, 1], activation="tanh")
    X = rng.normal(size=(30, 2))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    h = ll.train.fit(model, X, y, optimizer=ll.optim.adam(lr=0.05), epochs=30, seed=0, progress=False)
    return model, model.objective(X, y, loss="mse"), h.params, X, y


def test_slices_of_a_network_draw_the_landscape_values():
    model, obj, params, X, y = _trained_mlp()
    d1 = ll.landscape.random_direction(params, seed=1)
    d2 = ll.landscape.random_direction(params, seed=2)
    a, b = np.linspace(-1, 1, 9), np.linspace(-0.5, 0.5, 5)
    values = ll.landscape.slice_1d(obj, params, d1, a)
    ax = V.slice_1d(a, values).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), values)
    assert values[4] == pytest.approx(obj.value(params), rel=1e-12)  # alpha = 0: the parameters
    s = ll.landscape.slice_metrics(obj, params, [d1], a, test=model.objective(X + 0.1, y, loss="mse"))
    ax = V.slice_1d(s).axes[0]
    assert _legend(ax) == ["train", "test"] and ax.lines[1].get_linestyle() == "--"
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), s.test_loss)
    Z = ll.landscape.slice_2d(obj, params, d1, d2, a, b)
    ax = V.slice_2d(a, b, Z).axes[0]
    assert ax.collections and ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (-0.5, 0.5)
    s2 = ll.landscape.slice_metrics(obj, params, [d1, d2], a, b)
    assert V.slice_2d(s2).axes[0].collections
    with pytest.raises(ValueError, match="the slice is 2-D"):
        V.slice_1d(s2)
    with pytest.raises(ValueError, match="the slice is 1-D"):
        V.slice_2d(s)
    with pytest.raises(TypeError, match="values is required"):
        V.slice_1d(a)


def test_spectrum_figures_of_a_network_hessian():
    _, obj, params, _, _ = _trained_mlp()
    sd = ll.landscape.spectral_density(obj, params, n_probes=2, lanczos_steps=10, grid=64)
    line = V.spectral_density(sd).axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), sd.grid)
    np.testing.assert_array_equal(line.get_ydata(), sd.density)
    values, _ = ll.landscape.hessian_eigs(obj, params, k=4)
    dense = np.linalg.eigvalsh(ll.landscape.hessian_matrix(obj, params))
    np.testing.assert_allclose(values, dense[::-1][:4], rtol=1e-8, atol=1e-10)
    ax = V.eigenvalues(values).axes[0]
    assert [float(p.get_height()) for p in ax.patches] == sorted(values.tolist(), reverse=True)


def test_critical_points_of_the_test_functions_and_of_the_search():
    camel = ll.landscape.functions.get("six_hump_camel")
    ax = V.critical_points(camel, resolution=30).axes[0]  # the function's own list
    counts = {k: sum(cp.kind == k for cp in camel.critical_points) for k in ("minimum", "maximum", "saddle")}
    assert (
        _legend(ax)
        == [f"{k} ({n})" for k, n in counts.items()]
        == ["minimum (6)", "maximum (2)", "saddle (7)"]
    )
    saddle_line = next(ln for ln in ax.lines if ln.get_label() == "saddle (7)")
    expected = np.stack([cp.point for cp in camel.critical_points if cp.kind == "saddle"])
    np.testing.assert_allclose(saddle_line.get_xdata(), expected[:, 0])
    himmelblau = ll.landscape.functions.get("himmelblau")
    starts = np.array([[3.0, 2.0], [-0.3, -0.9], [-2.8, 3.1]])
    found = ll.landscape.find_critical_points(himmelblau, starts)
    classified = [ll.landscape.classify_critical_point(himmelblau, r.point) for r in found]
    kinds = sorted(r.kind for r in classified)
    ax = V.critical_points(himmelblau, classified, resolution=30).axes[0]
    assert sorted(_legend(ax)) == sorted(f"{k} ({kinds.count(k)})" for k in set(kinds))
    assert "maximum (1)" in _legend(ax)  # himmelblau's maximum near (-0.27, -0.92)


def test_paths_and_convergence_of_a_landscape_race():
    fn = ll.landscape.functions.get("quadratic_bowl")
    runs = ll.landscape.race(fn, {"gd": ll.optim.sgd(lr=0.3), "adam": ll.optim.adam(lr=0.25)}, steps=30)
    gd, adam = runs
    assert gd.diverged and gd.diverged_step is not None and adam.lr == 0.25
    ax = V.paths(fn, runs, resolution=30).axes[0]
    assert _legend(ax)[:2] == [f"gd (lr=0.3) — diverged at step {gd.diverged_step}", "adam (lr=0.25)"]
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), adam.path[:, 1])  # gd's line, its cross, adam
    ax = V.convergence(runs, quantity="grad_norm").axes[0]
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), np.maximum(adam.grad_norms, 0))
    assert ax.get_title() == "Gradient norm per step" and ax.get_ylabel().endswith("(log scale)")
    with pytest.raises(ValueError, match="quantity"):
        V.convergence(runs, quantity="distance")
