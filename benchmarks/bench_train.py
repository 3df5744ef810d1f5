"""Training throughput: one epoch of an MLP [20, 64, 64, 1] on 10^5 samples, mini-batch 256, MSE.

losslab's ``ll.train.fit`` (manual backprop, SGD) against the equivalent PyTorch loop
(``nn.Sequential`` of Linear/ReLU, ``torch.optim.SGD``, the same shuffled mini-batches), in float32
and float64. Target: losslab not slower than PyTorch.

Run alone: ``PYTHONPATH=src python benchmarks/bench_train.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import losslab as ll

N, D, HIDDEN, BATCH, LR = 100_000, 20, 64, 256, 0.01


def _data(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)).astype(dtype)
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=N)).astype(dtype)
    return X, y


def _losslab_epoch(X: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    model = ll.models.MLP([D, HIDDEN, HIDDEN, 1], activation="relu", init="pytorch", dtype=X.dtype)
    params = model.init(0)
    opt = ll.optim.sgd(lr=LR) if hasattr(ll.optim, "sgd") else ll.optim.chain(ll.optim.scale(-LR))

    def run() -> Any:
        return ll.train.fit(
            model,
            X,
            y,
            loss="mse",
            optimizer=opt,
            epochs=1,
            batch_size=BATCH,
            seed=0,
            init_params=params,
            progress=False,
        )

    return run


def _torch_epoch(X: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    import torch

    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(D, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, 1),
    ).to(dtype)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)[:, None]
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.MSELoss()

    def run() -> Any:
        order = torch.randperm(N)
        Xs, ys = Xt[order], yt[order]
        for start in range(0, N, BATCH):
            xb, yb = Xs[start : start + BATCH], ys[start : start + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
        return loss

    return run


def run(timer: Callable[[Callable[[], Any]], float]) -> list[dict[str, Any]]:
    """One row per dtype: median seconds per epoch for losslab and PyTorch."""
    rows = []
    for dtype in (np.float32, np.float64):
        X, y = _data(dtype)
        rows.append(
            {
                "case": f"MLP [20, 64, 64, 1] epoch, n=1e5, batch 256, MSE + SGD ({np.dtype(dtype).name})",
                "losslab_s": timer(_losslab_epoch(X, y)),
                "torch_s": timer(_torch_epoch(X, y)),
                "floor_s": None,
                "target": "losslab_s <= torch_s",
            }
        )
    return rows


def _median_timer(fn: Callable[[], Any], repeats: int = 5) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    for row in run(_median_timer):
        ratio = row["losslab_s"] / row["torch_s"]
        print(
            f"{row['case']}: losslab {row['losslab_s'] * 1e3:.1f} ms, torch {row['torch_s'] * 1e3:.1f} ms, "
            f"ratio {ratio:.2f} (target {row['target']})"
        )
