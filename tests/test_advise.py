"""Loss advice: the curriculum's rules, measured data, the k-fold check, traits, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll
from losslab.losses._spec import TRAITS


def _traits(name):
    return ll.losses.get(name).info.traits


# --------------------------------------------------------------------------- traits


def test_traits_are_declared_or_derived_from_the_declaration():
    for name in ll.losses.names():
        info = ll.losses.get(name).info
        assert info.traits <= set(TRAITS), name
        assert ("robust" in info.traits) == info.robust, name
        assert ("convex" in info.traits) == info.convex, name
        assert ("accepts_logits" in info.traits) == ("from_logits" in ll.losses.get(name).params), name
    assert {"asymmetric", "bounded_influence", "robust"} <= _traits("quantile")
    assert "asymmetric" in _traits("asymmetric_mse") and "robust" not in _traits("asymmetric_mse")
    assert {"handles_imbalance", "needs_probabilities"} <= _traits("binary_focal")
    assert "reweightable" in _traits("binary_cross_entropy") and "handles_imbalance" not in _traits("mse")


def test_unknown_declared_trait_is_refused():
    with pytest.raises(ValueError, match="declares unknown traits \\['sparkly'\\]"):
        ll.losses._spec.ElementwiseLoss(
            "sparkly_loss",
            task="regression",
            value=lambda xp, p, t: (p - t) ** 2,
            grad=lambda xp, p, t: 2 * (p - t),
            info={"formula": "", "gradient": "", "traits": ("sparkly",)},
        )


# --------------------------------------------------------------------------- recommend


@pytest.mark.parametrize(
    ("options", "family"),
    [
        ({"task": "regression"}, {"mse"}),
        ({"task": "regression", "outliers": True}, {"robust"}),
        ({"task": "regression", "heavy_tails": True}, {"bounded_influence"}),
        ({"task": "regression", "asymmetric_cost": 3.0}, {"asymmetric"}),
        ({"task": "regression", "outliers": True, "asymmetric_cost": 3.0}, {"asymmetric", "robust"}),
        ({"task": "regression", "counts": True}, {"counts"}),
        ({"task": "binary"}, {"binary_cross_entropy"}),
        ({"task": "binary", "imbalance": 0.05}, {"handles_imbalance"}),
        ({"task": "multiclass", "n_classes": 4}, {"sparse_categorical_cross_entropy"}),
        ({"task": "multiclass", "class_counts": [500, 400, 20]}, {"handles_imbalance"}),
    ],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else "+".join(sorted(v)),
)
def test_recommend_follows_the_curriculum_rules(options, family):
    advice = ll.advise.recommend(**options)
    best = advice.ranked[0]
    assert best.loss in ll.losses.names(advice.task)
    assert family <= set(best.traits) | {best.loss}
    assert set(_traits(best.loss)) <= set(best.traits)
    assert best.reasons and all(r.source for r in best.reasons)
    assert best.optimizer.name in ll.optim.names() and best.optimizer.lr[0] < best.optimizer.lr[1]
    assert [c.score for c in advice.ranked] == sorted((c.score for c in advice.ranked), reverse=True)


def test_recommend_cites_the_rules_and_derives_parameters():
    advice = ll.advise.recommend(task="regression", outliers=True, residual_scale=2.0)
    assert [c.loss for c in advice.ranked[:2]] == ["huber", "mae"]
    huber = advice.ranked[0]
    assert huber.params == {"delta": pytest.approx(2.69)}
    sources = {r.source for r in huber.reasons}
    assert {"002 §8.1 decision tree", "001 §8.5 selection guide", "000 cheat-sheet", "measured"} <= sources
    assert advice.ranked[-1].loss == "mse" and advice.ranked[-1].score < 0
    quantile = ll.advise.recommend(task="regression", asymmetric_cost=3.0).ranked[0]
    assert (quantile.loss, quantile.params) == ("quantile", {"tau": 0.75})
    assert any("c_under / (c_under + c_over) = 0.75" in r.text for r in quantile.reasons)
    binary = ll.advise.recommend(task="binary", class_counts=[900, 100])
    focal, weighted = binary.ranked[:2]
    assert (focal.loss, focal.params) == ("binary_focal", {"gamma": 2.0, "alpha": 0.9})
    assert (weighted.loss, weighted.params) == ("binary_cross_entropy", {"pos_weight": 9.0})
    multi = ll.advise.recommend(task="multiclass", class_counts=[300, 100, 20])
    weights = next(c.params["class_weight"] for c in multi.ranked if "class_weight" in c.params)
    assert weights == pytest.approx([420 / 900, 420 / 300, 420 / 60], rel=1e-3)
    assert multi.ranked[0].schedule.name == "cosine_decay"
    assert ll.advise.recommend(task="binary", asymmetric_cost=4.0).ranked[0].params == {"pos_weight": 4.0}


def test_advice_renders_as_text_and_json():
    advice = ll.advise.recommend(task="binary", imbalance=0.05)
    text = advice.to_text()
    assert text.startswith("advice for a binary task (imbalance=0.05)")
    assert "1. binary_focal(gamma=2, alpha=0.95)" in text and "[002 §8.1 decision tree]" in text
    data = advice.to_dict()
    assert data["ranked"][0]["loss"] == "binary_focal" and data["ranked"][0]["optimizer"]["lr"] == [
        0.001,
        0.01,
    ]
    assert '"task": "binary"' in advice.to_json()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"task": "ranking"}, "task must be one of"),
        ({"task": "adversarial"}, "no rule recommends a loss for task 'adversarial'"),
        (
            {"task": "regression", "imbalance": 0.1},
            "imbalance describes classes; it contradicts task='regression'",
        ),
        (
            {"task": "binary", "outliers": True},
            "outliers describes regression targets; it contradicts task='binary'",
        ),
        ({"task": "multiclass", "asymmetric_cost": 2.0}, "contradicts task='multiclass'"),
        ({"task": "binary", "imbalance": 0.9}, "imbalance must be in"),
        (
            {"task": "binary", "imbalance": 0.3, "class_counts": [90, 10]},
            "imbalance=0.3 contradicts class_counts",
        ),
        ({"task": "regression", "asymmetric_cost": -1.0}, "asymmetric_cost must be > 0"),
        (
            {"task": "regression", "counts": True, "asymmetric_cost": 2.0},
            "counts and asymmetric_cost together",
        ),
        ({"task": "binary", "n_classes": 3}, "task='binary' has 2 classes"),
    ],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_recommend_rejects_bad_or_contradictory_options(options, message):
    with pytest.raises(ValueError, match=message):
        ll.advise.recommend(**options)


# --------------------------------------------------------------------------- from data


def _regression(n=120, outlier_share=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = X @ np.array([1.5, -2.0]) + 0.5 + rng.normal(0.0, 0.5, n)
    k = int(round(outlier_share * n))
    y[:k] += 25.0
    return X, y


def test_from_data_with_known_outliers_recommends_the_robust_family():
    X, y = ll.data.outliers()  # the 002 lab: 5 gross outliers among 50 points
    advice = ll.advise.from_data(X, y)
    assert advice.task == "regression" and advice.profile["n_outliers"] == 5
    assert advice.profile["residual_scale"] == pytest.approx(1.5, rel=0.1)  # the lab's noise sigma
    best = advice.ranked[0]
    assert "robust" in _traits(best.loss)
    assert best.params["delta"] == pytest.approx(1.345 * advice.profile["residual_scale"], rel=1e-3)
    assert any(r.source == "measured" and "robust z-score" in r.text for r in best.reasons)
    clean = ll.advise.from_data(*_regression())
    assert clean.ranked[0].loss == "mse" and clean.profile["outlier_share"] < 0.01


def test_from_data_on_imbalanced_data_recommends_focal_or_weighted():
    X, y = ll.data.imbalanced(n=400, positive_fraction=0.05, seed=1)
    advice = ll.advise.from_data(X, y)
    assert advice.task == "binary" and advice.profile["class_counts"] == [380, 20]
    best = advice.ranked[0]
    assert "handles_imbalance" in _traits(best.loss) or "pos_weight" in best.params
    balanced = ll.advise.from_data(*ll.data.two_blobs(n=200, seed=0))
    assert balanced.ranked[0].loss == "binary_cross_entropy" and not balanced.ranked[0].params


def test_from_data_with_an_asymmetric_cost_recommends_the_asymmetric_family():
    advice = ll.advise.from_data(*_regression(), asymmetric_cost=3.0)
    best = advice.ranked[0]
    assert "asymmetric" in _traits(best.loss) and best.params == {"tau": 0.75}


def test_from_data_measures_labels_and_infers_tasks():
    X = np.repeat(np.arange(20.0)[:, None], 3, axis=0)
    y = np.tile([0.0, 0.0, 1.0], 20)  # every feature row appears with both labels
    stats = ll.advise.profile(X, y)
    assert stats["task"] == "binary" and stats["duplicate_share"] == 1.0 and stats["ambiguous_share"] == 1.0
    advice = ll.advise.from_data(X, y)
    assert any("label_smoothing" in c.params for c in advice.ranked[:2])
    rng = np.random.default_rng(0)
    Xm = rng.normal(size=(60, 2))
    assert ll.advise.profile(Xm, np.arange(60) % 3)["task"] == "multiclass"
    counts = ll.advise.from_data(Xm, rng.poisson(3.0, 60) + 3 * (np.arange(60) % 2))
    assert counts.profile["counts"] and counts.ranked[0].loss == "poisson_nll"
    gaussian = ll.advise.profile(*_regression())
    assert abs(gaussian["skew"]) < 0.5 and abs(gaussian["excess_kurtosis"]) < 3 * (24 / 120) ** 0.5
    X, y = _regression(n=400, seed=1)
    y = y + np.random.default_rng(1).exponential(2.0, 400)  # skewed, heavy-tailed noise
    tails = ll.advise.from_data(X, y)
    assert tails.profile["skew"] > 1 and tails.profile["excess_kurtosis"] > 1
    assert "bounded_influence" in tails.ranked[0].traits
    assert any(note.startswith("residual skewness") for note in tails.notes)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((np.ones((5, 2)), np.ones(5)), {}, ValueError, "need at least 10 samples"),
        ((np.ones((12, 2)), np.ones(11)), {}, ValueError, r"y must hold one target per row of X \(12\)"),
        ((np.full((12, 2), np.nan), np.ones(12)), {}, ValueError, "finite numbers"),
        ((np.ones((12, 2)), np.array(["a"] * 12)), {}, TypeError, "numeric arrays"),
        ((np.ones((12, 2)), np.arange(12.0)), {"task": "binary"}, ValueError, "needs 2 distinct labels"),
        ((np.ones((12, 2)), np.arange(12.0)), {"task": "segmentation"}, ValueError, "task must be one of"),
    ],
    ids=["few", "length", "nan", "strings", "binary-labels", "task"],
)
def test_from_data_bad_inputs(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        ll.advise.from_data(*args, **kwargs)


# --------------------------------------------------------------------------- verify


def test_verify_is_reproducible_and_reports_the_comparison():
    X, y = ll.data.outliers()
    first = ll.advise.from_data(X, y, verify=True, seed=3, folds=3, epochs=60, top=2)
    again = ll.advise.from_data(X, y, verify=True, seed=3, folds=3, epochs=60, top=2)
    v = first.verification
    assert v == again.verification
    assert v["metric"] == "MAE" and v["folds"] == 3 and v["model"] == "Linear"
    assert [c["loss"] for c in v["candidates"]] == ["huber", "mae", "mse"]  # top 2 plus the baseline
    assert all(len(c["scores"]) == 3 and np.isfinite(c["scores"]).all() for c in v["candidates"])
    assert any(r.source == "verified" for r in first.ranked[0].reasons)
    other = ll.advise.from_data(X, y, verify=True, seed=4, folds=3, epochs=60, top=2).verification
    assert other["candidates"][0]["scores"] != v["candidates"][0]["scores"]


def test_verify_reranks_when_the_evidence_contradicts_the_rule():
    X, y = _regression(n=150, outlier_share=0.1)
    advice = ll.advise.recommend("regression", outliers=True, residual_scale=0.5)
    mse = next(c for c in advice.ranked if c.loss == "mse")
    advice.ranked = [mse] + [c for c in advice.ranked if c is not mse]  # a rule that picks MSE here
    ll.advise.verify(advice, X, y, seed=0, folds=3, epochs=80, top=2)
    assert advice.verification["contradicts"] is True
    assert advice.ranked[0].loss != "mse"
    assert any(n.startswith("the held-out evidence contradicts the rule") for n in advice.notes)


def test_verify_on_imbalanced_classes_ranks_consistently_with_its_scores():
    X, y = ll.data.imbalanced(n=400, positive_fraction=0.05, seed=2)
    advice = ll.advise.from_data(X, y, verify=True, seed=0, folds=3, epochs=60, top=2)
    v = advice.verification
    assert v["metric"] == "F1 of the minority class" and v["model"] == "Logistic"
    assert {c["label"] for c in v["candidates"]} == {"focal loss", "weighted BCE", "binary_cross_entropy"}
    means = {c["label"]: c["mean"] for c in v["candidates"]}
    best = max(means, key=means.get)
    if v["contradicts"]:
        assert advice.ranked[0].label == best and "contradicts the rule" in advice.notes[-1]
    else:
        assert advice.ranked[0].label == "focal loss"


def test_verify_bad_inputs():
    X, y = ll.data.imbalanced(n=40, positive_fraction=0.05, seed=0)
    with pytest.raises(ValueError, match="every class needs at least 5 samples for 5 folds"):
        ll.advise.from_data(X, y, verify=True)
    with pytest.raises(ValueError, match="folds must be >= 2"):
        ll.advise.from_data(*_regression(), verify=True, folds=1)
