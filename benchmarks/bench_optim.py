"""Adam step on 10^7 parameters: ``ll.optim.step`` against PyTorch's fastest CPU Adam (foreach or
fused, whichever is faster in this run), float32 and float64.

``run(timer)`` returns one row per dtype; ``timer(fn)`` returns the median seconds of ``fn()``.
The headline time is ``ll.optim.step(opt, grads, state, params)`` (the fused step: compiled when
Numba is installed, else the cache-blocked NumPy pass); the note adds the functional
``update`` + ``apply_updates`` pair (also ``baseline_s``), the NumPy fused step with the compiled
path switched off, and both PyTorch paths. Each timed call is one full step from the same state
(losslab returns new arrays, recycled from the previous call's; PyTorch steps in place).
Run directly for a table: ``PYTHONPATH=src python benchmarks/bench_optim.py``.
"""

from __future__ import annotations

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


def _losslab_setup(dtype: Any, n: int) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(dtype)
    grads = rng.standard_normal(n).astype(dtype)
    opt = ll.optim.adam(lr=1e-3)
    state = opt.init(params)
    params, state = ll.optim.step(opt, grads, state, params)  # a non-trivial state (step 2 is timed)
    return opt, grads, state, params


def _losslab_step(dtype: Any, n: int, *, compiled: bool = True) -> Callable[[], Any]:
    opt, grads, state, params = _losslab_setup(dtype, n)

    def step() -> Any:
        if compiled:
            return ll.optim.step(opt, grads, state, params)
        with _compiled.disabled():
            return ll.optim.step(opt, grads, state, params)

    return step


def _losslab_update_apply(dtype: Any, n: int) -> Callable[[], Any]:
    opt, grads, state, params = _losslab_setup(dtype, n)

    def step() -> Any:
        updates, new_state = opt.update(grads, state, params)
        return ll.optim.apply_updates(params, updates), new_state

    return step


def _torch_step(dtype: Any, n: int, **flags: bool) -> Callable[[], Any]:
    import torch

    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(n, generator=gen, dtype=tdtype, requires_grad=True)
    p.grad = torch.randn(n, generator=gen, dtype=tdtype)
    opt = torch.optim.Adam([p], lr=1e-3, **flags)
    opt.step()

    def step() -> None:
        with torch.no_grad():
            opt.step()

    return step


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def run(timer: Callable[[Callable[[], Any]], float]) -> list[dict[str, Any]]:
    n = _harness.size(10_000_000, 100_000)
    label_n = "1e7" if n == 10_000_000 else f"{n:.0e}"
    rows = []
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        case = f"adam step, {label_n} params, {name}"
        if not _harness.selected(case):
            continue
        ours = timer(_losslab_step(dtype, n))
        torch_times = {}
        for label, flags in (("foreach", {"foreach": True}), ("fused", {"fused": True})):
            try:
                torch_times[label] = timer(_torch_step(dtype, n, **flags))
            except (RuntimeError, TypeError):  # a path this build does not offer on CPU
                continue
        functional = timer(_losslab_update_apply(dtype, n))
        numpy_step = timer(_losslab_step(dtype, n, compiled=False)) if _compiled.available() else None
        best = min(torch_times, key=torch_times.__getitem__)
        torch_s = torch_times[best]
        parts = [f"update+apply_updates {_ms(functional)} ({functional / torch_s:.2f}x torch)"]
        if numpy_step is not None:
            parts.append(f"NumPy step {_ms(numpy_step)} ({numpy_step / torch_s:.2f}x)")
        else:
            parts.append("compiled path off (NumPy step)")
        parts.append("torch " + ", ".join(f"{k} {_ms(v)}" for k, v in torch_times.items()))
        rows.append(
            {
                "case": f"{case} (ll.optim.step vs torch {best})",
                "losslab_s": ours,
                "torch_s": torch_s,
                "floor_s": None,
                "baseline_s": functional,
                "target": TARGET,
                "note": "; ".join(parts),
            }
        )
    return rows


if __name__ == "__main__":
    for row in run(_harness.median_time):
        ratio = row["losslab_s"] / row["torch_s"]
        print(
            f"{row['case']:<58} ll {_ms(row['losslab_s']):>9}  torch {_ms(row['torch_s']):>9}"
            f"  ratio {ratio:4.2f}  target {row['target']}\n    {row['note']}"
        )
