"""The fused step: ``ll.optim.step`` equals ``update`` + ``apply_updates`` bitwise for every preset and
option, the compiled Adam kernel equals the NumPy blocked path bitwise, and nothing is mutated."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import losslab as ll
from losslab.optim import _compiled

O = ll.optim

SHAPES = {"w": (3, 4), "b": (5,), "s": ()}


def tree(seed, dtype=np.float64, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return {k: np.asarray(rng.standard_normal(s), dtype=dtype) for k, s in shapes.items()}


def grad(params):
    """A smooth gradient field; float32 leaves give float32 gradients."""
    out = {}
    for k, v in params.items():
        a = np.asarray(v)
        out[k] = 1.5 * a + np.cos(3 * a)
    return out


def assert_trees_equal(a, b):
    """Bitwise equal leaves of the same dtype (NaNs in the same places count as equal)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_trees_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_trees_equal(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b, strict=True)
    else:
        assert a == b or (a is None and b is None)


def run_both(opt, steps=12, dtype=np.float64, params=None, **extra):
    """Trajectories and states of the functional pair and of the fused step, side by side."""
    p_ref = tree(0, dtype) if params is None else params
    p_fused = copy.deepcopy(p_ref)
    s_ref, s_fused = opt.init(p_ref), opt.init(p_fused)
    for _ in range(steps):
        g = grad(p_ref)
        updates, s_ref = opt.update(g, s_ref, p_ref, **extra)
        p_ref = O.apply_updates(p_ref, updates)
        p_fused, s_fused = O.step(opt, grad(p_fused), s_fused, p_fused, **extra)
        assert_trees_equal(p_fused, p_ref)
        assert_trees_equal(s_fused, s_ref)
    return p_ref


CONFIGS = [
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("gd", {"lr": 0.1}),
    ("momentum", {"lr": 0.05}),
    ("nesterov", {"lr": 0.05}),
    ("adagrad", {"lr": 0.3, "lr_decay": 0.05, "weight_decay": 0.02, "initial_accumulator_value": 1.0}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.05}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "alpha": 0.9}),
    ("rmsprop", {"lr": 0.01, "centered": True, "eps": 1e-3}),
    ("adagrad", {"lr": 0.3}),
    ("sgd", {"lr": ll.optim.schedules.cosine_decay(0.05, 8, 1e-3), "momentum": 0.9, "dampening": 0.1}),
    ("nesterov", {"lr": 0.05, "beta": 0.5}),
    ("adam", {}),
    ("adam", {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("adam", {"lr": 0.05, "amsgrad": True}),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1, "amsgrad": True}),
    ("adam", {"lr": ll.optim.schedules.cosine_decay(0.05, 8, 1e-3)}),
    ("adamw", {}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.3}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("adamw", {"lr": ll.optim.schedules.exponential_decay(0.05, 0.9), "eps": 1e-2, "weight_decay": 0.5}),
]


def config_id(config):
    name, kwargs = config
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS, ids=[config_id(c) for c in CONFIGS])
def test_step_equals_update_then_apply_updates(config, dtype):
    name, kwargs = config
    opt = O.get(name, **kwargs)
    assert opt.step is not None  # every preset ends with a fused step (Adam's, or the lr scaling)
    final = run_both(opt, dtype=dtype)
    assert all(v.dtype == dtype for v in final.values())


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_step_equals_update_on_both_paths(compiled):
    if compiled and not _compiled.available():
        pytest.skip("compiled path off (numba missing or LOSSLAB_NO_COMPILED set)")
    opt = O.adamw(lr=0.05, weight_decay=0.1, amsgrad=True)
    if compiled:
        run_both(opt)
    else:
        with _compiled.disabled():
            run_both(opt)


def test_chain_forwards_the_last_fused_step():
    clipped = O.chain(O.clip_by_global_norm(0.5), O.adam(lr=0.05))
    assert clipped.step is not None
    run_both(clipped)
    assert O.chain(O.adam(lr=0.05)).step is not None
    run_both(O.chain(O.adam(lr=0.05)))
    # a transformation after the fused one, or none fused: no fused step, the fallback is exact
    after = O.chain(O.adam(lr=0.05), O.scale(0.5))
    assert after.step is None
    run_both(after)
    assert O.chain().step is None
    assert O.chain(O.trace(0.9), O.scale(-0.1)).step is None
    assert O.scale_by_adam().step is None  # a direction, not a final update
    assert O.multi_steps(O.adam(lr=0.05), 3).step is None
    run_both(O.multi_steps(O.adam(lr=0.05), 3))


def test_chain_step_passes_extra_keywords_like_update():
    opt = O.chain(O.reduce_on_plateau(lr=1.0, patience=0, factor=0.5), O.adam(lr=0.05))
    assert opt.step is not None
    run_both(opt, value=1.0)  # a constant loss: the plateau cuts the lr every step
    params = tree(0)
    state = opt.init(params)
    with pytest.raises(TypeError, match="needs the loss value"):
        O.step(opt, grad(params), state, params)


def test_plain_transformation_has_no_fused_step_and_step_falls_back():
    opt = O.GradientTransformation(O.sgd(lr=0.1).init, O.sgd(lr=0.1).update)
    assert opt.step is None
    params = {"w": np.array([1.0, -2.0])}
    new, state = O.step(opt, {"w": np.array([0.5, 1.0])}, opt.init(params), params)
    np.testing.assert_array_equal(new["w"], [0.95, -2.1])
    assert state.inner[0].step == 1


def test_curriculum_example_through_step():
    """W^2 from W0 = 4 with lr 0.3: 4 -> 1.6 -> 0.64 -> 0.256 -> 0.1024 (W <- W - 0.3 * 2W)."""
    opt = O.gd(lr=0.3)
    w = np.array(4.0)
    state = opt.init(w)
    seen = []
    for _ in range(4):
        w, state = O.step(opt, 2 * w, state, w)
        seen.append(float(w))
    np.testing.assert_allclose(seen, [1.6, 0.64, 0.256, 0.1024], rtol=1e-12)


def test_adam_first_step_value():
    """Step 1 of Adam: m = (1-b1) g, v = (1-b2) g^2, so theta - lr * g / (|g| + eps / sqrt(1-b2))."""
    lr, eps = 0.1, 1e-8
    opt = O.adam(lr=lr, eps=eps)
    w = np.array([1.0, -2.0, 0.0])
    g = np.array([2.0, -0.5, 0.0])
    new, state = O.step(opt, g, opt.init(w), w)
    expected = w - lr * g / (np.abs(g) + eps)  # the corrected root is |g| exactly
    np.testing.assert_allclose(new, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(state.mu, 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(state.nu, 0.001 * g * g, rtol=1e-15)
    assert state.step == 1 and state.lr == lr


def test_step_never_mutates_and_returns_fresh_arrays():
    opt = O.adamw(lr=0.05, weight_decay=0.1, amsgrad=True)
    params = tree(1, shapes={"w": (O_BIG,), "b": (7,)})
    state = opt.init(params)
    params, state = O.step(opt, grad(params), state, params)
    grads = grad(params)
    keep = copy.deepcopy((grads, state, params))
    new_params, new_state = O.step(opt, grads, state, params)
    assert_trees_equal((grads, state, params), keep)
    inputs = [*grads.values(), *params.values(), *state.mu.values(), *state.nu.values()]
    inputs += list(state.nu_max.values())
    outputs = [*new_params.values(), *new_state.mu.values(), *new_state.nu.values()]
    outputs += list(new_state.nu_max.values())
    for out in outputs:
        assert not any(np.shares_memory(out, x) for x in inputs)


O_BIG = (1 << 20) + 5  # above the pool and parallel thresholds


@pytest.mark.parametrize("name", ["adam", "momentum", "adagrad", "rmsprop"])
def test_kept_trajectory_survives_buffer_recycling(name):
    """Old params and states the caller keeps are never reused as outputs of later steps."""
    opt = O.get(name, lr=0.05)
    params = tree(2, shapes={"w": (O_BIG,)})
    state = opt.init(params)
    kept, copies = [], []
    for _ in range(4):
        params, state = O.step(opt, grad(params), state, params)
        kept.append((params, state))
        copies.append(copy.deepcopy((params, state)))
    for k, c in zip(kept, copies):
        assert_trees_equal(k, c)


def _compiled_against_numpy(opt, dtype, seed):
    """Three steps of ``opt`` with the compiled kernels and with the NumPy path, compared bitwise
    after each: a large (threaded) and a small (serial) leaf, zero gradients, a Fortran-ordered
    gradient, a NaN and an infinity in the last step. Returns the compiled path's parameters."""
    rng = np.random.default_rng(seed)
    params = {
        "big": rng.standard_normal(O_BIG).astype(dtype),
        "small": rng.standard_normal((4, 6)).astype(dtype),
    }
    state_c = state_n = opt.init(params)
    p_c = p_n = params
    for k in range(3):
        g = {key: (1.3 * v - 0.2 * k).astype(dtype) for key, v in p_c.items()}
        g["big"][::1000] = 0.0
        g["small"] = np.asfortranarray(g["small"])
        if k == 2:
            g["big"][7] = np.nan
            g["small"][1, 2] = np.inf
        with ll.config(validate=False):  # (non-finite gradients pass only with validation off)
            p_c, state_c = O.step(opt, g, state_c, p_c)
            with _compiled.disabled():
                p_n, state_n = O.step(opt, g, state_n, p_n)
        assert_trees_equal(p_c, p_n)
        assert_trees_equal(state_c, state_n)
    return p_c


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.01},
        {"lr": 0.01, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "betas": (0.5, 0.9), "eps": 1e-4},
        {"lr": 0.01, "eps": 0.0},  # 0 / 0 = NaN where the gradient has always been zero, no error
    ],
    ids=["plain", "amsgrad", "coupled-decay", "all", "eps0"],
)
@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_compiled_kernel_equals_numpy_path_bitwise(name, kwargs, dtype):
    """Large (threaded) and small (serial) leaves, with NaN and zero gradients and a non-contiguous
    leaf; several steps so the moments and the AMSGrad max are non-trivial."""
    if not _compiled.available():
        pytest.skip("compiled path off (numba missing or LOSSLAB_NO_COMPILED set)")
    p_c = _compiled_against_numpy(O.get(name, **kwargs), dtype, seed=3)
    assert np.isnan(p_c["big"][7]) and np.isnan(p_c["small"][1, 2])
    assert np.isnan(p_c["big"][1000]) == (kwargs.get("eps") == 0.0)


COMPILED_PRESETS = [
    ("sgd", {"lr": 0.01}),
    ("sgd", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
]


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", COMPILED_PRESETS, ids=[config_id(c) for c in COMPILED_PRESETS])
def test_compiled_preset_steps_equal_their_chains_bitwise(config, dtype):
    """The one-pass kernels of sgd, adagrad and rmsprop against the chain of NumPy passes: a large
    (threaded) and a small leaf, a Fortran-ordered gradient, zero, NaN and infinite entries."""
    if not _compiled.available():
        pytest.skip("compiled path off (numba missing or LOSSLAB_NO_COMPILED set)")
    name, kwargs = config
    p_c = _compiled_against_numpy(O.get(name, **kwargs), dtype, seed=5)
    assert np.isnan(p_c["big"][7]) and not np.isfinite(p_c["small"][1, 2])


@pytest.mark.parametrize("config", COMPILED_PRESETS, ids=[config_id(c) for c in COMPILED_PRESETS])
def test_compiled_preset_steps_name_a_non_finite_input(config):
    name, kwargs = config
    opt = O.get(name, **kwargs)
    params = {"w": np.ones(3), "b": np.ones(2)}
    state = opt.init(params)
    with pytest.raises(ValueError, match=r"step: grads\['b'\] has 1 NaN entry"):
        O.step(opt, {"w": np.ones(3), "b": np.array([0.5, np.nan])}, state, params)
    with pytest.raises(ValueError, match=r"step: params\['w'\] has 1 infinite entry"):
        O.step(
            opt,
            {"w": np.ones(3), "b": np.ones(2)},
            state,
            {"w": np.array([1.0, np.inf, 0.0]), "b": np.ones(2)},
        )
    # finite inputs whose step overflows are not an input error
    huge = np.full(2, np.finfo(np.float64).max)
    new, _ = O.step(opt, {"w": np.ones(3), "b": -huge}, state, {"w": np.ones(3), "b": huge})
    assert np.isfinite(new["w"]).all()


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "momentum", "adagrad", "rmsprop"])
def test_gradients_are_matched_to_parameters_by_key_not_by_order(name):
    """Trees are matched by structure: a gradient dict whose keys come in another order steps
    each parameter with its own gradient (compiled kernels and NumPy path alike)."""
    opt = O.get(name, lr=0.1)
    params = {"w": np.array([1.0, 2.0]), "c": np.array([-1.0]), "v": np.zeros(3)}
    grads = {"v": np.array([0.5, -0.5, 1.0]), "w": np.array([1.0, -1.0]), "c": np.array([2.0])}
    ordered = {k: grads[k] for k in params}
    state = opt.init(params)
    new, new_state = O.step(opt, grads, state, params)
    with _compiled.disabled():
        ref, ref_state = O.step(opt, ordered, state, params)
    assert_trees_equal(new, ref)
    assert_trees_equal(new_state, ref_state)
    assert not np.array_equal(new["v"], params["v"])


def test_leaves_the_kernel_cannot_fuse_match_apply_updates():
    """Integer params become float64, Python floats and broadcast gradients go through the fallback."""
    opt = O.adam(lr=0.1)
    params = {"i": np.array([1, 2, 3]), "f": 2.5, "z": np.array(0.5)}
    grads = {"i": np.array([0.5, -1.0, 2.0]), "f": 1.0, "z": np.array(-0.25)}
    run_both(opt, steps=1, params=params)
    new, _ = O.step(opt, grads, opt.init(params), params)
    assert new["i"].dtype == np.float64
    mixed = {"w": np.ones(3, np.float32)}
    s = opt.init(mixed)
    new, s = O.step(opt, {"w": np.ones(3)}, s, mixed)  # float64 grads on float32 params
    u, _ = opt.update({"w": np.ones(3)}, opt.init(mixed), mixed)
    assert_trees_equal(new, O.apply_updates(mixed, u))
    assert new["w"].dtype == np.float32


def test_step_errors_name_the_argument():
    with pytest.raises(TypeError, match="step: optimizer must be a GradientTransformation, got dict"):
        O.step({}, np.ones(2), None, np.ones(2))
    opt = O.adam(lr=0.1)
    with pytest.raises(ValueError, match="adam: update needs params"):
        O.step(opt, np.ones(2), opt.init(np.ones(2)), None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "config",
    [("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}), ("rmsprop", {}), ("adagrad", {})],
    ids=config_id,
)
def test_large_leaves_step_blocked_and_equal(config, dtype):
    """Leaves above the pool threshold take the blocked lr-scaling step; still bitwise equal."""
    name, kwargs = config
    params = tree(4, dtype, shapes={"big": (O_BIG,), "mat": (1030, 1024)})
    params["mat"] = params["mat"].T  # a non-contiguous leaf
    run_both(O.get(name, **kwargs), steps=2, params=params)


def test_concurrent_steps_from_threads_agree():
    """Two Python threads stepping big leaves at once (one takes the threaded kernel, the other
    runs serially) get the single-threaded results."""
    from concurrent.futures import ThreadPoolExecutor

    opt = O.adam(lr=0.05, amsgrad=True)
    trees = [tree(s, shapes={"w": (O_BIG,)}) for s in (5, 6)]

    def trajectory(params):
        state = opt.init(params)
        for _ in range(3):
            params, state = O.step(opt, grad(params), state, params)
        return params

    expected = [trajectory(t) for t in trees]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(trajectory, trees))
    for a, b in zip(got, expected):
        assert_trees_equal(a, b)
