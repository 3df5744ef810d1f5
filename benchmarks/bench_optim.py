"""Adam step on 10^7 parameters: losslab (update + apply_updates) against PyTorch's fastest CPU
Adam (foreach or fused, whichever is faster in this run), float32 and float64.

``run(timer)`` returns one row per case; ``timer(fn)`` returns the median seconds of ``fn()``.
Each timed call is one full step from the same state (losslab returns new arrays; PyTorch steps
in place, which keeps its state warm). Run directly for a table: ``python benchmarks/bench_optim.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import losslab as ll

N = 10_000_000
TARGET = "<= 2x torch"


def _losslab_step(dtype: Any) -> Callable[[], Any]:
    rng = np.random.default_rng(0)
    params = rng.standard_normal(N).astype(dtype)
    grads = rng.standard_normal(N).astype(dtype)
    opt = ll.optim.adam(lr=1e-3)
    state = opt.init(params)
    _, state = opt.update(grads, state, params)  # a non-trivial state (step 2 is timed)

    def step() -> Any:
        updates, new_state = opt.update(grads, state, params)
        return ll.optim.apply_updates(params, updates), new_state

    return step


def _torch_step(dtype: Any, **flags: bool) -> Callable[[], Any]:
    import torch

    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(N, generator=gen, dtype=tdtype, requires_grad=True)
    p.grad = torch.randn(N, generator=gen, dtype=tdtype)
    opt = torch.optim.Adam([p], lr=1e-3, **flags)
    opt.step()

    def step() -> None:
        with torch.no_grad():
            opt.step()

    return step


def run(timer: Callable[[Callable[[], Any]], float]) -> list[dict[str, Any]]:
    rows = []
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        ours = timer(_losslab_step(dtype))
        torch_times = {}
        for label, flags in (("foreach", {"foreach": True}), ("fused", {"fused": True})):
            try:
                torch_times[label] = timer(_torch_step(dtype, **flags))
            except (RuntimeError, TypeError):  # a path this build does not offer on CPU
                continue
        best = min(torch_times, key=torch_times.__getitem__)
        rows.append(
            {
                "case": f"adam step, 1e7 params, {name} (torch {best})",
                "losslab_s": ours,
                "torch_s": torch_times[best],
                "floor_s": None,
                "target": TARGET,
            }
        )
    return rows


def _median_timer(fn: Callable[[], Any], repeat: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    for row in run(_median_timer):
        ratio = row["losslab_s"] / row["torch_s"]
        print(
            f"{row['case']:<45} ll {row['losslab_s'] * 1e3:7.1f} ms  torch {row['torch_s'] * 1e3:7.1f} ms"
            f"  ratio {ratio:4.2f}  target {row['target']}"
        )
