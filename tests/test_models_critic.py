"""Models as WGAN-GP critics: input gradients, double backprop and the critic objective vs torch.autograd.

The reference is the equivalent PyTorch module (``nn.Linear`` layers holding ``W.T``, the same
activations and residual skips) in float64: first derivatives by ``torch.autograd.grad`` and the
mixed second derivative by double backward (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from wgan_toy import train_affine_generator

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "linear": lambda z: z,
}
RTOL, ATOL = 1e-10, 1e-12


class TorchMLP(torch.nn.Module):
    """The PyTorch twin of a losslab model: Linear layers, hidden activation, residual skips, output map."""

    def __init__(self, model, params):
        super().__init__()
        sizes = model.layer_sizes
        self.keys = model.keys
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(sizes[:-1], sizes[1:])
        )
        with torch.no_grad():
            for layer, (wk, bk) in zip(self.layers, self.keys):
                layer.weight.copy_(torch.from_numpy(params[wk].T.copy()))
                layer.bias.copy_(torch.from_numpy(params[bk].copy()))
        n = len(sizes) - 1
        # A hidden layer gets a skip when skip=True and its input and output widths match.
        self.skips = [model.skip and l < n - 1 and sizes[l] == sizes[l + 1] for l in range(n)]
        self.act = TORCH_ACT[model.activation.name]
        self.out = TORCH_ACT[model.output_activation.name]

    def forward(self, x):
        h = x
        for l, layer in enumerate(self.layers):
            z = layer(h)
            if l == len(self.layers) - 1:
                return self.out(z)[:, 0]
            a = self.act(z)
            h = a + h if self.skips[l] else a
        raise AssertionError

    def grads(self):
        """Parameter gradients in losslab's layout (``W`` is ``weight.T``)."""
        out = {}
        for layer, (wk, bk) in zip(self.layers, self.keys):
            out[wk] = layer.weight.grad.numpy().T
            out[bk] = layer.bias.grad.numpy()
        return out


def random_params(model, rng):
    return {k: 0.7 * rng.normal(size=v.shape) for k, v in model.init(rng).items()}


MODELS = (
    [pytest.param(lambda: ll.models.Linear(3), id="Linear(3)")]
    + [
        pytest.param(
            lambda act=act, skip=skip: ll.models.MLP([4, 4, 4, 1], activation=act, skip=skip),
            id=f"MLP(activation={act},skip={skip})",
        )
        for act in ACTIVATIONS
        for skip in (False, True)
    ]
    + [
        pytest.param(
            lambda: ll.models.MLP([3, 5, 1], activation="tanh", output_activation="sigmoid"),
            id="MLP(tanh,output=sigmoid)",
        ),
        pytest.param(lambda: ll.models.Logistic(2), id="Logistic(2)"),
    ]
)


def setup(make, seed=0, n=6):
    model = make()
    rng = np.random.default_rng(seed)
    params = random_params(model, rng)
    X = rng.normal(size=(n, model.n_in))
    return model, params, X, rng


def fd4(f, x, h=1e-4):
    """4th-order central differences of a scalar function, elementwise over ``x``."""
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):

        def at(step, idx=idx):
            shifted = x.copy()
            shifted[idx] += step
            return f(shifted)

        out[idx] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return out


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivatives_match_torch_double_backward(name):
    act = ll.models.activations.get(name)
    z_np = np.array([-3.0, -1.2, -0.3, 0.0, 0.4, 1.1, 2.5])
    z = torch.tensor(z_np, requires_grad=True)
    (d1,) = torch.autograd.grad(TORCH_ACT[name](z).sum(), z, create_graph=True)
    # The identity's derivative is a constant outside the graph: its second derivative is zero.
    d2 = torch.autograd.grad(d1.sum(), z)[0] if d1.requires_grad else torch.zeros_like(z)
    a = act.forward(z_np)
    np.testing.assert_allclose(act.derivative(z_np, a), d1.detach().numpy(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(act.second_derivative(z_np, a), d2.numpy(), rtol=1e-13, atol=1e-16)


def test_activation_second_derivatives_by_hand():
    s = 1 / (1 + np.exp(-1.0))
    t = np.tanh(1.0)
    sig, tanh = ll.models.activations.get("sigmoid"), ll.models.activations.get("tanh")
    assert sig.second_derivative(np.array(1.0), np.array(s)) == pytest.approx(s * (1 - s) * (1 - 2 * s))
    assert tanh.second_derivative(np.array(1.0), np.array(t)) == pytest.approx(-2 * t * (1 - t * t))
    # Kinks as PyTorch: relu' = 0 and leaky' = 0.01 at z = 0.
    zero = np.array([0.0])
    assert ll.models.activations.get("relu").derivative(zero, zero)[0] == 0.0
    assert ll.models.activations.get("leaky_relu").derivative(zero, zero)[0] == 0.01
    assert ll.models.activations.get("softmax").second_derivative is None


# --------------------------------------------------------------------------- first derivatives


@pytest.mark.parametrize("make", MODELS)
def test_input_grad_matches_finite_differences_and_torch(make):
    model, params, X, _ = setup(make)
    g = model.input_grad(params, X)
    assert g.shape == X.shape
    np.testing.assert_allclose(
        g, fd4(lambda x: model.critic_scores(params, x).sum(), X), rtol=1e-7, atol=1e-9
    )
    net = TorchMLP(model, params)
    x = torch.tensor(X, requires_grad=True)
    (gt,) = torch.autograd.grad(net(x).sum(), x)
    np.testing.assert_allclose(g, gt.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("make", MODELS)
def test_params_vjp_matches_torch_backward(make):
    model, params, X, rng = setup(make)
    cot = rng.normal(size=X.shape[0])
    grads = model.params_vjp(params, X, cot)
    net = TorchMLP(model, params)
    (net(torch.tensor(X)) * torch.tensor(cot)).sum().backward()
    expected = net.grads()
    assert list(grads) == list(params)
    for key in params:
        np.testing.assert_allclose(grads[key], expected[key], rtol=RTOL, atol=ATOL, err_msg=key)
    # (n, 1) cotangents are the same thing (what wgan_gp_critic hands a bare model).
    again = model.params_vjp(params, X, cot[:, None])
    for key in params:
        np.testing.assert_array_equal(again[key], grads[key])


# --------------------------------------------------------------------------- double backprop


@pytest.mark.parametrize("make", MODELS)
def test_input_grad_vjp_matches_torch_double_backward(make):
    model, params, X, rng = setup(make)
    cot = rng.normal(size=X.shape)
    grads = model.input_grad_vjp(params, X, cot)
    net = TorchMLP(model, params)
    x = torch.tensor(X, requires_grad=True)
    (gx,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    names = [k for pair in model.keys for k in pair]
    tensors = [t for layer in net.layers for t in (layer.weight, layer.bias)]
    second = torch.autograd.grad((gx * torch.tensor(cot)).sum(), tensors, materialize_grads=True)
    for key, t in zip(names, second):
        expected = t.numpy().T if key.startswith("W") else t.numpy()
        np.testing.assert_allclose(grads[key], expected, rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("make", MODELS)
def test_input_grad_vjp_matches_finite_differences_of_the_contracted_gradient(make):
    model, params, X, rng = setup(make, seed=1, n=4)
    cot = rng.normal(size=X.shape)
    grads = model.input_grad_vjp(params, X, cot)
    for key in params:

        def contracted(p, key=key):
            return float(np.sum(cot * model.input_grad({**params, key: p}, X)))

        np.testing.assert_allclose(
            grads[key], fd4(contracted, params[key]), rtol=1e-7, atol=1e-8, err_msg=key
        )


def test_relu_mixed_derivative_without_skip_has_no_second_order_term():
    # One relu hidden layer: D = relu(x W1 + b1) W2 + b2, dD/dx = ([z > 0] * W2^T) W1^T, so
    # d/db1 <c, dD/dx> = 0 (relu'' = 0) and d/dW2 = ([z>0] * (c W1))^T summed over samples.
    model = ll.models.MLP([2, 3, 1], activation="relu")
    params = {
        "W1": np.array([[1.0, -1.0, 0.5], [0.5, 2.0, -1.0]]),
        "b1": np.array([0.1, -0.2, 0.3]),
        "W2": np.array([[2.0], [-1.0], [0.5]]),
        "b2": np.array([0.0]),
    }
    X = np.array([[1.0, 1.0], [-1.0, 0.5]])
    cot = np.array([[1.0, 0.0], [0.5, -1.0]])
    grads = model.input_grad_vjp(params, X, cot)
    mask = (X @ params["W1"] + params["b1"]) > 0
    np.testing.assert_array_equal(grads["b1"], 0.0)
    np.testing.assert_allclose(grads["W2"][:, 0], np.sum(mask * (cot @ params["W1"]), axis=0), rtol=1e-15)
    np.testing.assert_allclose(grads["W1"], cot.T @ (mask * params["W2"][:, 0]), rtol=1e-15)


# --------------------------------------------------------------------------- shapes, dtypes, errors


def test_one_dimensional_inputs_give_one_dimensional_gradients():
    model = ll.models.MLP([1, 5, 1], activation="tanh")
    params = random_params(model, np.random.default_rng(0))
    x = np.linspace(-1, 1, 7)
    g = model.input_grad(params, x)
    assert g.shape == (7,)
    np.testing.assert_array_equal(g, model.input_grad(params, x[:, None])[:, 0])
    a = model.input_grad_vjp(params, x, np.ones(7))
    b = model.input_grad_vjp(params, x[:, None], np.ones((7, 1)))
    for key in params:
        np.testing.assert_array_equal(a[key], b[key])


def test_float32_stays_float32_and_inputs_are_not_mutated():
    model = ll.models.MLP([3, 4, 4, 1], activation="relu", skip=True, dtype=np.float32)
    params = model.init(0)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    cot = np.ones_like(X)
    before = ({k: v.copy() for k, v in params.items()}, X.copy(), cot.copy())
    assert model.input_grad(params, X).dtype == np.float32
    assert all(v.dtype == np.float32 for v in model.input_grad_vjp(params, X, cot).values())
    assert all(v.dtype == np.float32 for v in model.params_vjp(params, X, np.ones(5)).values())
    for key in params:
        np.testing.assert_array_equal(params[key], before[0][key])
    np.testing.assert_array_equal(X, before[1])
    np.testing.assert_array_equal(cot, before[2])


def test_multi_output_models_are_refused_with_a_clear_error():
    model = ll.models.MLP([2, 3, 2])
    params = model.init(0)
    X = np.ones((4, 2))
    for call in (
        lambda: model.input_grad(params, X),
        lambda: model.input_grad_vjp(params, X, X),
        lambda: model.critic_scores(params, X),
        lambda: ll.models.as_critic(model),
    ):
        with pytest.raises(ValueError, match=r"one output \(n_out == 1\), got n_out=2"):
            call()
    with pytest.raises(ValueError, match="n_out=3"):
        ll.models.as_critic(ll.models.Softmax(2, 3))
    with pytest.raises(ValueError, match="element-wise output activation, got output_activation='softmax'"):
        ll.models.MLP([2, 1], output_activation="softmax").input_grad({"W1": np.ones((2, 1)), "b1": [0.0]}, X)
    with pytest.raises(TypeError, match="as_critic: model must be a losslab model, got dict"):
        ll.models.as_critic({})
    # params_vjp is a plain VJP: multi-output models take (n, n_out) cotangents.
    assert model.params_vjp(params, X, np.ones((4, 2)))["W2"].shape == (3, 2)


def test_bad_cotangents_raise_naming_cot():
    model = ll.models.MLP([2, 3, 1], activation="tanh")
    params, X = model.init(0), np.ones((4, 2))
    with pytest.raises(ValueError, match=r"cot must have shape \(4, 2\), got \(4,\)"):
        model.input_grad_vjp(params, X, np.ones(4))
    with pytest.raises(ValueError, match=r"cot must have shape \(4, 1\), got \(3,\)"):
        model.params_vjp(params, X, np.ones(3))
    with pytest.raises(ValueError, match="cot contains NaN"):
        model.input_grad_vjp(params, X, np.full((4, 2), np.nan))


# --------------------------------------------------------------------------- the WGAN-GP objective


def torch_wgan_gp(model, params, real, fake, x_hat, weight, one_sided):
    net = TorchMLP(model, params)
    xh = torch.tensor(x_hat, requires_grad=True)
    (g,) = torch.autograd.grad(net(xh).sum(), xh, create_graph=True)
    gap = torch.linalg.vector_norm(g, dim=1) - 1.0
    if one_sided:
        gap = torch.relu(gap)
    value = net(torch.tensor(fake)).mean() - net(torch.tensor(real)).mean() + weight * (gap**2).mean()
    value.backward()
    return float(value.detach()), net.grads()


@pytest.mark.parametrize("one_sided", [False, True])
@pytest.mark.parametrize("skip", [False, True])
def test_wgan_gp_critic_with_an_mlp_matches_torch(skip, one_sided):
    model = ll.models.MLP([3, 6, 6, 1], activation="tanh", skip=skip)
    rng = np.random.default_rng(4)
    params = random_params(model, rng)
    real, fake = rng.normal(1.0, 1.0, (10, 3)), rng.normal(-1.0, 2.0, (10, 3))
    x_hat, _ = ll.losses.interpolates(real, fake, seed=7)
    expected_value, expected = torch_wgan_gp(model, params, real, fake, x_hat, 2.5, one_sided)
    for critic in (ll.models.as_critic(model), model):  # the wrapper and the bare model agree
        value, grads = ll.losses.wgan_gp_critic(
            critic, params, real, fake, weight=2.5, one_sided=one_sided, seed=7
        )
        assert value == pytest.approx(expected_value, rel=RTOL)
        for key in params:
            np.testing.assert_allclose(grads[key], expected[key], rtol=RTOL, atol=ATOL, err_msg=key)


def test_toy_wgan_gp_with_an_mlp_critic_learns_the_mean_and_std_of_a_gaussian():
    """An affine generator a z + b against N(3, 0.5^2), critic ``MLP([1, 16, 1], "tanh")``: b ~ 3, |a| ~ 0.5.

    The one-sided penalty (Gulrajani et al. 2017) lets the 1-D critic flip its slope without crossing
    the |D'| = 0 barrier of height lambda that the two-sided penalty puts in the way; the output
    layer starts at zero so the critic starts flat.
    """
    rng = np.random.default_rng(0)
    model = ll.models.MLP([1, 16, 1], activation="tanh")
    critic = ll.models.as_critic(model)
    critic_params = {
        "W1": rng.normal(size=(1, 16)),
        "b1": rng.normal(size=16),
        "W2": np.zeros((16, 1)),
        "b2": np.zeros(1),
    }
    a, b, critic_params = train_affine_generator(critic, critic_params, rng)
    assert b == pytest.approx(3.0, rel=0.1)
    assert abs(a) == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(critic_params["b2"], 0.0)  # the objective is blind to a constant shift
