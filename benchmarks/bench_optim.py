"""Optimizer steps on 10^7 parameters: ``ll.optim.step`` against PyTorch's fastest CPU step of the
same optimizer (foreach or fused, whichever is faster in this run): Adam in float32 and float64,
SGD with momentum and RMSprop in float32.

``run(timer)`` returns one row per dtype; ``timer(fn)`` returns the median seconds of ``fn()``;
each time reported is the median of three such medians, the contenders taking turns.
The headline time is ``ll.optim.step(opt, grads, state, params)`` (the fused step: compiled when
Numba is installed, else the cache-blocked NumPy pass); the note adds the functional
``update`` + ``apply_updates`` pair (also ``baseline_s``), the NumPy fused step with the compiled
path switched off, and both PyTorch paths. Each timed call is one full step from the same state
(losslab returns new arrays, recycled from the previous call's; PyTorch steps in place).
Run directly for a table: ``PYTHONPATH=src python benchmarks/bench_optim.py``.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness  # noqa: E402

import losslab as ll  # noqa: E402
from losslab.optim import _compiled  # noqa: E402

TARGET = "<= 2x torch"
ROUNDS = 3


# name -> (losslab optimizer, torch optimizer class and keywords, dtypes)
OPTIMIZERS: dict[str, tuple[Callable[[], Any], str, dict[str, Any], tuple[Any, ...]]] = {
    "adam": (lambda: ll.optim.adam(lr=1e-3), "Adam", {"lr": 1e-3}, (np.float32, np.float64)),
    "sgd momentum": (
        lambda: ll.optim.sgd(lr=1e-3, momentum=0.9),
        "SGD",
        {"lr": 1e-3, "momentum": 0.9},
        (np.float32,),
    ),
    "rmsprop": (lambda: ll.optim.rmsprop(lr=1e-3), "RMSprop", {"lr": 1e-3}, (np.float32,)),
}


def _losslab_setup(name: str, dtype: Any, n: int) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(dtype)
    grads = rng.standard_normal(n).astype(dtype)
    opt = OPTIMIZERS[name][0]()
    state = opt.init(params)
    params, state = ll.optim.step(opt, grads, state, params)  # a non-trivial state (step 2 is timed)
    return opt, grads, state, params


def _losslab_step(name: str, dtype: Any, n: int, *, compiled: bool = True) -> Callable[[], Any]:
    opt, grads, state, params = _losslab_setup(name, dtype, n)

    def step() -> Any:
        if compiled:
            return ll.optim.step(opt, grads, state, params)
        with _compiled.disabled():
            return ll.optim.step(opt, grads, state, params)

    return step


def _losslab_update_apply(name: str, dtype: Any, n: int) -> Callable[[], Any]:
    opt, grads, state, params = _losslab_setup(name, dtype, n)

    def step() -> Any:
        updates, new_state = opt.update(grads, state, params)
        return ll.optim.apply_updates(params, updates), new_state

    return step


def _torch_step(name: str, dtype: Any, n: int, **flags: bool) -> Callable[[], Any]:
    import torch

    _, cls, kwargs, _ = OPTIMIZERS[name]
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(n, generator=gen, dtype=tdtype, requires_grad=True)
    p.grad = torch.randn(n, generator=gen, dtype=tdtype)
    opt = getattr(torch.optim, cls)([p], **kwargs, **flags)
    opt.step()

    def step() -> None:
        with torch.no_grad():
            opt.step()

    return step


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _interleaved(
    timer: Callable[[Callable[[], Any]], float], fns: dict[str, Callable[[], Any]]
) -> dict[str, float]:
    """The median over ``ROUNDS`` rounds of ``timer(fn)``, the contenders timed in turn within each
    round, so that load changing on a shared machine hits them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(1 if _harness.quick() else ROUNDS):
        for k, fn in fns.items():
            times[k].append(timer(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def run(timer: Callable[[Callable[[], Any]], float]) -> list[dict[str, Any]]:
    n = _harness.size(10_000_000, 100_000)
    label_n = "1e7" if n == 10_000_000 else f"{n:.0e}"
    rows = []
    for opt_name, (_, _, _, dtypes) in OPTIMIZERS.items():
        for dtype in dtypes:
            row = _row(timer, opt_name, dtype, n, label_n)
            if row is not None:
                rows.append(row)
    return rows


def _row(
    timer: Callable[[Callable[[], Any]], float], opt_name: str, dtype: Any, n: int, label_n: str
) -> dict[str, Any] | None:
    case = f"{opt_name} step, {label_n} params, {np.dtype(dtype).name}"
    if not _harness.selected(case):
        return None
    fns = {"step": _losslab_step(opt_name, dtype, n)}
    for label, flags in (("foreach", {"foreach": True}), ("fused", {"fused": True})):
        try:
            fns[f"torch {label}"] = _torch_step(opt_name, dtype, n, **flags)
        except (RuntimeError, TypeError, ValueError):  # a path this build does not offer on CPU
            continue
    fns["update+apply"] = _losslab_update_apply(opt_name, dtype, n)
    if _compiled.available():
        fns["numpy step"] = _losslab_step(opt_name, dtype, n, compiled=False)
    t = _interleaved(timer, fns)
    best = min((k for k in t if k.startswith("torch")), key=t.__getitem__)
    torch_s = t[best]
    parts = [f"update+apply_updates {_ms(t['update+apply'])} ({t['update+apply'] / torch_s:.2f}x torch)"]
    if "numpy step" in t:
        parts.append(f"NumPy step {_ms(t['numpy step'])} ({t['numpy step'] / torch_s:.2f}x)")
    else:
        parts.append("compiled path off (NumPy step)")
    parts.append(", ".join(f"{k} {_ms(v)}" for k, v in t.items() if k.startswith("torch")))
    return {
        "case": f"{case} (ll.optim.step vs {best})",
        "losslab_s": t["step"],
        "torch_s": torch_s,
        "floor_s": None,
        "baseline_s": t["update+apply"],
        "target": TARGET,
        "note": "; ".join(parts),
    }


if __name__ == "__main__":
    for row in run(_harness.median_time):
        ratio = row["losslab_s"] / row["torch_s"]
        print(
            f"{row['case']:<58} ll {_ms(row['losslab_s']):>9}  torch {_ms(row['torch_s']):>9}"
            f"  ratio {ratio:4.2f}  target {row['target']}\n    {row['note']}"
        )
