"""Loss surfaces and races: closed-form MSE, exact piecewise Huber, seven optimizers on Rosenbrock.

* MSE surface over (w, b), N = 10^6 samples, 201 x 201 grid, closed form from sufficient
  statistics: target under 50 ms; and its speed-up over the curriculum's broadcast code
  (000 cell 1: ``W[None] * x[:, None, None] + B[None]``, then the mean of the squared residuals)
  at the largest N whose three N x 201 x 201 float64 temporaries fit in 2 GiB.
* Huber surface, N = 10^5, 101 x 101: ``linear_regression_surface`` (exact from sorted residuals and
  prefix sums, ``landscape/_piecewise.py``) against the curriculum's double loop (002 §7.3 with its ``huber_loss``): target
  at least 20x faster, and peak extra memory (tracemalloc) at most 64 MiB.
* Seven optimizers x 1000 steps on Rosenbrock (``ll.landscape.race``): target under 100 ms total.

Run alone: ``PYTHONPATH=src python benchmarks/bench_landscape_surfaces.py``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import losslab as ll

try:
    import _harness
except ImportError:  # run from another directory
    _harness = None


def _size(full: int, small: int) -> int:
    return _harness.size(full, small) if _harness is not None else full


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=n)
    return x, 2.0 * x + 1.0 + rng.normal(0, 0.6, size=n)


def _curriculum_mse(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    W, B = np.meshgrid(w, b)
    Y_hat = W[None, :, :] * x[:, None, None] + B[None, :, :]
    residuals = Y_hat - y[:, None, None]
    return np.mean(residuals**2, axis=0)


def huber_loss(y_pred: np.ndarray, y_true: np.ndarray, delta: float = 1.0) -> float:
    """The curriculum's Huber (002 §6)."""
    error = y_pred - y_true
    is_small = np.abs(error) <= delta
    squared = 0.5 * error**2
    linear = delta * np.abs(error) - 0.5 * delta**2
    return float(np.mean(np.where(is_small, squared, linear)))


def _curriculum_double_loop(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    W, B = np.meshgrid(w, b)
    J = np.zeros_like(W)
    for i in range(len(w)):
        for j in range(len(b)):
            J[j, i] = huber_loss(W[j, i] * x + B[j, i], y)
    return J


def _peak_extra_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def run(timer: Callable[..., float]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    surface = ll.landscape.linear_regression_surface

    # -- MSE closed form at N = 1e6, 201 x 201
    n = _size(10**6, 10**4)
    g = _size(201, 51)
    x, y = _data(n)
    w, b = np.linspace(-1.5, 4.0, g), np.linspace(-2.0, 4.0, g)
    t = timer(lambda: surface(x, y, "mse", w, b))
    rows.append(
        {
            "case": f"MSE (w, b) surface, closed form, N={n:.0e}, {g}x{g}",
            "losslab_s": t,
            "torch_s": None,
            "floor_s": None,
            "target": "< 50 ms",
            "met": t < 0.05,
        }
    )

    # -- the same against the curriculum's broadcast, at the largest N that fits in 2 GiB
    n_fit = max(1, (2 << 30) // (3 * 8 * g * g))
    xs, ys = _data(n_fit)
    ours = surface(xs, ys, "mse", w, b)[2]
    theirs = _curriculum_mse(xs, ys, w, b)
    assert np.allclose(ours, theirs, rtol=1e-10)
    times = (
        _harness.median_times(
            {
                "ours": lambda: surface(xs, ys, "mse", w, b),
                "curriculum": lambda: _curriculum_mse(xs, ys, w, b),
            },
            repeat=3,
        )
        if _harness is not None
        else {
            "ours": timer(lambda: surface(xs, ys, "mse", w, b)),
            "curriculum": timer(lambda: _curriculum_mse(xs, ys, w, b)),
        }
    )
    rows.append(
        {
            "case": f"MSE (w, b) surface vs the curriculum's broadcast, N={n_fit} (3 temporaries in 2 GiB), {g}x{g}",
            "losslab_s": times["ours"],
            "baseline_s": times["curriculum"],
            "torch_s": None,
            "floor_s": None,
            "target": ">= 1x vs baseline",
            "note": f"speed-up {times['curriculum'] / times['ours']:.0f}x",
        }
    )

    # -- Huber (exact piecewise) vs the curriculum's double loop, N = 1e5, 101 x 101
    n = _size(10**5, 10**4)
    g = _size(101, 21)
    x, y = _data(n)
    w, b = np.linspace(-1.0, 5.0, g), np.linspace(-2.0, 4.0, g)
    ours = surface(x, y, "huber", w, b, delta=1.0)[2]
    start = time.perf_counter()
    theirs = _curriculum_double_loop(x, y, w, b)  # tens of seconds: timed once
    t_loop = time.perf_counter() - start
    assert np.allclose(ours, theirs, rtol=1e-10)
    t_ours = timer(lambda: surface(x, y, "huber", w, b, delta=1.0), repeat=3)
    peak = _peak_extra_bytes(lambda: surface(x, y, "huber", w, b, delta=1.0))
    rows.append(
        {
            "case": f"Huber (w, b) surface, piecewise-exact vs the curriculum's double loop, N={n:.0e}, {g}x{g}",
            "losslab_s": t_ours,
            "baseline_s": t_loop,
            "torch_s": None,
            "floor_s": None,
            "target": ">= 20x vs baseline",
            "note": f"speed-up {t_loop / t_ours:.1f}x; peak extra memory {peak / 2**20:.1f} MiB (target <= 64 MiB)",
        }
    )
    rows.append(
        {
            "case": f"Huber (w, b) surface, peak extra memory (tracemalloc), N={n:.0e}, {g}x{g}",
            "losslab_s": t_ours,
            "torch_s": None,
            "floor_s": None,
            "target": "<= 64 MiB",
            "met": peak <= 64 * 2**20,
            "note": f"{peak / 2**20:.2f} MiB",
        }
    )

    # -- seven optimizers x 1000 steps on Rosenbrock
    steps = _size(1000, 100)
    f = ll.landscape.functions.get("rosenbrock")
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    opts = {name: ll.optim.get(name, lr=1e-3) for name in names}
    t = timer(lambda: ll.landscape.race(f, opts, steps=steps), repeat=5)
    rows.append(
        {
            "case": f"race: 7 optimizers x {steps} steps on Rosenbrock",
            "losslab_s": t,
            "torch_s": None,
            "floor_s": None,
            "target": "< 100 ms",
            "met": t < 0.1,
        }
    )
    return rows


if __name__ == "__main__":
    from _harness import median_time  # type: ignore[no-redef]

    for row in run(median_time):
        print(
            f"{row['case']}: {row['losslab_s'] * 1e3:.2f} ms (target {row['target']}) {row.get('note', '')}"
        )
