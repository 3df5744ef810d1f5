"""Losses speak the names users know: signatures, help cards, aliases, keywords, bound parameters.

Parametrized over the registry, so a new loss is covered the moment it is registered.
"""

from __future__ import annotations

import inspect
import pydoc

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import losslab as ll
from losslab.losses.framework_aliases import FRAMEWORK_ALIASES

NAMES = ll.losses.names()


def _inputs(loss):
    """Sampled arrays and the declaration's first test parameters (a seed for random losses)."""
    params = loss.test_params[0]
    return loss.sample(np.random.default_rng(0), **params), params


# --------------------------------------------------------------------------- signatures and help


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_built_from_the_declaration(name):
    loss = ll.losses.get(name)
    sig = inspect.signature(loss)
    params = list(sig.parameters.values())
    assert [p.name for p in params[: len(loss.inputs)]] == list(loss.inputs)
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[: len(loss.inputs)])
    rest = {p.name: p for p in params[len(loss.inputs) :]}
    assert all(p.kind is p.KEYWORD_ONLY for p in rest.values())
    assert rest.pop("reduction").default == loss.default_reduction
    assert rest.pop("sample_weight").default is None
    assert {k: p.default for k, p in rest.items()} == dict(loss.info.defaults)
    assert sig.bind(*loss.inputs).arguments  # the arrays bind positionally


@pytest.mark.parametrize("name", NAMES)
def test_help_shows_the_card(name):
    loss = ll.losses.get(name)
    text = pydoc.render_doc(loss, renderer=pydoc.plaintext)
    info = loss.info
    for snippet in (info.formula, info.gradient, f"{name}{inspect.signature(loss)}", "PyTorch:", "Keras:"):
        assert snippet in text, snippet
    for key, p in loss.params.items():
        assert f"{key}={p.default!r}: " in text
    assert "Example" in text and "Argument order" in text
    if info.summary:
        assert info.summary in text
    assert info.formula in loss.__doc__ and loss.__doc__.startswith(info.summary or name)


@pytest.mark.parametrize("name", NAMES)
def test_card_example_is_the_loss_value(name):
    from losslab.losses._card import example

    loss = ll.losses.get(name)
    ex = example(loss)
    if ex is None:  # a sampler that needs parameters the defaults lack (perceptual's features)
        with pytest.raises(TypeError):
            loss(*loss.sample(np.random.default_rng(0)))
        return
    arrays, value = ex
    again = loss(*arrays.values())
    if np.array_equal(again, loss(*arrays.values())):  # deterministic at its defaults
        np.testing.assert_allclose(value, again, rtol=1e-12)
    assert np.all(np.isfinite(value))


def test_class_docstrings_stay_class_docstrings():
    assert ll.losses.Loss.__doc__.startswith("A registered loss")
    assert ll.losses.ElementwiseLoss.__doc__.startswith("A loss ``l(y_pred_i, y_true_i)``")
    assert "Huber loss" in ll.losses.huber.__doc__


def test_notebook_reprs():
    md = ll.losses.huber._repr_markdown_()
    assert md.startswith("**huber**") and "`delta=1.0`" in md
    assert "### `huber`" in ll.explain.card("huber")._repr_markdown_()
    ex = ll.explain.explain("huber", [5.0], [3.0])
    assert ex._repr_markdown_() == ex.to_markdown()
    bowl = ll.landscape.functions.get("quadratic_bowl")
    results = ll.train.race(bowl, {"gd": ll.optim.sgd(lr=0.1)}, steps=5)
    assert results._repr_markdown_().splitlines()[2].startswith("| gd | ")


# --------------------------------------------------------------------------- keywords and reductions


@pytest.mark.parametrize("name", NAMES)
def test_arrays_by_keyword_in_any_order(name):
    loss = ll.losses.get(name)
    arrays, params = _inputs(loss)
    expected = loss(*arrays, **params)
    named = dict(zip(loss.inputs, arrays))
    backwards = dict(reversed(list(named.items())))
    np.testing.assert_array_equal(loss(**backwards, **params), expected)
    np.testing.assert_array_equal(loss(arrays[0], **dict(list(named.items())[1:]), **params), expected)
    np.testing.assert_array_equal(loss.grad(**backwards, **params)[0], loss.grad(*arrays, **params)[0])


def test_keras_keyword_call_and_pytorch_keywords():
    p, t = np.array([0.9, 0.2]), np.array([1.0, 0.0])
    bce = ll.losses.binary_crossentropy
    assert bce(y_true=t, y_pred=p) == bce(p, t)
    assert ll.losses.mse(input=p, target=t) == ll.losses.mse(p, t)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: ll.losses.mse([1.0], [2.0], y_pred=[1.0]),
            "y_pred is given both by position and by keyword",
        ),
        (lambda: ll.losses.mse(y_pred=[1.0]), r"missing y_true \(the arrays are y_pred, y_true\)"),
        (lambda: ll.losses.mse(input=[1.0], y_pred=[1.0], y_true=[1.0]), "y_pred is given twice"),
        (lambda: ll.losses.mse([1.0], [2.0], [3.0]), "expected 2 arrays"),
    ],
)
def test_keyword_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_keras_reductions():
    p, t = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.0, 0.0])
    assert ll.losses.mse(p, t, reduction="sum_over_batch_size") == ll.losses.mse(p, t) == 7.0
    np.testing.assert_array_equal(ll.losses.mse(p, t, reduction=None), [1.0, 4.0, 16.0])
    np.testing.assert_array_equal(ll.losses.mse.grad(p, t, reduction=None), [2.0, 4.0, 8.0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        ll.losses.mse(p, t, reduction="batchmean")


# --------------------------------------------------------------------------- get(name, **params), bind


def test_get_binds_parameters():
    h2 = ll.losses.get("huber", delta=2.0)
    assert isinstance(h2, ll.losses.Loss) and h2 is not ll.losses.huber
    assert h2.info.defaults == {"delta": 2.0} and ll.losses.huber.info.defaults == {"delta": 1.0}
    assert float(h2([5.0], [3.0])) == 2.0 == float(ll.losses.huber([5.0], [3.0], delta=2.0))
    assert float(h2([5.0], [3.0], delta=1.0)) == 1.5  # a call still overrides
    assert repr(h2) == "<losslab loss huber(delta=2.0) (regression)>"
    assert inspect.signature(h2).parameters["delta"].default == 2.0
    assert ll.losses.get("huber") is ll.losses.huber
    assert ll.losses.get(ll.losses.huber, delta=3.0).info.defaults["delta"] == 3.0


def test_bound_loss_trains():
    X, y = ll.data.outliers()
    kwargs = {"optimizer": ll.optim.sgd(lr=0.05), "epochs": 3, "seed": 0, "progress": False}
    bound = ll.train.fit(ll.models.Linear(1), X, y, loss=ll.losses.get("huber", delta=2.0), **kwargs)
    explicit = ll.train.fit(ll.models.Linear(1), X, y, loss="huber", loss_params={"delta": 2.0}, **kwargs)
    assert bound.epochs["loss"] == explicit.epochs["loss"]


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [({"delta": -1.0}, ValueError, "delta must be > 0"), ({"gamma": 2}, TypeError, "unknown parameter")],
)
def test_get_checks_parameters(params, error, message):
    with pytest.raises(error, match=message):
        ll.losses.get("huber", **params)


# --------------------------------------------------------------------------- aliases


@pytest.mark.parametrize("alias", sorted(FRAMEWORK_ALIASES))
def test_framework_alias_resolves(alias):
    name, params = FRAMEWORK_ALIASES[alias]
    loss = ll.losses.get(alias)
    assert loss.name == name and dict(loss.bound) == {
        k: ll.losses.get(name).resolve_params(params)[k] for k in params
    }
    assert getattr(ll.losses, alias) is loss
    assert ll.losses.get(alias.upper()) is loss
    if not params:
        assert loss is ll.losses.get(name)
    assert ll.losses.aliases()[alias] == (name, dict(loss.bound))
    assert any(a.split(" ")[0] == alias for a in ll.explain.card(name).aliases)


def _t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


LOGITS = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0], [0.3, 0.3, -0.2]])
LABELS = np.array([1, 2, 0])


@pytest.mark.parametrize(
    ("alias", "ours", "theirs"),
    [
        ("cross_entropy", (LOGITS, LABELS), lambda: F.cross_entropy(_t(LOGITS), _t(LABELS, torch.long))),
        (
            "nll_loss",
            (torch.log_softmax(_t(LOGITS), -1).numpy(), LABELS),
            lambda: F.nll_loss(torch.log_softmax(_t(LOGITS), -1), _t(LABELS, torch.long)),
        ),
        (
            "kl_div",
            (torch.log_softmax(_t(LOGITS), -1).numpy(), torch.softmax(_t(LOGITS[::-1].copy()), -1).numpy()),
            lambda: F.kl_div(
                torch.log_softmax(_t(LOGITS), -1),
                torch.softmax(_t(LOGITS[::-1].copy()), -1),
                reduction="batchmean",
            ),
        ),
        (
            "bce_with_logits",
            (LOGITS, (LOGITS > 0.4).astype(float)),
            lambda: F.binary_cross_entropy_with_logits(_t(LOGITS), _t((LOGITS > 0.4).astype(float))),
        ),
        ("huber_loss", (LOGITS, LOGITS[::-1]), lambda: F.huber_loss(_t(LOGITS), _t(LOGITS[::-1].copy()))),
        ("l1_loss", (LOGITS, LOGITS[::-1]), lambda: F.l1_loss(_t(LOGITS), _t(LOGITS[::-1].copy()))),
        ("mse_loss", (LOGITS, LOGITS[::-1]), lambda: F.mse_loss(_t(LOGITS), _t(LOGITS[::-1].copy()))),
    ],
    ids=lambda a: a if isinstance(a, str) else "",
)
def test_pytorch_alias_parity(alias, ours, theirs):
    assert float(ll.losses.get(alias)(*ours)) == pytest.approx(float(theirs()), rel=1e-12)


def test_keras_poisson_alias():
    p, t = np.array([0.5, 2.0, 3.0]), np.array([1.0, 0.0, 4.0])
    # Keras: mean(y_pred - y_true * log(y_pred + 1e-7))
    expected = np.mean(p - t * np.log(p + 1e-7))
    assert float(ll.losses.poisson(p, t)) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- weights


def test_class_weight_as_a_dict():
    dict_form = ll.losses.cross_entropy(LOGITS, LABELS, class_weight={2: 3.0, 0: 0.5})
    vector = ll.losses.cross_entropy(LOGITS, LABELS, class_weight=[0.5, 1.0, 3.0])
    assert dict_form == vector
    torch_value = F.cross_entropy(_t(LOGITS), _t(LABELS, torch.long), weight=_t([0.5, 1.0, 3.0]))
    assert float(dict_form) == pytest.approx(float(torch_value), rel=1e-12)
    probs = np.eye(3)[LABELS]
    assert ll.losses.cce(LOGITS, probs, from_logits=True, class_weight={1: 2.0}) == ll.losses.cce(
        LOGITS, probs, from_logits=True, class_weight=[1.0, 2.0, 1.0]
    )


@pytest.mark.parametrize(
    ("class_weight", "error", "message"),
    [
        ({3: 1.0}, ValueError, "has class 3, but y_pred has 3 classes"),
        ({-1: 1.0}, TypeError, r"keys must be class indices \(int >= 0\)"),
        ({"a": 1.0}, TypeError, "keys must be class indices"),
        ({0: -1.0}, ValueError, r"class_weight\[0\] must be >= 0"),
        ({}, ValueError, "must not be an empty dict"),
    ],
)
def test_class_weight_dict_errors(class_weight, error, message):
    with pytest.raises(error, match=message):
        ll.losses.cross_entropy(LOGITS, LABELS, class_weight=class_weight)


def test_per_sample_weights_on_a_class_axis_get_a_hint():
    p, t = np.zeros((3, 2)), np.ones((3, 2))
    with pytest.raises(ValueError, match=r"for one weight per sample use sample_weight\[:, None\]"):
        ll.losses.mse(p, t, sample_weight=np.ones(3))
    assert ll.losses.mse(p, t, sample_weight=np.array([1.0, 2.0, 3.0])[:, None]) == 2.0
    # a class-axis loss has one unreduced entry per sample: (n,) weights are per sample already
    assert ll.losses.cross_entropy(LOGITS, LABELS, sample_weight=np.ones(3)) == ll.losses.cross_entropy(
        LOGITS, LABELS
    )
