"""Run the experiments and write the tour: ``DIR/index.html`` (one self-contained page) and
``DIR/results.json``, written to a temporary directory first and moved into place.

An experiment that raises is reported on the page (its error in place of its results); an
interrupted run (Ctrl-C) leaves the previous report, if any, untouched.

The experiments are independent and seeded, so :func:`write_tour` runs them in worker processes,
one per core (``workers``): the page is the same, apart from the run times, as one made
experiment after experiment.
"""

from __future__ import annotations

import base64
import io
import json
import multiprocessing
import os
import secrets
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from losslab import experiments
from losslab._core.buffers import cores
from losslab._core.progress import ProgressBar
from losslab._core.validation import check_bool, check_int
from losslab.experiments._framework import DOES_NOT_HOLD, HOLDS, Result

__all__ = ["Entry", "Tour", "run_tour", "write_tour"]

#: Resolution of the embedded PNG figures.
DPI = 90


@dataclass
class Entry:
    """One experiment of the tour: its result (``None`` if it raised), its error, its figures."""

    name: str
    title: str
    result: Result | None
    error: str | None
    elapsed_s: float
    figures: dict[str, str] = field(default_factory=dict)  # name -> PNG data URI
    figure_errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the result's summary, or the error."""
        out: dict[str, Any] = {"name": self.name, "elapsed_s": self.elapsed_s}
        if self.result is not None:
            out.update(self.result.to_dict())
            out["figures"] = sorted(self.figures)
        else:
            out["error"] = self.error
            out["verdict"] = None
        return out


@dataclass
class Tour:
    """A finished tour: the entries in order, the seed, the mode and the run time."""

    entries: list[Entry]
    seed: int
    quick: bool
    elapsed_s: float
    generated: str

    def counts(self) -> dict[str, int]:
        """How many experiments hold, hold only under a condition, do not hold, or failed."""
        counts = {"holds": 0, "holds only when ...": 0, "does not hold": 0, "error": 0}
        for e in self.entries:
            if e.result is None:
                counts["error"] += 1
            elif e.result.verdict == HOLDS:
                counts["holds"] += 1
            elif e.result.verdict == DOES_NOT_HOLD:
                counts["does not hold"] += 1
            else:
                counts["holds only when ..."] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary of every entry."""
        return {
            "seed": self.seed,
            "quick": self.quick,
            "elapsed_s": self.elapsed_s,
            "generated": self.generated,
            "counts": self.counts(),
            "experiments": [e.to_dict() for e in self.entries],
        }


def _png_uri(fig: Any) -> str:
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    buf = io.BytesIO()
    # a constrained layout already fits titles, labels and legends in the figure; a tight bounding
    # box would draw the figure twice (a third of the tour's time in quick mode)
    constrained = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches=None if constrained else "tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _run_one(name: str, seed: int, quick: bool, draw: bool) -> Entry:
    start = time.perf_counter()
    try:
        exp = experiments.get(name)
    except ValueError as err:
        return Entry(name, name, None, str(err), 0.0)
    try:
        result = exp.run(seed=seed, quick=quick)
    except Exception:  # noqa: BLE001 - a failing experiment is reported on the page
        return Entry(name, exp.title, None, traceback.format_exc(limit=6), time.perf_counter() - start)
    entry = Entry(name, exp.title, result, None, 0.0)
    if draw:
        try:
            figures = result.figures
        except Exception as err:  # noqa: BLE001 - a figure that fails is noted, the numbers stay
            entry.figure_errors["figures"] = f"{type(err).__name__}: {err}"
            figures = {}
        for fig_name, fig in figures.items():
            try:
                entry.figures[fig_name] = _png_uri(fig)
            except Exception as err:  # noqa: BLE001
                entry.figure_errors[fig_name] = f"{type(err).__name__}: {err}"
    entry.elapsed_s = time.perf_counter() - start
    return entry


def _run_in_worker(name: str, seed: int, quick: bool, draw: bool) -> Entry:
    """:func:`_run_one` in a worker process: what the page and ``results.json`` need goes back (the
    figures already drawn); the result's ``data`` (arrays, test functions) stays behind."""
    entry = _run_one(name, seed, quick, draw)
    if entry.result is not None:
        entry.result = replace(entry.result, data={}, _figures={})
    return entry


# What a worker process runs for one experiment (a module attribute, so tests can stand in for it).
_worker_job = _run_in_worker


def run_tour(
    names: Sequence[str] | None = None,
    *,
    seed: int = 0,
    quick: bool = False,
    figures: bool = True,
    progress: bool = False,
    workers: int | None = 1,
) -> Tour:
    """Run ``names`` (default: every registered experiment, in tour order) and draw their figures.

    ``progress=True`` shows a Rich progress bar when standard output is a terminal. ``workers``:
    how many experiments run at once, each in its own process (``None``: one per core). With more
    than one, each entry's ``result`` comes back without its ``data`` and with its figures only as
    the drawn PNGs in ``entry.figures``; with one (the default) the results are complete.
    """
    seed = check_int("tour", "seed", seed, minimum=0)
    quick = check_bool("tour", "quick", quick)
    workers = cores() if workers is None else check_int("tour", "workers", workers, minimum=1)
    chosen = experiments.names() if names is None else [str(n) for n in names]
    for name in chosen:  # unknown names fail before any work
        experiments.get(name)
    start = time.perf_counter()
    done: dict[int, Entry] = {}
    with ProgressBar(progress, len(chosen), "tour", remaining=False) as bar:

        def finished(i: int, entry: Entry) -> None:
            done[i] = entry
            bar.advance(f"{entry.name}: {entry.result.verdict if entry.result is not None else 'error'}")

        if workers > 1 and len(chosen) > 1:
            _run_parallel(chosen, seed, quick, figures, min(workers, len(chosen)), bar, finished)
        for i, name in enumerate(chosen):  # in order; after a parallel run only what it left
            if i not in done:
                bar.status(name)
                finished(i, _run_one(name, seed, quick, figures))
    entries = [done[i] for i in range(len(chosen))]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Tour(entries, seed, quick, time.perf_counter() - start, stamp)


def _run_parallel(
    chosen: list[str], seed: int, quick: bool, draw: bool, workers: int, bar: Any, finished: Any
) -> None:
    """The experiments on a pool of worker processes; a pool that breaks (a worker killed) leaves
    the experiments it did not finish to the caller, which runs them itself."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = _context()
    bar.status(f"{workers} experiments at a time")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures = {pool.submit(_worker_job, name, seed, quick, draw): i for i, name in enumerate(chosen)}
        for future in as_completed(futures):
            finished(futures[future], future.result())
    except BrokenProcessPool:
        pass
    except BaseException:
        # Ctrl-C (or an error here): nothing more starts and the running experiments stop now,
        # instead of the interpreter's exit waiting for every queued one
        _terminate(pool)
        raise
    pool.shutdown()


def _context() -> Any:
    """Workers forked from a fork server (a clean single-threaded process that has imported the
    experiments once) where there is one, else spawned: never forked from this process, whose
    other threads (BLAS, JAX, a progress bar) could hold a lock at the fork."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        # what the workers would import anyway: losslab as loaded here (the experiments' modules
        # with it) and matplotlib's drawing
        loaded = sorted(name for name in sys.modules if name.startswith("losslab."))
        context.set_forkserver_preload([*loaded, "matplotlib.figure", "matplotlib.backends.backend_agg"])
    return context


def _terminate(pool: Any) -> None:
    """Cancel what has not started and stop the workers (``terminate_workers`` from Python 3.14;
    before it, the pool's table of worker processes, read before ``shutdown`` clears it)."""
    if hasattr(pool, "terminate_workers"):
        pool.terminate_workers()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def write_tour(
    out: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    *,
    seed: int = 0,
    quick: bool = False,
    progress: bool = False,
    workers: int | None = None,
) -> Path:
    """Run the tour and write ``out/index.html`` and ``out/results.json``; return the page's path.

    ``workers``: experiments run at once in worker processes (``None``: one per core; ``1``: one
    after another in this process), as in :func:`run_tour`.

    Both files are written into a temporary directory next to ``out`` and then moved into place
    (``os.replace``), so a reader never sees a half-written page and an interrupted run leaves the
    previous report as it was.
    """
    from losslab.report._page import render

    target = Path(out)
    if target.exists() and not target.is_dir():
        raise ValueError(f"tour: out must be a directory, got the file {str(target)!r}")
    # The temporary directory comes first, so that a place that cannot be written fails at once,
    # not after the run.
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_directory(target.parent, f".{target.name}.")
    try:
        tour = run_tour(names, seed=seed, quick=quick, progress=progress, workers=workers)
        page = render(tour)
        (tmp / "index.html").write_text(page, encoding="utf-8")
        (tmp / "results.json").write_text(json.dumps(tour.to_dict(), indent=2), encoding="utf-8")
        if not target.exists():
            os.replace(tmp, target)  # the whole directory appears at once
        else:
            os.replace(tmp / "results.json", target / "results.json")
            os.replace(tmp / "index.html", target / "index.html")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target / "index.html"


def _fresh_directory(parent: Path, prefix: str) -> Path:
    """A new directory in ``parent`` with the process's usual permissions (``mkdtemp`` makes it
    0700, which would make the moved report private; changing the umask to read it is not
    thread-safe)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(6)}"
        try:
            path.mkdir()
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        return path
