"""The landscape experiments: their numbers, beyond the catalog's generic verdict checks."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import losslab as ll


@functools.cache
def quick(name, **overrides):
    return ll.experiments.run(name, seed=0, quick=True, **overrides)


def test_optimizer_race_momentum_needs_a_narrow_ravine():
    r = quick("optimizer-race")
    m = r.metrics
    assert m["forms_gap"] < 1e-9  # the curriculum's three momentum forms are one method
    assert m["speedup_high"] > 2 and m["speedup_low"] < 1
    assert r.verdict.startswith("holds only when the ravine is narrow")
    # gradient descent at lr = 1/kappa: the slow eigen-direction shrinks by 1 - 1/kappa per step
    kappa, start = r.params["condition_high"], 3.5
    gap = 0.5 * (start * (1 - 1 / kappa) ** np.arange(5000)) ** 2  # the fast direction is solved at step 1
    assert m["gd_steps_high"] == int(np.argmax(gap < 1e-6)) == 387


def test_saddle_escape_numbers():
    r = quick("saddle-escape")
    m = r.metrics
    assert m["gd_escape_fraction"] == 0 and m["momentum_escape_fraction"] == 0
    assert m["gd_distance_to_saddle"] < 1e-12
    assert m["noisy_escape_fraction"] == 1.0 and r.verdict == "holds"
    assert abs(m["shelf_gd_final"]) < 0.1 and m["shelf_noisy_pass_fraction"] > 0.5
    assert quick("saddle-escape", dim=5).metrics["noisy_escape_fraction"] == 1.0


def test_momentum_rate_map_measures_the_closed_forms():
    r = quick("momentum-rate-map")
    m = r.metrics
    assert m["max_rel_error"] < 0.03 and r.verdict == "holds"
    assert m["theory_momentum_rate"] <= m["best_momentum_rate"] < m["best_gd_rate"]
    assert m["theory_gd_rate"] == pytest.approx(99 / 101)
    assert m["best_gd_rate"] >= m["theory_gd_rate"] - 1e-9


def test_loss_surfaces_ridges_and_the_bowl():
    r = quick("loss-surfaces")
    m = r.metrics
    assert m["mse_curvature_spread"] < 1e-9 and m["mse_flat_share"] == 0.0
    assert m["robust_flat_share"] > 0.3 and r.verdict == "holds"
    spacing = np.hypot(5.5 / 60, 6.0 / 60)
    assert m["mse_minimum_offset"] <= spacing
    assert m["ce_change_at_origin"] == pytest.approx(np.logaddexp(0.0, 2.0) - 1.0 - np.log(2.0), rel=1e-12)
