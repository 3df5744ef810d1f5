r"""Gradients without calculus: finite differences, gradient checking, random search.

These are the curriculum's first optimization strategies: random search (strategy 1), the
numerical gradient (strategy 2) and the gradient check that validates an analytic gradient
(strategy 3) against it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.tree import tree_flatten, tree_leaves_with_paths, tree_map, tree_unflatten
from losslab._core.validation import check_choice, check_int, check_positive

__all__ = ["GradcheckResult", "RandomSearchResult", "gradcheck", "numerical_grad", "random_search"]

Tree = Any
Method = Literal["central", "forward", "five_point"]

# Order of accuracy of each stencil: the step h = eps_machine ** (1 / (order + 1)) balances
# truncation (h^order) against rounding (eps_machine / h).
_ORDER = {"forward": 1, "central": 2, "five_point": 4}


def _float_leaf(x: Any) -> np.ndarray:
    a = np.asarray(x)
    return np.array(a, dtype=a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64, copy=True)


def _scalar(where: str, value: Any) -> float:
    v = np.asarray(value)
    if v.size != 1:
        raise ValueError(f"{where}: f must return a scalar, got an array of shape {v.shape}")
    out = float(v.reshape(()))
    if not np.isfinite(out):
        raise ValueError(f"{where}: f returned a non-finite value {out!r}")
    return out


def numerical_grad(
    f: Callable[[Any], Any], x: Any, method: Method = "central", eps: float | None = None
) -> Any:
    r"""The gradient of a scalar function by finite differences, coordinate by coordinate.

    .. math::
        \text{forward: } \frac{f(x + h e_i) - f(x)}{h},\qquad
        \text{central: } \frac{f(x + h e_i) - f(x - h e_i)}{2h},\\
        \text{five\_point: } \frac{-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)}{12h}

    with errors :math:`O(h)`, :math:`O(h^2)`, :math:`O(h^4)`. The step is
    :math:`h_i = \text{eps}\cdot\max(1, |x_i|)`; by default
    :math:`\text{eps} = \epsilon_{mach}^{1/(p+1)}` for order :math:`p` (about 1.5e-8, 6e-6, 7e-4
    in float64), which balances truncation against rounding. ``x`` is an array or a tree; the
    result has its structure, shapes and dtypes, and ``x`` is never modified. Costs
    :math:`2n` (central) evaluations of ``f``.

    >>> numerical_grad(lambda w: float((w**2).sum()), np.array([4.0, -1.0]))
    array([ 8., -2.])
    """
    check_choice("numerical_grad", "method", method, tuple(_ORDER))
    leaves, skeleton = tree_flatten(x)
    work = [_float_leaf(leaf) for leaf in leaves]
    if eps is not None:
        eps = check_positive("numerical_grad", "eps", eps)

    def evaluate() -> float:
        return _scalar("numerical_grad", f(tree_unflatten(skeleton, [w.copy() for w in work])))

    f0 = evaluate() if method == "forward" else 0.0
    grads = []
    for leaf in work:
        flat = leaf.reshape(-1)  # a view: perturbations write into ``work`` (a private copy)
        step = eps if eps is not None else float(np.finfo(leaf.dtype).eps) ** (1.0 / (_ORDER[method] + 1))
        g = np.empty(flat.size, dtype=np.float64)
        for i in range(flat.size):
            x0 = flat[i]
            h = step * max(1.0, abs(float(x0)))

            def at(delta: float, i: int = i, x0: Any = x0, flat: np.ndarray = flat) -> float:
                flat[i] = x0 + delta
                value = evaluate()
                flat[i] = x0
                return value

            if method == "forward":
                hi = float(flat.dtype.type(x0 + h) - x0)  # the step actually taken
                g[i] = (at(h) - f0) / hi
            elif method == "central":
                g[i] = (at(h) - at(-h)) / (2.0 * h)
            else:
                g[i] = (-at(2 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2 * h)) / (12.0 * h)
        grads.append(g.reshape(leaf.shape).astype(leaf.dtype, copy=False))
    return tree_unflatten(skeleton, grads)


class GradcheckResult(NamedTuple):
    """Outcome of :func:`gradcheck`.

    ``max_rel_error`` is :math:`\\max_i |a_i - n_i| / \\max(|a_i|, |n_i|, \\text{atol})`; ``worst``
    is ``(path, index)`` of that coordinate (``path`` the keys into the tree, ``()`` for an array),
    with its analytic and numerical values.
    """

    passed: bool
    max_rel_error: float
    max_abs_error: float
    worst: tuple[tuple[Any, ...], tuple[int, ...]]
    worst_analytic: float
    worst_numerical: float
    analytic: Any
    numerical: Any


def gradcheck(
    f: Callable[[Any], Any],
    grad_f: Callable[[Any], Any],
    x: Any,
    *,
    method: Method = "five_point",
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> GradcheckResult:
    r"""Compare an analytic gradient ``grad_f(x)`` with :func:`numerical_grad` at ``x``.

    Passes when every coordinate has :math:`|a - n| \le \text{rtol}\cdot\max(|a|, |n|, \text{atol})`
    (the relative error of CS231n's gradient check, floored at ``atol`` so that gradients near
    zero, where finite differences only return rounding noise, compare absolutely). Defaults:
    ``rtol`` 1e-6 and ``atol`` 1e-6 in float64; 1e-2 and 1e-3 when ``x`` holds float32.

    >>> r = gradcheck(lambda w: float((w**3).sum()), lambda w: 3 * w**2, np.array([1.0, -2.0]))
    >>> r.passed
    True
    """
    analytic = grad_f(x)
    numerical = numerical_grad(f, x, method=method, eps=eps)
    a_leaves = tree_leaves_with_paths(analytic)
    n_leaves = tree_leaves_with_paths(numerical)
    if [p for p, _ in a_leaves] != [p for p, _ in n_leaves]:
        raise ValueError("gradcheck: grad_f(x) must have the structure of x")
    single = all(np.asarray(leaf).dtype == np.float32 for _, leaf in tree_leaves_with_paths(x))
    if rtol is None:
        rtol = 1e-2 if single else 1e-6
    if atol is None:
        atol = 1e-3 if single else 1e-6
    rtol = check_positive("gradcheck", "rtol", rtol)
    atol = check_positive("gradcheck", "atol", atol)
    worst_rel, worst_abs = -1.0, 0.0
    worst: tuple[tuple[Any, ...], tuple[int, ...]] = ((), ())
    worst_a = worst_n = 0.0
    for (path, a), (_, n) in zip(a_leaves, n_leaves):
        a64 = np.asarray(a, dtype=np.float64)
        n64 = np.asarray(n, dtype=np.float64)
        if a64.shape != n64.shape:
            raise ValueError(f"gradcheck: grad_f(x) leaf {path} has shape {a64.shape}, expected {n64.shape}")
        if a64.size == 0:
            continue
        diff = np.abs(a64 - n64)
        rel = diff / np.maximum(np.maximum(np.abs(a64), np.abs(n64)), atol)
        rel = np.where(np.isnan(rel), np.inf, rel)
        i = int(np.argmax(rel))
        worst_abs = max(worst_abs, float(diff.max()))
        if rel.flat[i] > worst_rel:
            worst_rel = float(rel.flat[i])
            worst = (path, tuple(int(j) for j in np.unravel_index(i, a64.shape)))
            worst_a, worst_n = float(a64.flat[i]), float(n64.flat[i])
    worst_rel = max(worst_rel, 0.0)
    return GradcheckResult(
        worst_rel <= rtol, worst_rel, worst_abs, worst, worst_a, worst_n, analytic, numerical
    )


class RandomSearchResult(NamedTuple):
    """Best point, its value, and every trial's value in order (``history``)."""

    x: Any
    value: float
    history: np.ndarray


def random_search(
    f: Callable[[Any], Any],
    sampler_or_bounds: Callable[[np.random.Generator], Any] | npt.ArrayLike,
    n_trials: int,
    seed: int | np.random.Generator | None = None,
) -> RandomSearchResult:
    r"""Try ``n_trials`` random points, keep the best (the curriculum's strategy 1).

    ``sampler_or_bounds`` is either ``sampler(rng) -> x`` (any tree) or bounds: an array of shape
    ``(d, 2)`` of ``[low, high]`` rows (points uniform in the box, shape ``(d,)``). Ties keep the
    first. Expect roughly :math:`\epsilon^{-d}` trials to land within :math:`\epsilon` of the
    optimum of a d-dimensional box -- the reason gradients win.

    >>> r = random_search(lambda x: float(((x - 1) ** 2).sum()), [[-2, 2], [-2, 2]], 500, seed=0)
    >>> bool(r.value < 0.05), r.history.shape
    (True, (500,))
    """
    n_trials = check_int("random_search", "n_trials", n_trials, minimum=1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if callable(sampler_or_bounds):
        sampler = sampler_or_bounds
    else:
        bounds = np.asarray(sampler_or_bounds, dtype=np.float64)
        if bounds.ndim != 2 or bounds.shape[1] != 2 or bounds.shape[0] == 0:
            raise ValueError(
                "random_search: sampler_or_bounds must be a callable or bounds of shape (d, 2), "
                f"got shape {bounds.shape}"
            )
        if not np.all(np.isfinite(bounds)) or np.any(bounds[:, 0] > bounds[:, 1]):
            raise ValueError(f"random_search: bounds must be finite with low <= high, got {bounds.tolist()}")
        low, high = bounds[:, 0].copy(), bounds[:, 1].copy()

        def sampler(r: np.random.Generator) -> np.ndarray:
            return r.uniform(low, high)

    history = np.empty(n_trials)
    best_x, best_value = None, np.inf
    for t in range(n_trials):
        candidate = sampler(rng)
        value = float(np.asarray(f(candidate)).reshape(()))
        history[t] = value
        if value < best_value:
            best_x, best_value = tree_map(lambda a: np.array(a, copy=True), candidate), value
    if best_x is None:
        raise ValueError("random_search: f returned no finite value smaller than inf in any trial")
    return RandomSearchResult(best_x, float(best_value), history)
