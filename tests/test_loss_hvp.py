"""Hessian-vector products of the losses with respect to y_pred, against torch.autograd.functional.hvp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from loss_cases import all_cases

TRAINABLE_TASKS = ("regression", "binary", "multiclass", "distribution")


def _trainable(loss: ll.losses.Loss) -> bool:
    """A loss a model trains with: one differentiable input y_pred, element-wise or over a class axis."""
    return (
        loss.info.task in TRAINABLE_TASKS
        and loss.differentiable == ("y_pred",)
        and loss.kind in ("elementwise", "class_axis")
    )


HVP_CASES = all_cases(lambda loss: loss.has_hvp)


def _tensor(x: np.ndarray, grad: bool = False) -> torch.Tensor:
    arr = np.asarray(x)
    if np.issubdtype(arr.dtype, np.integer):
        return torch.tensor(arr, dtype=torch.long)
    return torch.tensor(arr, dtype=torch.float64, requires_grad=grad)


def _reference_hvp(loss, params, y_pred, y_true, v, reduction, sample_weight):
    """torch's hvp of the declaration's torch expression, with its tolerance; 4th-order central
    differences of ``grad`` along ``v`` where there is none or torch has no double backward for it
    (``multi_margin_loss``)."""

    def g(step: float) -> np.ndarray:
        return loss.grad(
            y_pred + step * v, y_true, reduction=reduction, sample_weight=sample_weight, **params
        )

    h = 1e-4
    differences = (-g(2 * h) + 8 * g(h) - 8 * g(-h) + g(-2 * h)) / (12 * h), 1e-7
    if loss.torch_fn is None:
        return differences
    resolved = loss.resolve_params(params)
    t = _tensor(y_true)
    w = None if sample_weight is None else _tensor(sample_weight)

    def f(p: torch.Tensor) -> torch.Tensor:
        if w is None:
            return loss.torch_fn(torch, p, t, reduction=reduction, **resolved).sum()
        return (loss.torch_fn(torch, p, t, reduction="none", **resolved) * w).sum()

    try:
        _, hv = torch.autograd.functional.hvp(f, _tensor(y_pred), _tensor(v))
    except RuntimeError as error:
        if "not implemented" not in str(error):
            raise
        return differences
    return hv.numpy(), 1e-9


def test_every_loss_a_model_trains_with_has_an_hvp():
    missing = [n for n in ll.losses.names() if _trainable(ll.losses.get(n)) and not ll.losses.get(n).has_hvp]
    assert missing == []


@pytest.mark.parametrize(("loss", "params"), HVP_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_hvp_matches_torch(loss, params, reduction):
    rng = np.random.default_rng(11)
    y_pred, y_true = loss.sample(rng, **params)
    v = rng.normal(size=np.shape(y_pred))
    hv = loss.hvp(y_pred, y_true, v, reduction=reduction, **params)
    reference, rtol = _reference_hvp(loss, params, y_pred, y_true, v, reduction, None)
    assert hv.shape == np.shape(y_pred)
    np.testing.assert_allclose(hv, reference, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize(("loss", "params"), HVP_CASES)
def test_weighted_hvp_matches_torch(loss, params):
    rng = np.random.default_rng(12)
    y_pred, y_true = loss.sample(rng, **params)
    v = rng.normal(size=np.shape(y_pred))
    shape = np.shape(y_pred) if loss.kind == "elementwise" else np.shape(y_pred)[:-1]
    w = rng.uniform(0.5, 2.0, size=shape)
    hv = loss.hvp(y_pred, y_true, v, reduction="sum", sample_weight=w, **params)
    reference, rtol = _reference_hvp(loss, params, y_pred, y_true, v, "sum", w)
    np.testing.assert_allclose(hv, reference, rtol=rtol, atol=rtol * 1e-2)


def test_softmax_cross_entropy_hvp_is_p_v_minus_p_p_dot_v():
    z = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    v = np.array([[1.0, 2.0, -1.0], [1.0, 0.0, 0.0]])
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    expected = p * v - p * (p * v).sum(-1, keepdims=True)
    hv = ll.losses.sparse_categorical_cross_entropy.hvp(z, [2, 0], v, reduction="sum", from_logits=True)
    np.testing.assert_allclose(hv, expected, rtol=1e-14)
    # second row: p = 1/3 each, H v = (1/3)(v - 1/3) on v = e_0
    np.testing.assert_allclose(hv[1], [2 / 9, -1 / 9, -1 / 9], rtol=1e-14)


def test_hvp_errors_name_the_problem():
    mse = ll.losses.mse
    with pytest.raises(ValueError, match=r"mse.hvp: v must have the shape of y_pred \(3,\), got \(2,\)"):
        mse.hvp([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="mse.hvp: v contains NaN"):
        mse.hvp([1.0, 2.0], [0.0, 0.0], [np.nan, 1.0])
    with pytest.raises(TypeError, match=r"mse.hvp: expected 3 arrays \(y_pred, y_true, v\), got 2"):
        mse.hvp([1.0], [0.0])
    with pytest.raises(ValueError, match="reduction"):
        mse.hvp([1.0], [0.0], [1.0], reduction="avg")
    with pytest.raises(NotImplementedError, match="dice: no Hessian-vector product declared"):
        ll.losses.dice.hvp(np.full((2, 3), 0.5), np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="binary_cross_entropy: y_pred must hold probabilities"):
        ll.losses.binary_cross_entropy.hvp([2.0], [1.0], [1.0])
