"""Every registered loss, automatically: gradients, PyTorch parity, properties, dtypes, errors.

A loss is covered the moment it is registered: its declaration supplies the test parameters, a
sampler of valid inputs, the torch expression, perfect inputs and the gradient bound.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import losslab as ll
from loss_cases import all_cases, as_tuple, central_difference, differentiable_positions

CASES = all_cases()
TORCH_CASES = all_cases(lambda loss: loss.torch_fn is not None)
RNG_SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _float_inputs(loss, inputs):
    return [np.asarray(x) for x in inputs]


@pytest.mark.parametrize(("loss", "params"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradient_matches_central_differences(loss, params, reduction):
    rng = np.random.default_rng(0)
    inputs = _float_inputs(loss, loss.sample(rng, **params))
    grads = as_tuple(loss.grad(*inputs, reduction=reduction, **params), loss)
    for k, pos in enumerate(differentiable_positions(loss)):

        def f(x, pos=pos):
            args = list(inputs)
            args[pos] = x
            return loss(*args, reduction=reduction, **params)

        expected = central_difference(f, inputs[pos])
        assert grads[k].shape == inputs[pos].shape
        np.testing.assert_allclose(grads[k], expected, rtol=1e-6, atol=1e-8, err_msg=f"d/d{loss.inputs[pos]}")


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_weighted_gradient_and_reductions_agree(loss, params):
    rng = np.random.default_rng(1)
    inputs = _float_inputs(loss, loss.sample(rng, **params))
    unreduced = loss(*inputs, reduction="none", **params)
    total = loss(*inputs, reduction="sum", **params)
    np.testing.assert_allclose(np.sum(unreduced), total, rtol=1e-12, atol=1e-12)
    weight = rng.uniform(0.5, 2.0, size=np.shape(unreduced))
    weighted = loss(*inputs, reduction="none", sample_weight=weight, **params)
    np.testing.assert_allclose(weighted, weight * unreduced, rtol=1e-12, atol=1e-12)
    grads = as_tuple(loss.grad(*inputs, reduction="sum", sample_weight=weight, **params), loss)
    for k, pos in enumerate(differentiable_positions(loss)):

        def f(x, pos=pos):
            args = list(inputs)
            args[pos] = x
            return loss(*args, reduction="sum", sample_weight=weight, **params)

        np.testing.assert_allclose(grads[k], central_difference(f, inputs[pos]), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: loss.kind == "elementwise"))
def test_elementwise_mean_is_sum_over_count(loss, params):
    inputs = loss.sample(np.random.default_rng(2), **params)
    n = np.asarray(inputs[0]).size
    assert math.isclose(loss(*inputs, **params) * n, loss(*inputs, reduction="sum", **params), rel_tol=1e-12)


@pytest.mark.parametrize(("loss", "params"), TORCH_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pytorch_parity(loss, params, reduction):
    rng = np.random.default_rng(3)
    inputs = loss.sample(rng, **params)
    tensors = []
    for name, x in zip(loss.inputs, inputs):
        arr = np.asarray(x)
        if np.issubdtype(arr.dtype, np.integer):
            tensors.append(torch.tensor(arr, dtype=torch.long))
        else:
            tensors.append(torch.tensor(arr, dtype=torch.float64, requires_grad=name in loss.differentiable))
    reference = loss.torch_fn(torch, *tensors, reduction=reduction, **loss.resolve_params(params))
    reference.sum().backward()
    value, grads = loss.value_and_grad(*inputs, reduction=reduction, **params)
    np.testing.assert_allclose(value, reference.detach().numpy(), rtol=1e-10, atol=1e-12)
    for k, pos in enumerate(differentiable_positions(loss)):
        np.testing.assert_allclose(
            as_tuple(grads, loss)[k],
            tensors[pos].grad.numpy(),
            rtol=1e-10,
            atol=1e-12,
            err_msg=f"d/d{loss.inputs[pos]}",
        )


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_torch_tensors_in_tensors_out_and_autograd_matches(loss, params):
    inputs = loss.sample(np.random.default_rng(4), **params)
    tensors = []
    for name, x in zip(loss.inputs, inputs):
        arr = np.asarray(x)
        dtype = torch.long if np.issubdtype(arr.dtype, np.integer) else torch.float64
        t = torch.tensor(arr, dtype=dtype)
        if name in loss.differentiable:
            t.requires_grad_(True)
        tensors.append(t)
    value = loss(*tensors, **params)
    assert isinstance(value, torch.Tensor)
    value.backward()
    analytic = as_tuple(loss.grad(*inputs, **params), loss)
    for k, pos in enumerate(differentiable_positions(loss)):
        np.testing.assert_allclose(tensors[pos].grad.numpy(), analytic[k], rtol=1e-9, atol=1e-12)
    torch_grads = as_tuple(loss.grad(*[t.detach() for t in tensors], **params), loss)
    assert all(isinstance(g, torch.Tensor) for g in torch_grads)


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_float32_stays_float32(loss, params):
    inputs = loss.sample(np.random.default_rng(5), **params)
    inputs32 = [
        np.asarray(x, dtype=np.float32) if np.issubdtype(np.asarray(x).dtype, np.floating) else x
        for x in inputs
    ]
    value, grads = loss.value_and_grad(*inputs32, **params)
    assert np.asarray(value).dtype == np.float32
    for g in as_tuple(grads, loss):
        assert g.dtype == np.float32
    np.testing.assert_allclose(value, loss(*inputs, **params), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_inputs_are_not_mutated(loss, params):
    inputs = [np.asarray(x) for x in loss.sample(np.random.default_rng(6), **params)]
    copies = [x.copy() for x in inputs]
    loss.value_and_grad(*inputs, reduction="none", **params)
    loss.value_and_grad(*inputs, **params)
    for x, c in zip(inputs, copies):
        np.testing.assert_array_equal(x, c)


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: loss.nonnegative))
@settings(max_examples=25, deadline=None)
@given(seed=RNG_SEEDS)
def test_nonnegative(loss, params, seed):
    inputs = loss.sample(np.random.default_rng(seed), **params)
    assert np.all(np.asarray(loss(*inputs, reduction="none", **params)) >= 0)


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: loss._perfect_fn is not None))
@settings(max_examples=10, deadline=None)
@given(seed=RNG_SEEDS)
def test_zero_at_perfect_prediction(loss, params, seed):
    inputs = loss.perfect(np.random.default_rng(seed), **params)
    np.testing.assert_allclose(loss(*inputs, reduction="none", **params), 0.0, atol=1e-12)


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: loss.info.convex))
@settings(max_examples=25, deadline=None)
@given(seed=RNG_SEEDS)
def test_convexity_midpoint_inequality(loss, params, seed):
    rng = np.random.default_rng(seed)
    a = list(loss.sample(rng, **params))
    b = list(loss.sample(rng, **params))
    pos = differentiable_positions(loss)[0]
    mid = list(a)
    mid[pos] = 0.5 * (np.asarray(a[pos]) + np.asarray(b[pos]))
    b_same_rest = list(a)
    b_same_rest[pos] = b[pos]
    f = lambda args: np.asarray(loss(*args, reduction="none", **params))  # noqa: E731
    assert np.all(f(mid) <= 0.5 * (f(a) + f(b_same_rest)) + 1e-12)


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: loss.info.robust))
@settings(max_examples=25, deadline=None)
@given(seed=RNG_SEEDS, spread=st.floats(1.0, 1e6))
def test_robust_losses_have_bounded_gradients(loss, params, seed, spread):
    assert loss.grad_bound is not None, "a robust loss declares its gradient bound"
    inputs = list(loss.sample(np.random.default_rng(seed), **params))
    pos = differentiable_positions(loss)[0]
    inputs[pos] = np.asarray(inputs[pos]) * spread
    grads = as_tuple(loss.grad(*inputs, reduction="sum", **params), loss)
    assert np.all(np.abs(grads[0]) <= loss.grad_bound(**params) * (1 + 1e-12))


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: getattr(loss, "hessian_fn", None)))
def test_hessian_diagonal_matches_gradient_differences(loss, params):
    y_pred, y_true = loss.sample(np.random.default_rng(7), **params)
    h = loss.hessian_diag(y_pred, y_true, reduction="sum", **params)
    step = 1e-5
    fd = (
        loss.grad(y_pred + step, y_true, reduction="sum", **params)
        - loss.grad(y_pred - step, y_true, reduction="sum", **params)
    ) / (2 * step)
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("loss", "params"), all_cases(lambda loss: loss.kind == "elementwise"))
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_numpy_path_equals_direct_formulas(loss, params, weighted):
    rng = np.random.default_rng(8)
    y_pred, y_true = (
        np.concatenate([loss.sample(rng, **params)[i].ravel() for _ in range(120)]) for i in (0, 1)
    )
    weight = rng.uniform(0.5, 2, size=y_pred.shape) if weighted else None
    with ll.config(block_size=256):
        blocked = loss.value_and_grad(y_pred, y_true, sample_weight=weight, **params)
    terms = loss._forward(np, (y_pred, y_true), loss.resolve_params(params), need_grad=True)
    w = 1.0 if weight is None else weight
    np.testing.assert_allclose(blocked[0], np.sum(w * terms.loss) / y_pred.size, rtol=1e-12)
    np.testing.assert_allclose(blocked[1], terms.vjp(w / y_pred.size)[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_nan_input_raises_naming_the_argument(loss, params):
    inputs = [np.array(x, dtype=np.float64) for x in loss.sample(np.random.default_rng(9), **params)]
    pos = differentiable_positions(loss)[0]
    inputs[pos].flat[0] = np.nan
    with pytest.raises(ValueError, match=loss.inputs[pos]):
        loss(*inputs, **params)


@pytest.mark.parametrize(
    ("loss", "params"), all_cases(lambda loss: loss.kind in ("elementwise", "class_axis"))
)
def test_empty_input_and_shape_mismatch_raise(loss, params):
    y_pred, y_true = loss.sample(np.random.default_rng(10), **params)
    with pytest.raises(ValueError, match="empty"):
        loss(np.asarray(y_pred)[:0], np.asarray(y_true)[:0], **params)
    with pytest.raises(ValueError, match="shape"):
        loss(np.asarray(y_pred)[:-1], y_true, **params)


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_unknown_parameter_and_bad_reduction_raise(loss, params):
    inputs = loss.sample(np.random.default_rng(11), **params)
    with pytest.raises(TypeError, match="unknown parameter.*not_a_param"):
        loss(*inputs, not_a_param=1, **params)
    with pytest.raises(ValueError, match="reduction"):
        loss(*inputs, reduction="average", **params)


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_declaration_is_complete(loss, params):
    info = loss.info
    assert info.formula and info.gradient and info.summary and info.use_when
    assert info.task in ll.losses._spec.TASKS
    assert ll.losses.get(loss.name) is loss
    assert getattr(ll.losses, loss.name) is loss
    for alias in info.aliases:
        assert ll.losses.get(alias) is loss
        assert getattr(ll.losses, alias) is loss
