"""Transformations: the momentum forms and their exact relations, Nesterov's two forms, AdaGrad,
RMSProp and Adam variants, weight decay, clipping, accumulation, plateau, purity and errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import losslab as ll

O = ll.optim
C = np.array([0.3, 1.0, 2.5, 6.0])
X0 = np.array([2.0, -1.5, 1.0, 0.7])


def grad(x):
    return C * x + 0.3 * np.sin(3 * x)


def run(opt, steps=150, x0=X0):
    x = x0.copy()
    state = opt.init(x)
    out = []
    for _ in range(steps):
        u, state = opt.update(grad(x), state, x)
        x = O.apply_updates(x, u)
        out.append(x)
    return np.array(out)


# ----------------------------------------------------------------------------- momentum forms
def test_ema_with_lr_over_one_minus_beta_is_pytorch_momentum():
    """v_t = (1 - beta) b_t when dampening = 0, so EMA at lr / (1 - beta) == SGD(lr, momentum=beta)."""
    lr, beta = 0.05, 0.9
    ema = O.chain(O.ema(beta), O.scale_by_learning_rate(lr / (1 - beta)))
    np.testing.assert_allclose(run(ema), run(O.sgd(lr, momentum=beta)), rtol=1e-12, atol=1e-14)


def test_pytorch_dampening_beta_is_not_the_ema():
    """dampening=beta differs from the EMA by the undampened first step: b_t = v_t + beta^t g_1."""
    beta = 0.9
    x = X0.copy()
    t_state = O.trace(beta, dampening=beta).init(x)
    e_state = O.ema(beta).init(x)
    g1 = grad(x)
    gs = [g1] + [grad(x + 0.1 * k) for k in range(1, 6)]
    for t, g in enumerate(gs, start=1):
        b, t_state = O.trace(beta, dampening=beta).update(g, t_state)
        v, e_state = O.ema(beta).update(g, e_state)
        np.testing.assert_allclose(b, v + beta**t * g1, rtol=1e-13)
    lr = 0.05
    dampened = run(O.sgd(lr, momentum=beta, dampening=beta))
    ema = run(O.chain(O.ema(beta), O.scale_by_learning_rate(lr)))
    assert not np.allclose(dampened[:20], ema[:20], rtol=1e-3)


def test_classic_velocity_equals_pytorch_for_constant_lr_only():
    lr, beta = 0.05, 0.9
    np.testing.assert_allclose(
        run(O.velocity_momentum(lr, beta)), run(O.momentum(lr, beta)), rtol=1e-12, atol=1e-14
    )
    sched = O.schedules.step_decay(lr, 10, 0.5)
    velocity, pytorch = run(O.velocity_momentum(sched, beta), 40), run(O.momentum(sched, beta), 40)
    np.testing.assert_allclose(velocity[:10], pytorch[:10], rtol=1e-12)  # same lr so far
    assert not np.allclose(velocity[10:], pytorch[10:], rtol=1e-3)  # old lrs live inside v


def test_curriculum_rho_form_is_pytorch_buffer():
    """The curriculum's v = rho v + grad; W -= lr v is SGD(momentum=rho) exactly."""
    lr, rho = 0.01, 0.9
    w, v, ws = X0.copy(), 0.0, []
    for _ in range(100):
        v = rho * v + grad(w)
        w = w - lr * v
        ws.append(w)
    np.testing.assert_allclose(run(O.sgd(lr, momentum=rho), 100), np.array(ws), rtol=1e-12)


def test_sutskever_nesterov_lookahead_form():
    """The curriculum's loop (look-ahead gradient), and x_t + beta v_t == PyTorch's Nesterov iterate."""
    alpha, rho = 0.1, 0.9
    x, v, xs = 5.0, 0.0, []
    for _ in range(50):  # the curriculum's code on f(x) = x^2
        g = 2 * (x + rho * v)
        v = rho * v - alpha * g
        x = x + v
        xs.append(x)
    opt = O.sutskever_nesterov(alpha, rho)
    p = np.array(5.0)
    state = opt.init(p)
    ours, lookahead = [], []
    for _ in range(50):
        look = O.nesterov_lookahead(p, state, rho)
        u, state = opt.update(2 * look, state, p)
        p = O.apply_updates(p, u)
        ours.append(float(p))
        lookahead.append(float(O.nesterov_lookahead(p, state, rho)))
    np.testing.assert_allclose(ours, xs, rtol=1e-12, atol=1e-300)
    y = np.array(5.0)
    nes = O.nesterov(alpha, rho)
    s = nes.init(y)
    ys = []
    for _ in range(50):
        u, s = nes.update(2 * y, s, y)
        y = O.apply_updates(y, u)
        ys.append(float(y))
    np.testing.assert_allclose(lookahead, ys, rtol=1e-10, atol=1e-14)


def test_nesterov_lookahead_rejects_other_states():
    with pytest.raises(TypeError, match="nesterov_lookahead: state must be a SutskeverNesterovState"):
        O.nesterov_lookahead(X0, O.sgd(0.1).init(X0), 0.9)


# ----------------------------------------------------------------------------- adaptive variants
def test_adam_keras_eps_hat_equals_algorithm1_with_rescaled_eps():
    """Keras: eta_t m / (sqrt v + eps_hat) == Algorithm 1 with eps = eps_hat / sqrt(1 - b2^t)."""
    b2, eps_hat = 0.999, 1e-3
    keras = O.scale_by_adam(eps=eps_hat, eps_placement="keras")
    ks = keras.init(X0)
    for t in range(1, 6):
        g = grad(X0 + 0.2 * t)
        u_k, ks = keras.update(g, ks)
        m, v = ks.mu, ks.nu
        u_ref = (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - b2**t)) + eps_hat / np.sqrt(1 - b2**t))
        np.testing.assert_allclose(u_k, u_ref, rtol=1e-12)
    # and the two placements really differ for the same eps
    a = run(O.chain(O.scale_by_adam(eps=0.1), O.scale_by_learning_rate(0.05)), 30)
    k = run(O.chain(O.scale_by_adam(eps=0.1, eps_placement="keras"), O.scale_by_learning_rate(0.05)), 30)
    assert not np.allclose(a, k, rtol=1e-4)


def test_adam_preset_equals_its_chain():
    for kwargs in ({}, {"amsgrad": True}):
        chain = O.chain(O.scale_by_adam(**kwargs), O.scale_by_learning_rate(0.02))
        np.testing.assert_allclose(run(O.adam(0.02, **kwargs)), run(chain), rtol=1e-12, atol=1e-15)
    coupled = O.chain(O.add_decayed_weights(0.1), O.scale_by_adam(), O.scale_by_learning_rate(0.02))
    np.testing.assert_allclose(run(O.adam(0.02, weight_decay=0.1)), run(coupled), rtol=1e-12)
    decoupled = O.chain(
        O.scale_by_adam(), O.scale_by_learning_rate(0.02), O.decoupled_weight_decay(0.1, 0.02)
    )
    optax_style = O.chain(O.scale_by_adam(), O.add_decayed_weights(0.1), O.scale_by_learning_rate(0.02))
    np.testing.assert_allclose(run(O.adamw(0.02, weight_decay=0.1)), run(decoupled), rtol=1e-12)
    np.testing.assert_allclose(run(O.adamw(0.02, weight_decay=0.1)), run(optax_style), rtol=1e-12)


def test_adam_large_leaf_crosses_blocks():
    """The blocked kernel on a leaf longer than one block equals the plain formula."""
    rng = np.random.default_rng(0)
    n = 100_003
    g1, g2 = rng.normal(size=n), rng.normal(size=n)
    opt = O.scale_by_adam(amsgrad=True)
    s = opt.init(np.zeros(n))
    u1, s = opt.update(g1, s)
    u2, s = opt.update(g2, s)
    m = 0.1 * 0.9 * g1 + 0.1 * g2
    v1 = 0.001 * g1**2
    v = 0.999 * v1 + 0.001 * g2**2
    vmax = np.maximum(v1, v)
    np.testing.assert_allclose(s.mu, m, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(
        u2, (m / (1 - 0.81)) / (np.sqrt(vmax / (1 - 0.999**2)) + 1e-8), rtol=1e-11, atol=1e-14
    )


def test_rms_eps_inside_the_root():
    opt = O.scale_by_rms(alpha=0.9, eps=0.01, eps_in_sqrt=True)
    u, s = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
    np.testing.assert_allclose(u, 2.0 / np.sqrt(0.1 * 4.0 + 0.01))
    opt = O.scale_by_rms(alpha=0.9, eps=0.01)
    u, s = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
    np.testing.assert_allclose(u, 2.0 / (np.sqrt(0.4) + 0.01))


def test_adagrad_first_steps_by_hand():
    opt = O.adagrad(lr=1.0, lr_decay=0.5, initial_accumulator_value=1.0, eps=0.0)
    x = np.array([3.0])
    s = opt.init(x)
    u, s = opt.update(np.array([1.0]), s, x)  # G = 2, step 1: lr / 1
    np.testing.assert_allclose(u, -1 / np.sqrt(2))
    u, s = opt.update(np.array([2.0]), s, x)  # G = 6, step 2: lr / (1 + 0.5)
    np.testing.assert_allclose(u, -(2 / np.sqrt(6)) / 1.5)


# ----------------------------------------------------------------------------- clipping
def test_clipping_matches_torch():
    torch = pytest.importorskip("torch")
    grads = {"w": np.array([[3.0, -4.0], [1.0, 2.0]]), "b": np.array([12.0])}
    for max_norm in (1.0, 5.0, 100.0):
        ours, _ = O.clip_by_global_norm(max_norm).update(grads, O.EmptyState())
        ts = [torch.tensor(v) for v in grads.values()]
        for t in ts:
            t.grad = t.clone()
        torch.nn.utils.clip_grad_norm_(ts, max_norm)
        for k, t in zip(grads, ts):
            np.testing.assert_allclose(ours[k], t.grad.numpy(), rtol=1e-14)
    clipped, _ = O.clip_by_value(2.5).update(grads, O.EmptyState())
    np.testing.assert_array_equal(clipped["w"], [[2.5, -2.5], [1.0, 2.0]])
    np.testing.assert_array_equal(clipped["b"], [2.5])


# ----------------------------------------------------------------------------- accumulation
def test_multi_steps_is_one_step_on_the_mean_gradient():
    rng = np.random.default_rng(1)
    micro = [rng.normal(size=4) for _ in range(9)]
    acc = O.multi_steps(O.adam(0.1), 3)
    plain = O.adam(0.1)
    x = X0.copy()
    sa, sp = acc.init(x), plain.init(x)
    for i in range(3):
        batch = micro[3 * i : 3 * i + 3]
        for j, g in enumerate(batch):
            u, sa = acc.update(g, sa, x)
            if j < 2:
                assert np.all(u == 0) and sa.mini_step == j + 1
        ref, sp = plain.update(np.mean(batch, axis=0), sp, x)
        np.testing.assert_allclose(u, ref, rtol=1e-13)
        x = O.apply_updates(x, u)
    assert sa.inner_state.step == 3


# ----------------------------------------------------------------------------- plateau
def test_reduce_on_plateau_counts_like_torch_and_needs_the_value():
    opt = O.reduce_on_plateau(factor=0.5, patience=1, cooldown=1, threshold=0.0)
    s = opt.init(X0)
    values = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8]
    scales = []
    for v in values:
        u, s = opt.update(np.ones(4), s, value=v)
        scales.append(float(u[0]))
    # 1.0 and 0.9 improve; 0.9 bad (1), 0.9 bad (2 > patience: cut, cooldown 1), 0.9 (cooldown),
    # 0.9 bad (1), 0.8 improves, 0.8 bad (1), 0.8 bad (2: cut)
    assert scales == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]
    with pytest.raises(TypeError, match="reduce_on_plateau: update needs the loss value"):
        opt.update(np.ones(4), s)
    chained = O.chain(O.sgd(0.1), O.reduce_on_plateau(patience=0))
    cs = chained.init(X0)
    _, cs = chained.update(np.ones(4), cs, X0, value=1.0)
    _, cs = chained.update(np.ones(4), cs, X0, value=2.0)
    assert cs.inner[1].lr == pytest.approx(0.1)


# ----------------------------------------------------------------------------- purity, trees, errors
TREES = {
    "array": np.array([1.0, -2.0, 0.5]),
    "dict": {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1])},
    "nested": {"layers": [{"W": np.ones((2, 2))}, {"W": -np.ones((3,))}], "extra": (np.array([2.0]),)},
}
TRANSFORMS = {
    **{name: (lambda name=name: O.get(name, lr=0.1)) for name in O.names()},
    "sgd-nesterov-wd": lambda: O.sgd(0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam-amsgrad": lambda: O.adam(0.1, amsgrad=True, weight_decay=0.1),
    "rmsprop-centered": lambda: O.rmsprop(0.1, centered=True, momentum=0.5),
    "ema": lambda: O.ema(0.9, debias=True),
    "velocity": lambda: O.velocity_momentum(0.1),
    "sutskever": lambda: O.sutskever_nesterov(0.1),
    "clip": lambda: O.chain(O.clip_by_global_norm(0.5), O.clip_by_value(0.2)),
    "keras-adam": lambda: O.scale_by_adam(eps_placement="keras"),
    "multi_steps": lambda: O.multi_steps(O.adamw(0.1), 2),
    "decoupled": lambda: O.decoupled_weight_decay(0.1, 0.1),
    "adagrad-full-matrix": lambda: O.adagrad(0.1, full_matrix=True, weight_decay=0.1, lr_decay=0.1),
    "adam-eps-inside": lambda: O.adam(0.1, eps_placement="inside", amsgrad=True),
    "newton-damped": lambda: O.newton(0.5, damping=0.1),
}


@pytest.mark.parametrize("tree_name", list(TREES))
@pytest.mark.parametrize("opt_name", list(TRANSFORMS))
def test_update_never_mutates_and_keeps_structure(opt_name, tree_name):
    opt = TRANSFORMS[opt_name]()
    params = copy.deepcopy(TREES[tree_name])
    state = opt.init(params)
    for step in range(3):
        grads = ll._core.tree.tree_map(lambda p, step=step: np.cos(p) + step, params)
        d = ll.tree_ravel(params)[0].size
        extra = {"hessian": np.diag(np.arange(1.0, d + 1))} if "hessian" in opt.extra_args else {}
        before = [copy.deepcopy(x) for x in (params, grads, state)]
        updates, new_state = opt.update(grads, state, params, **extra)
        for old, now in zip(before, (params, grads, state)):
            for a, b in zip(ll._core.tree.tree_leaves(old), ll._core.tree.tree_leaves(now)):
                if isinstance(a, np.ndarray):
                    np.testing.assert_array_equal(a, b)
        assert ll._core.tree.tree_structure_equal(updates, params)
        new_params = O.apply_updates(params, updates)
        assert ll._core.tree.tree_structure_equal(new_params, params)
        params, state = new_params, new_state


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: O.sgd(lr=-0.1), ValueError, r"sgd: lr must be >= 0, got lr=-0.1"),
        (
            lambda: O.sgd(0.1, momentum=1.5),
            ValueError,
            r"sgd: momentum must be in \[0, 1\], got momentum=1.5",
        ),
        (lambda: O.sgd(0.1, nesterov=True), ValueError, r"sgd: nesterov=True requires momentum > 0"),
        (lambda: O.sgd(0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, r"dampening == 0"),
        (lambda: O.sgd(0.1, nesterov="yes"), TypeError, r"sgd: nesterov must be True or False"),
        (
            lambda: O.adam(betas=(0.9, 1.0)),
            ValueError,
            r"adam: betas\[1\] must be in \[0, 1\), got betas\[1\]=1.0",
        ),
        (lambda: O.adam(betas=0.9), TypeError, r"adam: betas must be a pair"),
        (lambda: O.adam(eps=-1e-8), ValueError, r"adam: eps must be >= 0"),
        (lambda: O.adamw(weight_decay=-0.1), ValueError, r"adamw: weight_decay must be >= 0"),
        (lambda: O.adam(amsgrad=1), TypeError, r"adam: amsgrad must be True or False"),
        (lambda: O.adagrad(lr_decay=-1), ValueError, r"adagrad: lr_decay must be >= 0"),
        (
            lambda: O.adagrad(initial_accumulator_value=-1),
            ValueError,
            r"initial_accumulator_value must be >= 0",
        ),
        (lambda: O.rmsprop(alpha=2.0), ValueError, r"rmsprop: alpha must be in \[0, 1\]"),
        (lambda: O.rmsprop(lr="fast"), TypeError, r"rmsprop: lr must be a real number, got lr='fast'"),
        (
            lambda: O.get("adamax"),
            ValueError,
            r"optim.get: unknown optimizer 'adamax'; expected one of adagrad",
        ),
        (lambda: O.get("adam", momentum=0.9), TypeError, r"optim.get: adam has no hyperparameter 'momentum'"),
        (lambda: O.multi_steps(O.sgd(0.1), 0), ValueError, r"multi_steps: every_k must be >= 1"),
        (lambda: O.clip_by_global_norm(0.0), ValueError, r"clip_by_global_norm: max_norm must be > 0"),
        (
            lambda: O.reduce_on_plateau(factor=1.0),
            ValueError,
            r"reduce_on_plateau: factor must be in \[0, 1\)",
        ),
        (
            lambda: O.scale_by_adam(eps_placement="tf"),
            ValueError,
            r"scale_by_adam: eps_placement must be one of",
        ),
        (
            lambda: O.chain(O.sgd(0.1), "adam"),
            TypeError,
            r"chain: argument 1 must be a GradientTransformation",
        ),
    ],
)
def test_hyperparameter_errors_name_the_argument(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


def test_weight_decay_needs_params():
    opt = O.adam(weight_decay=0.1)
    with pytest.raises(ValueError, match=r"adam: update needs params"):
        opt.update(np.ones(2), opt.init(np.ones(2)))


def test_registry():
    assert O.names() == [
        "adagrad", "adam", "adamw", "ema_momentum", "gd", "momentum", "nesterov", "newton", "rmsprop", "sgd",
        "velocity",
    ]  # fmt: skip
    assert O.get("Adam").init(np.zeros(1)).step == 0
    assert isinstance(O.get("sgd", lr=0.1, momentum=0.9), O.GradientTransformation)
