"""Shared timing, memory-floor and table helpers for ``benchmarks/run.py``.

Every ``benchmarks/bench_*.py`` module exposes ``run(timer) -> list[dict]``; ``timer`` is
:func:`median_time`. Each dict has ``case`` (str), ``losslab_s``, ``torch_s`` (or ``None``),
``floor_s`` (or ``None``: the memory floor for that size when the case is memory-bound) and
``target`` (str); optional keys: ``baseline_s`` (a reference losslab time, e.g. validation off),
``met`` (bool, overrides parsing the target) and ``note`` (str).

Targets understood by :func:`target_met` (comma-separated clauses, all must hold):
``<=3x floor``, ``>=3x vs PyTorch``, ``<=1x PyTorch`` (not slower) and ``<=20% over baseline``.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "configure",
    "format_table",
    "median_time",
    "memory_floor",
    "print_table",
    "quick",
    "selected",
    "size",
    "target_met",
]

_settings: dict[str, Any] = {"quick": False, "only": None}
_floors: dict[int, float] = {}


def configure(*, quick: bool = False, only: str | None = None) -> None:
    """Set the run's mode: ``quick`` (small sizes, a smoke test) and the ``only`` case filter."""
    _settings["quick"] = quick
    _settings["only"] = re.compile(only, re.IGNORECASE) if only else None


def quick() -> bool:
    """Whether this is a quick (smoke-test) run."""
    return bool(_settings["quick"])


def size(full: int, small: int) -> int:
    """``full`` normally, ``small`` in a quick run."""
    return small if quick() else full


def selected(case: str) -> bool:
    """Whether ``case`` passes the ``--only`` filter (a case-insensitive regular expression)."""
    pattern = _settings["only"]
    return pattern is None or bool(pattern.search(case))


def median_time(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def memory_floor(n: int = 10**7) -> float:
    """Median time of ``np.add(a, b, out=c)`` on ``n`` float64 (cached per ``n`` for the run).

    Two reads and one write of ``n`` doubles into a preallocated output: the memory-bandwidth
    floor any element-wise ``value_and_grad`` (read ``y_pred``, ``y_true``; write the gradient)
    is compared with.
    """
    if n not in _floors:
        rng = np.random.default_rng(0)
        a, b = rng.random(n), rng.random(n)
        c = np.empty(n)
        _floors[n] = median_time(lambda: np.add(a, b, out=c), repeat=11, warmup=2)
    return _floors[n]


_CLAUSES = (
    (re.compile(r"<=\s*([\d.]+)x\s*floor", re.I), "floor"),
    (re.compile(r">=\s*([\d.]+)x\s*(?:faster\s*)?(?:vs|than)\s*pytorch", re.I), "speedup"),
    (re.compile(r"<=\s*([\d.]+)x\s*pytorch", re.I), "torch_ratio"),
    (re.compile(r"<=\s*([\d.]+)%\s*over", re.I), "overhead"),
)


def target_met(row: dict[str, Any]) -> bool | None:
    """Whether ``row`` meets its target (``None`` when it cannot be decided)."""
    if row.get("met") is not None:
        return bool(row["met"])
    target = row.get("target") or ""
    t, floor, torch_s, base = (
        row.get("losslab_s"),
        row.get("floor_s"),
        row.get("torch_s"),
        row.get("baseline_s"),
    )
    if t is None:
        return None
    verdicts: list[bool] = []
    for clause in target.split(","):
        for pattern, kind in _CLAUSES:
            match = pattern.search(clause)
            if not match:
                continue
            k = float(match.group(1))
            if kind == "floor" and floor:
                verdicts.append(t / floor <= k)
            elif kind == "speedup" and torch_s:
                verdicts.append(torch_s / t >= k)
            elif kind == "torch_ratio" and torch_s:
                verdicts.append(t / torch_s <= k)
            elif kind == "overhead" and base:
                verdicts.append(t / base - 1.0 <= k / 100.0)
            else:
                return None
            break
    return all(verdicts) if verdicts else None


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{1e3 * x:.2f} ms"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def format_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and string cells of the results table."""
    header = ["case", "losslab", "x floor", "PyTorch", "speed-up vs PyTorch", "target", "met?"]
    notes = any(r.get("note") for r in rows)
    if notes:
        header.append("note")
    cells = []
    for r in rows:
        t, floor, torch_s = r.get("losslab_s"), r.get("floor_s"), r.get("torch_s")
        met = target_met(r)
        line = [
            str(r["case"]),
            _ms(t),
            _ratio(t / floor) if (t and floor) else "-",
            _ms(torch_s),
            _ratio(torch_s / t) if (t and torch_s) else "-",
            str(r.get("target") or "-"),
            "-" if met is None else ("yes" if met else "NO"),
        ]
        if notes:
            line.append(str(r.get("note") or ""))
        cells.append(line)
    return header, cells


def format_table(rows: list[dict[str, Any]]) -> str:
    """The results as a plain-text table."""
    header, cells = format_rows(rows)
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in cells]
    return "\n".join(lines)


def print_table(rows: list[dict[str, Any]], title: str = "", plain: bool = False) -> None:
    """Print the results with Rich when available (``plain``: always plain text)."""
    if not plain:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:  # pragma: no cover - rich is a core dependency
            plain = True
    if plain:
        if title:
            print(title)
        print(format_table(rows))
        return
    header, cells = format_rows(rows)
    table = Table(title=title or None)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 or h in ("target", "note") else "right")
    for line in cells:
        table.add_row(*line)
    Console(width=200).print(table)
