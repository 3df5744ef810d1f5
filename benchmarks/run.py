"""Run every ``benchmarks/bench_*.py`` module and print one table of times and ratios.

    python benchmarks/run.py [--only PATTERN] [--module NAME ...] [--quick] [--plain]

The memory floor (``np.add(a, b, out=c)`` on 10^7 float64) is measured once, first, in the same
run; each module's ``run(timer)`` returns rows (see ``_harness``). ``--only`` keeps the cases
whose name matches the case-insensitive regular expression; ``--module losses`` runs only
``bench_losses.py`` (repeatable; other modules are not even imported); ``--quick`` uses small sizes (a smoke
test: its ratios mean little).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if (HERE.parent / "src" / "losslab").is_dir():
    sys.path.insert(0, str(HERE.parent / "src"))

import _harness  # noqa: E402


def _machine() -> str:
    import numpy as np

    parts = [f"{platform.machine()}, {os.cpu_count()} cores", f"numpy {np.__version__}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads, default)")
    except ImportError:
        parts.append("torch not installed")
    try:
        from losslab.losses import _compiled

        if _compiled.available():
            import numba

            parts.append(f"numba {numba.__version__} ({numba.get_num_threads()} threads): compiled path on")
        else:
            parts.append("numba not installed: NumPy blocked path only")
    except ImportError:
        pass
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="regular expression on case names")
    parser.add_argument("--module", action="append", default=None, help="run only bench_NAME.py (repeatable)")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--plain", action="store_true", help="plain-text table (no Rich)")
    args = parser.parse_args(argv)
    _harness.configure(quick=args.quick, only=args.only)

    n_floor = _harness.size(10**7, 10**5)
    floor = _harness.memory_floor(n_floor)
    print(_machine())
    print(f"memory floor: np.add(a, b, out=c) on {n_floor:.0e} float64 = {1e3 * floor:.2f} ms")

    rows: list[dict] = []
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if args.module and name.removeprefix("bench_") not in args.module and name not in args.module:
            continue
        start = time.perf_counter()
        try:
            module = importlib.import_module(name)
            found = module.run(_harness.median_time)
        except Exception:  # noqa: BLE001 - one broken module must not hide the others
            failed.append(name)
            traceback.print_exc()
            continue
        rows += [r for r in found if _harness.selected(str(r["case"]))]
        print(f"{name}: {len(found)} case(s) in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    _harness.print_table(rows, title="losslab benchmarks (medians)", plain=args.plain)
    if failed:
        print(f"failed modules: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
