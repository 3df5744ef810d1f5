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


# --------------------------------------------------------------------------- JAX tracing

# Losses whose computation needs concrete values (data-dependent selections, host conversions):
# under jax.jit / jax.grad they raise a TypeError saying so.
NOT_TRACEABLE = {"arcface", "batch_triplet", "cosface", "distillation", "spatial_consistency"}


@pytest.fixture(scope="module")
def jax64():
    import jax

    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name", ll.losses.names())
def test_jax_grad_and_jit_through_every_loss(jax64, name):
    jax, jnp = jax64, jax64.numpy
    loss = ll.losses.get(name)
    params = loss.test_params[0]
    np_inputs = [np.asarray(a) for a in loss.sample(np.random.default_rng(0), **params)]
    inputs = [jnp.asarray(a) for a in np_inputs]
    value, grads = loss.value_and_grad(*np_inputs, **params)
    first = grads[0] if isinstance(grads, tuple) else grads

    def f(a):
        return loss(a, *inputs[1:], **params)

    if name in NOT_TRACEABLE:
        with pytest.raises(TypeError, match=rf"{name}: this loss cannot be traced by jax.jit/jax.grad"):
            jax.jit(lambda *a: loss(*a, **params))(*inputs)
        return
    jitted = jax.jit(lambda *a: loss(*a, **params))(*inputs)
    assert float(jitted) == pytest.approx(float(value), rel=1e-10, abs=1e-12)
    g = np.asarray(jax.grad(f)(inputs[0]))
    np.testing.assert_allclose(g, np.asarray(first), rtol=1e-9, atol=1e-12)


def test_jit_keeps_shape_checks(jax64):
    jax, jnp = jax64, jax64.numpy
    with pytest.raises(ValueError, match="mse"):
        jax.jit(ll.losses.mse)(jnp.ones(3), jnp.ones(4))


# --------------------------------------------------------------------------- optimizers on tensors


def _trajectory(name, to, back, steps=5):
    opt = ll.optim.get(name, lr=0.05)
    rng = np.random.default_rng(1)
    params = {"W": to(rng.standard_normal((3, 2))), "b": to(rng.standard_normal(2))}
    state = opt.init(params)
    path = []
    for t in range(steps):
        grads = {k: to(np.cos(back(v) * (t + 1))) for k, v in params.items()}
        extra = {"hessian": np.eye(8) * 2.0} if "hessian" in opt.extra_args else {}
        params, state = ll.optim.step(opt, grads, state, params, **extra)
        path.append({k: back(v) for k, v in params.items()})
    return params, path


@pytest.mark.parametrize("framework", ["torch", "jax"])
@pytest.mark.parametrize("name", ll.optim.names())
def test_optimizer_trajectories_on_framework_arrays_match_numpy(jax64, name, framework):
    if framework == "torch":
        to, back = (lambda a: torch.tensor(a, dtype=torch.float64)), (lambda t: t.detach().numpy())
    else:
        to, back = (lambda a: jax64.numpy.asarray(a, dtype=np.float64)), np.asarray
    _, reference = _trajectory(name, np.asarray, np.asarray)
    final, path = _trajectory(name, to, back)
    for key in ("W", "b"):
        assert type(final[key]).__module__.split(".")[0] in {"torch", "jax", "jaxlib"}
    for got, want in zip(path, reference, strict=True):
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-13)


def test_optimizer_on_nn_parameter_data():
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = ll.optim.adam(lr=0.1)
    state = opt.init(w.data)
    new, _ = ll.optim.step(opt, torch.full((3,), 0.5, dtype=torch.float64), state, w.data)
    assert isinstance(new, torch.Tensor)
    np.testing.assert_allclose(new.numpy(), np.full(3, 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)), rtol=1e-14)


@pytest.mark.parametrize("framework", ["torch", "jax"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_framework_parameters_keep_their_library_and_float_dtype_as_numpy_ones_do(jax64, framework, dtype):
    start = np.array([1.0, -2.0, 3.0]).astype(dtype)
    grad = np.array([0.5, 0.25, -1.0], dtype=np.float32 if dtype == "float32" else np.float64)
    to = torch.from_numpy if framework == "torch" else jax64.numpy.asarray
    opt = ll.optim.sgd(lr=0.1, momentum=0.9)
    want, _ = ll.optim.step(opt, grad, opt.init(start), start)
    got, _ = ll.optim.step(opt, to(grad), opt.init(to(start)), to(start))
    assert type(got).__module__.split(".")[0] in {"torch", "jax", "jaxlib"}
    assert str(got.dtype).rsplit(".", 1)[-1] == str(want.dtype)  # float32 stays, integers become float64
    np.testing.assert_array_equal(np.asarray(got), want)
