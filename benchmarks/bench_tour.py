"""The main job's speed: ``losslab tour`` (every experiment, its figures and the page), full and
``--quick``, plus each experiment's own time.

Targets (2 cores): the whole tour under 2 minutes, ``--quick`` under 30 seconds. The tour runs
its experiments one per core in worker processes, so the per-experiment times are measured while
the cores are shared; the wall clock also holds the workers' start and the page. A tour takes
seconds to minutes, so it runs once per mode (``--quick`` of ``run.py`` skips the full tour); the
per-experiment rows come from the same runs. The target is an absolute budget, so each row sets
``met`` itself and names the budget in ``target``.

Run alone: ``PYTHONPATH=src python benchmarks/bench_tour.py``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness

import losslab as ll

BUDGET_S = {"quick": 30.0, "full": 120.0}


def _tour(quick: bool) -> tuple[float, float, dict[str, Any]]:
    """Wall-clock seconds of one tour, the sum of its experiments' own times, and its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        page = ll.report.write_tour(Path(tmp) / "report", quick=quick)
        elapsed = time.perf_counter() - start
        summary = json.loads((page.parent / "results.json").read_text(encoding="utf-8"))
    return elapsed, sum(e["elapsed_s"] for e in summary["experiments"]), summary


def run(timer: Callable[..., float]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    modes = ["quick"] if _harness.quick() else ["quick", "full"]
    for mode in modes:
        elapsed, work, summary = _tour(mode == "quick")
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
                # their own times, measured side by side in the worker processes
                "note": f"experiments {work:.1f} s in all, in worker processes"
                + (f"; {failed} experiment(s) failed" if failed else ""),
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
