"""Framework arrays: mixed PyTorch / NumPy calls, optimizers on PyTorch tensors and JAX arrays, and
``jax.grad`` / ``jax.jit`` through the losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from loss_cases import all_cases, as_tuple, differentiable_positions

CASES = all_cases()


def _split(loss, inputs):
    """Differentiable inputs as float64 tensors (requiring grad), the others left as NumPy."""
    out = []
    for name, x in zip(loss.inputs, inputs):
        if name in loss.differentiable:
            out.append(torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True))
        else:
            out.append(np.asarray(x))
    return out


# --------------------------------------------------------------------------- mixed inputs


@pytest.mark.parametrize(("loss", "params"), CASES)
def test_tensor_predictions_with_numpy_targets(loss, params):
    """Issue item 7: targets and labels given as NumPy join the tensor's namespace and device."""
    inputs = loss.sample(np.random.default_rng(6), **params)
    mixed = _split(loss, inputs)
    value = loss(*mixed, **params)
    assert isinstance(value, torch.Tensor)
    np.testing.assert_allclose(value.detach().numpy(), loss(*inputs, **params), rtol=1e-12, atol=1e-14)
    value.backward()
    analytic = as_tuple(loss.grad(*inputs, **params), loss)
    for k, pos in enumerate(differentiable_positions(loss)):
        np.testing.assert_allclose(mixed[pos].grad.numpy(), analytic[k], rtol=1e-9, atol=1e-12)


def test_numpy_sample_weight_and_float32_tensor():
    rng = np.random.default_rng(0)
    y_pred = torch.tensor(rng.standard_normal((4, 3)), dtype=torch.float32, requires_grad=True)
    y_true, w = rng.standard_normal((4, 3)), rng.random((4, 3))
    value = ll.losses.huber(y_pred, y_true, sample_weight=w)
    assert value.dtype == torch.float32  # float targets take the tensor's dtype
    expected = ll.losses.huber(y_pred.detach().numpy(), y_true.astype(np.float32), sample_weight=w)
    np.testing.assert_allclose(value.item(), expected, rtol=1e-6)
    labels = ll.losses.sparse_categorical_cross_entropy(y_pred, np.array([0, 2, 1, 1]), from_logits=True)
    assert labels.dtype == torch.float32


def test_numpy_differentiable_input_with_a_tensor_target_names_both():
    with pytest.raises(TypeError, match="mse: y_true is a torch tensor but y_pred is a NumPy array"):
        ll.losses.mse(np.ones(3), torch.ones(3))
    anchor = torch.ones((2, 3), dtype=torch.float64)
    with pytest.raises(TypeError, match="triplet_margin: anchor is a torch tensor but positive is a NumPy"):
        ll.losses.triplet_margin(anchor, np.ones((2, 3)), np.zeros((2, 3)))


def test_two_frameworks_in_one_call_name_both():
    import jax.numpy as jnp

    with pytest.raises(TypeError, match="mse: y_pred is a torch tensor but y_true is a JAX array"):
        ll.losses.mse(torch.ones(3), jnp.ones(3))
