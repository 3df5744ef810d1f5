r"""Optimizer races on a test function: same start, same number of steps, who gets closest.

The function is any object with ``value(w)``, ``grad(w)``, ``minima`` (a list of points) and
``start`` (the suggested starting point) -- e.g. ``ll.landscape.functions.get("rosenbrock")``.
For each optimizer the race records the path :math:`w_0, \dots, w_T`, the final gap
:math:`f(w_T) - f^*`, the distance :math:`\min_k \|w_T - w^*_k\|_2` to the nearest minimum and
the first step at which :math:`f(w_t) - f^* < \text{tol}`.

An optimizer that declares extra arguments of ``update`` (``extra_args``) gets them from the
function at each iterate: ``hessian=function.hessian(w)`` (Newton's method), ``value=function.value(w)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_int, check_positive
from losslab.optim.base import GradientTransformation, apply_updates
from losslab.optim.transforms import SutskeverNesterovState

__all__ = ["RaceEntry", "RaceResults", "race"]


class RaceEntry(NamedTuple):
    """One optimizer's result in a race."""

    name: str
    path: np.ndarray  # (n_steps + 1, dim): the start and every iterate
    values: np.ndarray  # f along the path
    final_value: float
    distance: float  # to the nearest minimum
    steps_to_tol: int | None  # first step t with f(w_t) - f* < tol, None if never
    diverged: bool


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
) -> RaceResults:
    """Run each optimizer for ``steps`` steps from ``start`` (default: the function's suggested start).

    A run whose iterate or value becomes non-finite stops there and is marked ``diverged``.
    :func:`~losslab.optim.sutskever_nesterov` gets its gradient at its look-ahead point, as the
    method asks; every other optimizer at the iterate.

    >>> import losslab as ll
    >>> bowl = ll.landscape.functions.get("quadratic_bowl")
    >>> [entry] = ll.train.race(bowl, {"gd": ll.optim.chain(ll.optim.scale(-0.15))}, steps=60)
    >>> entry.steps_to_tol is not None and entry.distance < 1e-3
    True
    """
    steps = check_int("race", "steps", steps, minimum=0)
    tol = check_positive("race", "tol", tol)
    if not isinstance(optimizers, Mapping) or not optimizers:
        raise TypeError("race: optimizers must be a non-empty mapping name -> GradientTransformation")
    w0 = np.asarray(function.start if start is None else start, dtype=np.float64)
    minima = [np.asarray(m, dtype=np.float64) for m in function.minima]
    f_star = getattr(function, "minimum_value", None)
    if f_star is None:
        f_star = min(float(function.value(m)) for m in minima)
    results = RaceResults()
    for name, opt in optimizers.items():
        if not isinstance(opt, GradientTransformation):
            raise TypeError(
                f"race: optimizer {name!r} must be a GradientTransformation, got {type(opt).__name__}"
            )
        providers = _providers(function, name, opt)
        w = w0.copy()
        state = opt.init(w)
        path = [w]
        values = [float(function.value(w))]
        diverged = False
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                # Sutskever's Nesterov form takes its gradient at the look-ahead point x + beta v.
                at = state.lookahead(w) if isinstance(state, SutskeverNesterovState) else w
                extra = {key: provide(w) for key, provide in providers.items()}
                updates, state = opt.update(np.asarray(function.grad(at), dtype=np.float64), state, w, **extra)
                w = apply_updates(w, updates)
                value = float(function.value(w))
                if not (np.isfinite(w).all() and math.isfinite(value)):
                    diverged = True
                    break
                path.append(w)
                values.append(value)
        vals = np.asarray(values)
        hits = np.flatnonzero(vals - f_star < tol)
        last = path[-1]
        results.append(
            RaceEntry(
                name=name,
                path=np.stack(path),
                values=vals,
                final_value=float(vals[-1]),
                distance=min(float(np.linalg.norm(last - m)) for m in minima),
                steps_to_tol=int(hits[0]) if hits.size else None,
                diverged=diverged,
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
