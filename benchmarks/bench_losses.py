"""Loss benchmarks: value_and_grad at 10^7 float64 and cross-entropy from logits at 10^5 x 100.

Cases (losses not registered yet are skipped):

* every registered element-wise loss (default parameters, plus ``binary_cross_entropy`` with
  ``from_logits=True``) on valid random data drawn from its domains, against the memory floor and
  against PyTorch forward + backward (the declaration's ``torch_fn``) on the same arrays;
* for the targeted losses, the NumPy blocked path alone (compiled path switched off), to show
  what blocking reaches without a compiler;
* validation overhead: validate on vs ``ll.config(validate=False)``, per loss;
* ``categorical_cross_entropy`` / ``sparse_categorical_cross_entropy`` from logits at
  10^5 x 100 against ``torch.nn.functional.cross_entropy`` forward + backward, and the engine's
  row-blocked path on a reference softmax cross-entropy declared here (not registered).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import _harness
import numpy as np

import losslab as ll
from losslab.losses import _compiled
from losslab.losses._spec import ClassAxisLoss

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

TARGETED = {"mse", "mae", "huber", "binary_cross_entropy(from_logits=True)"}
ELEMENTWISE_TARGET = "<=3x floor, >=3x vs PyTorch"
VALIDATION_TARGET = "<=20% over validate=False"


SUFFIXES = ("value_and_grad", "[NumPy blocked only]", "validation overhead")


def _wanted(case: str) -> bool:
    """Whether ``--only`` keeps any row of ``case`` (run.py filters the rows themselves)."""
    return any(_harness.selected(f"{case} {suffix}") for suffix in SUFFIXES)


def _registered(name: str) -> Any:
    return ll.losses.get(name) if name in ll.losses.names() else None


def _elementwise_cases(n: int, rng: np.random.Generator) -> list[tuple[str, Any, dict[str, Any], tuple]]:
    cases = []
    for name in ll.losses.names():
        loss = ll.losses.get(name)
        if loss.kind != "elementwise":
            continue
        params = loss.resolve_params({})
        y_pred = loss.y_pred_domain.sample(rng, (n,))
        y_true = loss.y_true_domain.sample(rng, (n,))
        cases.append((name, loss, {}, (y_pred, y_true)))
        if name == "binary_cross_entropy" and "from_logits" in params:
            logits = rng.uniform(-4.0, 4.0, n)
            cases.append(
                ("binary_cross_entropy(from_logits=True)", loss, {"from_logits": True}, (logits, y_true))
            )
    return cases


def _torch_fn(loss: Any, params: dict[str, Any], inputs: tuple) -> Callable[[], Any] | None:
    """PyTorch forward + backward of the declaration's ``torch_fn`` on the same arrays."""
    if torch is None or loss.torch_fn is None:
        return None
    full = loss.resolve_params(params)
    y_true = torch.from_numpy(inputs[1])

    def fwd_bwd() -> Any:
        p = torch.from_numpy(inputs[0]).requires_grad_()
        loss.torch_fn(torch, p, y_true, reduction="mean", **full).backward()
        return p.grad

    return fwd_bwd


def _validate_off(fn: Callable[[], Any]) -> Callable[[], Any]:
    def off() -> Any:
        with ll.config(validate=False):
            return fn()

    return off


def _times(timer: Callable[..., float], fns: dict[str, Callable[[], Any] | None]) -> dict[str, float | None]:
    """Times of ``fns`` (``None`` entries stay ``None``).

    losslab's variants (validation on and off) are interleaved when ``timer`` is the harness's
    own :func:`_harness.median_time`, so a drift of a shared machine hits both alike; PyTorch is
    timed in its own rounds, because its worker threads keep spinning for a while after each
    call and would slow down whichever losslab call follows them.
    """
    present = {k: f for k, f in fns.items() if f is not None}
    ours = {k: f for k, f in present.items() if k != "torch"}
    if timer is _harness.median_time:
        found: dict[str, float | None] = dict(_harness.median_times(ours))
    else:
        found = {k: timer(f) for k, f in ours.items()}
    if "torch" in present:
        found["torch"] = timer(present["torch"])
    return {k: found.get(k) for k in fns}


def _torch_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> Any:
    """PyTorch forward + backward of the mean softmax cross-entropy from logits."""
    z = torch.from_numpy(logits).requires_grad_()
    torch.nn.functional.cross_entropy(z, torch.from_numpy(labels)).backward()
    return z.grad


def _overhead_note(t_on: float, t_off: float) -> str:
    return f"on {1e3 * t_on:.1f} ms / off {1e3 * t_off:.1f} ms ({100 * (t_on / t_off - 1):+.0f}%)"


def _ce_value_and_grad(xp: Any, logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference softmax cross-entropy from logits: lse(z) - z_y; gradient softmax(z) - onehot(y)."""
    m = np.max(logits, axis=-1, keepdims=True)
    e = np.exp(logits - m)
    s = np.sum(e, axis=-1, keepdims=True)
    idx = labels[..., None]
    loss = (np.log(s) + m - np.take_along_axis(logits, idx, axis=-1))[..., 0]
    np.divide(e, s, out=e)
    np.put_along_axis(e, idx, np.take_along_axis(e, idx, axis=-1) - 1.0, axis=-1)
    return loss, e


REFERENCE_CE = ClassAxisLoss(
    "softmax_cross_entropy_reference",
    task="multiclass",
    targets="labels",
    value=lambda xp, z, y: _ce_value_and_grad(xp, z, y)[0],
    grad=lambda xp, z, y: _ce_value_and_grad(xp, z, y)[1],
    value_and_grad=_ce_value_and_grad,
    info={"formula": r"\log\sum_j e^{z_j} - z_y", "gradient": r"\mathrm{softmax}(z) - e_y"},
)


def _ce_cases(rng: np.random.Generator) -> list[tuple[str, Any, dict[str, Any], tuple, tuple]]:
    rows, classes = _harness.size(10**5, 2000), 100
    logits = rng.normal(0.0, 2.0, (rows, classes))
    labels = rng.integers(0, classes, rows)
    onehot = np.eye(classes)[labels]
    cases = [
        ("engine: row-blocked softmax CE (reference)", REFERENCE_CE, {}, (logits, labels), (logits, labels))
    ]
    for name, targets in (
        ("categorical_cross_entropy", onehot),
        ("sparse_categorical_cross_entropy", labels),
    ):
        loss = _registered(name)
        if loss is not None and "from_logits" in loss.params:
            cases.append(
                (
                    f"{name}(from_logits=True)",
                    loss,
                    {"from_logits": True},
                    (logits, targets),
                    (logits, labels),
                )
            )
    return cases


def run(timer: Callable[..., float]) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    n = _harness.size(10**7, 10**5)
    floor = _harness.memory_floor(n)
    rows: list[dict[str, Any]] = []
    for case, loss, params, inputs in _elementwise_cases(n, rng):
        if not _wanted(case):
            continue
        target = ELEMENTWISE_TARGET if case in TARGETED else ""
        call = partial(loss.value_and_grad, *inputs, **params)
        try:
            call()  # an invalid case raises here, before any timing
            times = _times(
                timer, {"on": call, "off": _validate_off(call), "torch": _torch_fn(loss, params, inputs)}
            )
        except (ValueError, TypeError) as err:
            rows.append(
                {
                    "case": case,
                    "losslab_s": None,
                    "torch_s": None,
                    "floor_s": None,
                    "target": target,
                    "note": f"error: {err}",
                }
            )
            continue
        t_on, t_off = times["on"], times["off"]
        rows.append(
            {
                "case": f"{case} value_and_grad",
                "losslab_s": t_on,
                "torch_s": times["torch"],
                "floor_s": floor,
                "target": target,
            }
        )
        if case in TARGETED and _compiled.available():

            def numpy_only(call: Callable[[], Any] = call) -> Any:
                with _compiled.disabled():
                    return call()

            t_np = timer(numpy_only)
            rows.append(
                {
                    "case": f"{case} [NumPy blocked only]",
                    "losslab_s": t_np,
                    "torch_s": rows[-1]["torch_s"],
                    "floor_s": floor,
                    "target": "",
                    "note": "compiled path switched off",
                }
            )
        rows.append(
            {
                "case": f"{case} validation overhead",
                "losslab_s": t_on,
                "baseline_s": t_off,
                "torch_s": None,
                "floor_s": None,
                "target": VALIDATION_TARGET,
                "note": _overhead_note(t_on, t_off),
            }
        )
    for case, loss, params, inputs, torch_inputs in _ce_cases(rng):
        if not _wanted(case):
            continue
        call = partial(loss.value_and_grad, *inputs, **params)
        torch_call = None if torch is None else partial(_torch_cross_entropy, *torch_inputs)
        times = _times(timer, {"on": call, "off": _validate_off(call), "torch": torch_call})
        t_on, t_off, t_torch = times["on"], times["off"], times["torch"]
        rows.append(
            {
                "case": f"{case} value_and_grad",
                "losslab_s": t_on,
                "torch_s": t_torch,
                "floor_s": None,
                "target": "<=1x PyTorch",
            }
        )
        rows.append(
            {
                "case": f"{case} validation overhead",
                "losslab_s": t_on,
                "baseline_s": t_off,
                "torch_s": None,
                "floor_s": None,
                "target": VALIDATION_TARGET,
                "note": _overhead_note(t_on, t_off),
            }
        )
    return rows
