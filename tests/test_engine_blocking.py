"""Cache-blocked evaluation gives the direct path's results and errors.

Big NumPy inputs go through ``ElementwiseLoss._fast_path`` (cache-sized blocks, or the optional
compiled pass when Numba is importable) and ``ClassAxisLoss._fast_path`` (blocks of rows). A small
``block_size`` makes modest arrays cross many block boundaries; a huge one forces the direct path.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import losslab as ll
from loss_cases import all_cases
from losslab._core import buffers
from losslab.losses import _compiled
from losslab.losses._spec import OPEN_PROBABILITY, PROBABILITY, REAL, ClassAxisLoss, Domain, ElementwiseLoss

SMALL_BLOCK = 256  # the smallest block_size config accepts: 4 * 256 elements start blocking
DIRECT = 1 << 28  # no test array reaches 4 * DIRECT elements: the direct path
ELEMENTWISE = all_cases(lambda loss: loss.kind == "elementwise")

try:
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False

PATHS = [
    "numpy",
    pytest.param("compiled", marks=pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")),
]


def _evaluate(loss, inputs, block_size, path, **kwargs):
    """``(value, grad)`` or the error message, evaluated with the given block size and path."""
    with ll.config(block_size=block_size):
        try:
            if path == "numpy":
                with _compiled.disabled():
                    return loss.value_and_grad(*inputs, **kwargs)
            return loss.value_and_grad(*inputs, **kwargs)
        except ValueError as err:
            return str(err)


def _inputs(loss, shape, dtype, seed=0, params=None):
    """Valid inputs of ``shape``, tiled from the declaration's own (parameter-aware) sampler."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    draws = [loss.sample(rng, **(params or {})) for _ in range(-(-n // 12))]
    return tuple(
        np.concatenate([np.ravel(d[i]) for d in draws])[:n].reshape(shape).astype(dtype) for i in (0, 1)
    )


# --------------------------------------------------------------------------- element-wise


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("shape", "dtype", "weighted"),
    [
        ((1025,), np.float64, False),  # one element past 4 blocks
        ((37, 83), np.float64, False),  # 3071 elements: a ragged last block, 2-D
        ((3001,), np.float64, True),
        ((2049,), np.float32, False),
        ((33, 31), np.float32, True),
    ],
)
@pytest.mark.parametrize(("loss", "params"), ELEMENTWISE)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_blocked_equals_direct(loss, params, shape, dtype, weighted, path, reduction):
    inputs = _inputs(loss, shape, dtype, params=params)
    kwargs = dict(params, reduction=reduction)
    if weighted:
        kwargs["sample_weight"] = np.random.default_rng(1).uniform(0.5, 2.0, shape).astype(dtype)
    direct = _evaluate(loss, inputs, DIRECT, "numpy", **kwargs)
    blocked = _evaluate(loss, inputs, SMALL_BLOCK, path, **kwargs)
    if isinstance(direct, str):  # data outside a parameter-dependent domain: same error
        assert blocked == direct
        return
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    value, grad = blocked
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype and grad.shape == shape
    np.testing.assert_allclose(value, direct[0], rtol=rtol, atol=0)
    np.testing.assert_allclose(grad, direct[1], rtol=rtol, atol=1e-300 if dtype == np.float64 else 1e-30)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("loss", "params"), ELEMENTWISE)
def test_blocked_value_only_equals_direct(loss, params, path):
    inputs = _inputs(loss, (1537,), np.float64, seed=3, params=params)
    with ll.config(block_size=DIRECT):
        direct = loss(*inputs, **params)
    with ll.config(block_size=SMALL_BLOCK):
        if path == "numpy":
            with _compiled.disabled():
                blocked = loss(*inputs, **params)
        else:
            blocked = loss(*inputs, **params)
    assert math.isclose(blocked, direct, rel_tol=1e-12)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_compiled_path_equals_numpy_path(name):
    loss = ll.losses.get(name)
    rng = np.random.default_rng(4)
    y_pred = rng.normal(size=70_001)
    y_true = y_pred + rng.normal(scale=2.0, size=y_pred.size)
    y_true[:5] = y_pred[:5]  # exact zeros of the residual (mae's subgradient 0)
    compiled = loss.value_and_grad(y_pred, y_true, reduction="sum")  # 70_001 >= 4 * default block
    with _compiled.disabled():
        numpy_path = loss.value_and_grad(y_pred, y_true, reduction="sum")
    assert math.isclose(compiled[0], numpy_path[0], rel_tol=1e-12)
    np.testing.assert_allclose(compiled[1], numpy_path[1], rtol=1e-12, atol=0)


def _compiled_square_error(name: str, y_true_domain) -> ElementwiseLoss:
    """An unregistered compiled square error whose y_true has a bounded domain."""

    def element(p, t):
        r = p - t
        return r * r, 2.0 * r

    @ElementwiseLoss.compiled(element)
    def kernel(p, t, out, scale):
        r = np.subtract(p, t, out=out)
        value = float(np.einsum("i,i->", r, r))
        if out is not None:
            np.multiply(out, 2.0 * scale, out=out)
        return value

    return ElementwiseLoss(
        name,
        task="regression",
        value=lambda xp, p, t: (p - t) ** 2,
        grad=lambda xp, p, t: 2.0 * (p - t),
        kernel=kernel,
        y_pred_domain=REAL,
        y_true_domain=y_true_domain,
        info={"formula": r"(\hat y - y)^2", "gradient": r"2(\hat y - y)"},
    )


PROB_LOSS = _compiled_square_error("probability_square_error", PROBABILITY)
BAD_INPUTS = [
    pytest.param("mse", "y_pred", -1, math.nan, "y_pred contains NaN", id="nan-last-y_pred"),
    pytest.param("mse", "y_true", 0, math.inf, "y_true contains infinite", id="inf-first-y_true"),
    pytest.param("huber", "y_pred", 1500, -math.inf, "y_pred contains infinite", id="inf-y_pred"),
    pytest.param(PROB_LOSS, "y_true", -1, 1.5, "y_true must hold probabilities", id="out-of-domain-last"),
    pytest.param(PROB_LOSS, "y_true", -1, math.nan, "y_true contains NaN", id="nan-last-bounded"),
    pytest.param(PROB_LOSS, "y_pred", -1, math.nan, "y_pred contains NaN", id="nan-last-y_pred-bounded"),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("loss", "which", "index", "bad", "message"), BAD_INPUTS)
@pytest.mark.parametrize("need_grad", [True, False])
def test_blocked_path_raises_the_direct_error(loss, which, index, bad, message, path, need_grad):
    loss = ll.losses.get(loss) if isinstance(loss, str) else loss
    rng = np.random.default_rng(5)
    inputs = {"y_pred": rng.normal(size=2051), "y_true": rng.uniform(0.1, 0.9, size=2051)}
    inputs[which][index] = bad
    args = (inputs["y_pred"], inputs["y_true"])
    call = loss.value_and_grad if need_grad else loss
    errors = []
    for block, disable in ((DIRECT, True), (SMALL_BLOCK, path == "numpy")):
        switch = _compiled.disabled() if disable else ll.config()
        with ll.config(block_size=block), switch, pytest.raises(ValueError, match=message) as info:
            call(*args)
        errors.append(str(info.value))
    assert errors[0] == errors[1]
    switch = _compiled.disabled() if path == "numpy" else ll.config()
    with ll.config(validate=False, block_size=SMALL_BLOCK), switch:  # switched off: no check, no error
        call(*args)


def test_blocked_path_checks_sample_weight():
    y = np.random.default_rng(6).normal(size=(2, 1024))
    weight = np.ones_like(y)
    weight[1, -1] = math.nan
    with ll.config(block_size=SMALL_BLOCK), pytest.raises(ValueError, match="sample_weight contains NaN"):
        ll.losses.mse(y, y * 0.5, sample_weight=weight)


def test_unbounded_domain_finiteness_survives_overflowing_probe():
    # x @ x overflows to inf for |x| ~ 1e200: the exact check then decides (and passes).
    x = np.full(4096, 1e200)
    REAL.check(np, x, "y_pred", "test")
    with ll.config(block_size=SMALL_BLOCK), _compiled.disabled():
        value = ll.losses.mae(x, -x, reduction="sum")
    assert value == pytest.approx(2e200 * 4096)
    x[7] = -math.inf
    with pytest.raises(ValueError, match="y_pred contains infinite values"):
        REAL.check(np, x, "y_pred", "test")
    assert not Domain().check(np, np.arange(3.0), "y_pred", "test")


# --------------------------------------------------------------------------- domains of listed values

SIGNED_BAD = [
    pytest.param(0, 0.5, r"y_true must hold labels -1 or \+1", id="first-entry"),
    pytest.param(1500, 2.0, r"y_true must hold labels -1 or \+1", id="above-range"),
    pytest.param(-1, -3.0, r"y_true must hold labels -1 or \+1", id="below-range-last"),
    pytest.param(700, math.nan, "y_true contains NaN", id="nan"),
    pytest.param(-1, math.inf, r"y_true must hold labels -1 or \+1", id="inf-last"),
]


@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "smoothed_hinge"])
@pytest.mark.parametrize(("index", "bad", "message"), SIGNED_BAD)
def test_values_domain_blocked_check_raises_the_direct_error(name, index, bad, message):
    # y_true of the hinge family is a domain of listed values {-1, 0, 1}: the blocked path checks
    # membership block by block, and an entry that is not a member gives the direct path's error.
    loss = ll.losses.get(name)
    rng = np.random.default_rng(15)
    y_pred = rng.normal(size=2051)
    y_true = rng.choice([-1.0, 0.0, 1.0], size=2051)
    y_true[index] = bad
    errors = []
    for block in (DIRECT, SMALL_BLOCK):
        with ll.config(block_size=block), pytest.raises(ValueError, match=message) as info:
            loss.value_and_grad(y_pred, y_true)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and errors[0].startswith(f"{name}: y_true ")
    # switched off: no check, no error (the formulas meet the infinity)
    with ll.config(block_size=SMALL_BLOCK, validate=False), np.errstate(invalid="ignore"):
        loss.value_and_grad(y_pred, y_true)


def test_values_domain_blocked_path_accepts_members():
    rng = np.random.default_rng(16)
    y_pred = rng.normal(size=3000)
    y_true = rng.choice([-1.0, 0.0, 1.0], size=3000)
    with ll.config(block_size=DIRECT):
        direct = ll.losses.hinge.value_and_grad(y_pred, y_true)
    with ll.config(block_size=SMALL_BLOCK):
        blocked = ll.losses.hinge.value_and_grad(y_pred, y_true)
    assert math.isclose(blocked[0], direct[0], rel_tol=1e-12)
    np.testing.assert_array_equal(blocked[1], direct[1])


def test_domain_holds_values_numpy_and_torch():
    signed = Domain("labels", -1.0, 1.0, values=(-1.0, 0.0, 1.0))
    x = np.tile([-1.0, 0.0, 1.0], 20_000)  # several value-check blocks
    assert signed.holds_values(np, x)
    assert signed.holds_values(np, x.reshape(600, 100))
    for bad in (0.5, math.nan, math.inf, 1.0 + 2.0**-52):
        y = x.copy()
        y[-1] = bad
        assert not signed.holds_values(np, y)
    with pytest.raises(ValueError, match="^t: labels_in must hold labels$"):
        y = x.copy()
        y[40_000] = -0.0 + 0.25
        signed.check(np, y, "labels_in", "t")
    signed.check(np, np.array([-0.0, 1.0]), "labels_in", "t")  # -0.0 == 0.0 is a member
    torch = pytest.importorskip("torch")
    assert signed.holds_values(torch, torch.tensor([-1.0, 0.0, 1.0]))
    assert not signed.holds_values(torch, torch.tensor([-1.0, 0.5]))


# --------------------------------------------------------------------------- class axis


def _softmax_ce(xp, logits, labels, ignore_index=None):
    """Softmax cross-entropy from logits: lse(z) - z_y; gradient softmax(z) - onehot(y)."""
    m = np.max(logits, axis=-1, keepdims=True)
    e = np.exp(logits - m)
    s = np.sum(e, axis=-1, keepdims=True)
    safe = labels if ignore_index is None else np.where(labels == ignore_index, 0, labels)
    idx = safe[..., None]
    loss = (np.log(s) + m - np.take_along_axis(logits, idx, axis=-1))[..., 0]
    grad = e / s
    np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis=-1) - 1.0, axis=-1)
    if ignore_index is not None:
        keep = labels != ignore_index
        loss = np.where(keep, loss, 0.0).astype(logits.dtype)
        grad = grad * keep[..., None]
    return loss, grad


def _soft_ce(xp, logits, targets):
    """Cross-entropy with probability targets: -sum_j y_j log softmax(z)_j."""
    m = np.max(logits, axis=-1, keepdims=True)
    shifted = logits - m
    log_softmax = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return -np.sum(targets * log_softmax, axis=-1), np.exp(log_softmax) * np.sum(
        targets, -1, keepdims=True
    ) - targets


LABEL_CE = ClassAxisLoss(
    "test_softmax_ce",
    task="multiclass",
    targets="labels",
    params={"ignore_index": ll.losses.Param(None)},
    value=lambda xp, z, y, ignore_index: _softmax_ce(xp, z, y, ignore_index)[0],
    grad=lambda xp, z, y, ignore_index: _softmax_ce(xp, z, y, ignore_index)[1],
    value_and_grad=_softmax_ce,
    count=lambda xp, z, y, ignore_index: (y != ignore_index).astype(z.dtype),
    info={"formula": "lse(z) - z_y", "gradient": "softmax(z) - e_y"},
)
SOFT_CE = ClassAxisLoss(
    "test_soft_ce",
    task="multiclass",
    value=lambda xp, z, y: _soft_ce(xp, z, y)[0],
    grad=lambda xp, z, y: _soft_ce(xp, z, y)[1],
    info={"formula": "-sum y log softmax(z)", "gradient": "softmax(z) sum(y) - y"},
)


def _class_inputs(loss, shape, dtype, seed=7):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, shape).astype(dtype)
    if loss is LABEL_CE:
        return logits, rng.integers(0, shape[-1], shape[:-1])
    targets = rng.uniform(size=shape)
    return logits, (targets / targets.sum(-1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("loss", [LABEL_CE, SOFT_CE], ids=lambda loss: loss.name)
@pytest.mark.parametrize(
    ("shape", "dtype"), [((301, 10), np.float64), ((7, 45, 10), np.float64), ((203, 13), np.float32)]
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_row_blocked_class_axis_equals_direct(loss, shape, dtype, reduction, weighted):
    y_pred, y_true = _class_inputs(loss, shape, dtype)
    kwargs = {"reduction": reduction}
    if weighted:
        kwargs["sample_weight"] = np.random.default_rng(8).uniform(0.5, 2.0, shape[:-1]).astype(dtype)
    direct = _evaluate(loss, (y_pred, y_true), DIRECT, "numpy", **kwargs)
    blocked = _evaluate(loss, (y_pred, y_true), SMALL_BLOCK, "numpy", **kwargs)
    with ll.config(block_size=SMALL_BLOCK):  # the blocked path is really taken
        params = loss.resolve_params({})
        assert (
            loss._fast_path(np, (y_pred, y_true), reduction, kwargs.get("sample_weight"), params, True)
            is not None
        )
    assert (
        np.array_equal(blocked[0], direct[0]) and np.asarray(blocked[0]).dtype == np.asarray(direct[0]).dtype
    )
    assert np.array_equal(blocked[1], direct[1]) and blocked[1].dtype == direct[1].dtype == dtype
    with ll.config(block_size=SMALL_BLOCK):
        assert np.array_equal(loss(y_pred, y_true, **kwargs), direct[0])


def test_row_blocked_class_axis_count_and_all_ignored():
    y_pred, labels = _class_inputs(LABEL_CE, (400, 8), np.float64)
    labels[::3] = -100
    for ignore, values in ((-100, labels), (-100, np.full_like(labels, -100))):
        direct = _evaluate(LABEL_CE, (y_pred, values), DIRECT, "numpy", ignore_index=ignore)
        blocked = _evaluate(LABEL_CE, (y_pred, values), SMALL_BLOCK, "numpy", ignore_index=ignore)
        assert np.array_equal(blocked[0], direct[0]) and np.array_equal(blocked[1], direct[1])
    assert blocked[0] == 0.0 and not blocked[1].any()  # every entry ignored: "mean" is 0


def test_row_blocked_class_axis_validation():
    y_pred, labels = _class_inputs(LABEL_CE, (400, 8), np.float64)
    y_pred[-1, -1] = math.nan
    with ll.config(block_size=SMALL_BLOCK), pytest.raises(ValueError, match="y_pred contains NaN"):
        LABEL_CE.value_and_grad(y_pred, labels)
    y_pred[-1, -1] = 0.0
    labels[-1] = 8
    with (
        ll.config(block_size=SMALL_BLOCK),
        pytest.raises(ValueError, match=r"class indices in \[0, 8\), got 8"),
    ):
        LABEL_CE.value_and_grad(y_pred, labels)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_element_numba_cannot_compile_falls_back_to_numpy():
    def element(p, t):
        return {"not": "a number"}, p  # a dict is not a scalar: typing fails

    @ElementwiseLoss.compiled(element)
    def kernel(p, t, out, scale):
        r = np.subtract(p, t, out=out)
        value = float(np.dot(r, r))
        if out is not None:
            np.multiply(out, 2.0 * scale, out=out)
        return value

    loss = ElementwiseLoss(
        "uncompilable_square_error",
        task="regression",
        value=lambda xp, p, t: (p - t) ** 2,
        grad=lambda xp, p, t: 2.0 * (p - t),
        kernel=kernel,
        info={"formula": r"(\hat y - y)^2", "gradient": r"2(\hat y - y)"},
    )
    y_pred, y_true = _inputs(loss, (1030,), np.float64)
    with ll.config(block_size=SMALL_BLOCK):
        value, grad = loss.value_and_grad(y_pred, y_true)
        assert loss.value_and_grad(y_pred, y_true)[0] == value  # the failure is remembered
    np.testing.assert_allclose(value, np.mean((y_pred - y_true) ** 2), rtol=1e-12)
    np.testing.assert_allclose(grad, 2.0 * (y_pred - y_true) / y_pred.size, rtol=1e-12)


# --------------------------------------------------------------------------- compiled BCE from logits

BCE = ll.losses.binary_cross_entropy
BCE_PARAMS = [
    {"from_logits": True},
    {"from_logits": True, "pos_weight": 2.5},
    {"from_logits": True, "label_smoothing": 0.1},
    {"from_logits": True, "pos_weight": 2.0, "label_smoothing": 0.2},
]


def _bce_inputs(n=70_002, seed=9):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 4.0, n)
    logits[:6] = (1e4, -1e4, 0.0, -0.0, 40.0, -40.0)  # saturated, zero and far-tail logits
    targets = rng.choice([0.0, 1.0], n)
    targets[: n // 3] = rng.uniform(0.0, 1.0, n // 3)  # soft targets too
    return logits, targets


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("params", BCE_PARAMS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_compiled_bce_logits_equals_numpy_path(params, reduction):
    logits, targets = _bce_inputs()
    compiled = BCE.value_and_grad(logits, targets, reduction=reduction, **params)
    value_only = BCE(logits, targets, reduction=reduction, **params)
    with _compiled.disabled():
        numpy_path = BCE.value_and_grad(logits, targets, reduction=reduction, **params)
    with ll.config(block_size=DIRECT):  # the unblocked formulas (_bce_value, _bce_grad)
        direct = BCE.value_and_grad(logits, targets, reduction=reduction, **params)
    for other in (numpy_path, direct):
        assert math.isclose(compiled[0], other[0], rel_tol=1e-12)
        np.testing.assert_allclose(compiled[1], other[1], rtol=1e-12, atol=1e-300)
    assert math.isclose(value_only, numpy_path[0], rel_tol=1e-12)
    assert np.isfinite(compiled[1]).all() and np.isfinite(compiled[0])


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_compiled_bce_logits_pytorch_values():
    torch = pytest.importorskip("torch")
    logits, targets = _bce_inputs(n=80_000, seed=10)
    value, grad = BCE.value_and_grad(logits, targets, from_logits=True, pos_weight=1.5)
    z = torch.from_numpy(logits).requires_grad_()
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        z, torch.from_numpy(targets), pos_weight=torch.tensor(1.5, dtype=torch.float64)
    )
    expected.backward()
    assert math.isclose(value, expected.item(), rel_tol=1e-10)
    # (atol: where (1 - y) sigma(x) ~ w y sigma(-x) both sides cancel to ~1e-12 of the largest entry)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=1e-10, atol=1e-10 * np.abs(grad).max())


BCE_BAD = [
    pytest.param("y_pred", 123, math.nan, "y_pred contains NaN", id="nan-y_pred"),
    pytest.param("y_pred", -1, math.inf, "y_pred contains infinite", id="inf-y_pred"),
    pytest.param(
        "y_true", 70_000, 1.5, "y_true must hold targets|y_true must hold probabilities", id="y_true>1"
    ),
    pytest.param(
        "y_true", 0, -0.25, "y_true must hold targets|y_true must hold probabilities", id="y_true<0"
    ),
    pytest.param("y_true", -1, math.nan, "y_true contains NaN", id="nan-y_true"),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("which", "index", "bad", "message"), BCE_BAD)
def test_bce_logits_fast_paths_raise_the_direct_error(which, index, bad, message, path):
    logits, targets = _bce_inputs()
    inputs = {"y_pred": logits, "y_true": targets}
    inputs[which][index] = bad
    errors = []
    for block, disable in ((DIRECT, True), (ll.get_config().block_size, path == "numpy")):
        switch = _compiled.disabled() if disable else ll.config()
        with (
            ll.config(block_size=block),
            switch,
            np.errstate(invalid="ignore"),  # the NumPy kernel meets inf - inf before the check
            pytest.raises(ValueError, match=message) as info,
        ):
            BCE.value_and_grad(inputs["y_pred"], inputs["y_true"], from_logits=True)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and errors[0].startswith("binary_cross_entropy: ")


# --------------------------------------------------------------------------- recycled gradient buffers


def _buffer_cases():
    rng = np.random.default_rng(11)
    n = (1 << 20) + 3  # at least buffers.POOL_MIN_SIZE elements: pooled
    y = rng.normal(size=n)
    logits = rng.normal(size=((1 << 16) + 1, 17))
    labels = rng.integers(0, 17, logits.shape[0])
    onehot = np.eye(17)[labels]
    return [
        (ll.losses.mse, (y, 0.5 * y), (y, -y), {}),
        (BCE, (y, (y > 0).astype(float)), (-y, (y > 0).astype(float)), {"from_logits": True}),
        (ll.losses.categorical_cross_entropy, (logits, onehot), (-logits, onehot), {"from_logits": True}),
        (
            ll.losses.sparse_categorical_cross_entropy,
            (logits, labels),
            (2 * logits, labels),
            {"from_logits": True},
        ),
    ]


@pytest.mark.parametrize("case", range(4), ids=["mse", "bce-logits", "cce-logits", "scce-logits"])
def test_gradient_buffers_are_never_aliased_and_are_recycled(case):
    loss, first, second, params = _buffer_cases()[case]
    buffers.release_buffers()  # only this test's gradients in the pool from here on
    _, held = loss.value_and_grad(*first, **params)
    kept = held.copy()
    _, other = loss.value_and_grad(*second, **params)
    assert not np.shares_memory(held, other)
    assert np.array_equal(held, kept)  # the held gradient is untouched by the second call
    view = other[1:]  # a view alone also keeps the buffer out of reuse
    address = view.__array_interface__["data"][0]
    del other
    _, third = loss.value_and_grad(*first, **params)
    assert not np.shares_memory(view, third) and np.array_equal(third, kept)
    assert view.__array_interface__["data"][0] == address
    # Once nothing references a gradient, its buffer serves the next call (no fresh pages).
    address = third.__array_interface__["data"][0]
    del third
    _, fourth = loss.value_and_grad(*first, **params)
    assert fourth.__array_interface__["data"][0] == address
    assert np.array_equal(fourth, kept)


# --------------------------------------------------------------------------- class axis: fused CE, checks


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"label_smoothing": 0.1},
        {"class_weight": np.linspace(0.5, 2.0, 13), "label_smoothing": 0.2},
    ],
)
def test_fused_categorical_ce_logits_equals_generic_formula(params):
    from losslab.losses.classification import _cce_coefficients, _ce_from_coefficients

    rng = np.random.default_rng(12)
    logits = rng.normal(0.0, 3.0, (257, 13))
    targets = rng.dirichlet(np.ones(13), 257)
    full = {"from_logits": True, "label_smoothing": 0.0, "class_weight": None, **params}
    a = _cce_coefficients(np, logits, targets, full["label_smoothing"], full["class_weight"], "cce")
    loss, grad = _ce_from_coefficients(np, logits, a, True, True)
    value, g = ll.losses.categorical_cross_entropy.value_and_grad(
        logits, targets, reduction="none", from_logits=True, **params
    )
    np.testing.assert_allclose(value, loss, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, grad, rtol=1e-12, atol=1e-15)


CE_BAD = [
    pytest.param("categorical_cross_entropy", "y_pred", math.inf, "y_pred contains infinite", id="cce-inf"),
    pytest.param("categorical_cross_entropy", "y_pred", math.nan, "y_pred contains NaN", id="cce-nan"),
    pytest.param(
        "categorical_cross_entropy", "y_true", 1.5, "y_true must hold probabilities", id="cce-y_true"
    ),
    pytest.param("categorical_cross_entropy", "y_true", math.nan, "y_true contains NaN", id="cce-y_true-nan"),
    pytest.param(
        "sparse_categorical_cross_entropy", "y_pred", math.nan, "y_pred contains NaN", id="scce-nan"
    ),
    pytest.param(
        "sparse_categorical_cross_entropy", "y_true", 9, r"class indices in \[0, 9\), got 9", id="scce-big"
    ),
    pytest.param(
        "sparse_categorical_cross_entropy", "y_true", -1, r"class indices in \[0, 9\), got -1", id="scce-neg"
    ),
    pytest.param(
        "sparse_categorical_cross_entropy", "both", math.nan, "y_pred contains NaN", id="scce-order"
    ),
]


@pytest.mark.parametrize(("name", "which", "bad", "message"), CE_BAD)
@pytest.mark.parametrize("need_grad", [True, False])
def test_row_blocked_ce_raises_the_direct_error(name, which, bad, message, need_grad):
    loss = ll.losses.get(name)
    rng = np.random.default_rng(13)
    logits = rng.normal(size=(600, 9))
    labels = rng.integers(0, 9, 600)
    targets = labels if loss.targets == "labels" else np.eye(9)[labels]
    if which in ("y_pred", "both"):
        logits[-2, 3] = bad
    if which == "y_true" or which == "both":
        if loss.targets == "labels":
            labels[-1] = 9 if which == "both" else bad
        else:
            targets[-1, 0] = bad
    call = loss.value_and_grad if need_grad else loss
    errors = []
    for block in (DIRECT, SMALL_BLOCK):
        with ll.config(block_size=block), pytest.raises(ValueError, match=message) as info:
            call(logits, targets, from_logits=True)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and errors[0].startswith(f"{name}: ")
    with ll.config(block_size=SMALL_BLOCK):  # the blocked path is really taken for these inputs
        assert loss._row_block(np, logits) is not None


def test_row_blocked_ce_checks_sample_weight_after_domains():
    loss = ll.losses.sparse_categorical_cross_entropy
    logits = np.random.default_rng(14).normal(size=(600, 9))
    labels = np.arange(600) % 9
    weight = np.ones(600)
    weight[-1] = math.nan
    with ll.config(block_size=SMALL_BLOCK), pytest.raises(ValueError, match="sample_weight contains NaN"):
        loss.value_and_grad(logits, labels, from_logits=True, sample_weight=weight)
    logits[0, 0] = math.nan
    with ll.config(block_size=SMALL_BLOCK), pytest.raises(ValueError, match="y_pred contains NaN"):
        loss.value_and_grad(logits, labels, from_logits=True, sample_weight=weight)


# --------------------------------------------------------------------------- compiled-pass range counts


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_compiled_bounds_are_closed_and_finite():
    big = np.finfo(np.float64).max
    assert _compiled.bounds(-math.inf, math.inf, 0.0, 1.0) == (-big, big, 0.0, 1.0)
    lo_p, hi_p, lo_t, hi_t = _compiled.bounds(0.0, 1.0, 0.0, math.inf, (True, True), (True, False))
    assert lo_p == 5e-324 and hi_p == 1.0 - 2.0**-53  # the next doubles inward
    assert lo_t == 5e-324 and hi_t == big
    # float32 entries convert to float64 exactly: the smallest positive float32 is inside (0, 1]
    assert float(np.float32(1e-45)) >= lo_p


OPEN_LOSS = _compiled_square_error("open_probability_square_error", OPEN_PROBABILITY)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("which", "index", "bad", "message"),
    [
        pytest.param("y_true", -1, 0.0, "y_true must hold probabilities in \\(0, 1\\)", id="open-low"),
        pytest.param("y_true", 3, 1.0, "y_true must hold probabilities in \\(0, 1\\)", id="open-high"),
        pytest.param("y_true", 9, math.inf, "y_true must hold probabilities", id="inf-bounded"),
        pytest.param("y_pred", 1000, -math.inf, "y_pred contains infinite", id="inf-real"),
        pytest.param("y_pred", 0, math.nan, "y_pred contains NaN", id="nan-first"),
    ],
)
def test_compiled_range_counts_raise_the_direct_error(which, index, bad, message, path):
    rng = np.random.default_rng(17)
    inputs = {"y_pred": rng.normal(size=2051), "y_true": rng.uniform(0.1, 0.9, size=2051)}
    inputs[which][index] = bad
    errors = []
    for block, disable in ((DIRECT, True), (SMALL_BLOCK, path == "numpy")):
        switch = _compiled.disabled() if disable else ll.config()
        with ll.config(block_size=block), switch, pytest.raises(ValueError, match=message) as info:
            OPEN_LOSS.value_and_grad(inputs["y_pred"], inputs["y_true"])
        errors.append(str(info.value))
    assert errors[0] == errors[1]
    inputs[which][index] = 0.5
    with ll.config(block_size=SMALL_BLOCK):
        value = OPEN_LOSS(inputs["y_pred"], inputs["y_true"], reduction="sum")
    assert math.isclose(value, float(np.sum((inputs["y_pred"] - inputs["y_true"]) ** 2)), rel_tol=1e-12)


CHUNK = 8 * SMALL_BLOCK  # blocks per chunk of the aux pass times the block size


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("n", [CHUNK * 3 + 77, CHUNK * 2, 4 * SMALL_BLOCK + 1])
def test_compiled_bce_across_chunks_equals_numpy_path(n):
    # -|x| of each block is written by the compiled pass of the block before (or, at the start
    # of a chunk, by its own call): ragged last blocks and chunk edges must line up.
    logits, targets = _bce_inputs(n=n, seed=18)
    with ll.config(block_size=SMALL_BLOCK):
        compiled = BCE.value_and_grad(logits, targets, from_logits=True, reduction="sum")
        with _compiled.disabled():
            numpy_path = BCE.value_and_grad(logits, targets, from_logits=True, reduction="sum")
    assert math.isclose(compiled[0], numpy_path[0], rel_tol=1e-12)
    np.testing.assert_array_equal(compiled[1], numpy_path[1])


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("index", [0, SMALL_BLOCK, CHUNK, CHUNK + SMALL_BLOCK - 1, -1])
def test_compiled_bce_nan_at_block_and_chunk_edges(index):
    logits, targets = _bce_inputs(n=CHUNK * 2 + 5, seed=19)
    logits[index] = math.nan
    with ll.config(block_size=SMALL_BLOCK), pytest.raises(ValueError, match="y_pred contains NaN"):
        BCE.value_and_grad(logits, targets, from_logits=True)
