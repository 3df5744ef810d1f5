"""The main job's speed: ``losslab tour`` (every experiment, its figures and the page), full and
``--quick``, plus each experiment's own time.

Targets (2 cores): the whole tour under 2 minutes, ``--quick`` under 30 seconds. The tour runs
its experiments one per core in worker processes, so the per-experiment times are measured while
the cores are shared and the CPU column counts the workers too. A tour takes
seconds to minutes, so it runs once per mode (``--quick`` of ``run.py`` skips the full tour); the
per-experiment rows come from the same runs. The target is an absolute budget, so each row sets
``met`` itself and names the budget in ``target``.

Run alone: ``PYTHONPATH=src python benchmarks/bench_tour.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness

import losslab as ll

BUDGET_S = {"quick": 30.0, "full": 120.0}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the tour's worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _tour(quick: bool) -> tuple[float, float, dict[str, Any]]:
    """Wall-clock and CPU seconds of one tour (its worker processes included), and its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), _cpu()
        page = ll.report.write_tour(Path(tmp) / "report", quick=quick)
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
        summary = json.loads((page.parent / "results.json").read_text(encoding="utf-8"))
    return elapsed, cpu, summary


def run(timer: Callable[..., float]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    modes = ["quick"] if _harness.quick() else ["quick", "full"]
    for mode in modes:
        elapsed, cpu, summary = _tour(mode == "quick")
        n = len(summary["experiments"])
        failed = summary["counts"]["error"]
        rows.append(
            {
                "case": f"tour {'--quick ' if mode == 'quick' else ''}({n} experiments, page written)",
                "losslab_s": elapsed,
                "torch_s": None,
                "floor_s": None,
                "target": f"< {BUDGET_S[mode]:.0f} s",
                "met": elapsed < BUDGET_S[mode] and failed == 0,
                # CPU time shows what the run costs when other work shares the cores
                "note": f"{cpu:.1f} s CPU" + (f"; {failed} experiment(s) failed" if failed else ""),
            }
        )
        for e in summary["experiments"]:
            rows.append(
                {
                    "case": f"  {mode}: {e['name']}",
                    "losslab_s": e["elapsed_s"],
                    "torch_s": None,
                    "floor_s": None,
                    "target": None,
                    "note": e["verdict"] or "error",
                }
            )
    return rows


if __name__ == "__main__":
    _harness.print_table(run(_harness.median_time), title="tour")
