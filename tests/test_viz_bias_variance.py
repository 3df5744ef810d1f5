"""ll.viz.bias_variance: the decomposition's curves carry ll.data.bias_variance's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import losslab as ll


def _data(rng, X=None):
    X = rng.uniform(-1.0, 1.0, size=(25, 1)) if X is None else X
    return X, np.sin(3.0 * X[:, 0]) + rng.normal(0.0, 0.3, size=len(X))


def _poly(degree):
    def factory(X, y):
        coef = np.polyfit(X[:, 0], y, degree)
        return lambda Xq: np.polyval(coef, Xq[:, 0])

    return factory


@pytest.fixture(scope="module")
def runs():
    return {d: ll.data.bias_variance(_poly(d), _data, n_draws=30, n_targets=60, seed=0) for d in (9, 1, 3)}


def test_curves_hold_the_decomposition_in_complexity_order(runs, tmp_path):
    fig = ll.viz.bias_variance(runs, xlabel="polynomial degree", log_y=False)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    degrees = [1, 3, 9]
    for label, attr in [("bias²", "bias2"), ("variance", "variance"), ("noise", "noise")]:
        np.testing.assert_array_equal(lines[label].get_xdata(), degrees)
        np.testing.assert_allclose(lines[label].get_ydata(), [getattr(runs[d], attr) for d in degrees])
    total = lines["bias² + variance + noise"].get_ydata()
    np.testing.assert_allclose(total, [runs[d].total for d in degrees], rtol=1e-12)
    # the measured error's bars (± 2 SE) cover the sum: 000's decomposition, drawn
    measured = [runs[d].expected_error for d in degrees]
    se = [runs[d].error_se for d in degrees]
    assert all(abs(t - m) <= 3.0 * s for t, m, s in zip(total, measured, se))
    # the trade-off the figure shows: bias falls and variance rises with the degree
    bias, var = lines["bias²"].get_ydata(), lines["variance"].get_ydata()
    assert bias[0] > bias[1] and var[2] > var[1]
    assert ax.get_xlabel() == "polynomial degree" and ax.get_ylim()[0] == 0.0
    ll.viz.save(fig, tmp_path / "bv.png")
    assert (tmp_path / "bv.png").stat().st_size > 5000


def test_labels_are_evenly_spaced_and_axes_are_reused(runs):
    from matplotlib.figure import Figure as F

    host = F()
    ax = host.add_subplot()
    fig = ll.viz.bias_variance({"ridge 1": runs[1], "ridge 9": runs[9]}, ax=ax, log_y=True)
    assert fig is host and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ridge 1", "ridge 9"]
    # by default, a log scale only where the values span more than a factor 30
    spread = max(runs[9].expected_error, runs[9].total) > 30 * min(runs[1].noise, runs[3].variance)
    assert (ll.viz.bias_variance(runs).axes[0].get_yscale() == "log") == spread


@pytest.mark.parametrize(
    ("results", "error", "match"),
    [
        ({}, ValueError, "results must be a non-empty mapping"),
        ([1, 2], ValueError, "results must be a non-empty mapping"),
        ({1: 0.5}, TypeError, r"results\[1\] must be a BiasVariance"),
    ],
    ids=["empty", "list", "not-a-result"],
)
def test_bad_results_are_named(results, error, match):
    with pytest.raises(error, match=match):
        ll.viz.bias_variance(results)


def test_bad_axes_are_named(runs):
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        ll.viz.bias_variance(runs, ax="left")
