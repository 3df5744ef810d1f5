"""Optimizer inputs are validated like losses': exact tree structure and leaf shapes, real arrays,
finite gradients and learning rates (named by leaf path), no aliasing of state or inputs, and the
training loop's divergence stop covers the last step."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import losslab as ll
from losslab._core.validation import NonFiniteError
from losslab.optim import _compiled

O = ll.optim

PRESETS = O.names()
TRANSFORMS = {
    "trace": lambda: O.trace(0.9),
    "trace-nesterov": lambda: O.trace(0.9, nesterov=True),
    "ema": lambda: O.ema(0.9),
    "ema-debias": lambda: O.ema(0.9, debias=True),
    "velocity_momentum": lambda: O.velocity_momentum(0.1),
    "sutskever_nesterov": lambda: O.sutskever_nesterov(0.1),
    "scale_by_adagrad": lambda: O.scale_by_adagrad(),
    "scale_by_rms": lambda: O.scale_by_rms(),
    "scale_by_adam": lambda: O.scale_by_adam(),
    "scale_by_learning_rate": lambda: O.scale_by_learning_rate(0.1),
    "add_decayed_weights-0": lambda: O.add_decayed_weights(0.0),
    "add_decayed_weights": lambda: O.add_decayed_weights(0.1),
    "decoupled_weight_decay": lambda: O.decoupled_weight_decay(0.1, 0.1),
    "clip_by_value": lambda: O.clip_by_value(1.0),
    "clip_by_global_norm": lambda: O.clip_by_global_norm(1.0),
    "identity": lambda: O.identity(),
    "scale": lambda: O.scale(-0.1),
    "reduce_on_plateau": lambda: O.reduce_on_plateau(),
    "multi_steps": lambda: O.multi_steps(O.sgd(lr=0.1), 1),
    "chain-trace": lambda: O.chain(O.trace(0.9)),
    "adagrad-full_matrix": lambda: O.adagrad(lr=0.1, full_matrix=True),
    "adam-eps_inside": lambda: O.adam(lr=0.1, eps_placement="inside"),
    "adam-keras": lambda: O.adam(lr=0.1, eps_placement="keras"),
}
ALL = {**{name: (lambda name=name: O.get(name, lr=0.1)) for name in PRESETS}, **TRANSFORMS}


def params_tree():
    return {"W1": np.ones((2, 3)), "b": np.zeros(3)}


def grads_tree():
    return {"W1": np.full((2, 3), 0.5), "b": np.array([0.1, -0.2, 0.3])}


def call(opt, grads, state, params, how):
    # (every update takes **extra; reduce_on_plateau needs the loss value, newton the Hessian)
    extra = {"value": 1.0}
    if "hessian" in opt.extra_args:
        extra["hessian"] = 2.0 * np.eye(9)
    if how == "update":
        return opt.update(grads, state, params, **extra)
    return O.step(opt, grads, state, params, **extra)


# --------------------------------------------------------------------------- non-finite gradients


@pytest.mark.parametrize("how", ["update", "step"])
@pytest.mark.parametrize("name", list(ALL))
def test_nan_gradients_raise_naming_the_leaf(name, how):
    """Issue item 5: NaN/inf gradients raise a ValueError naming the leaf path and the count."""
    opt = ALL[name]()
    p = params_tree()
    state = opt.init(p)
    g = grads_tree()
    g["W1"][0, 0] = g["W1"][1, 2] = g["W1"][0, 1] = np.nan
    with pytest.raises(ValueError, match=r"grads\['W1'\] has 3 NaN entries"):
        call(opt, g, state, p, how)
    g = grads_tree()
    g["b"][1] = -np.inf
    with pytest.raises(ValueError, match=r"grads\['b'\] has 1 infinite entry"):
        call(opt, g, state, p, how)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_adam_step_checks_big_leaves_in_its_own_pass(compiled):
    """The fused Adam step counts non-finite gradients in the kernel's pass (threaded for big
    leaves); both paths raise the boundary check's message."""
    opt = O.adam(lr=0.1)
    p = {"big": np.ones(1 << 18), "small": np.ones(3)}
    g = {"big": np.ones(1 << 18), "small": np.ones(3)}
    g["big"][[5, 70_000, 200_000]] = [np.nan, np.inf, np.nan]
    state = opt.init(p)
    if compiled:
        assert _compiled.available()
        with pytest.raises(ValueError, match=r"step: grads\['big'\] has 2 NaN and 1 infinite entries"):
            O.step(opt, g, state, p)
    else:
        with _compiled.disabled(), pytest.raises(ValueError, match=r"grads\['big'\] has 2 NaN and 1 inf"):
            O.step(opt, g, state, p)
    with ll.config(validate=False):  # validation off: NaN propagates, as PyTorch would
        new, _ = O.step(opt, g, state, p)
    assert np.isnan(new["big"][5]) and np.isfinite(new["big"][6])


def test_validation_off_lets_non_finite_gradients_through():
    opt = O.sgd(lr=0.1)
    with ll.config(validate=False):
        updates, _ = opt.update(np.array([np.nan, 1.0]), opt.init(np.zeros(2)), np.zeros(2))
    assert np.isnan(updates[0]) and updates[1] == -0.1


def test_none_and_non_numeric_gradients_are_refused():
    opt = O.adam(lr=0.1)
    p = params_tree()
    state = opt.init(p)
    with pytest.raises(TypeError, match=r"step: grads\['b'\] is None"):
        O.step(opt, {"W1": np.ones((2, 3)), "b": None}, state, p)
    with pytest.raises(TypeError, match="update: grads is None"):
        opt.update(None, state, p)
    with pytest.raises(TypeError, match=r"grads\['b'\] must hold real numbers, got dtype complex128"):
        opt.update({"W1": np.ones((2, 3)), "b": np.ones(3, complex)}, state, p)
    with pytest.raises(TypeError, match=r"grads\['W1'\] must be an array of real numbers, got str"):
        opt.update({"W1": "abc", "b": np.ones(3)}, state, p)


# --------------------------------------------------------------------------- shapes and trees


@pytest.mark.parametrize("bad", [(2, 3), (1,), ()], ids=["(2,3)", "(1,)", "scalar"])
@pytest.mark.parametrize("how", ["update", "step", "apply_updates"])
def test_mismatched_gradient_shapes_raise_instead_of_broadcasting(how, bad):
    """Issue item 6: grads (2, 3), (1,) or scalar for params (3,) raise in every entry point."""
    opt = O.sgd(lr=0.1)
    p = np.zeros(3)
    g = np.ones(bad)
    if how == "apply_updates":
        with pytest.raises(
            ValueError, match=re.escape(f"apply_updates: updates has shape {bad!r} but params")
        ):
            O.apply_updates(p, g)
        return
    with pytest.raises(
        ValueError, match=r"grads has shape .* but params has shape \(3,\); the shapes must match"
    ):
        call(opt, g, opt.init(p), p, how)


def test_mismatched_trees_raise_naming_the_path():
    opt = O.adam(lr=0.1)
    p = {"layer": [np.ones(2), np.ones(3)]}
    state = opt.init(p)
    with pytest.raises(ValueError, match=r"grads\['layer'\] and params\['layer'\] differ in structure"):
        O.step(opt, {"layer": [np.ones(2)]}, state, p)
    with pytest.raises(ValueError, match=r"grads and params differ in structure: keys \['x'\] vs keys"):
        opt.update({"x": np.ones(2)}, state, p)
    with pytest.raises(ValueError, match=r"grads\['layer'\]\[1\] has shape \(2,\) but params"):
        O.step(opt, {"layer": [np.ones(2), np.ones(2)]}, state, p)


# --------------------------------------------------------------------------- learning rates


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.5], ids=["nan", "inf", "negative"])
@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "adagrad", "velocity_momentum"])
def test_schedules_returning_bad_rates_raise(name, bad):
    """Issue item 5: a schedule returning NaN, inf or a negative rate raises, naming lr and the step."""

    def schedule(step):
        return 0.1 if step < 2 else bad

    opt = O.velocity_momentum(schedule) if name == "velocity_momentum" else O.get(name, lr=schedule)
    p = np.ones(3)
    state = opt.init(p)
    for _ in range(2):
        p, state = O.step(opt, 0.1 * p, state, p)
    with pytest.raises(
        ValueError, match=rf"lr schedule returned lr={bad!r} at step 2; a learning rate must be"
    ):
        O.step(opt, 0.1 * p, state, p)
    with ll.config(validate=False):
        O.step(opt, 0.1 * p, state, p)  # validation off: used as given


def test_schedule_returning_a_non_number_is_a_type_error():
    opt = O.sgd(lr=lambda step: "fast")
    with pytest.raises(TypeError, match="lr schedule must return a real number, got lr='fast' at step 0"):
        opt.init(np.ones(2))


# --------------------------------------------------------------------------- aliasing


def _arrays(tree):
    out = []

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, np.ndarray):
            out.append(x)

    walk(tree)
    return out


@pytest.mark.parametrize("name", list(ALL))
def test_updates_never_alias_state_or_inputs(name):
    """Issue item 12: editing the updates in place leaves the state (momentum) and inputs intact."""
    opt = ALL[name]()
    p = params_tree()
    state = opt.init(p)
    for _ in range(2):
        g = grads_tree()
        updates, state = call(opt, g, state, p, "update")
        for u in _arrays(updates):
            for other in _arrays(state) + _arrays(g) + _arrays(p):
                assert not np.shares_memory(u, other)


def test_editing_trace_updates_keeps_the_momentum():
    t = O.trace(0.9)
    s = t.init(np.zeros(1))
    u, s = t.update(np.array([1.0]), s)
    u *= 100.0
    u, s = t.update(np.array([1.0]), s)
    assert u.tolist() == [1.9]


# --------------------------------------------------------------------------- training


def test_fit_checks_the_last_step():
    """Issue item 2: one epoch of sgd(lr=1e308) ends with infinite weights: diverged, with a warning."""
    X, y = ll.data.linear(n=20, w=2.0, b=1.0, noise=0.0, seed=0)
    with pytest.warns(RuntimeWarning, match="training diverged at epoch 1, step 1: the parameters became"):
        h = ll.train.fit(ll.models.Linear(1), X, y, loss="mse", optimizer=O.sgd(lr=1e308), epochs=1, seed=0)
    assert h.diverged is True
    assert "non-finite" in h.stop_reason


def test_fit_turns_a_nan_schedule_into_a_divergence_stop():
    X, y = ll.data.linear(n=20, w=2.0, b=1.0, noise=0.0, seed=0)
    opt = O.sgd(lr=lambda step: 0.1 if step < 3 else math.nan)
    with pytest.warns(RuntimeWarning, match="epoch 4, step 4: optimizer: the lr schedule returned lr=nan"):
        h = ll.train.fit(ll.models.Linear(1), X, y, loss="mse", optimizer=opt, epochs=10, seed=0)
    assert h.diverged and len(h.steps["loss"]) == 3
    assert all(np.isfinite(v).all() for v in h.params.values())


def test_fit_without_divergence_warns_nothing():
    X, y = ll.data.linear(n=20, w=2.0, b=1.0, noise=0.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = ll.train.fit(ll.models.Linear(1), X, y, loss="mse", optimizer=O.sgd(lr=0.1), epochs=3, seed=0)
    assert not h.diverged


def test_non_finite_error_is_a_value_error():
    assert issubclass(NonFiniteError, ValueError)


@pytest.mark.parametrize("name", PRESETS)
def test_init_refuses_complex_params_instead_of_dropping_the_imaginary_part(name):
    opt = O.get(name, lr=0.1)
    with pytest.raises(TypeError, match=r"init: params\['W'\] must hold real numbers, got dtype complex128"):
        opt.init({"W": np.ones((3, 2), dtype=complex)})


def test_unchecked_steps_skip_the_boundary_checks_only_inside_and_only_in_their_thread():
    import threading

    from losslab.optim.base import unchecked_steps

    opt = O.sgd(lr=0.5)
    p = np.zeros(3)
    g = np.array([1.0, np.nan, 2.0])
    seen: list[str] = []

    def other_thread() -> None:  # started inside the block: the context is not inherited
        try:
            opt.update(g, opt.init(p), p)
        except NonFiniteError as e:
            seen.append(str(e))

    with unchecked_steps():
        u, _ = opt.update(g, opt.init(p), p)
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert np.array_equal(u, [-0.5, np.nan, -1.0], equal_nan=True)  # passed through unchecked
    assert seen == ["update: grads has 1 NaN entry"]
    with pytest.raises(NonFiniteError, match="update: grads has 1 NaN entry"):
        opt.update(g, opt.init(p), p)


def test_a_race_reports_a_non_finite_gradient_as_a_divergence_at_its_step():
    calls = {"n": 0}

    class Cliff:
        start = (1.0, 1.0)

        def value(self, w):
            return float(np.sum(np.asarray(w) ** 2))

        def grad(self, w):
            calls["n"] += 1  # the 4th gradient (taken after step 3) overflows
            return 2 * np.asarray(w) if calls["n"] < 4 else np.array([np.inf, 0.0])

    [e] = ll.landscape.race(Cliff(), {"gd": O.sgd(lr=0.1)}, steps=10)
    assert e.diverged and e.diverged_step == 4 and len(e.path) == 4 and np.isfinite(e.path).all()
