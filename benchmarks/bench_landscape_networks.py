"""Landscapes of networks: a filter-normalized 2-D slice, one Hessian-vector product, top-5 eigenvalues.

- Slice: 51 x 51 grid, MLP [2, 32, 32, 1] (ReLU) on 10^4 samples, MSE, filter-normalized
  directions. losslab's batched ``slice_2d`` (many grid points per forward pass) against the same
  slice point by point (``obj.value`` at every grid point: the baseline) and against the PyTorch
  reference method (copy the point's weights into an ``nn.Sequential``, evaluate, point by point).
  Targets: >= 10x faster than both. The "x floor" column compares with the matrix products alone
  at every point (the network's FLOPs at this machine's BLAS speed).
- HVP: MLP [10, 64, 64, 64, 1] (tanh, 9089 parameters) on 10^4 samples, MSE. ``obj.hvp`` (the
  R-operator) against one ``obj.value_and_grad`` (target <= 4x) and against PyTorch's double
  backward (``torch.autograd.grad`` with ``create_graph=True``, then the gradient of ``g . v``;
  target: not slower).
- Top-5 eigenvalues of that Hessian by Lanczos (``hessian_eigs``) against the dense Hessian of
  ``torch.autograd.functional.hessian`` (target >= 10x). The dense Hessian is one double-backward
  row per parameter (``torch.autograd.functional.hessian`` loops over the rows of the gradient's
  Jacobian); forming all 9089 rows takes minutes, so its time is measured on 64 rows with the
  same per-row call and scaled by 9089 / 64 (the note says so).

Run alone: ``PYTHONPATH=src python benchmarks/bench_landscape_networks.py``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import losslab as ll

try:
    from _harness import median_times, quick, size
except ImportError:  # run alone from another directory
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _harness import median_times, quick, size


class _PointByPoint:
    """The objective without its batched ``values``: ``slice_2d`` then evaluates point by point."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def value(self, params: Any) -> float:
        return self.obj.value(params)


def _slice_rows() -> list[dict[str, Any]]:
    import torch

    n, grid = size(10_000, 1_000), size(51, 11)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])
    model = ll.models.MLP([2, 32, 32, 1], activation="relu")
    params = model.init(0)
    obj = model.objective(X, y, loss="mse")
    d1 = ll.landscape.random_direction(params, seed=0)
    d2 = ll.landscape.random_direction(params, seed=1)
    alphas = betas = np.linspace(-1, 1, grid)

    net = torch.nn.Sequential(
        torch.nn.Linear(2, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 1),
    ).double()
    layers = [net[0], net[2], net[4]]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    P = {k: torch.from_numpy(v) for k, v in params.items()}
    D1 = {k: torch.from_numpy(v) for k, v in d1.items()}
    D2 = {k: torch.from_numpy(v) for k, v in d2.items()}

    def torch_slice() -> np.ndarray:
        out = np.empty((grid, grid))
        with torch.no_grad():
            for i, b in enumerate(betas):
                for j, a in enumerate(alphas):
                    for l, layer in enumerate(layers, start=1):
                        w, bias = f"W{l}", f"b{l}"
                        layer.weight.copy_((P[w] + a * D1[w] + b * D2[w]).T)
                        layer.bias.copy_(P[bias] + a * D1[bias] + b * D2[bias])
                    out[i, j] = float(((net(Xt)[:, 0] - yt) ** 2).mean())
        return out

    batched = ll.landscape.slice_2d(obj, params, d1, d2, alphas, betas)
    looped = ll.landscape.slice_2d(_PointByPoint(obj), params, d1, d2, alphas, betas)
    reference = torch_slice()
    assert np.allclose(batched, looped, rtol=1e-10) and np.allclose(batched, reference, rtol=1e-10)
    times = median_times(
        {
            "batched": lambda: ll.landscape.slice_2d(obj, params, d1, d2, alphas, betas),
            "loop": lambda: ll.landscape.slice_2d(_PointByPoint(obj), params, d1, d2, alphas, betas),
            "torch": torch_slice,
        },
        repeat=size(3, 3),
        warmup=0,
    )
    floor = _matmul_floor(X, params, grid)
    case = f"slice_2d {grid}x{grid} MLP[2,32,32,1] n={n}"
    flops = 2 * n * (2 * 32 + 32 * 32 + 32) * grid * grid
    note = (
        f"point by point {times['loop']:.3g} s ({times['loop'] / times['batched']:.2f}x); "
        f"{flops / times['batched'] / 1e9:.1f} GFLOP/s batched (matrix products only); floor = "
        f"the three matrix products alone at every point, {floor:.3g} s"
    )
    return [
        {
            "case": f"{case}: batched vs point by point",
            "losslab_s": times["batched"],
            "baseline_s": times["loop"],
            "torch_s": None,
            "floor_s": floor,
            "target": ">=10x vs baseline",
            "note": note,
        },
        {
            "case": f"{case}: batched vs PyTorch set-weights-evaluate",
            "losslab_s": times["batched"],
            "torch_s": times["torch"],
            "floor_s": None,
            "target": ">=10x vs torch",
        },
    ]


def _matmul_floor(X: np.ndarray, params: Any, grid: int) -> float:
    """Seconds for the slice's matrix products alone (``X W1``, ``h W2``, ``h W3`` into preallocated
    outputs at every grid point): the compute floor of any evaluation point by point, batched or
    not, that makes the network's FLOPs. Timed on one row of the grid and scaled by ``grid``."""
    W1, W2, W3 = (params[k] for k in ("W1", "W2", "W3"))
    z1 = np.empty((X.shape[0], W1.shape[1]))
    z2 = np.empty((X.shape[0], W2.shape[1]))
    z3 = np.empty((X.shape[0], W3.shape[1]))

    def row() -> None:
        for _ in range(grid):
            np.matmul(X, W1, out=z1)
            np.matmul(z1, W2, out=z2)
            np.matmul(z2, W3, out=z3)

    return grid * median_times({"row": row}, repeat=5, warmup=1)["row"]


def _hvp_problem() -> tuple[Any, Any, Any, np.ndarray, np.ndarray]:
    n = size(10_000, 1_000)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 10))
    y = np.tanh(X[:, 0] - X[:, 1]) + 0.1 * rng.normal(size=n)
    model = ll.models.MLP([10, 64, 64, 64, 1], activation="tanh")
    return model, model.objective(X, y, loss="mse"), model.init(0), X, y


def _torch_mlp(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    import torch

    keys = list(params)
    tensors = [torch.from_numpy(params[k].copy()).requires_grad_(True) for k in keys]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def loss(*ts: Any) -> Any:
        h = Xt
        for l in range(0, len(ts), 2):
            z = h @ ts[l] + ts[l + 1]
            h = torch.tanh(z) if l + 2 < len(ts) else z
        return ((h[:, 0] - yt) ** 2).mean()

    return loss, tensors


def _hvp_rows() -> list[dict[str, Any]]:
    import torch

    model, obj, params, X, y = _hvp_problem()
    v = ll.landscape.random_direction(params, seed=0, normalization="none", bias="random")
    loss, tensors = _torch_mlp(params, X, y)
    vt = [torch.from_numpy(v[k].copy()) for k in params]

    def torch_hvp() -> Any:
        g = torch.autograd.grad(loss(*tensors), tensors, create_graph=True)
        return torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, vt)), tensors)

    ours = obj.hvp(params, v)
    theirs = torch_hvp()
    for k, t in zip(params, theirs):
        assert np.allclose(ours[k], t.numpy(), rtol=1e-8, atol=1e-12)
    times = median_times(
        {"hvp": lambda: obj.hvp(params, v), "vag": lambda: obj.value_and_grad(params), "torch": torch_hvp},
        repeat=size(9, 3),
    )
    case = f"hvp MLP[10,64,64,64,1] ({model.n_params} params) n={X.shape[0]}"
    return [
        {
            "case": f"{case}: vs one value_and_grad",
            "losslab_s": times["hvp"],
            "baseline_s": times["vag"],
            "torch_s": None,
            "floor_s": None,
            "target": "<=4x baseline",
            "note": f"value_and_grad {1e3 * times['vag']:.1f} ms ({times['hvp'] / times['vag']:.2f}x)",
        },
        {
            "case": f"{case}: vs PyTorch double backward",
            "losslab_s": times["hvp"],
            "torch_s": times["torch"],
            "floor_s": None,
            "target": "<=1x torch",
        },
    ]


def _eigs_rows() -> list[dict[str, Any]]:
    import torch

    model, obj, params, X, y = _hvp_problem()
    start = time.perf_counter()
    vals, _ = ll.landscape.hessian_eigs(obj, params, k=5, which="largest", tol=1e-8)
    lanczos_s = time.perf_counter() - start
    loss, tensors = _torch_mlp(params, X, y)
    rows = size(64, 8)
    # torch.autograd.functional.hessian = jacobian of the gradient, one vjp (double backward) per row
    start = time.perf_counter()
    g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(loss(*tensors), tensors, create_graph=True)])
    for i in range(rows):
        torch.autograd.grad(g[i], tensors, retain_graph=True)
    per_row = (time.perf_counter() - start) / rows
    dense_s = per_row * model.n_params
    top = ", ".join(f"{v:.4g}" for v in vals)
    return [
        {
            "case": f"hessian_eigs top-5 ({model.n_params} params) vs dense torch hessian",
            "losslab_s": lanczos_s,
            "torch_s": dense_s,
            "floor_s": None,
            "target": ">=10x vs torch",
            "note": f"torch: {rows} rows timed, scaled to {model.n_params}; top-5 = {top}",
        }
    ]


def run(timer: Any) -> list[dict[str, Any]]:
    rows = _slice_rows()
    rows += _hvp_rows()
    rows += _eigs_rows()
    if quick():
        for row in rows:
            row["note"] = (row.get("note", "") + " (quick)").strip()
    return rows


if __name__ == "__main__":
    import _harness

    _harness.print_table(run(_harness.median_time), title="landscape of networks (medians)", plain=True)
