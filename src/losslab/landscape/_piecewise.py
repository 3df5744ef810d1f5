r"""Exact loss surfaces of a line for losses that are piecewise quadratic in the error.

For the line :math:`\hat y = w x + b` the error of sample :math:`n` is
:math:`e_n = w x_n + b - y_n = b - t_n` with :math:`t_n = y_n - w x_n`. When the loss is a
piecewise polynomial of degree at most 2 in :math:`e` -- :math:`\ell(e) = c_2 e^2 + c_1 e + c_0`
on :math:`[\mathrm{lo}, \mathrm{hi})` -- the samples of a piece at a given :math:`b` are those with
:math:`b - \mathrm{hi} < t_n \le b - \mathrm{lo}`: one contiguous range of the sorted
:math:`t`, whose count, :math:`\sum t` and :math:`\sum t^2` come from prefix sums. So

.. math:: \sum_n \ell(b - t_n) = \sum_{\text{pieces}} c_2 (k b^2 - 2 b S_1 + S_2) + c_1 (k b - S_1) + c_0 k

costs one sort per :math:`w` and :math:`O(\log N)` per grid point, instead of :math:`O(N)`.
The :math:`t` are centred first, so the sums cancel little: the relative error is about
:math:`\varepsilon\,(\text{range of } t)^2 / \delta^2`.

The forms below restate each loss in the error :math:`e` = ``y_pred - y_true``;
``tests/test_landscape_surfaces.py`` checks every form against the registered loss itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["PIECEWISE", "pieces_of", "summed_over_offsets"]

#: ``(lo, hi, (c2, c1, c0))``: the loss is ``c2 e^2 + c1 e + c0`` for ``lo <= e < hi``.
Piece = tuple[float, float, tuple[float, float, float]]
INF = math.inf


def _huber(delta: float, under: float = 1.0, over: float = 1.0) -> list[Piece]:
    # delta (|e| - delta/2) beyond delta, e^2 / 2 inside, each side scaled by its weight
    return [
        (-INF, -delta, (0.0, -under * delta, -under * delta * delta / 2)),
        (-delta, 0.0, (under / 2, 0.0, 0.0)),
        (0.0, delta, (over / 2, 0.0, 0.0)),
        (delta, INF, (0.0, over * delta, -over * delta * delta / 2)),
    ]


def _smooth_l1(beta: float) -> list[Piece]:
    if beta == 0:
        return [(-INF, 0.0, (0.0, -1.0, 0.0)), (0.0, INF, (0.0, 1.0, 0.0))]
    return [
        (-INF, -beta, (0.0, -1.0, -beta / 2)),
        (-beta, beta, (0.5 / beta, 0.0, 0.0)),
        (beta, INF, (0.0, 1.0, -beta / 2)),
    ]


#: Registered loss name -> its pieces from its (resolved) parameters.
PIECEWISE: Mapping[str, Callable[[Mapping[str, Any]], list[Piece]]] = {
    "mae": lambda p: [(-INF, 0.0, (0.0, -1.0, 0.0)), (0.0, INF, (0.0, 1.0, 0.0))],
    "huber": lambda p: _huber(float(p["delta"])),
    "smooth_l1": lambda p: _smooth_l1(float(p["beta"])),
    "quantile": lambda p: [
        (-INF, 0.0, (0.0, -float(p["tau"]), 0.0)),
        (0.0, INF, (0.0, 1.0 - float(p["tau"]), 0.0)),
    ],
    "asymmetric_mse": lambda p: [
        (-INF, 0.0, (float(p["under_weight"]), 0.0, 0.0)),
        (0.0, INF, (float(p["over_weight"]), 0.0, 0.0)),
    ],
    "asymmetric_huber": lambda p: _huber(
        float(p["delta"]), float(p["under_weight"]), float(p["over_weight"])
    ),
}


def pieces_of(name: str, params: Mapping[str, Any]) -> list[Piece] | None:
    """The pieces of the loss called ``name`` with ``params``, or ``None`` if it has no such form."""
    form = PIECEWISE.get(name)
    return None if form is None else form(params)


def summed_over_offsets(t: np.ndarray, b: np.ndarray, pieces: list[Piece]) -> np.ndarray:
    r""":math:`\sum_n \ell(b_i - t_n)` for every offset ``b[i]`` (see the module docstring)."""
    center = float(np.mean(t))
    ts = np.sort(t - center)
    bs = np.asarray(b, dtype=np.float64) - center
    s1 = np.concatenate([[0.0], np.cumsum(ts)])
    s2 = np.concatenate([[0.0], np.cumsum(ts * ts)])
    total = np.zeros(bs.shape)
    for lo, hi, (c2, c1, c0) in pieces:
        # samples with lo <= b - t < hi, i.e. b - hi < t <= b - lo
        start = np.searchsorted(ts, bs - hi, side="right") if hi != INF else np.zeros(bs.shape, dtype=np.intp)
        stop = np.searchsorted(ts, bs - lo, side="right") if lo != -INF else np.full(bs.shape, ts.size)
        k = (stop - start).astype(np.float64)
        m1 = s1[stop] - s1[start]
        m2 = s2[stop] - s2[start]
        if c2:
            total += c2 * (k * bs * bs - 2.0 * bs * m1 + m2)
        if c1:
            total += c1 * (k * bs - m1)
        if c0:
            total += c0 * k
    return total
