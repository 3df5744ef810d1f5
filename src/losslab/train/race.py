r"""Optimizer races on a test function: same start, same number of steps, who gets closest.

The function is any object with ``value(w)`` and ``grad(w)`` on points with the coordinates on
the last axis, in any dimension, and optionally ``minima`` (a list of points), ``minimum_value``,
``start`` (the suggested starting point) and ``hessian(w)`` -- e.g.
``ll.landscape.functions.get("rosenbrock")``. The optimizers step in lockstep, and at each step
the function is evaluated once at every optimizer's iterate: in one call on the stacked points
``(k, dim)`` when it declares ``vectorized = True`` (every :mod:`losslab.landscape.functions` one
does), else point by point; either way each optimizer's record is the one it has racing alone.
For each optimizer the race records the path
:math:`w_0, \dots, w_T`, the values :math:`f(w_t)` and gradient norms
:math:`\lVert\nabla f(w_t)\rVert_2`, the final gap, the distance
:math:`\min_k \lVert w_T - w^*_k\rVert_2` to the nearest listed minimum and the first step at which
:math:`f(w_t) - f^* < \text{tol}`.

Divergence is reported, never raised: a run whose iterate or value becomes non-finite, or whose
iterate leaves the ball :math:`\lVert w\rVert_2 \le` ``max_norm``, stops there; ``diverged_step``
is the step :math:`t` that produced it (the path keeps :math:`w_0, \dots, w_{t-1}`).

Gradient noise (``noise=sigma``): each optimizer sees :math:`\nabla f(w_t) + \sigma\,\xi_t`,
:math:`\xi_t \sim \mathcal N(0, I)`, the same draws for every optimizer (one generator per
optimizer, all seeded with ``seed``) -- the curriculum's "SGD noise helps escape saddle points".

An optimizer that declares extra arguments of ``update`` (``extra_args``) gets them from the
function at each iterate: ``hessian=function.hessian(w)`` (Newton's method), ``value=function.value(w)``.
:func:`~losslab.optim.sutskever_nesterov` gets its gradient at its look-ahead point, as the method
asks; every other optimizer at the iterate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.validation import NonFiniteError, check_int, check_positive
from losslab.optim.base import GradientTransformation, unchecked_steps
from losslab.optim.base import step as optimizer_step
from losslab.optim.transforms import SutskeverNesterovState
from losslab.train.loop import learning_rate_of

__all__ = ["RaceEntry", "RaceResults", "race"]


class RaceEntry(NamedTuple):
    """One optimizer's result in a race."""

    name: str
    path: np.ndarray  # (n_recorded, dim): the start and every iterate before any divergence
    values: np.ndarray  # f along the path
    final_value: float
    distance: float  # to the nearest listed minimum (nan when none is listed)
    steps_to_tol: int | None  # first step t with f(w_t) - f* < tol, None if never (or no f*)
    diverged: bool
    grad_norms: np.ndarray | None = None  # ||grad f(w_t)|| along the path
    diverged_step: int | None = None  # the step that produced a non-finite or too-large iterate
    lr: float | None = None  # the optimizer's learning rate, when its state exposes one


class RaceResults(list[RaceEntry]):
    """The entries of a race (a list of :class:`RaceEntry`), shown as a table in notebooks."""

    def to_markdown(self) -> str:
        """One row per optimizer: final value, distance to the nearest minimum, steps to tol."""
        rows = ["| optimizer | final value | distance to minimum | steps to tol |", "|---|---|---|---|"]
        for e in self:
            final = "diverged" if e.diverged else f"{e.final_value:.6g}"
            hit = "-" if e.steps_to_tol is None else str(e.steps_to_tol)
            rows.append(f"| {e.name} | {final} | {e.distance:.6g} | {hit} |")
        return "\n".join(rows) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def race(
    function: Any,
    optimizers: Mapping[str, GradientTransformation],
    *,
    steps: int = 100,
    start: npt.ArrayLike | None = None,
    tol: float = 1e-6,
    noise: float = 0.0,
    seed: int | None = 0,
    max_norm: float = 1e8,
) -> RaceResults:
    """Run each optimizer for ``steps`` steps from ``start`` (default: the function's suggested start).

    See the module docstring for what is recorded, divergence (reported with its step, never
    raised) and gradient noise (``noise`` is :math:`\\sigma`, ``seed`` seeds the draws).

    >>> import losslab as ll
    >>> bowl = ll.landscape.functions.get("quadratic_bowl")
    >>> [entry] = ll.train.race(bowl, {"gd": ll.optim.chain(ll.optim.scale(-0.15))}, steps=60)
    >>> entry.steps_to_tol is not None and entry.distance < 1e-3
    True
    """
    steps = check_int("race", "steps", steps, minimum=0)
    tol = check_positive("race", "tol", tol)
    sigma = check_positive("race", "noise", noise, strict=False)
    max_norm = check_positive("race", "max_norm", max_norm)
    if not isinstance(optimizers, Mapping) or not optimizers:
        raise TypeError("race: optimizers must be a non-empty mapping name -> GradientTransformation")
    if start is None and getattr(function, "start", None) is None:
        raise ValueError("race: the function has no suggested start; pass start=")
    w0 = np.asarray(function.start if start is None else start, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(w0)):
        raise ValueError(f"race: start must be finite, got {w0.tolist()}")
    dim = getattr(function, "dim", None)
    if dim is not None and w0.size != dim:
        raise ValueError(f"race: start must have {dim} coordinates, got {w0.size}")
    minima = [np.asarray(m, dtype=np.float64) for m in getattr(function, "minima", ())]
    f_star = getattr(function, "minimum_value", None)
    if f_star is None and minima:
        f_star = min(float(function.value(m)) for m in minima)
    max_norm_sq = max_norm * max_norm
    evaluate = Evaluator(function, "race")
    runners = []
    for name, opt in optimizers.items():
        if not isinstance(opt, GradientTransformation):
            raise TypeError(
                f"race: optimizer {name!r} must be a GradientTransformation, got {type(opt).__name__}"
            )
        # one noise generator per optimizer, all seeded alike: every optimizer sees the same draws
        runners.append(_Runner(name, opt, _providers(evaluate, name, opt), np.random.default_rng(seed), w0))
    k = len(runners)
    # Every runner's record, row t at step t: iterates, values and squared gradient norms.
    paths = np.empty((steps + 1, k, w0.size))
    values = np.empty((steps + 1, k))
    sq_norms = np.empty((steps + 1, k))
    with np.errstate(over="ignore", invalid="ignore"), ExitStack() as checks:
        paths[0] = w0
        values[0] = evaluate.values(w0[None, :])[0]
        grads = np.repeat(evaluate.grads(w0[None, :]), k, axis=0)  # row i: runner active[i]'s gradient
        sq_norms[0] = np.einsum("ij,ij->i", grads, grads)
        active = list(range(k))
        for t in range(1, steps + 1):
            # The runners step in lockstep, so that the function is evaluated once per step at
            # every runner's iterate (in one call when it is vectorized).
            ahead = [i for i, j in enumerate(active) if isinstance(runners[j].state, SutskeverNesterovState)]
            if ahead:  # Sutskever's Nesterov form takes its gradient at the look-ahead point x + beta v
                looks = [runners[active[i]].state.lookahead(runners[active[i]].w) for i in ahead]
                grads = grads.copy()
                grads[ahead] = evaluate.grads(np.array(looks, dtype=np.float64))
            if sigma > 0:
                grads = grads + sigma * np.array([runners[j].rng.standard_normal(w0.size) for j in active])
            # a sum is finite only when every entry is; else find the rows (or an overflowing sum)
            finite = None if math.isfinite(float(grads.sum())) else np.isfinite(grads).all(axis=1).tolist()
            moved = []
            for i, j in enumerate(active):
                r = runners[j]
                if finite is not None and not finite[i]:  # a gradient (or look-ahead gradient) overflowed
                    r.diverged_step = t
                    continue
                extra = {key: provide(r.w) for key, provide in r.providers.items()} if r.providers else {}
                try:
                    r.w, r.state = optimizer_step(r.opt, grads[i], r.state, r.w, **extra)
                except NonFiniteError:  # a provided value (a Hessian) was not finite: a divergence
                    r.diverged_step = t
                    continue
                moved.append(j)
            if t == 1:
                # After a first checked step an optimizer sees only its own outputs and the finite
                # gradients tested above: its boundary checks would repeat ours.
                checks.enter_context(unchecked_steps())
            if not moved:
                break
            points = np.array([runners[j].w for j in moved], dtype=np.float64)
            vals = evaluate.values(points)
            sq_w = np.einsum("ij,ij->i", points, points)
            # |w|^2 is NaN or infinite as soon as one coordinate is, or when it overflows
            if not (math.isfinite(float(vals.sum())) and float(sq_w.max()) <= max_norm_sq):
                ok = np.isfinite(vals) & (sq_w <= max_norm_sq)
                for i in np.flatnonzero(~ok).tolist():
                    runners[moved[i]].diverged_step = t
                moved = [j for j, keep in zip(moved, ok.tolist()) if keep]
                if not moved:
                    break
                points, vals = points[ok], vals[ok]
            active = moved
            grads = evaluate.grads(points)
            sq = np.einsum("ij,ij->i", grads, grads)
            if len(active) == k:
                paths[t], values[t], sq_norms[t] = points, vals, sq
            else:
                paths[t, active], values[t, active], sq_norms[t, active] = points, vals, sq
    results = RaceResults()
    for j, r in enumerate(runners):
        n = steps + 1 if r.diverged_step is None else r.diverged_step  # rows w_0 .. w_{n-1}
        vals = values[:n, j].copy()
        hits = np.flatnonzero(vals - f_star < tol) if f_star is not None else np.array([], dtype=int)
        last = paths[n - 1, j]
        later = learning_rate_of(r.state)
        results.append(
            RaceEntry(
                name=r.name,
                path=paths[:n, j].copy(),
                values=vals,
                final_value=float(vals[-1]),
                distance=min((float(np.linalg.norm(last - m)) for m in minima), default=math.nan),
                steps_to_tol=int(hits[0]) if hits.size else None,
                diverged=r.diverged_step is not None,
                grad_norms=np.sqrt(sq_norms[:n, j]),
                diverged_step=r.diverged_step,
                lr=later if later is not None else r.lr,
            )
        )
    return results


class _Runner:
    """One optimizer's run: its iterate, state, noise generator and the step it diverged at."""

    def __init__(
        self,
        name: str,
        opt: GradientTransformation,
        providers: dict[str, Any],
        rng: np.random.Generator,
        w0: np.ndarray,
    ) -> None:
        self.name = name
        self.opt = opt
        self.providers = providers
        self.rng = rng
        self.w = w0.copy()
        self.state = opt.init(self.w)
        self.lr = learning_rate_of(self.state)
        self.diverged_step: int | None = None


class Evaluator:
    """A function's values, gradients and Hessians at a stack of points ``(k, dim)``: one call when
    the function declares itself ``vectorized`` (every :mod:`losslab.landscape.functions` one does),
    else one call per point. ``where`` names the caller in the errors."""

    def __init__(self, function: Any, where: str) -> None:
        self.function = function
        self.where = where
        self.batched = bool(getattr(function, "vectorized", False))

    def values(self, points: np.ndarray) -> np.ndarray:
        if self.batched:
            return np.asarray(self.function.value(points), dtype=np.float64).reshape(len(points))
        return np.array([float(self.function.value(p)) for p in points])

    def grads(self, points: np.ndarray) -> np.ndarray:
        if self.batched:
            g = np.asarray(self.function.grad(points), dtype=np.float64)
        else:
            g = np.stack([np.asarray(self.function.grad(p), dtype=np.float64).reshape(-1) for p in points])
        if g.shape != points.shape:
            raise ValueError(
                f"{self.where}: the function's grad must have the shape of its point, got {g.shape[1:]}"
            )
        return g

    def hessians(self, points: np.ndarray) -> np.ndarray:
        k, n = points.shape
        if self.batched:
            h = np.asarray(self.function.hessian(points), dtype=np.float64)
        else:  # a one-dimensional function's Hessian may come as a number
            h = np.stack([_square(np.asarray(self.function.hessian(p), dtype=np.float64), n) for p in points])
        if h.shape != (k, n, n):
            raise ValueError(
                f"{self.where}: the function's hessian must have shape (dim, dim) = ({n}, {n}) at a "
                f"point, got {h.shape[1:]}"
            )
        return h


def _square(h: np.ndarray, n: int) -> np.ndarray:
    return h.reshape(n, n) if h.size == n * n else h


def _providers(evaluate: Evaluator, name: str, opt: GradientTransformation) -> dict[str, Any]:
    """For each extra argument ``opt`` declares, the function of the iterate that supplies it."""
    available = {
        "hessian": lambda w: evaluate.hessians(w[None, :])[0],
        "value": lambda w: float(evaluate.values(w[None, :])[0]),
    }
    out = {}
    for key in sorted(opt.extra_args):
        if key not in available or (
            key == "hessian" and not callable(getattr(evaluate.function, "hessian", None))
        ):
            raise ValueError(
                f"race: optimizer {name!r} needs {key}= at every update, which the function does not give"
            )
        out[key] = available[key]
    return out
