"""The generic figures of ``ll.viz.experiments``: series and grouped bars."""

import math

import numpy as np
import pytest

import losslab as ll


def test_series_shared_x_own_x_points_and_nonfinite():
    fig = ll.viz.series(
        {"run": [1.0, 0.5, math.inf, 2.0], "theory": ([0, 1, 2], [1.0, 2.0, 3.0]), "measured": ([1], [2.5])},
        x=[10, 20, 30, 40],
        points=["measured"],
    )
    run, theory, measured = fig.axes[0].lines
    assert run.get_label() == "run (non-finite from x=30)"
    np.testing.assert_array_equal(run.get_xdata(), [10, 20, 40])
    np.testing.assert_array_equal(theory.get_ydata(), [1.0, 2.0, 3.0])
    assert measured.get_linestyle() == "None" and measured.get_marker() == "o"


def test_series_log_drops_nonpositive():
    fig = ll.viz.series({"g": [0.0, 1.0, 10.0]}, log=True)
    assert fig.axes[0].get_yscale() == "log"
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [1.0, 10.0])


@pytest.mark.parametrize(
    ("curves", "kwargs", "error", "match"),
    [
        ([1, 2], {}, TypeError, "curves must be a mapping"),
        ({}, {}, ValueError, "at least one curve"),
        ({"a": [1, 2]}, {"x": [1, 2, 3]}, ValueError, "a has 2 values but 3 x positions"),
        ({"a": [1, 2]}, {"points": ["b"]}, ValueError, "points names"),
        ({"a": [[1, 2]]}, {}, ValueError, "a must be a non-empty 1-D"),
        ({"a": [1]}, {"log": "yes"}, TypeError, "log"),
    ],
    ids=["not-mapping", "empty", "x-length", "unknown-point", "2-d", "bad-log"],
)
def test_series_rejects_bad_input(curves, kwargs, error, match):
    with pytest.raises(error, match=match):
        ll.viz.series(curves, **kwargs)


def test_bars_groups_variants_and_errors():
    fig = ll.viz.bars(
        {"recall": {"bce": 0.2, "focal": 0.6}, "F1": {"focal": 0.5}},
        errors={"recall": {"bce": 0.05}},
    )
    ax = fig.axes[0]
    heights = [round(p.get_height(), 3) for p in ax.patches]
    assert heights == [0.2, 0.6, 0.5]  # bce's bars, then focal's (one colour per variant)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["recall", "F1"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["bce", "focal"]
    assert ax.patches[0].get_facecolor() != ax.patches[1].get_facecolor()
    assert ax.patches[1].get_facecolor() == ax.patches[2].get_facecolor()


@pytest.mark.parametrize(
    ("groups", "match"),
    [({}, "groups must be a non-empty mapping"), ({"a": {}}, "group 'a' must be a non-empty")],
    ids=["empty", "empty-group"],
)
def test_bars_rejects_bad_input(groups, match):
    with pytest.raises(ValueError, match=match):
        ll.viz.bars(groups)
