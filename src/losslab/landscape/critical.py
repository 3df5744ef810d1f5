r"""Critical points: classify one by the Hessian's spectrum, find them by Newton's method on the gradient.

A critical point :math:`x` has :math:`\nabla f(x) = 0`; the eigenvalues :math:`\lambda_i` of
:math:`H = \nabla^2 f(x)` tell its kind. With :math:`s = \max_i |\lambda_i|` (the spectral scale)
and :math:`\epsilon = \text{tol}\cdot s`, an eigenvalue counts as zero when
:math:`|\lambda_i| \le \epsilon`, and

* ``"saddle"``: some :math:`\lambda_i < -\epsilon` and some :math:`\lambda_j > \epsilon` (directions
  down and up prove it, whatever the other eigenvalues);
* ``"minimum"``: every :math:`\lambda_i > \epsilon`; ``"maximum"``: every :math:`\lambda_i < -\epsilon`;
* ``"degenerate"``: otherwise -- a zero eigenvalue and no direction of the other sign, where
  second-order information cannot decide (the monkey saddle, a 1-D stationary inflection).

``index`` is the number of negative eigenvalues (:math:`\lambda_i < -\epsilon`), the Morse index.
The point is reported critical when :math:`\lVert\nabla f\rVert \le \text{tol}\cdot s \cdot
\max(1, \lVert x\rVert)` (a gradient small on the Hessian's own scale).

``f`` may be a test function (``grad`` + ``hessian`` on flat points), any object with ``grad``
and ``hessian`` or ``grad`` and ``hvp(x, v)`` on flat vectors, or a model objective
(``value_and_grad(params)`` and ``hvp(params, v)`` on parameter trees, e.g.
``model.objective(X, y, loss)``, when ``x`` is a tree (a mapping); trees are flattened with
:func:`losslab.tree_ravel`). The dense
Hessian is formed when the dimension is at most ``dense_max`` (one Hessian-vector product per
coordinate when only ``hvp`` exists); beyond that, SciPy's Lanczos (``eigsh`` on a
``LinearOperator``, the ``k`` algebraically smallest and largest eigenvalues, no shift) reads both
ends of the spectrum, which decides the kind; ``index`` is then exact when fewer than ``k``
eigenvalues are negative and ``None`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from losslab._core.tree import tree_ravel
from losslab._core.validation import check_int, check_positive
from losslab.train.race import Evaluator

__all__ = ["CriticalPointResult", "classify_critical_point", "find_critical_points"]

DEFAULT_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class CriticalPointResult:
    """The classification of a point by its gradient and Hessian spectrum."""

    kind: str  # "minimum" | "maximum" | "saddle" | "degenerate"
    index: int | None  # number of negative eigenvalues
    eigenvalues: np.ndarray  # ascending (all of them, or the k smallest and k largest)
    grad_norm: float
    is_critical: bool  # grad_norm <= grad_tol
    eigenvalue_tol: float  # tol * spectral scale
    grad_tol: float
    point: Any  # the point classified (a flat vector, or the parameter tree)


class _Flat(NamedTuple):
    x: np.ndarray
    grad: np.ndarray
    hessian: Callable[[], np.ndarray] | None  # dense Hessian, when available
    hvp: Callable[[np.ndarray], np.ndarray] | None


def _flatten(where: str, f: Any, x: Any) -> _Flat:
    if isinstance(x, Mapping) and hasattr(f, "hvp") and hasattr(f, "value_and_grad"):
        # A parameter tree (a model objective also has ``grad``, on trees: never read it as flat).
        flat, unravel = tree_ravel(x)
        g, _ = tree_ravel(f.value_and_grad(x)[1])

        def tree_hvp(v: np.ndarray) -> np.ndarray:
            out, _ = tree_ravel(f.hvp(x, unravel(v)))
            return np.asarray(out, dtype=np.float64)

        return _Flat(np.asarray(flat, dtype=np.float64), np.asarray(g, dtype=np.float64), None, tree_hvp)
    if isinstance(x, Mapping):
        raise TypeError(
            f"{where}: x is a parameter tree, so f must have hvp(params, v) and value_and_grad(params) "
            f"(e.g. model.objective(X, y, loss)); got {type(f).__name__}"
        )
    if hasattr(f, "grad") and hasattr(f, "hessian"):
        xv = np.asarray(x, dtype=np.float64)
        g = np.asarray(f.grad(xv), dtype=np.float64).reshape(-1)
        return _Flat(xv.reshape(-1), g, lambda: np.asarray(f.hessian(xv), dtype=np.float64), None)
    if hasattr(f, "grad") and hasattr(f, "hvp"):
        xv = np.asarray(x, dtype=np.float64)
        g = np.asarray(f.grad(xv), dtype=np.float64).reshape(-1)
        return _Flat(
            xv.reshape(-1), g, None, lambda v: np.asarray(f.hvp(xv, v), dtype=np.float64).reshape(-1)
        )
    if hasattr(f, "value_and_grad") and hasattr(f, "hvp"):
        xv = np.asarray(x, dtype=np.float64)
        g = np.asarray(f.value_and_grad(xv)[1], dtype=np.float64).reshape(-1)
        return _Flat(
            xv.reshape(-1), g, None, lambda v: np.asarray(f.hvp(xv, v), dtype=np.float64).reshape(-1)
        )
    raise TypeError(
        f"{where}: f must have grad and hessian, grad and hvp(x, v), or value_and_grad(params) and "
        f"hvp(params, v) (params a tree); got {type(f).__name__}"
    )


def _spectrum(flat: _Flat, dense_max: int, k: int) -> tuple[np.ndarray, bool]:
    """Ascending eigenvalues, and whether they are all of them."""
    n = flat.x.size
    if flat.hessian is not None and n <= max(dense_max, 1):
        H = flat.hessian().reshape(n, n)
        return np.linalg.eigvalsh(0.5 * (H + H.T)), True
    if flat.hvp is not None and n <= dense_max:
        H = np.stack([flat.hvp(e) for e in np.eye(n)], axis=1)
        return np.linalg.eigvalsh(0.5 * (H + H.T)), True
    from scipy.sparse.linalg import LinearOperator, eigsh

    if flat.hvp is not None:
        matvec = flat.hvp
    else:
        H = flat.hessian().reshape(n, n)  # type: ignore[misc]

        def matvec(v: np.ndarray) -> np.ndarray:
            return H @ v

    op = LinearOperator(
        (n, n), matvec=lambda v: matvec(np.asarray(v, dtype=np.float64).reshape(-1)), dtype=np.float64
    )
    kk = max(1, min(k, n - 1))
    low = eigsh(op, k=kk, which="SA", return_eigenvectors=False, tol=1e-10)
    high = eigsh(op, k=kk, which="LA", return_eigenvectors=False, tol=1e-10)
    return np.unique(np.concatenate([low, high])), False


def classify_critical_point(
    f: Any,
    x: Any,
    *,
    tol: float | None = None,
    scale: float | None = None,
    dense_max: int = 2000,
    k: int = 6,
) -> CriticalPointResult:
    r"""Classify ``x`` as a minimum, maximum, saddle or degenerate point of ``f`` by the Hessian's spectrum.

    ``tol`` (default ``1e-6``) is relative to the spectral scale :math:`\max|\lambda|` (see the
    module docstring for the rules, the accepted kinds of ``f`` and the large-dimension path).
    ``scale`` replaces that scale by a curvature of reference (e.g. typical of the region): near a
    degenerate point the Hessian is itself tiny, and only an outside scale shows it is zero.

    >>> import losslab as ll
    >>> f = ll.landscape.functions.get("himmelblau")
    >>> cp = classify_critical_point(f, [3.0, 2.0])
    >>> cp.kind, cp.index, cp.grad_norm, cp.eigenvalues.round(4).tolist()
    ('minimum', 0, 0.0, [25.7157, 82.2843])
    >>> classify_critical_point(ll.landscape.functions.get("saddle"), [0.0, 0.0]).index
    1
    """
    where = "classify_critical_point"
    rtol = DEFAULT_TOL if tol is None else check_positive(where, "tol", tol)
    dense_max = check_int(where, "dense_max", dense_max, minimum=0)
    k = check_int(where, "k", k, minimum=1)
    dim = getattr(f, "dim", None)
    if dim is not None and not isinstance(x, Mapping) and np.size(x) != dim:
        raise ValueError(f"{where}: x must have {dim} coordinates, got {np.size(x)}")
    flat = _flatten(where, f, x)
    if not (np.all(np.isfinite(flat.x)) and np.all(np.isfinite(flat.grad))):
        raise ValueError(f"{where}: the point and its gradient must be finite")
    eig, complete = _spectrum(flat, dense_max, k)
    if not np.all(np.isfinite(eig)):
        raise ValueError(f"{where}: the Hessian at x is not finite")
    if scale is None:
        scale = float(np.abs(eig).max()) if eig.size else 0.0
    else:
        scale = check_positive(where, "scale", scale)
    eps = rtol * scale
    neg, pos = eig < -eps, eig > eps
    if neg.any() and pos.any():
        kind = "saddle"
    elif pos.all():
        kind = "minimum"
    elif neg.all():
        kind = "maximum"
    else:
        kind = "degenerate"
    n_neg = int(neg.sum())
    index: int | None = n_neg if complete or n_neg < min(k, flat.x.size - 1) else None
    grad_norm = float(np.linalg.norm(flat.grad))
    grad_tol = rtol * scale * max(1.0, float(np.linalg.norm(flat.x)))
    return CriticalPointResult(kind, index, eig, grad_norm, grad_norm <= grad_tol, eps, grad_tol, x)


def find_critical_points(
    f: Any,
    starts: npt.ArrayLike,
    *,
    tol: float | None = None,
    max_iter: int = 100,
    radius: float | None = None,
) -> list[CriticalPointResult]:
    r"""Critical points of ``f`` reached by Newton's method on :math:`\nabla f = 0` from each start, deduplicated.

    Each iteration solves :math:`H \delta = \nabla f` in the least-squares sense (the Gauss-Newton
    step on :math:`\tfrac12\lVert\nabla f\rVert^2`, which equals Newton's step where :math:`H` is
    invertible and stays defined where it is singular), so minima, maxima, saddles and degenerate
    points are all attractors. ``starts`` has shape ``(S, n)`` (a grid's points reshaped); ``f``
    needs ``grad`` and ``hessian`` on one flat point, or on a stack of them when it declares
    ``vectorized = True`` (then all starts are run at once).
    A run counts when it ends with :math:`\lVert\nabla f\rVert \le 10^{-10}\max(1, \lVert H\rVert)`,
    its last Newton step shorter than :math:`10^{-8}\max(1, \lVert x\rVert)` (runs drifting along a
    plateau, where the gradient underflows without vanishing, do not count) and inside ``radius`` (default: 10 times the largest start's norm); points within
    :math:`10^{-6}\max(1, \lVert x\rVert)` of each other are one. Results are classified by
    :func:`classify_critical_point` with ``scale`` the median spectral norm of the Hessian over
    the starts (so a degenerate point reached only approximately stays degenerate) and sorted by value of ``f`` where ``f`` has one, else by
    coordinates.

    >>> import losslab as ll, numpy as np
    >>> f = ll.landscape.functions.get("himmelblau")
    >>> g = np.stack(np.meshgrid(np.linspace(-5, 5, 9), np.linspace(-5, 5, 9)), -1).reshape(-1, 2)
    >>> sorted(cp.kind for cp in find_critical_points(f, g)).count("saddle")
    4
    """
    where = "find_critical_points"
    if not (hasattr(f, "grad") and hasattr(f, "hessian")):
        raise TypeError(f"{where}: f must have grad and hessian (on flat points), got {type(f).__name__}")
    X = np.asarray(starts, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None] if getattr(f, "dim", None) == 1 else X[None, :]
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{where}: starts must have shape (S, n), got shape {np.shape(starts)}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{where}: starts must be finite")
    max_iter = check_int(where, "max_iter", max_iter, minimum=1)
    bound = (
        10.0 * max(1.0, float(np.linalg.norm(X, axis=1).max()))
        if radius is None
        else check_positive(where, "radius", radius)
    )
    evaluate = Evaluator(f, where)
    with np.errstate(all="ignore"):
        ends, last = _newton_batch(evaluate, X, max_iter)
        G = evaluate.grads(ends)
        H = evaluate.hessians(ends)
    hnorm = np.linalg.norm(H, axis=(1, 2)) if H.size else np.zeros(0)
    ok = (
        np.all(np.isfinite(ends), axis=1)
        & np.all(np.isfinite(G), axis=1)
        & (np.linalg.norm(G, axis=1) <= 1e-10 * np.maximum(1.0, hnorm))
        & (np.linalg.norm(ends, axis=1) <= bound)
        & (last <= 1e-8 * np.maximum(1.0, np.linalg.norm(ends, axis=1)))
    )
    found: list[np.ndarray] = []
    for x in ends[ok]:
        if not any(np.linalg.norm(x - y) <= 1e-6 * max(1.0, float(np.linalg.norm(y))) for y in found):
            found.append(x)
    # The curvature of reference: the median spectral norm over the starts (see classify's scale).
    with np.errstate(all="ignore"):
        H0 = evaluate.hessians(X)
    norms = np.linalg.norm(H0, ord=2, axis=(1, 2))
    norms = norms[np.isfinite(norms) & (norms > 0)]
    ref = float(np.median(norms)) if norms.size else None
    results = [classify_critical_point(f, x, tol=tol, scale=ref) for x in found]
    if hasattr(f, "value"):
        results.sort(key=lambda r: (float(f.value(r.point)), tuple(r.point)))
    else:
        results.sort(key=lambda r: tuple(r.point))
    return results


def _newton_batch(evaluate: Evaluator, X: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Newton iterates after ``max_iter`` steps (or convergence) and each run's last step length."""
    x = X.copy()
    last = np.full(x.shape[0], np.inf)
    for _ in range(max_iter):
        step = _lstsq_batch(evaluate.hessians(x), evaluate.grads(x))
        bad = ~np.all(np.isfinite(step), axis=1)
        step[bad] = 0.0
        x = x - step
        last = np.where(bad, np.inf, np.linalg.norm(step, axis=1))
        if np.all(np.abs(step) <= 1e-15 * np.maximum(1.0, np.abs(x))):
            break
    return x, last


def _lstsq_batch(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Minimum-norm least-squares solutions of ``H[s] d = g[s]`` for every ``s`` (pseudo-inverse)."""
    try:
        return np.linalg.solve(H, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("sij,sj->si", np.linalg.pinv(H, rcond=1e-13), g)
