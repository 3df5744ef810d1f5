"""Shared timing, memory-floor and table helpers for ``benchmarks/run.py``.

Every ``benchmarks/bench_*.py`` module exposes ``run(timer) -> list[dict]``; ``timer`` is
:func:`median_time`. Where a row compares two timings (validation on vs off, losslab vs PyTorch),
:func:`median_times` interleaves their repetitions so both see the same machine. Each dict has ``case`` (str), ``losslab_s``, ``torch_s`` (or ``None``),
``floor_s`` (or ``None``: the memory floor for that size when the case is memory-bound) and
``target`` (str); optional keys: ``baseline_s`` (a reference losslab time, e.g. validation off),
``met`` (bool, overrides parsing the target) and ``note`` (str).

Targets (:func:`target_met`): comma-separated clauses, all of which must hold. Each clause is

    [losslab[_s]] OP [K UNIT] [RELATION] REFERENCE

``OP`` is ``<=``, ``<``, ``>=`` or ``>``; ``REFERENCE`` names the time compared with:
``floor``/``floor_s`` (the memory floor), ``torch``/``pytorch``/``torch_s`` (PyTorch) or
``baseline``/``baseline_s``; after ``over`` any word (``over validate=False``) means the
baseline. The clause compares a ratio with a threshold:

* the ratio is ``losslab_s / reference`` (a time ratio), or ``reference / losslab_s`` (a
  speed-up) when the relation is ``vs``, ``than`` or ``faster than``;
* the threshold is ``K`` for ``Kx`` (or ``K*``), ``1 + K/100`` for ``K%`` and 1 without ``K``.

So ``<=3x floor``, ``>=3x vs PyTorch`` (3x faster), ``<=1x PyTorch`` (not slower),
``<= 2x torch``, ``losslab_s <= torch_s`` and ``<=20% over validate=False`` all read the same
way. A clause outside this grammar makes the verdict unknown (``?`` in the table), never a
silent pass; a missing reference time makes it undecidable (``-``).
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
    "median_times",
    "memory_floor",
    "parse_target",
    "print_table",
    "quick",
    "selected",
    "size",
    "TargetError",
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


def median_times(fns: dict[str, Callable[[], Any]], repeat: int = 7, warmup: int = 1) -> dict[str, float]:
    """Median wall-clock seconds of each of ``fns``, their repetitions interleaved.

    Each round runs every function once, in turn (the order rotates from round to round), so a
    slow stretch of a shared machine falls on all of them alike instead of on whichever was timed
    then: ratios between them (validation on vs off, losslab vs PyTorch) compare like with like.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


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


_CLAUSE = re.compile(
    r"^\s*(?:losslab(?:_s)?\s*)?(?P<op><=|>=|<|>)\s*"
    r"(?:(?P<k>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>x|\*|%)\s*)?"
    r"(?P<rel>faster\s+than|faster\s+vs|vs\.?|than|over)?\s*"
    r"(?P<ref>[A-Za-z_][\w=.]*)\s*$",
    re.IGNORECASE,
)
_REFERENCES = {
    "floor": "floor_s",
    "floor_s": "floor_s",
    "torch": "torch_s",
    "pytorch": "torch_s",
    "torch_s": "torch_s",
    "baseline": "baseline_s",
    "baseline_s": "baseline_s",
}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


class TargetError(ValueError):
    """A target clause outside the grammar of the module docstring."""


def parse_target(target: str) -> list[tuple[str, str, bool, float]]:
    """The clauses of ``target`` as ``(op, reference key, speed-up?, threshold)``.

    >>> parse_target(">=3x vs PyTorch, <=3x floor")
    [('>=', 'torch_s', True, 3.0), ('<=', 'floor_s', False, 3.0)]
    >>> parse_target("losslab_s <= torch_s")
    [('<=', 'torch_s', False, 1.0)]
    >>> parse_target("<=20% over validate=False")
    [('<=', 'baseline_s', False, 1.2)]
    """
    clauses = []
    for text in target.split(","):
        if not text.strip():
            continue
        match = _CLAUSE.match(text)
        if match is None:
            raise TargetError(f"target clause {text.strip()!r} does not follow the grammar")
        rel = (match.group("rel") or "").lower()
        ref = match.group("ref").lower()
        key = "baseline_s" if rel == "over" and ref not in _REFERENCES else _REFERENCES.get(ref)
        if key is None:
            raise TargetError(f"target clause {text.strip()!r}: unknown reference {ref!r}")
        k = match.group("k")
        unit = (match.group("unit") or "x").lower()
        threshold = 1.0 if k is None else (1.0 + float(k) / 100.0 if unit == "%" else float(k))
        speedup = rel.startswith(("vs", "than", "faster"))
        clauses.append((match.group("op"), key, speedup, threshold))
    return clauses


def target_met(row: dict[str, Any]) -> bool | None:
    """Whether ``row`` meets its target: ``None`` when undecidable (no target, or a reference time
    missing); raises :class:`TargetError` for a target outside the grammar.

    >>> target_met({"losslab_s": 2.0, "torch_s": 1.0, "target": "<= 2x torch"})
    True
    >>> target_met({"losslab_s": 1.0, "torch_s": 2.5, "target": ">=3x vs PyTorch"})
    False
    >>> target_met({"losslab_s": 1.1, "baseline_s": 1.0, "target": "<=20% over validate=False"})
    True
    >>> target_met({"losslab_s": 1.0, "torch_s": None, "target": "losslab_s <= torch_s"}) is None
    True
    """
    if row.get("met") is not None:
        return bool(row["met"])
    t = row.get("losslab_s")
    clauses = parse_target(row.get("target") or "")
    if t is None or not clauses:
        return None
    verdicts = []
    for op, key, speedup, threshold in clauses:
        ref = row.get(key)
        if not ref:
            return None
        ratio = ref / t if speedup else t / ref
        verdicts.append(_OPS[op](ratio, threshold))
    return all(verdicts)


def _verdict(row: dict[str, Any]) -> str:
    try:
        met = target_met(row)
    except TargetError:
        return "?"
    return "-" if met is None else ("yes" if met else "NO")


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
        line = [
            str(r["case"]),
            _ms(t),
            _ratio(t / floor) if (t and floor) else "-",
            _ms(torch_s),
            _ratio(torch_s / t) if (t and torch_s) else "-",
            str(r.get("target") or "-"),
            _verdict(r),
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
