r"""Optimizer races on a test function: same start, same number of steps, who gets closest.

The function is any object with ``value(w)`` and ``grad(w)`` on points with the coordinates on
the last axis, in any dimension, and optionally ``minima`` (a list of points), ``minimum_value``,
``start`` (the suggested starting point) and ``hessian(w)`` -- e.g.
``ll.landscape.functions.get("rosenbrock")``. For each optimizer the race records the path
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
    results = RaceResults()
    for name, opt in optimizers.items():
        if not isinstance(opt, GradientTransformation):
            raise TypeError(
                f"race: optimizer {name!r} must be a GradientTransformation, got {type(opt).__name__}"
            )
        providers = _providers(function, name, opt)
        rng = np.random.default_rng(seed) if sigma > 0 else None
        w = w0.copy()
        state = opt.init(w)
        lr = learning_rate_of(state)
        path = [w]
        values = [float(function.value(w))]
        g = np.asarray(function.grad(w), dtype=np.float64)
        norms = [math.sqrt(float(g @ g))]
        diverged_step = None
        with np.errstate(over="ignore", invalid="ignore"), ExitStack() as checks:
            for t in range(1, steps + 1):
                if isinstance(state, SutskeverNesterovState):
                    # Sutskever's Nesterov form takes its gradient at the look-ahead point x + beta v.
                    g = np.asarray(function.grad(state.lookahead(w)), dtype=np.float64)
                if rng is not None:
                    g = g + sigma * rng.standard_normal(g.shape)
                if not np.isfinite(g).all():  # a gradient (or look-ahead gradient) overflowed
                    diverged_step = t
                    break
                extra = {key: provide(w) for key, provide in providers.items()}
                try:
                    w, state = optimizer_step(opt, g, state, w, **extra)
                except NonFiniteError:  # a provided value (a Hessian) was not finite: a divergence
                    diverged_step = t
                    break
                if t == 1:
                    # After a first checked step the optimizer sees only its own outputs and the
                    # finite gradients tested above: its boundary checks would repeat ours.
                    checks.enter_context(unchecked_steps())
                value = float(function.value(w))
                # w @ w is NaN or infinite as soon as one coordinate is, or when it overflows
                if not (math.isfinite(value) and float(w @ w) <= max_norm_sq):
                    diverged_step = t
                    break
                g = np.asarray(function.grad(w), dtype=np.float64)
                path.append(w)
                values.append(value)
                norms.append(math.sqrt(float(g @ g)))
        later = learning_rate_of(state)
        vals = np.asarray(values)
        hits = np.flatnonzero(vals - f_star < tol) if f_star is not None else np.array([], dtype=int)
        last = path[-1]
        results.append(
            RaceEntry(
                name=name,
                path=np.stack(path),
                values=vals,
                final_value=float(vals[-1]),
                distance=min((float(np.linalg.norm(last - m)) for m in minima), default=math.nan),
                steps_to_tol=int(hits[0]) if hits.size else None,
                diverged=diverged_step is not None,
                grad_norms=np.asarray(norms),
                diverged_step=diverged_step,
                lr=later if later is not None else lr,
            )
        )
    return results


def _providers(function: Any, name: str, opt: GradientTransformation) -> dict[str, Any]:
    """For each extra argument ``opt`` declares, the function of the iterate that supplies it."""
    available = {
        "hessian": lambda w: np.asarray(function.hessian(w), dtype=np.float64),
        "value": lambda w: float(function.value(w)),
    }
    out = {}
    for key in sorted(opt.extra_args):
        if key not in available or (key == "hessian" and not callable(getattr(function, "hessian", None))):
            raise ValueError(
                f"race: optimizer {name!r} needs {key}= at every update, which the function does not give"
            )
        out[key] = available[key]
    return out
