"""Worked computations (``losslab.explain``): exact numbers, every registered loss, every explainer.

Hand computations: r = y_pred - y_true; mse l = r^2, dl/dy_pred = 2r; mae l = |r|, sign(r);
huber(delta) l = r^2/2 (|r| <= delta) or delta(|r| - delta/2), dl/dy_pred = clip(r, -delta, delta);
"mean" divides by the number of entries. Explainers of losses that are not registered yet are
collected from the registry, so their tests run the moment the loss is registered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import losslab as ll
from loss_cases import all_cases, as_tuple
from losslab.explain import explain
from losslab.losses import ElementwiseLoss, Param

CASES = all_cases()
REGISTERED = set(ll.losses.names())


def _close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=1e-12)


# --------------------------------------------------------------------------- exact numbers


def test_huber_done_when_example_linear_branch():
    # |r| = |5 - 3| = 2 > delta = 1.5: l = 1.5 * (2 - 0.75) = 1.875, dl/dy_pred = 1.5 * sign(2) = 1.5.
    ex = explain("huber", 5.0, 3.0, delta=1.5)
    assert ex.dedicated
    assert float(ex.value) == 1.875
    assert float(ex.grad) == 1.5
    assert ex.step("Residual").text == "r = 5 - 3 = 2"
    assert ex.step("Branch").text == "|r| = 2 > delta = 1.5: linear branch"
    assert ex.step("Per-element loss").text == "l = delta * (|r| - delta/2) = 1.5 * (2 - 0.75) = 1.875"
    assert ex.step("Per-element gradient").text == "dl/dy_pred = delta * sign(r) = 1.5 * (+1) = 1.5"
    text = ex.to_text()
    assert text.startswith('huber(delta=1.5), reduction="mean"')
    assert "value = 1.875" in text
    assert "grad = dL/dy_pred = 1.5" in text
    assert [s.title for s in ex.steps] == [
        "Inputs",
        "Formula",
        "Residual",
        "Branch",
        "Per-element loss",
        "Per-element gradient",
        "Reduction (mean)",
        "Result",
    ]


def test_huber_both_branches_and_mean():
    # r = [0.5, 3, -4], delta = 1: l = [0.125, 2.5, 3.5], mean 6.125/3; grad = [0.5, 1, -1]/3.
    ex = explain("huber", [0.5, 3.0, -4.0], [0.0, 0.0, 0.0])
    lines = ex.step("Branch").text.splitlines()
    assert lines == [
        "[0] |r| = 0.5 <= delta = 1: quadratic branch",
        "[1] |r| = 3 > delta = 1: linear branch",
        "[2] |r| = 4 > delta = 1: linear branch",
    ]
    assert ex.step("Branch").values["branch"].tolist() == ["quadratic", "linear", "linear"]
    _close(ex.step("Per-element loss").values["loss"], [0.125, 2.5, 3.5])
    _close(ex.step("Per-element gradient").values["grad"], [0.5, 1.0, -1.0])
    assert math.isclose(ex.value, 6.125 / 3, rel_tol=1e-15)
    _close(ex.grad, [0.5 / 3, 1 / 3, -1 / 3])
    assert "L = (sum_i l_i) / n = 6.125 / 3 = 2.04167" in ex.step("Reduction").text


def test_mse_exact_numbers():
    # r = [-0.5, 0.5, 0]: l = [0.25, 0.25, 0], mean = 0.5/3; dl/dy_pred = 2r = [-1, 1, 0], grad = 2r/3.
    ex = explain("mse", [2.5, 0.0, 2.0], [3.0, -0.5, 2.0])
    _close(ex.step("Residual").values["residual"], [-0.5, 0.5, 0.0])
    assert ex.step("Per-element loss").text.splitlines()[0] == "l[0] = r^2 = (-0.5)^2 = 0.25"
    assert ex.step("Per-element gradient").text.splitlines()[1] == "dl[1]/dy_pred = 2r = 2 * 0.5 = 1"
    assert math.isclose(ex.value, 0.5 / 3, rel_tol=1e-15)
    _close(ex.grad, [-1 / 3, 1 / 3, 0.0])


def test_mse_sum_with_sample_weight():
    # l = [1, 0, 4, 12.25]; w = [1, 2] broadcast over rows: sum = 1 + 0 + 4 + 24.5 = 29.5.
    ex = explain("mse", [[1, 2], [3, 4.5]], [[0, 2], [1, 1]], reduction="sum", sample_weight=[1, 2])
    assert ex.value == 29.5
    _close(ex.grad, [[2, 0], [4, 14]])
    assert "w[1, 1] * l[1, 1] = 2 * 12.25 = 24.5" in ex.step("Sample weights").text
    assert ex.step("Reduction").text.startswith("L = sum_i w_i l_i = 29.5")


def test_mae_exact_numbers_and_kink_note():
    # r = [-2, 0, 1]: l = [2, 0, 1], mean 1; sign(r) = [-1, 0, 1], grad = sign(r)/3.
    ex = explain("mae", [1.0, 2.0, 4.0], [3.0, 2.0, 3.0])
    assert ex.step("Per-element loss").text.splitlines()[0] == "l[0] = |r| = |-2| = 2"
    assert ex.step("Per-element gradient").text.splitlines()[0] == "dl[0]/dy_pred = sign(-2) = -1"
    assert ex.value == 1.0
    _close(ex.grad, [-1 / 3, 0.0, 1 / 3])
    assert "where r = 0" in ex.step("Reduction").text


def test_reduction_none_returns_unreduced_values():
    ex = explain("huber", [0.5, 3.0], [0.0, 0.0], reduction="none", delta=1.0)
    _close(ex.value, [0.125, 2.5])
    _close(ex.grad, [0.5, 1.0])
    assert "returned as they are" in ex.step("Reduction").text


def test_markdown_rendering():
    md = explain("huber", [5.0], [3.0], delta=1.5).to_markdown()
    assert md.startswith('### `huber(delta=1.5), reduction="mean"`')
    assert "**4. Branch**" in md
    assert "$$r = \\hat y - y$$" in md
    assert "```text\n[0] |r| = 2 > delta = 1.5: linear branch\n```" in md


def test_long_inputs_are_summarized_in_text_but_complete_in_values():
    y = np.arange(30.0)
    ex = explain("mse", y, np.zeros(30))
    text = ex.step("Residual").text
    assert "... (18 more; see the step's values)" in text
    assert len(text.splitlines()) == 13
    _close(ex.step("Residual").values["residual"], y)


def test_float32_inputs_stay_float32_and_need_no_count_note():
    p = np.array([0.1, 0.7, -0.3], dtype=np.float32)
    t = np.array([0.0, 0.2, 0.4], dtype=np.float32)
    ex = explain("mse", p, t)
    assert ex.grad.dtype == np.float32
    assert "note" not in ex.step("Reduction").text
    assert ex.value == ll.losses.mse(p, t)


def test_inputs_are_not_mutated():
    p, t = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    explain("huber", p, t, delta=0.5)
    assert p.tolist() == [1.0, -2.0] and t.tolist() == [0.5, 0.5]


def test_torch_tensors_are_explained_with_numpy_numbers():
    torch = pytest.importorskip("torch")
    p = torch.tensor([5.0, 2.0], dtype=torch.float64)
    ex = explain("huber", p, torch.tensor([3.0, 2.5], dtype=torch.float64), delta=1.5)
    assert isinstance(ex.grad, np.ndarray)
    assert math.isclose(float(ex.value), (1.875 + 0.125) / 2, rel_tol=1e-15)
    _close(ex.grad, [0.75, -0.25])


def test_aliases_and_loss_objects():
    assert explain("l2", [1.0], [0.0]).loss == "mse"
    assert explain(ll.losses.mae, [1.0], [0.0]).loss == "mae"


def test_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match="unknown loss 'nope'.*Valid names: .*huber"):
        explain("nope", [1.0], [0.0])
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) beta; valid parameters: delta"):
        explain("huber", [1.0], [0.0], beta=1.0)
    with pytest.raises(TypeError, match=r"explain: huber takes 2 arrays \(y_pred, y_true\), got 1"):
        explain("huber", [1.0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        explain("mse", [1.0], [0.0], reduction="avg")
    with pytest.raises(ValueError, match="huber: delta must be > 0"):
        explain("huber", [1.0], [0.0], delta=-1.0)
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        explain("mse", [np.nan], [0.0])
    with pytest.raises(TypeError, match="loss must be a loss name"):
        explain(3, [1.0], [0.0])


def test_explainer_is_used_only_when_the_declaration_matches():
    # A loss named like a dedicated explainer but without its parameter gets the generic one.
    lookalike = ElementwiseLoss(
        "huber",
        task="regression",
        value=lambda xp, p, t: (p - t) ** 2,
        grad=lambda xp, p, t: 2 * (p - t),
        info={"formula": r"\ell = r^2", "gradient": "2r"},
    )
    assert not ll.explain.has_explainer(lookalike)
    ex = explain(lookalike, [2.0], [0.0])
    assert not ex.dedicated
    assert ex.step("Per-element loss").text.endswith("l[0] = 4")
    assert ll.explain.has_explainer("huber")


def test_registering_an_explainer_twice_raises():
    with pytest.raises(ValueError, match="already registered for 'huber'"):
        ll.explain.explainer("huber", kind="elementwise")(lambda ctx: [])


def test_generic_fallback_reads_parameters_from_the_declaration():
    loss = ElementwiseLoss(
        "scaled_square",
        task="regression",
        params={"scale": Param(2.0)},
        value=lambda xp, p, t, scale: scale * (p - t) ** 2,
        grad=lambda xp, p, t, scale: 2 * scale * (p - t),
        info={"formula": r"\ell = s r^2", "gradient": "2 s r", "summary": "A scaled square."},
    )
    ex = explain(loss, [1.0, 3.0], [0.0, 0.0], scale=0.5)
    assert not ex.dedicated
    assert ex.step("Inputs").text.splitlines()[-1] == "parameters: scale = 0.5"
    assert ex.step("Per-element loss").text.splitlines()[1:] == ["l[0] = 0.5", "l[1] = 4.5"]
    assert ex.step("Per-element gradient").text.splitlines() == ["dl[0]/dy_pred = 1", "dl[1]/dy_pred = 3"]
    assert ex.value == 2.5


# --------------------------------------------------------------------------- every registered loss


@pytest.mark.parametrize(("loss", "params"), CASES)
@pytest.mark.parametrize("generic", [False, True], ids=["default", "generic"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_loss_explains_with_the_loss_own_numbers(loss, params, generic, reduction):
    inputs = loss.sample(np.random.default_rng(0), **params)
    ex = explain(loss, *inputs, reduction=reduction, generic=generic, **params)
    value, grad = loss.value_and_grad(*inputs, reduction=reduction, **params)
    np.testing.assert_array_equal(np.asarray(ex.value), np.asarray(value))
    for mine, theirs in zip(as_tuple(ex.grad, loss), as_tuple(grad, loss)):
        np.testing.assert_array_equal(mine, theirs)
    assert ex.dedicated is (not generic and ll.explain.has_explainer(loss))
    titles = [s.title for s in ex.steps]
    assert titles[:2] == ["Inputs", "Formula"] and titles[-1] == "Result"
    assert titles[-2] == f"Reduction ({reduction})"
    per_entry = loss(*inputs, reduction="none", **params)
    word = "element" if loss.kind == "elementwise" else "sample"
    np.testing.assert_array_equal(ex.step(f"Per-{word} loss").values["loss"], per_entry)
    text = ex.to_text()
    assert ex.step("Formula").latex == loss.info.formula
    assert f"value = {ll.explain._core.fmt(ex.value)}" in text
    assert ex.to_markdown().count("**") >= 2 * len(ex.steps)


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_every_loss_explains_weighted_means(loss, params):
    inputs = loss.sample(np.random.default_rng(1), **params)
    shape = np.shape(loss(*inputs, reduction="none", **params))
    weight = np.random.default_rng(2).uniform(0.5, 2.0, size=shape)
    ex = explain(loss, *inputs, sample_weight=weight, **params)
    value, grad = loss.value_and_grad(*inputs, sample_weight=weight, **params)
    assert ex.value == value
    for mine, theirs in zip(as_tuple(ex.grad, loss), as_tuple(grad, loss)):
        np.testing.assert_array_equal(mine, theirs)
    _close(
        ex.step("Sample weights").values["weighted_loss"], weight * loss(*inputs, reduction="none", **params)
    )


# --------------------------------------------------------------------------- dedicated explainers


def _dedicated_cases() -> list[Any]:
    out = []
    for name in ll.explain.explainer_names():
        if name not in REGISTERED:
            continue  # collected once the loss is registered
        loss = ll.losses.get(name)
        for params in loss.test_params:
            out.append(pytest.param(loss, dict(params), id=f"{name}({params})"))
    return out


# The intermediate steps each dedicated explainer shows (beyond inputs, formula and reduction).
EXPECTED_STEPS = {
    "mse": ["Residual"],
    "mae": ["Residual"],
    "huber": ["Residual", "Branch"],
    "smooth_l1": ["Residual", "Branch"],
    "quantile": ["Residual", "Branch"],
    "log_cosh": ["Residual"],
    "asymmetric_mse": ["Residual", "Branch"],
    "asymmetric_huber": ["Residual", "Side", "Branch"],
    "binary_cross_entropy": [],
    "binary_focal": ["p_t", "Focusing factor"],
    "hinge": ["Margin", "Branch"],
    "squared_hinge": ["Margin", "Branch"],
    "categorical_cross_entropy": [],
    "sparse_categorical_cross_entropy": ["p_t"],
    "categorical_focal": ["Focusing factor"],
    "multiclass_hinge": ["Margins"],
    "kl_divergence": ["Terms"],
}


def test_every_explainer_names_its_expected_steps():
    assert set(EXPECTED_STEPS) == set(ll.explain.explainer_names())


@pytest.mark.parametrize(("loss", "params"), _dedicated_cases())
def test_dedicated_explainer_applies_to_the_registered_loss(loss, params):
    assert ll.explain.has_explainer(loss), (
        f"the {loss.name} explainer expects kind/parameters that the declaration does not have"
    )
    inputs = loss.sample(np.random.default_rng(3), **params)
    ex = explain(loss, *inputs, **params)
    assert ex.dedicated
    for title in EXPECTED_STEPS[loss.name]:
        ex.step(title)
    if params.get("from_logits"):
        p = ex.step("Probabilities").values["p"]
        assert np.all((p >= 0) & (p <= 1))
    if "Residual" in EXPECTED_STEPS[loss.name]:
        _close(ex.step("Residual").values["residual"], np.asarray(inputs[0]) - np.asarray(inputs[1]))
    if loss.name in ("huber", "asymmetric_huber"):
        r = ex.step("Residual").values["residual"]
        quadratic = ex.step("Branch").values["branch"] == "quadratic"
        np.testing.assert_array_equal(quadratic, np.abs(r) <= params.get("delta", 1.0))
    if loss.name in ("hinge", "squared_hinge"):
        zero = ex.step("Branch").values["branch"] == "zero"
        assert np.all(ex.step("Per-element loss").values["loss"][zero] == 0)


@dataclass
class Worked:
    """A hand computation: loss(name)(y_pred, y_true, **params) with known value and gradient."""

    name: str
    y_pred: Any
    y_true: Any
    value: float
    grad: Any
    params: dict[str, Any] = field(default_factory=dict)
    shows: tuple[str, ...] = ()


WORKED = [
    # Curriculum example A: y_pred = 2, y_true = 5: r = -3, l = 9, dl/dy_pred = 2r = -6.
    Worked("mse", [2.0], [5.0], 9.0, [-6.0], {}, ("r[0] = 2 - 5 = -3", "2r = 2 * -3 = -6")),
    Worked("mae", [2.0], [5.0], 3.0, [-1.0], {}, ("|r| = |-3| = 3",)),
    Worked(
        "huber", [3.4], [3.0], 0.08, [0.4], {"delta": 1.5}, ("|r| = 0.4 <= delta = 1.5: quadratic branch",)
    ),
    # smooth_l1(beta=1): |r| = 2 >= 1, l = 2 - 0.5 = 1.5, grad = sign(r) = 1 (PyTorch SmoothL1Loss).
    Worked("smooth_l1", [5.0], [3.0], 1.5, [1.0], {"beta": 1.0}, ("|r| = 2 >= beta = 1: linear branch",)),
    # quantile(tau=0.9): under-prediction r = -1, l = 0.9 * 1, grad = -tau.
    Worked("quantile", [2.0], [3.0], 0.9, [-0.9], {"tau": 0.9}, ("under-prediction",)),
    # log cosh(2) = 1.3250027473578645, grad tanh(2) = 0.9640275800758169.
    Worked("log_cosh", [5.0], [3.0], math.log(math.cosh(2.0)), [math.tanh(2.0)], {}, ("log cosh(2)",)),
    # asymmetric_mse(under=2, over=1): r = -2 (under), l = 2 * 4 = 8, grad = 2 * 2 * (-2) = -8.
    Worked(
        "asymmetric_mse",
        [1.0],
        [3.0],
        8.0,
        [-8.0],
        {"under_weight": 2.0, "over_weight": 1.0},
        ("under_weight = 2",),
    ),
    # asymmetric_huber(delta=1.5, under=2, over=1): r = 2 (over) -> 1 * huber = 1.875, grad 1.5.
    Worked(
        "asymmetric_huber",
        [5.0],
        [3.0],
        1.875,
        [1.5],
        {"delta": 1.5, "under_weight": 2.0, "over_weight": 1.0},
        ("linear branch", "over_weight = 1"),
    ),
    # BCE with p = 0.9, y = 1: -log 0.9; dl/dp = -1/0.9.
    Worked("binary_cross_entropy", [0.9], [1.0], -math.log(0.9), [-1 / 0.9], {}, ("p_t = p = 0.9",)),
    # Curriculum example B: z = 0, y = 1 -> p = 0.5, l = log 2, dl/dz = p - y = -0.5.
    Worked(
        "binary_cross_entropy",
        [0.0],
        [1.0],
        math.log(2.0),
        [-0.5],
        {"from_logits": True},
        ("p[0] = sigmoid(0) = 0.5",),
    ),
    # Focal (gamma=2, alpha=None): p_t = 0.95 -> (0.05)^2 * -log 0.95 = 0.000128233 (the curriculum
    # table's 0.0001 is a rounding); d/dp of -(1-p)^2 log p = 2(1-p) log p - (1-p)^2 / p.
    Worked(
        "binary_focal",
        [0.95],
        [1.0],
        -(0.05**2) * math.log(0.95),
        [2 * 0.05 * math.log(0.95) - 0.05**2 / 0.95],
        {"gamma": 2.0, "alpha": None},
        ("(1 - 0.95)^2 = 0.0025",),
    ),
    # hinge: f = 0.5, y = 1: m = 0.5 < 1, l = 0.5, grad -1;  f = 2: m = 2 >= 1, l = 0, grad 0.
    Worked("hinge", [0.5, 2.0], [1.0, 1.0], 0.25, [-0.5, 0.0], {}, ("m = 0.5 < 1", "m = 2 >= 1")),
    # squared hinge: f = 0.5, y = -1: m = -0.5, l = 1.5^2 = 2.25, grad = -2 * (-1) * 1.5 = 3.
    Worked("squared_hinge", [0.5], [-1.0], 2.25, [3.0], {}, ("m = -0.5 < 1",)),
    # CCE, one-hot target class 0, p = [0.7, 0.2, 0.1]: l = -log 0.7.
    Worked(
        "categorical_cross_entropy",
        [[0.7, 0.2, 0.1]],
        [[1.0, 0.0, 0.0]],
        -math.log(0.7),
        None,
        {},
        ("p_t = p[0] = 0.7",),
    ),
    # Sparse CE from logits [0, 0]: p = [0.5, 0.5], l = log 2, grad = p - onehot = [-0.5, 0.5].
    Worked(
        "sparse_categorical_cross_entropy",
        [[0.0, 0.0]],
        [0],
        math.log(2.0),
        [[-0.5, 0.5]],
        {"from_logits": True},
        ("class 0: p_t = p[0] = 0.5",),
    ),
    # KL(q || p), q = [0.5, 0.5, 0], p = [0.7, 0.2, 0.1]: 0.5 log(0.5/0.7) + 0.5 log(0.5/0.2), 0 log 0 = 0.
    Worked(
        "kl_divergence",
        [[0.7, 0.2, 0.1]],
        [[0.5, 0.5, 0.0]],
        0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.2),
        [[-0.5 / 0.7, -0.5 / 0.2, 0.0]],
        {},
        ("q log(q/p)[0]",),
    ),
]


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=f"{c.name}{c.params}") for c in WORKED if c.name in REGISTERED]
)
def test_worked_examples_of_registered_losses(case):
    ex = explain(case.name, case.y_pred, case.y_true, **case.params)
    assert ex.dedicated
    assert math.isclose(float(ex.value), case.value, rel_tol=1e-12)
    if case.grad is not None:
        _close(ex.grad, case.grad)
    text = ex.to_text()
    for snippet in case.shows:
        assert snippet in text
