"""Bad-input fuzzing over every registry: losses, optimizers, schedules, models, data generators and
metrics.

Each case starts from valid inputs and breaks one thing -- NaN/inf entries, an empty or 0-d
array, a wrong shape, a wrong dtype (int, bool, float16, complex, object, str, None), values out
of the domain or of extreme magnitude, a bad hyperparameter value or type, an unknown keyword, a
wrong tree -- and must end in one of two ways: a finite result, or a ``ValueError``/``TypeError``
whose message names the broken argument. Never another exception type, and never a non-finite
value where the answer is finite (at extreme magnitudes an infinite value is the exact, overflowed
answer and allowed; NaN never is). Hypothesis draws the cases (the CI profile in ``conftest.py``
fixes them); the per-registry outcome counts are printed at the end (``pytest -s``).
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import losslab as ll

COUNTS: Counter[tuple[str, str]] = Counter()
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    registries = sorted({r for r, _ in COUNTS})
    lines = [
        f"  {r:<11} {sum(v for (q, _), v in COUNTS.items() if q == r):>5} cases: "
        + ", ".join(f"{o} {v}" for (q, o), v in sorted(COUNTS.items()) if q == r)
        for r in registries
    ]
    print("\nfuzz outcomes per registry:\n" + "\n".join(lines))


# --------------------------------------------------------------------------- the oracle


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return [leaf for v in x for leaf in _leaves(v)]
    if hasattr(x, "_fields"):  # NamedTuple states
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def _numeric(leaf: Any) -> np.ndarray | None:
    if isinstance(leaf, (bool, str)) or leaf is None:
        return None
    a = np.asarray(leaf)
    return a if a.dtype.kind in "fc" else None


def check(registry: str, names: tuple[str, ...], fn: Any, *, overflow_ok: bool = False) -> Any:
    """Run ``fn()`` and enforce the contract; ``names``: the argument(s) a message must name."""
    try:
        result = fn()
    except (ValueError, TypeError) as err:
        message = str(err)
        assert any(n in message for n in names), f"{type(err).__name__} names none of {names}: {message}"
        COUNTS[registry, "ValueError" if isinstance(err, ValueError) else "TypeError"] += 1
        return None
    for leaf in _leaves(result):
        a = _numeric(leaf)
        if a is None:
            continue
        assert not np.isnan(a).any(), f"NaN in the result for a broken {names}"
        if not overflow_ok:
            assert np.isfinite(a).all(), f"non-finite result for a broken {names}"
    COUNTS[registry, "finite" if all(_finite(leaf) for leaf in _leaves(result)) else "overflow"] += 1
    return result


def _finite(leaf: Any) -> bool:
    a = _numeric(leaf)
    return a is None or bool(np.isfinite(a).all())


# --------------------------------------------------------------------------- mutations

BAD_DTYPES = ["int", "bool", "float16", "complex", "object", "str", "None"]
BAD_VALUES: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
    0.0,
    1e300,
    -1e300,
    "x",
    None,
    True,
    [1, 2],
    object(),
]


def _mutate_array(x: Any, kind: str, data: st.DataObject) -> tuple[Any, bool]:
    """``x`` broken by ``kind``; the flag says whether an infinite result may be exact (overflow)."""
    a = np.array(x, copy=True)
    if kind in ("nan", "inf", "-inf"):
        a = a.astype(np.float64)
        if a.size:
            i = data.draw(st.integers(0, a.size - 1), label="position")
            a.reshape(-1)[i] = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[kind]
        return a, False
    if kind == "empty":
        return a[:0] if a.ndim else np.zeros(0), False
    if kind == "0-d":
        return np.float64(0.5), False
    if kind == "extra-axis":
        return a[..., None], False
    if kind == "drop-last":
        return (a[..., :-1] if a.ndim else a), False
    if kind == "transpose":
        return a.T, False
    if kind == "int":
        return np.round(a).astype(np.int64), False
    if kind == "bool":
        return a > 0, False
    if kind == "float16":
        return a.astype(np.float16), False
    if kind == "complex":
        return a.astype(np.complex128), False
    if kind == "object":
        return a.astype(object), False
    if kind == "str":
        return a.astype(str), False
    if kind == "None":
        return None, False
    if kind == "extreme":
        # (magnitudes whose squares stay finite: beyond them most exact answers overflow anyway,
        # and tests/test_numerics_extreme.py covers the losses finite at 1e300)
        scale = data.draw(st.sampled_from([1e150, -1e150, 1e-300, 1e100]), label="scale")
        return a.astype(np.float64) * scale, True
    if kind == "out-of-domain":
        value = data.draw(st.sampled_from([1.5, -0.5, 2.0, -1.0, 7.0, 1e6]), label="value")
        a = a.astype(np.float64)
        if a.size:
            i = data.draw(st.integers(0, a.size - 1), label="position")
            a.reshape(-1)[i] = value
        return a, False
    raise AssertionError(kind)


ARRAY_KINDS = [
    "nan",
    "inf",
    "-inf",
    "empty",
    "0-d",
    "extra-axis",
    "drop-last",
    "transpose",
    *BAD_DTYPES,
    "extreme",
    "out-of-domain",
]

# --------------------------------------------------------------------------- losses

LOSSES = ll.losses.names()


@pytest.mark.parametrize("name", LOSSES)
@FUZZ
@given(data=st.data())
def test_losses(name, data):
    loss = ll.losses.get(name)
    params = data.draw(st.sampled_from(loss.test_params), label="params")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    inputs = list(loss.sample(np.random.default_rng(seed), **params))
    target = data.draw(st.sampled_from(["input", "param", "keyword", "reduction", "weight"]), label="target")
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    kwargs: dict[str, Any] = dict(params)
    overflow = False
    names: tuple[str, ...]
    if target == "input" or (target == "param" and not loss.params):
        i = data.draw(st.integers(0, len(inputs) - 1), label="input")
        kind = data.draw(st.sampled_from(ARRAY_KINDS), label="kind")
        inputs[i], overflow = _mutate_array(inputs[i], kind, data)
        # (a broken shape may be reported on the other input of a pair, or a per-input weight)
        names = (*loss.inputs, *loss.params)
    elif target == "param":
        key = data.draw(st.sampled_from(sorted(loss.params)), label="param")
        kwargs[key] = data.draw(st.sampled_from(BAD_VALUES), label="value")
        names = (key,)
        overflow = isinstance(kwargs[key], float) and abs(kwargs[key]) == 1e300
    elif target == "keyword":
        kwargs["not_a_parameter"] = 1.0
        names = ("not_a_parameter",)
    elif target == "reduction":
        reduction = data.draw(st.sampled_from(["avg", "batchmean", 1, "MEAN", ""]), label="bad reduction")
        names = ("reduction",)
    else:
        shape = np.shape(inputs[0])
        kind = data.draw(st.sampled_from(["nan", "inf", "drop-last", "str", "extra-axis"]), label="kind")
        weight, _ = _mutate_array(np.ones(shape[:1] if loss.kind == "class_axis" else shape), kind, data)
        kwargs["sample_weight"] = weight
        names = ("sample_weight",)
    check(
        "losses",
        names,
        lambda: loss.value_and_grad(*inputs, reduction=reduction, **kwargs),
        overflow_ok=overflow,
    )


# --------------------------------------------------------------------------- optimizers

OPTIMIZERS = ll.optim.names()


def _hyperparameters(name: str) -> dict[str, Any]:
    sig = inspect.signature(getattr(ll.optim, name))
    return {k: p.default for k, p in sig.parameters.items()}


@pytest.mark.parametrize("name", OPTIMIZERS)
@FUZZ
@given(data=st.data())
def test_optimizers(name, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    params: Any = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads: Any = {k: rng.standard_normal(np.shape(v)) for k, v in params.items()}
    hyper = {"lr": 0.1}
    target = data.draw(st.sampled_from(["grads", "params", "hyper", "keyword", "tree"]), label="target")
    names: tuple[str, ...] = (target,)
    if target in ("grads", "params"):
        tree = grads if target == "grads" else params
        key = data.draw(st.sampled_from(sorted(tree)), label="leaf")
        kind = data.draw(st.sampled_from(ARRAY_KINDS), label="kind")
        tree[key], overflow = _mutate_array(tree[key], kind, data)
        names = (f"{target}['{key}']", target)
    elif target == "hyper":
        key = data.draw(st.sampled_from(sorted(_hyperparameters(name))), label="hyperparameter")
        hyper[key] = data.draw(st.sampled_from([*BAD_VALUES, (0.9,), (1.5, 0.9)]), label="value")
        names = (key,)
        # (a weight decay of 1e300 squares to inf in Adam's second moment: overflow, never NaN)
        overflow = isinstance(hyper[key], float) and abs(hyper[key]) == 1e300
    elif target == "keyword":
        hyper["not_a_parameter"] = 1.0
        names = ("not_a_parameter",)
        overflow = False
    else:
        grads = data.draw(
            st.sampled_from([{"W": grads["W"]}, [grads["W"], grads["b"]], grads["W"]]), label="tree"
        )
        names = ("grads",)
        overflow = False

    def run() -> Any:
        opt = ll.optim.get(name, **hyper)
        # (Newton's method declares the Hessian it needs: the identity keeps the step finite)
        extra = {"hessian": np.eye(8)} if "hessian" in opt.extra_args else {}
        state = opt.init(params)
        new, state = ll.optim.step(opt, grads, state, params, **extra)
        updates, _ = opt.update(grads, opt.init(params), params, **extra)
        return new, state, updates, ll.optim.apply_updates(params, updates)

    # (extreme parameters or gradients may overflow the exact next iterate)
    check("optimizers", names, run, overflow_ok=overflow)


# --------------------------------------------------------------------------- schedules

SCHEDULES = [n for n in ll.optim.schedules.__all__ if n != "Schedule"]
SCHEDULE_ARGS = {
    "constant": {"lr": 0.1},
    "cosine_decay": {"lr": 0.1, "T_max": 10},
    "cosine_warm_restarts": {"lr": 0.1, "T_0": 5},
    "exponential_decay": {"lr": 0.1, "gamma": 0.9},
    "linear_warmup": {"lr": 0.1, "warmup_steps": 5},
    "multistep_decay": {"lr": 0.1, "milestones": [3, 6]},
    "step_decay": {"lr": 0.1, "step_size": 3},
    "warmup_cosine": {"lr": 0.1, "warmup_steps": 3, "decay_steps": 10},
}


def test_every_schedule_has_fuzz_arguments():
    assert sorted(SCHEDULE_ARGS) == sorted(SCHEDULES)


@pytest.mark.parametrize("name", SCHEDULES)
@FUZZ
@given(data=st.data())
def test_schedules(name, data):
    fn = getattr(ll.optim.schedules, name)
    kwargs = dict(SCHEDULE_ARGS[name])
    sig = inspect.signature(fn)
    target = data.draw(st.sampled_from(["argument", "step", "keyword"]), label="target")
    step: Any = data.draw(st.sampled_from([0, 1, 7, 1000, 10**9]), label="step")
    names: tuple[str, ...]
    if target == "argument":
        key = data.draw(st.sampled_from(sorted(sig.parameters)), label="argument")
        kwargs[key] = data.draw(st.sampled_from([*BAD_VALUES, 0, -3, [], [5, 2]]), label="value")
        names = (key,)
    elif target == "step":
        step = data.draw(st.sampled_from([-1, 1.5, "3", None, math.nan, True]), label="bad step")
        names = ("step",)
    else:
        kwargs["not_a_parameter"] = 1
        names = ("not_a_parameter",)
    # (a growth factor of 1e300 overflows the exact rate: inf is the answer there)
    huge = any(isinstance(v, float) and abs(v) == 1e300 for v in kwargs.values())
    check("schedules", names, lambda: np.float64(fn(**kwargs)(step)), overflow_ok=huge)


# --------------------------------------------------------------------------- models

MODELS = {
    "Linear": (lambda **kw: ll.models.Linear(2, **kw), "mse"),
    "Logistic": (lambda **kw: ll.models.Logistic(2, **kw), "binary_cross_entropy"),
    "Softmax": (lambda **kw: ll.models.Softmax(2, 3, **kw), "sparse_categorical_cross_entropy"),
    "MLP": (lambda **kw: ll.models.MLP([2, 4, 1], **kw), "mse"),
}


@pytest.mark.parametrize("name", list(MODELS))
@FUZZ
@given(data=st.data())
def test_models(name, data):
    factory, loss = MODELS[name]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    X = rng.standard_normal((6, 2))
    y: Any = rng.integers(0, 3, 6) if name == "Softmax" else (rng.random(6) > 0.5).astype(float)
    kwargs: dict[str, Any] = {}
    target = data.draw(st.sampled_from(["X", "y", "init", "params"]), label="target")
    # (non-finite parameters surface as the loss's non-finite y_pred, the model's output)
    names: tuple[str, ...] = (target, "y_pred") if target == "params" else (target,)
    overflow = False
    if target == "X":
        kind = data.draw(st.sampled_from(ARRAY_KINDS), label="kind")
        X, overflow = _mutate_array(X, kind, data)
    elif target == "y":
        kind = data.draw(st.sampled_from(ARRAY_KINDS), label="kind")
        y, overflow = _mutate_array(y, kind, data)
    elif target == "init":
        kwargs["init"] = data.draw(st.sampled_from(["nope", 3, None, ""]), label="init")
    model = None

    def run() -> Any:
        nonlocal model
        model = factory(**kwargs)
        params = model.init(np.random.default_rng(0))
        if target == "params":
            key = data.draw(st.sampled_from(sorted(params)), label="param")
            kind = data.draw(st.sampled_from(["nan", "drop-last", "str", "None", "extra-axis"]), label="kind")
            params = dict(params)
            params[key], _ = _mutate_array(params[key], kind, data)
        out = model.apply(params, X)
        return out, model.value_and_grad(params, X, y, loss=loss)

    check("models", names, run, overflow_ok=overflow)


# --------------------------------------------------------------------------- data generators

DATA = ll.data.names()


@pytest.mark.parametrize("name", DATA)
@FUZZ
@given(data=st.data())
def test_data_generators(name, data):
    fn = ll.data.get(name)
    sig = inspect.signature(fn)
    target = data.draw(st.sampled_from(["argument", "keyword"]), label="target")
    kwargs: dict[str, Any] = {}
    if target == "argument":
        key = data.draw(st.sampled_from(sorted(sig.parameters)), label="argument")
        kwargs[key] = data.draw(st.sampled_from([*BAD_VALUES, 0, -5, 2.5, 10**12]), label="value")
        names: tuple[str, ...] = (key,)
    else:
        kwargs["not_a_parameter"] = 1
        names = ("not_a_parameter",)
    check("data", names, lambda: tuple(fn(**kwargs)))


# --------------------------------------------------------------------------- metrics

METRICS = ll.train.metrics.names()


@pytest.mark.parametrize("name", METRICS)
@FUZZ
@given(data=st.data())
def test_metrics(name, data):
    fn = ll.train.metrics.get(name)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    y_pred: Any = rng.random(8)
    y_true: Any = np.array([0, 1, 0, 1, 1, 0, 1, 0], dtype=float)
    target = data.draw(st.sampled_from(["y_pred", "y_true", "threshold"]), label="target")
    kwargs: dict[str, Any] = {}
    if target == "threshold":
        if "threshold" not in inspect.signature(fn).parameters:
            target = "y_pred"
        else:
            kwargs["threshold"] = data.draw(st.sampled_from(BAD_VALUES), label="threshold")
    if target == "y_pred":
        y_pred, _ = _mutate_array(y_pred, data.draw(st.sampled_from(ARRAY_KINDS), label="kind"), data)
    elif target == "y_true":
        y_true, _ = _mutate_array(y_true, data.draw(st.sampled_from(ARRAY_KINDS), label="kind"), data)
    # (a metric of extreme but finite predictions is still a finite number)
    check("metrics", (target,), lambda: fn(y_pred, y_true, **kwargs))
