"""The experiments catalog: every registered experiment runs, its verdict follows from its metrics,
and its counterfactual (data or parameters that break the claim) changes the verdict."""

import functools
import json
import math
import re

import numpy as np
import pytest

import losslab as ll
from losslab._core.registry import Registry
from losslab.experiments import Claim, Criterion, Experiment, Outcome, Qualifier, Table, VerdictRule

NAMES = ll.experiments.names()
OWN = ["loss-zoo", "robust-regression", "class-imbalance", "ce-vs-mse"]


@functools.cache
def quick_run(name):
    return ll.experiments.run(name, seed=0, quick=True)


def _verdict_form(verdict):
    return verdict in ("holds", "does not hold") or (
        verdict.startswith("holds only when ") and len(verdict) > len("holds only when ") + 5
    )


# --------------------------------------------------------------------------- every experiment


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_verdict_follows_from_metrics(name):
    r = quick_run(name)
    exp = ll.experiments.get(name)
    assert r.name == name and r.quick and r.seed == 0
    assert r.metrics and all(isinstance(v, float) and math.isfinite(v) for v in r.metrics.values())
    assert set(exp.rule.metrics_used()) <= set(r.metrics)
    assert _verdict_form(r.verdict)
    assert (r.verdict, r.verdict_reason) == exp.rule.decide(r.metrics)
    # the reason shows the number behind every criterion
    for c in exp.rule.criteria:
        assert c.metric in r.verdict_reason
    assert r.tables and all(isinstance(t, Table) and t.rows for t in r.tables)
    json.dumps(r.to_dict())  # JSON-ready


@pytest.mark.parametrize("name", NAMES)
def test_counterfactual_changes_the_verdict(name):
    exp = ll.experiments.get(name)
    base = quick_run(name)
    flipped = ll.experiments.run(name, seed=0, quick=True, **exp.counterfactual)
    assert flipped.params != base.params
    assert flipped.verdict != base.verdict, (
        f"{name}: the counterfactual {dict(exp.counterfactual)} left the verdict at {base.verdict!r}"
    )
    assert (flipped.verdict, flipped.verdict_reason) == exp.rule.decide(flipped.metrics)


@pytest.mark.parametrize("name", NAMES)
def test_declaration_is_complete(name):
    exp = ll.experiments.get(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
    assert isinstance(exp.claim, Claim) and len(exp.claim.quote) > 20
    assert re.fullmatch(r"\d{3}_[0-9a-f]+\.txt", exp.claim.source)
    assert exp.claim.section and exp.claim.citation.startswith(exp.claim.source[:3] + " ")
    exp.setup.format(**exp.defaults)  # every field of the set-up names a parameter
    assert set(exp.quick) <= set(exp.defaults) and set(exp.counterfactual) <= set(exp.defaults)


def test_same_seed_same_metrics_and_seed_matters():
    a = ll.experiments.run("batch-size-lr", seed=3, quick=True)
    b = ll.experiments.run("batch-size-lr", seed=3, quick=True)
    assert a.metrics == b.metrics
    assert a.metrics != quick_run("batch-size-lr").metrics


# --------------------------------------------------------------------------- registry and run


def test_names_in_tour_order_and_own_experiments_registered():
    assert set(OWN) <= set(NAMES)
    orders = [ll.experiments.get(n).order for n in NAMES]
    assert orders == sorted(orders)


def test_get_accepts_underscores_and_any_case():
    assert ll.experiments.get("Robust_Regression") is ll.experiments.get("robust-regression")


def test_unknown_experiment_names_close_matches():
    with pytest.raises(
        ValueError, match=r"unknown experiment 'robust-regresion'\. Did you mean robust-regression\?"
    ):
        ll.experiments.get("robust-regresion")
    with pytest.raises(TypeError, match="get: the experiment name must be a string, got 3"):
        ll.experiments.get(3)


def test_unknown_override_and_bad_seed_raise():
    with pytest.raises(
        TypeError, match=r"robust-regression has no parameter\(s\) deltta; valid parameters: "
    ):
        ll.experiments.run("robust-regression", quick=True, deltta=1.0)
    with pytest.raises(TypeError, match="experiments.run: seed must be an integer"):
        ll.experiments.run("loss-zoo", seed=1.5)
    with pytest.raises(ValueError, match="experiments.run: seed must be >= 0"):
        ll.experiments.run("loss-zoo", seed=-1)
    with pytest.raises(TypeError, match="experiments.run: quick must be True or False"):
        ll.experiments.run("loss-zoo", quick="yes")


def test_overrides_reach_the_parameters_and_setup():
    r = ll.experiments.run("loss-zoo", delta=0.5)
    assert r.params["delta"] == 0.5 and "delta = 0.5" in r.setup
    assert r.metrics["huber_max_grad"] == 0.5


# --------------------------------------------------------------------------- the verdict rule


M = {"gain": 0.3, "gain_sem": 0.1, "auc_gain": 0.0}


def test_criterion_with_spread_needs_the_whole_interval():
    assert Criterion("gain", ">", 0.15, spread="gain_sem").passes(M)  # 0.3 - 0.1 > 0.15
    assert not Criterion("gain", ">", 0.25, spread="gain_sem").passes(M)  # 0.2 < 0.25
    assert Criterion("gain", ">", 0.25).passes(M)
    assert Criterion("gain", "<", 0.45, spread="gain_sem").passes(M)
    assert not Criterion("gain", "<=", 0.35, spread="gain_sem").passes(M)
    text = Criterion("gain", ">", 0.25, spread="gain_sem", meaning="recall up").describe(M)
    assert text == "gain (recall up) = 0.3 ± 0.1 > 0.25: no"


def test_rule_holds_narrows_and_fails():
    rule = VerdictRule(
        criteria=(Criterion("gain", ">", 0.1),),
        qualifiers=(Qualifier(Criterion("auc_gain", ">", 0.01), only_when="the threshold stays at 0.5"),),
    )
    verdict, reason = rule.decide(M)
    assert verdict == "holds only when the threshold stays at 0.5"
    assert reason == "gain = 0.3 > 0.1: yes; auc_gain = 0 > 0.01: no"
    assert rule.decide({**M, "auc_gain": 0.05})[0] == "holds"
    assert rule.decide({**M, "gain": 0.05}) == ("does not hold", "gain = 0.05 > 0.1: no")


def test_rule_refuses_missing_or_non_finite_metrics():
    rule = VerdictRule(criteria=(Criterion("gain", ">", 0.1, spread="gain_std"),))
    with pytest.raises(ValueError, match="the rule needs metric 'gain_std', which the run did not compute"):
        rule.decide(M)
    with pytest.raises(ValueError, match="metric 'gain' is nan, so no verdict can be computed"):
        VerdictRule(criteria=(Criterion("gain", ">", 0.1),)).decide({"gain": float("nan")})
    with pytest.raises(ValueError, match="Criterion: op must be one of"):
        Criterion("gain", "=>", 0.1)
    with pytest.raises(ValueError, match="VerdictRule: criteria must name at least one comparison"):
        VerdictRule(criteria=())


def _toy(**changes):
    spec = dict(
        name="toy",
        title="toy",
        claim=Claim("a quoted claim long enough", "002_21da411b06e8b2bb.txt", "Section 1"),
        setup="scale {scale}",
        defaults={"scale": 1.0},
        compute=lambda params, seed: Outcome(
            {"gain": params["scale"]}, [Table("t", ["a"], [[np.float64(1)]])]
        ),
        rule=VerdictRule(criteria=(Criterion("gain", ">", 0.5),)),
        counterfactual={"scale": 0.0},
    )
    spec.update(changes)
    return Experiment(**spec)


def test_experiment_declaration_checks():
    with pytest.raises(ValueError, match="declare a counterfactual"):
        _toy(counterfactual={})
    with pytest.raises(ValueError, match=r"quick names unknown parameter\(s\) size; parameters: scale"):
        _toy(quick={"size": 3})
    r = _toy().run()
    assert r.verdict == "holds" and _toy().run(scale=0.2).verdict == "does not hold"
    assert r.tables[0].rows == [[1.0]] and type(r.tables[0].rows[0][0]) is float
    assert r.figures == {}
    with pytest.raises(ValueError, match=r"Table 't': each row needs 1 cells, got 2"):
        Table("t", ["a"], [[1, 2]])


def test_seed_helpers():
    assert ll.experiments.seed_list(0, 3) == ll.experiments.seed_list(0, 3)
    assert len(set(ll.experiments.seed_list(0, 5))) == 5
    assert ll.experiments.seed_list(1, 2) != ll.experiments.seed_list(0, 2)
    assert ll.experiments.mean_std([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))
    assert ll.experiments.mean_sem([1.0, 3.0]) == (2.0, pytest.approx(1.0))
    assert ll.experiments.mean_std([4.0]) == (4.0, 0.0)


# --------------------------------------------------------------------------- the registry helper


def test_registry_helper_one_message():
    reg = Registry("widget", separator="-")
    reg.register("big-one", 1)
    with pytest.raises(ValueError, match="register: a widget named 'big-one' is already registered"):
        reg.register("Big_One", 2)
    with pytest.raises(
        ValueError, match=r"^unknown widget 'big-on'\. Did you mean big-one\? Valid names: big-one$"
    ):
        reg.get("big-on")
    with pytest.raises(TypeError, match="register: a widget name must be a non-empty string"):
        reg.register("  ", 3)
    with pytest.raises(ValueError, match="Registry: separator must be"):
        Registry("widget", separator=".")
    assert "BIG_ONE" in reg and len(reg) == 1 and reg.items() == [("big-one", 1)]


# --------------------------------------------------------------------------- what the experiments found


def test_robust_regression_reruns_the_lab_and_corrects_its_print():
    r = quick_run("robust-regression")
    lab = r.tables[1]
    computed = {row[0]: (row[3], row[5]) for row in lab.rows}
    # the lab's own loop (GD from 0, 2000 epochs) gives these, not the printed 2.31x + 3.87 etc.
    assert computed == {"mse": (2.16, 2.21), "mae": (1.97, 2.78), "huber": (1.97, 2.69)}
    assert r.metrics["lab_max_deviation"] == pytest.approx(1.66)
    assert r.metrics["line_error_mse"] > r.metrics["line_error_huber"]


def test_class_imbalance_curriculum_focal_lowers_recall():
    r = quick_run("class-imbalance")
    # the curriculum's FocalLoss (alpha = 0.25 on positives) lowers minority recall at 0.5 ...
    assert r.metrics["recall_focal"] < r.metrics["recall_bce"]
    # ... class weights raise it, and no loss changes the ranking much
    assert r.metrics["recall_weighted_bce"] > r.metrics["recall_bce"] + 0.3
    aucs = [r.metrics[f"pr_auc_{k}"] for k in ("bce", "weighted_bce", "focal")]
    assert max(aucs) - min(aucs) < 0.02


def test_ce_vs_mse_gradient_values():
    r = quick_run("ce-vs-mse")
    p = 1 / (1 + math.exp(6.0))
    assert r.metrics["grad_mse_at_wrong"] == pytest.approx(2 * (1 - p) * p * (1 - p), rel=1e-12)
    assert r.metrics["grad_ce_at_wrong"] == pytest.approx(1 - p, rel=1e-12)
