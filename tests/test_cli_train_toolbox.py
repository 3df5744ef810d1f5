"""``losslab train``'s toolbox options against the library calls they stand for.

Each command line is run through Typer's runner with ``--json`` and compared with the same fit done
through the public API (same data, model, seed): the command adds no arithmetic of its own.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app
from losslab.cli._train_options import read_class_weight, read_curriculum, read_dropout, read_regularizer

runner = CliRunner()


def train_json(*args: str) -> dict:
    result = runner.invoke(app, ["train", "--no-progress", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def library_fit(data, kind, *, epochs, hidden=(16, 16), resample=None, seed=0, **fit_kw):
    """What the command does, through the public API: returns (model, params, X, y, history)."""
    info = ll.data.info(data)
    X, y = info.make()
    dropout = fit_kw.pop("dropout", 0.0)
    init = fit_kw.pop("init", None)
    net = ll.train.make_model(kind, X, y, task=info.task, hidden=hidden, dropout=dropout, init=init)
    X_fit, y_fit = (X, y) if resample is None else ll.data.resample(X, y, method=resample, seed=seed)
    history = ll.train.fit(
        net,
        X_fit,
        y_fit,
        loss=ll.train.default_loss(info.task),
        optimizer=ll.optim.adam(lr=0.05),
        epochs=epochs,
        seed=seed,
        progress=False,
        **fit_kw,
    )
    return net, history, X, y, X_fit


# --------------------------------------------------------------------------- option readers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("l2=1e-3", {"l2_regularizer": {"strength": 1e-3}}),
        ("L1=0.5", {"l1_regularizer": {"strength": 0.5}}),
        ("elastic_net=1e-3,1e-2", {"elastic_net": {"l1_strength": 1e-3, "l2_strength": 1e-2}}),
        ("l1=0.1+l2=0.2", {"l1_regularizer": {"strength": 0.1}, "l2_regularizer": {"strength": 0.2}}),
    ],
    ids=["none", "l2", "l1-upper", "elastic-net", "l1+l2"],
)
def test_read_regularizer(text, expected):
    assert read_regularizer(text) == expected


def test_read_dropout_and_class_weight():
    assert read_dropout(None) == 0.0 and read_dropout("0.2") == 0.2 and read_dropout("0.2,0.1") == [0.2, 0.1]
    assert read_class_weight("balanced") == "balanced"
    assert read_class_weight("0=1,1=9") == {0: 1.0, 1: 9.0}
    assert read_class_weight(" ") is None
    assert read_curriculum("self_paced") == {"self_paced": {"regime": "hard"}}
    assert read_curriculum("self_paced_linear=0.5,1.5") == {
        "self_paced": {"regime": "linear", "threshold": 0.5, "growth": 1.5}
    }


def test_self_paced_curriculum_matches_the_library_fit():
    out = train_json("--curriculum", "self_paced=2.0,1.5", "--epochs", "8")
    spec = {"self_paced": {"regime": "hard", "threshold": 2.0, "growth": 1.5}}
    _, history, *_ = library_fit("outliers", "linear", epochs=8, curriculum=spec)
    assert out["curriculum"] == spec
    assert out["curriculum_fraction"] == pytest.approx(history.epochs["curriculum_fraction"], rel=1e-12)
    assert out["final_loss"] == pytest.approx(history.epochs["loss"][-1], rel=1e-12)
    # easy samples first: the admitted share grows with the threshold 2 * 1.5**e
    fractions = out["curriculum_fraction"]
    assert fractions[0] < 1.0 and all(a <= b for a, b in zip(fractions, fractions[1:]))


# --------------------------------------------------------------------------- runs against the library


def test_regularizer_and_dropout_match_the_library_fit():
    out = train_json(
        "--model", "mlp", "--hidden", "8", "--regularizer", "l2=1e-3", "--dropout", "0.2", "--epochs", "15"
    )
    net, history, X, y, _ = library_fit(
        "outliers",
        "mlp",
        hidden=(8,),
        epochs=15,
        dropout=0.2,
        regularizer={"l2_regularizer": {"strength": 1e-3}},
    )
    assert out["regularizer"] == {"l2_regularizer": {"strength": 1e-3}} and out["dropout"] == 0.2
    assert out["final_loss"] == pytest.approx(history.epochs["loss"][-1], rel=1e-12)
    assert out["final_penalty"] == pytest.approx(history.epochs["penalty"][-1], rel=1e-12)
    # the penalty is 1e-3 * sum of squared weights (biases excluded) at the last epoch's start
    assert out["final_penalty"] > 0
    metrics = ll.train.evaluate(net, history.params, X, y, task="regression")
    assert out["metrics"] == pytest.approx(metrics, rel=1e-12)
    plain = train_json("--model", "mlp", "--hidden", "8", "--dropout", "0.2", "--epochs", "15")
    assert plain["final_penalty"] is None and plain["final_loss"] != out["final_loss"]


def test_smote_resampling_trains_on_balanced_classes_and_reports_each_class():
    out = train_json("--data", "imbalanced", "--model", "logistic", "--resample", "smote", "--epochs", "20")
    net, history, X, y, X_fit = library_fit("imbalanced", "logistic", epochs=20, resample="smote")
    assert out["resample"] == "smote" and out["n_train"] == len(X_fit) == 2 * int(np.sum(y == 0))
    assert out["final_loss"] == pytest.approx(history.epochs["loss"][-1], rel=1e-12)
    report = ll.train.class_report(net, history.params, X, y)  # scored on the original data
    for key, value in report.items():
        np.testing.assert_allclose(out["class_report"][key], value, rtol=1e-12)
    confusion = np.asarray(out["class_report"]["confusion"])
    assert confusion.sum() == len(y) and confusion[1].sum() == int(y.sum())
    plain = train_json("--data", "imbalanced", "--model", "logistic", "--epochs", "20")
    # balancing the classes raises the minority class's recall
    assert out["class_report"]["recall"][1] > plain["class_report"]["recall"][1]


@pytest.mark.parametrize("weights", ["balanced", "0=1,1=19"], ids=["balanced", "pairs"])
def test_class_weights_match_the_library_fit(weights):
    out = train_json(
        "--data", "imbalanced", "--model", "logistic", "--class-weight", weights, "--epochs", "10"
    )
    _, history, *_ = library_fit("imbalanced", "logistic", epochs=10, class_weight=read_class_weight(weights))
    assert out["final_loss"] == pytest.approx(history.epochs["loss"][-1], rel=1e-12)
    assert out["class_weight"] == ("balanced" if weights == "balanced" else {"0": 1.0, "1": 19.0})


def test_lsuv_init_matches_the_library_fit():
    out = train_json("--data", "xor", "--model", "mlp", "--hidden", "8,8", "--init", "lsuv", "--epochs", "5")
    _, history, *_ = library_fit("xor", "mlp", hidden=(8, 8), epochs=5, init="lsuv")
    assert out["init"] == "lsuv"
    assert out["final_loss"] == pytest.approx(history.epochs["loss"][-1], rel=1e-12)


def test_the_table_shows_the_penalty_the_resampling_and_each_class():
    result = runner.invoke(
        app,
        ["train", "--no-progress", "--data", "imbalanced", "--model", "mlp", "--hidden", "4",
         "--resample", "undersample", "--regularizer", "l1=1e-3", "--epochs", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "final penalty (l1_regularizer)" in text
    assert "training samples (undersample)" in text and "100 (from 1000)" in text
    assert "per class" in text and "pred 1" in text and "950" in text


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regularizer", "l3=1"], "--regularizer: expected l1=STRENGTH"),
        (["--regularizer", "l2=abc"], "--regularizer: expected a number, got 'abc'"),
        (["--regularizer", "elastic_net=1"], "elastic_net takes two strengths"),
        (["--regularizer", "l2=-1"], "strength must be >= 0"),
        (["--model", "mlp", "--dropout", "1.0"], r"dropout must be in \[0, 1\), got dropout=1.0"),
        (["--model", "mlp", "--dropout", "0.2,0.2,0.2"], r"one rate per hidden layer \(2\), got 3 rates"),
        (["--dropout", "0.2"], "dropout and init apply to kind='mlp'"),
        (["--model", "mlp", "--init", "glorot_magic"], "unknown initializer 'glorot_magic'"),
        (["--resample", "adasyn"], "expected one of oversample, undersample, smote"),
        (["--curriculum", "baby_steps"], "--curriculum: expected self_paced or self_paced_linear"),
        (["--curriculum", "self_paced=1"], "self_paced takes THRESHOLD,GROWTH"),
        (["--curriculum", "self_paced=1,0.5"], r"growth must be in \[1, inf\), got growth=0.5"),
        (["--resample", "smote"], "--resample needs a classification dataset"),
        (["--class-weight", "balanced"], "--class-weight needs a classification dataset"),
        (
            ["--data", "imbalanced", "--model", "logistic", "--class-weight", "a=1"],
            "expected 'balanced' or LABEL=WEIGHT",
        ),
        (
            ["--data", "imbalanced", "--model", "logistic", "--class-weight", "0=1,1=-2"],
            "class_weight must hold finite weights >= 0",
        ),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) else None,
)
def test_bad_toolbox_options_are_one_line_usage_errors(args, message):
    result = runner.invoke(app, ["train", "--no-progress", "--epochs", "1", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.stderr
    assert re.search(message, " ".join(lines)), lines


# --------------------------------------------------------------------------- second-order and adaptive steps


def test_one_newton_epoch_of_train_is_the_least_squares_fit():
    out = train_json("--optimizer", "newton", "--lr", "1", "--epochs", "1", "--data", "linear")
    X, y = ll.data.info("linear").make()
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(np.ravel(out["params"]["W"]), coef[:-1], rtol=1e-9)
    np.testing.assert_allclose(np.ravel(out["params"]["b"]), coef[-1:], rtol=1e-9)


def test_race_runs_newton_full_matrix_adagrad_and_adam_eps_inside_by_name():
    out = json.loads(
        runner.invoke(
            app, ["race", "rosenbrock", "--optimizers", "newton", "--lr", "1", "--steps", "8", "--json"]
        ).stdout
    )
    (entry,) = out["entries"]
    assert entry["distance"] < 1e-8 and entry["steps_to_tol"] <= 8
    fn = ll.landscape.functions.get("rosenbrock")
    for name, option, base in [
        ("adagrad", {"full_matrix": True}, {}),
        ("adam", {"eps_placement": "inside"}, {"eps": 0.5}),  # a large eps shows where it sits
    ]:
        given = {**base, **option}
        params = [f"{k}={str(v).lower()}" for k, v in given.items()]
        result = runner.invoke(
            app,
            ["race", "rosenbrock", "--optimizers", name, "--lr", "0.1",
             *[a for p in params for a in ("--optimizer-param", p)], "--steps", "5", "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        path = np.asarray(json.loads(result.stdout)["entries"][0]["path"])
        (expected,) = ll.train.race(
            fn, {name: ll.landscape.rates.race_optimizer(name, lr=0.1, **given)}, steps=5
        )
        np.testing.assert_allclose(path, expected.path, rtol=1e-12)
        (default,) = ll.train.race(
            fn, {name: ll.landscape.rates.race_optimizer(name, lr=0.1, **base)}, steps=5
        )
        assert not np.allclose(path, default.path, rtol=1e-6, atol=0)  # the option took effect
