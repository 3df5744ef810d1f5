"""Start-up time: ``import losslab`` and ``losslab --help`` against ``python -c "import numpy"``.

Each case is a fresh interpreter (a subprocess), timed wall-clock; the three commands' runs are
interleaved (:func:`_harness.median_times`) so a busy stretch of the machine falls on all alike.
Targets: ``import losslab`` at most 2.5x ``import numpy``, ``losslab --help`` at most 3x.
(The first use of the zoo, ``import losslab as ll; ll.losses.mse``, costs about as much as
``losslab --help``: ``python benchmarks/bench_startup.py`` prints it too.)

Run alone: ``PYTHONPATH=src python benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness

SRC = Path(__file__).resolve().parents[1] / "src"

COMMANDS = {
    "numpy": [sys.executable, "-c", "import numpy"],
    "import losslab": [sys.executable, "-c", "import losslab"],
    "losslab --help": [sys.executable, "-m", "losslab", "--help"],
    "ll.losses first use": [sys.executable, "-c", "import losslab as ll; ll.losses.mse"],
}


def _runner(argv: list[str]) -> Callable[[], Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}

    def run() -> Any:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)

    return run


def run(timer: Callable[..., float]) -> list[dict[str, Any]]:
    repeat = 3 if _harness.quick() else 11
    times = _harness.median_times({k: _runner(v) for k, v in COMMANDS.items()}, repeat=repeat, warmup=1)
    numpy_s = times["numpy"]
    targets = {"import losslab": "<=2.5x baseline", "losslab --help": "<=3x baseline"}
    if __name__ == "__main__":
        targets["ll.losses first use"] = "(none)"
    return [
        {
            "case": f"start-up: {name} (vs python -c 'import numpy')",
            "losslab_s": times[name],
            "torch_s": None,
            "floor_s": None,
            "baseline_s": numpy_s,
            "target": target,
            "note": f"{times[name] / numpy_s:.2f}x import numpy",
        }
        for name, target in targets.items()
    ]


if __name__ == "__main__":
    for row in run(_harness.median_time):
        print(
            f"{row['case']}: {row['losslab_s'] * 1e3:.0f} ms, numpy {row['baseline_s'] * 1e3:.0f} ms, "
            f"{row['note']} (target {row['target']})"
        )
