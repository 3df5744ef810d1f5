"""Nothing lost, nothing silent: CSV loading, metrics and empty batches refuse what they cannot
answer, naming the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losslab as ll

M = ll.train.metrics


def _csv(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- load_csv (item 3)


def test_duplicate_column_names_are_refused(tmp_path):
    path = _csv(tmp_path, "x,x,y\n1,5,2\n")
    with pytest.raises(ValueError, match=r"load_csv: duplicate column name\(s\) \['x'\] in the header"):
        ll.data.load_csv(path, "y")


def test_target_listed_in_features_is_refused(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,3\n")
    with pytest.raises(ValueError, match=r"load_csv: target column 'y' is also listed in features"):
        ll.data.load_csv(path, "y", features=["a", "y"])
    with pytest.raises(ValueError, match=r"feature column\(s\) \['a'\] listed more than once"):
        ll.data.load_csv(path, "y", features=["a", "a"])


def test_utf8_byte_order_mark_keeps_the_first_column(tmp_path):
    path = _csv(tmp_path, "\ufeffa,b,y\n1,2,3\n4,5,6\n")
    data = ll.data.load_csv(path, "y")
    np.testing.assert_array_equal(data.X, [[1.0, 2.0], [4.0, 5.0]])
    np.testing.assert_array_equal(data.y, [3.0, 6.0])
    assert ll.data.load_csv(path, "a", features=["b"]).X.tolist() == [[2.0], [5.0]]


def test_load_csv_argument_types(tmp_path):
    path = _csv(tmp_path, "a,y\n1,2\n")
    with pytest.raises(TypeError, match="load_csv: target must be a column name"):
        ll.data.load_csv(path, 1)
    with pytest.raises(TypeError, match="load_csv: features must be a sequence of column names"):
        ll.data.load_csv(path, "y", features="a")


# --------------------------------------------------------------------------- metrics (item 9)

REGRESSION = ["r2", "mae", "rmse"]
CLASSIFICATION = ["accuracy", "precision", "recall", "f1", "roc_auc", "average_precision"]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", REGRESSION + CLASSIFICATION)
def test_metrics_refuse_non_finite_targets(name, bad):
    fn = M.get(name)
    with pytest.raises(ValueError, match=rf"{name}: y_true contains NaN or infinite values"):
        fn([0.2, 0.9, 0.4], [0.0, 1.0, bad])
    with pytest.raises(ValueError, match=rf"{name}: y_pred contains NaN or infinite values"):
        fn([0.2, bad, 0.4], [0.0, 1.0, 1.0])


@pytest.mark.parametrize("labels", [[0.0, 1e150], [-1.0, 1.0]], ids=["huge", "negative"])
@pytest.mark.parametrize("name", ["accuracy", "precision", "recall_per_class", "confusion_matrix"])
def test_class_labels_out_of_range_name_y_true(name, labels):
    """An inf label was counted (item 9); a huge or negative one must be refused, not cast."""
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 2\*\*31\)"):
        M.get(name)([0.2, 0.9], labels)


def test_confusion_matrix_refuses_more_classes_than_it_can_count():
    with pytest.raises(ValueError, match="y_true's largest label implies 1000001 classes, more than 4096"):
        M.confusion_matrix([0.2, 0.9], [0, 1e6])
    with pytest.raises(ValueError, match="n_classes must be at most 4096"):
        M.confusion_matrix([0.2, 0.9], [0, 1], n_classes=10**6)


@pytest.mark.parametrize("name", ["accuracy", "precision", "recall", "f1"])
def test_threshold_must_be_a_finite_number(name):
    fn = M.get(name)
    with pytest.raises(ValueError, match=rf"{name}: threshold must be finite, got threshold=nan"):
        fn([0.2, 0.9], [0, 1], threshold=math.nan)
    with pytest.raises(TypeError, match=rf"{name}: threshold must be a real number"):
        fn([0.2, 0.9], [0, 1], threshold="half")
    assert fn([0.2, 0.9], [0, 1], threshold=0.5) == 1.0


@pytest.mark.parametrize("name", REGRESSION + CLASSIFICATION)
def test_metrics_refuse_non_numeric_inputs(name):
    fn = M.get(name)
    with pytest.raises(TypeError, match=rf"{name}: y_pred must hold real numbers, got dtype <U1"):
        fn(["a", "b"], [0, 1])
    with pytest.raises(TypeError, match=rf"{name}: y_true must be real, got dtype complex128"):
        fn([0.1, 0.9], np.array([0, 1], dtype=complex))


def test_r2_of_finite_inputs_is_unchanged():
    assert M.r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]) == pytest.approx(1 - 1 / (14 / 3))


# --------------------------------------------------------------------------- empty batches (item 14)


@pytest.mark.parametrize(
    ("name", "inputs"),
    [
        ("wasserstein_1d", (np.zeros((0, 3)), np.zeros((0, 4)))),
        ("sliced_wasserstein", (np.zeros((0, 3, 2)), np.zeros((0, 4, 2)))),
    ],
)
def test_empty_batches_are_refused(name, inputs):
    loss = ll.losses.get(name)
    with pytest.raises(ValueError, match=rf"{name}: the batch is empty .*; a loss needs at least one entry"):
        loss(*inputs)
    with pytest.raises(ValueError, match="the batch is empty"):
        loss.grad(*inputs, reduction="sum")


# --------------------------------------------------------------------------- data generators


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("multiclass_blobs", {"n": 10, "n_classes": 10**12}, r"n_classes must be at most n=10"),
        ("linear", {"n": 10**9, "w": [1.0, 2.0]}, r"n \* n_features must be at most"),
        ("circles", {"noise": math.nan}, r"noise must be finite"),
        ("linear", {"seed": -1}, r"seed must be a non-negative integer"),
        ("linear", {"w": [1.0, math.inf]}, r"w must hold finite numbers"),
        ("linear", {"n": 2.5}, r"\bn\b"),
    ],
    ids=["classes", "entries", "nan-noise", "seed", "inf-weights", "float-n"],
)
def test_generators_check_their_arguments(name, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ll.data.get(name)(**kwargs)
