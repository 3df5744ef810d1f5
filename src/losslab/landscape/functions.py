r"""Test functions for optimizers: value, gradient, Hessian, critical points, a start and plot limits.

Every function takes points ``w`` with the coordinates on the last axis (shape ``(n,)`` or
``(..., n)``, e.g. a grid ``np.stack([W1, W2], axis=-1)``); ``grad`` returns the same shape and
``hessian`` shape ``(..., n, n)``, all analytic. ``critical_points`` lists known points where the
gradient vanishes, each with its kind (``"minimum"``, ``"maximum"``, ``"saddle"`` or
``"degenerate"``: a zero Hessian eigenvalue), its index (the number of negative Hessian
eigenvalues) and its value; ``minima`` holds the global minimizers only (value
``minimum_value``), which races measure distances to. Coordinates that are roots of polynomials
(Himmelblau's, the six-hump camel's, Rastrigin's) are computed to float64 precision by Newton's
method on the gradient from published approximations.

``quadratic_bowl`` (the curriculum's ill-conditioned bowl)
    :math:`f(w) = \tfrac12(a w_1^2 + b w_2^2)`, condition number :math:`b/a`.
``quadratic``
    :math:`f(w) = \tfrac12 (w - c)^\top R\,\Lambda R^\top (w - c)` in :math:`n` dimensions with
    eigenvalues :math:`\Lambda`, any rotation :math:`R` (an angle in 2-D) and centre :math:`c`.
``rosenbrock`` (Rosenbrock, 1960)
    :math:`f(w) = \sum_{i=1}^{n-1} (a - w_i)^2 + b (w_{i+1} - w_i^2)^2`, minimum
    :math:`(a, a^2)` in 2-D, :math:`(1, \dots, 1)` for :math:`a = 1` in :math:`n` dimensions.
``beale``
    :math:`(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`: minimum at
    :math:`(3, 0.5)`, a saddle at :math:`(0, 1)`.
``booth``
    :math:`(x + 2y - 7)^2 + (2x + y - 5)^2`: minimum at :math:`(1, 3)`.
``himmelblau``
    :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`: four minima of value 0, a maximum and four saddles.
``rastrigin``
    :math:`A n + \sum_i (w_i^2 - A\cos 2\pi w_i)`: global minimum at the origin, a lattice of local
    minima near the integers and maxima near the half-integers.
``six_hump_camel``
    :math:`(4 - 2.1x^2 + x^4/3)x^2 + xy + (-4 + 4y^2)y^2`: six minima (two global), saddles and
    two maxima.
``saddle``
    :math:`w_1^2 - w_2^2`: a saddle of index 1 at the origin; unbounded below (no minima).
``monkey_saddle``
    :math:`w_1^3 - 3 w_1 w_2^2`: a degenerate critical point (zero Hessian) at the origin.
``plateau``
    :math:`1 - \exp(-\lVert w\rVert^2 / (2 s^2))`: a Gaussian well in a flat plateau whose gradient
    decays like :math:`e^{-r^2/2s^2}`.
``anatomy`` (the 1-D curve of the curriculum's "anatomy of a cost landscape")
    :math:`f'(\theta) = \theta^2 (\theta + \tfrac52)(\theta + \tfrac32)(\theta - \tfrac32)`: a local
    minimum at :math:`-5/2`, a local maximum at :math:`-3/2`, a stationary inflection point (the
    1-D saddle, degenerate) at :math:`0`, the global minimum at :math:`3/2`, and no other critical
    point.

>>> import losslab as ll
>>> f = ll.landscape.functions.get("rosenbrock")
>>> float(f.value([1.0, 1.0])), float(f.value([-1.5, 2.0]))
(0.0, 12.5)
>>> h = ll.landscape.functions.get("himmelblau")
>>> sorted({cp.kind for cp in h.critical_points})
['maximum', 'minimum', 'saddle']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_int, check_number, check_positive

__all__ = [
    "CriticalPoint",
    "TestFunction",
    "anatomy",
    "beale",
    "booth",
    "get",
    "himmelblau",
    "monkey_saddle",
    "names",
    "plateau",
    "quadratic",
    "quadratic_bowl",
    "rastrigin",
    "register",
    "rosenbrock",
    "saddle",
    "six_hump_camel",
]

KINDS = ("minimum", "maximum", "saddle", "degenerate")


@dataclass(frozen=True, eq=False)
class CriticalPoint:
    """A known critical point: where, which kind, its index (negative eigenvalues) and value."""

    point: np.ndarray
    kind: str
    index: int
    value: float
    label: str = ""


@dataclass(frozen=True)
class TestFunction:
    """A test function in ``dim`` dimensions with analytic derivatives and its critical points."""

    __test__ = False  # not a pytest test class
    # value, grad and hessian take any stack of points (coordinates on the last axis): a race
    # evaluates every runner's iterate in one call
    vectorized: ClassVar[bool] = True

    name: str
    value: Callable[[npt.ArrayLike], Any]
    grad: Callable[[npt.ArrayLike], np.ndarray]
    hessian: Callable[[npt.ArrayLike], np.ndarray]
    minima: tuple[np.ndarray, ...]
    minimum_value: float | None
    start: np.ndarray
    limits: tuple[tuple[float, float], ...]
    formula: str = ""
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    critical_points: tuple[CriticalPoint, ...] = ()
    dim: int = 2

    def __call__(self, w: npt.ArrayLike) -> Any:
        return self.value(w)

    def hvp(self, w: npt.ArrayLike, v: npt.ArrayLike) -> np.ndarray:
        """Hessian-vector product :math:`H(w) v` (points and vectors on the last axis)."""
        return np.einsum("...ij,...j->...i", self.hessian(w), np.asarray(v, dtype=np.float64))


def _points(w: npt.ArrayLike, where: str, dim: int = 2) -> np.ndarray:
    arr = np.asarray(w, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"{where}: w must have its {dim} coordinate{'s' if dim > 1 else ''} on the last axis, "
            f"got shape {arr.shape}"
        )
    return arr


def _scalar(x: np.ndarray) -> Any:
    return x[()] if x.ndim == 0 else x


def _pair(a: Any, b: Any) -> np.ndarray:
    """``np.stack([a, b], axis=-1)`` as float64, without ``stack``'s overhead (a fifth of a race
    step's time on one point)."""
    if np.ndim(a) == 0 and np.ndim(b) == 0:
        return np.array([a, b], dtype=np.float64)
    a, b = np.broadcast_arrays(a, b)
    out = np.empty((*a.shape, 2))  # (two writes: a third of stack's cost on a race's points)
    out[..., 0] = a
    out[..., 1] = b
    return out


def _mat2(hxx: Any, hxy: Any, hyy: Any) -> np.ndarray:
    if np.ndim(hxx) == 0 and np.ndim(hxy) == 0 and np.ndim(hyy) == 0:
        return np.array([[hxx, hxy], [hxy, hyy]], dtype=np.float64)
    hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
    return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)


def _refine(
    grad: Callable[..., np.ndarray], hessian: Callable[..., np.ndarray], x0: Sequence[float]
) -> np.ndarray:
    """Newton's method on ``grad = 0`` from an approximation, to float64 precision."""
    x = np.asarray(x0, dtype=np.float64)
    for _ in range(50):
        step = np.linalg.solve(hessian(x), grad(x))
        x = x - step
        if np.linalg.norm(step) <= 1e-15 * max(1.0, float(np.linalg.norm(x))):
            break
    return x


def _kind(hess: np.ndarray, rtol: float = 1e-9) -> tuple[str, int]:
    eig = np.linalg.eigvalsh(hess)
    scale = max(float(np.abs(eig).max()), 1.0)
    index = int((eig < -rtol * scale).sum())
    if np.any(np.abs(eig) <= rtol * scale):
        return "degenerate", index
    if index == 0:
        return "minimum", 0
    return ("maximum" if index == eig.size else "saddle"), index


def _critical(
    value: Callable[..., Any],
    grad: Callable[..., np.ndarray],
    hessian: Callable[..., np.ndarray],
    approx: Sequence[tuple[Any, str]],
    *,
    refine: bool = True,
) -> tuple[CriticalPoint, ...]:
    """Critical points from (approximate point, label) pairs: refined, kind and index from H."""
    out = []
    for x0, label in approx:
        x = _refine(grad, hessian, x0) if refine else np.asarray(x0, dtype=np.float64)
        kind, index = _kind(hessian(x))
        out.append(CriticalPoint(x, kind, index, float(value(x)), label))
    return tuple(out)


def _global_minima(cps: tuple[CriticalPoint, ...]) -> tuple[tuple[np.ndarray, ...], float | None]:
    mins = [cp for cp in cps if cp.kind == "minimum"]
    if not mins:
        return (), None
    best = min(cp.value for cp in mins)
    tol = 1e-12 * max(1.0, abs(best))
    return tuple(cp.point for cp in mins if cp.value <= best + tol), best


# --------------------------------------------------------------------------- quadratics


def quadratic_bowl(a: float = 1.0, b: float = 10.0) -> TestFunction:
    r""":math:`f(w) = \tfrac12(a w_1^2 + b w_2^2)`, :math:`\nabla f = (a w_1, b w_2)`, :math:`H = \mathrm{diag}(a, b)`.

    The curriculum's bowl: defaults :math:`a = 1`, :math:`b = 10` (condition number :math:`b/a`),
    start :math:`(3.5, 3.5)`, minimum :math:`0` at the origin.
    """
    a = check_positive("quadratic_bowl", "a", a)
    b = check_positive("quadratic_bowl", "b", b)
    name = "quadratic_bowl"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        return _scalar(0.5 * (a * p[..., 0] ** 2 + b * p[..., 1] ** 2))

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return _pair(a * p[..., 0], b * p[..., 1])

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return np.broadcast_to(np.diag([a, b]), (*p.shape[:-1], 2, 2)).copy()

    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.zeros(2),),
        minimum_value=0.0,
        start=np.array([3.5, 3.5]),
        limits=((-4.0, 4.0), (-4.0, 4.0)),
        formula=r"\tfrac12(a w_1^2 + b w_2^2)",
        description=f"ill-conditioned quadratic bowl, condition number b/a = {b / a:g}",
        params={"a": a, "b": b},
        critical_points=(CriticalPoint(np.zeros(2), "minimum", 0, 0.0, "global minimum"),),
    )


def quadratic(
    eigenvalues: npt.ArrayLike | None = None,
    *,
    condition: float | None = None,
    dim: int = 2,
    angle: float = 0.0,
    rotation: npt.ArrayLike | None = None,
    center: npt.ArrayLike | None = None,
) -> TestFunction:
    r"""A convex quadratic of any conditioning and rotation in :math:`n` dimensions.

    :math:`f(w) = \tfrac12 (w - c)^\top A (w - c)` with :math:`A = R\,\mathrm{diag}(\lambda) R^\top`,
    :math:`\nabla f = A(w - c)`, :math:`H = A`. ``eigenvalues`` (all > 0) give :math:`\lambda`;
    otherwise ``condition`` :math:`\kappa` spaces ``dim`` eigenvalues geometrically from 1 to
    :math:`\kappa` (default :math:`\kappa = 10`). ``rotation`` is an orthogonal matrix
    :math:`R`; in 2-D ``angle`` (radians) rotates the eigenvectors instead. ``center`` is the
    minimizer :math:`c` (default the origin). The start is :math:`c + 3.5(1, \dots, 1)`.

    >>> f = quadratic(eigenvalues=[1.0, 4.0, 9.0])
    >>> f.dim, float(f.value([1.0, 1.0, 1.0]))
    (3, 7.0)
    """
    where = "quadratic"
    if eigenvalues is None:
        kappa = 10.0 if condition is None else check_positive(where, "condition", condition)
        if kappa < 1:
            raise ValueError(f"{where}: condition must be >= 1, got condition={condition!r}")
        n = check_int(where, "dim", dim, minimum=1)
        lam = np.geomspace(1.0, kappa, n) if n > 1 else np.array([1.0])
    else:
        if condition is not None:
            raise TypeError(f"{where}: give eigenvalues or condition, not both")
        lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
        if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
            raise ValueError(f"{where}: eigenvalues must be finite and > 0, got eigenvalues={eigenvalues!r}")
        n = lam.size
    theta = check_number(where, "angle", angle)
    if rotation is not None:
        rot = np.asarray(rotation, dtype=np.float64)
        if rot.shape != (n, n) or not np.allclose(rot @ rot.T, np.eye(n), atol=1e-10):
            raise ValueError(f"{where}: rotation must be an orthogonal {n}x{n} matrix, got shape {rot.shape}")
    elif theta != 0.0:
        if n != 2:
            raise ValueError(f"{where}: angle rotates 2-D quadratics only; give rotation for dim={n}")
        rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    else:
        rot = np.eye(n)
    c = np.zeros(n) if center is None else np.asarray(center, dtype=np.float64).reshape(-1)
    if c.shape != (n,) or not np.all(np.isfinite(c)):
        raise ValueError(f"{where}: center must be {n} finite coordinates, got {center!r}")
    A = (rot * lam) @ rot.T
    A = 0.5 * (A + A.T)
    name = "quadratic"

    def value(w: npt.ArrayLike) -> Any:
        d = _points(w, name, n) - c
        return _scalar(0.5 * np.einsum("...i,ij,...j->...", d, A, d))

    def grad(w: npt.ArrayLike) -> np.ndarray:
        return (_points(w, name, n) - c) @ A

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name, n)
        return np.broadcast_to(A, (*p.shape[:-1], n, n)).copy()

    kappa_txt = float(lam.max() / lam.min())
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(c.copy(),),
        minimum_value=0.0,
        start=c + 3.5,
        limits=tuple((float(ci - 4.0), float(ci + 4.0)) for ci in c),
        formula=r"\tfrac12 (w - c)^\top R \Lambda R^\top (w - c)",
        description=f"quadratic in {n} dimensions, condition number {kappa_txt:g}",
        params={"eigenvalues": lam.copy(), "rotation": rot.copy(), "center": c.copy()},
        critical_points=(CriticalPoint(c.copy(), "minimum", 0, 0.0, "global minimum"),),
        dim=n,
    )


# --------------------------------------------------------------------------- classic functions


def rosenbrock(a: float = 1.0, b: float = 100.0, dim: int = 2) -> TestFunction:
    r"""Rosenbrock's valley in ``dim`` dimensions: :math:`\sum_{i<n} (a - w_i)^2 + b(w_{i+1} - w_i^2)^2`.

    2-D: :math:`\nabla f = (-2(a - x) - 4bx(y - x^2),\; 2b(y - x^2))`,
    :math:`H = \begin{pmatrix} 2 - 4b(y - x^2) + 8bx^2 & -4bx \\ -4bx & 2b \end{pmatrix}`; minimum 0
    at :math:`(a, a^2)`, start :math:`(-1.5, 2)`. In :math:`n > 2` dimensions the minimum at
    :math:`(1, \dots, 1)` is listed for :math:`a = 1` (the coupled chain has other minimizers
    otherwise); the Hessian is tridiagonal; start :math:`(-1.5, 2, -1.5, 2, \dots)`.
    """
    b = check_positive("rosenbrock", "b", b)
    a = check_number("rosenbrock", "a", a)
    n = check_int("rosenbrock", "dim", dim, minimum=2)
    if n > 2 and a != 1.0:
        raise ValueError(f"rosenbrock: in dim > 2 only a=1 is supported, got a={a!r}")
    name = "rosenbrock"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name, n)
        if n == 2:  # the common case without reductions (races call it every step)
            x, y = p[..., 0], p[..., 1]
            return _scalar((a - x) ** 2 + b * (y - x * x) ** 2)
        x, y = p[..., :-1], p[..., 1:]
        return _scalar(np.sum((a - x) ** 2 + b * (y - x * x) ** 2, axis=-1))

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name, n)
        if n == 2:
            x, y = p[..., 0], p[..., 1]
            r = y - x * x
            return _pair(-2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r)
        x, y = p[..., :-1], p[..., 1:]
        r = y - x * x
        g = np.zeros_like(p)
        g[..., :-1] += -2.0 * (a - x) - 4.0 * b * x * r
        g[..., 1:] += 2.0 * b * r
        return g

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name, n)
        x, y = p[..., :-1], p[..., 1:]
        h = np.zeros((*p.shape, n))
        i = np.arange(n - 1)
        h[..., i, i] += 2.0 - 4.0 * b * (y - x * x) + 8.0 * b * x * x
        h[..., i + 1, i + 1] += 2.0 * b
        h[..., i, i + 1] = -4.0 * b * x
        h[..., i + 1, i] = -4.0 * b * x
        return h

    m = np.array([a, a * a]) if n == 2 else np.ones(n)
    start = np.resize(np.array([-1.5, 2.0]), n)
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(m,),
        minimum_value=0.0,
        start=start,
        limits=((-2.0, 2.0), (-1.0, 3.0)) if n == 2 else tuple((-2.0, 3.0) for _ in range(n)),
        formula=r"\sum_i (a - w_i)^2 + b(w_{i+1} - w_i^2)^2",
        description="Rosenbrock's banana valley: a curved, flat-bottomed ravine",
        params={"a": a, "b": b, "dim": n},
        critical_points=_critical(value, grad, hessian, [(m, "global minimum")], refine=False),
        dim=n,
    )


def beale() -> TestFunction:
    r"""Beale's function :math:`\sum_{k=1}^3 (c_k - x + x y^k)^2`, :math:`c = (1.5, 2.25, 2.625)`.

    Minimum 0 at :math:`(3, 0.5)`; saddles of index 1 at :math:`(0, 1)` (Hessian
    :math:`\begin{pmatrix} 0 & 27.75 \\ 27.75 & 0\end{pmatrix}`, value 14.203125) and near
    :math:`(0.1005, -2.6445)`.
    """
    name = "beale"
    c = np.array([1.5, 2.25, 2.625])
    k = np.arange(1, 4)

    def _terms(w: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = _points(w, name)
        x, y = p[..., 0:1], p[..., 1:2]
        return x, y, c - x + x * y**k

    def value(w: npt.ArrayLike) -> Any:
        _, _, t = _terms(w)
        return _scalar(np.sum(t * t, axis=-1))

    def grad(w: npt.ArrayLike) -> np.ndarray:
        x, y, t = _terms(w)
        dx = y**k - 1.0
        dy = x * k * y ** (k - 1)
        return _pair(2 * np.sum(t * dx, axis=-1), 2 * np.sum(t * dy, axis=-1))

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        x, y, t = _terms(w)
        dx = y**k - 1.0
        dy = x * k * y ** (k - 1)
        dyy = x * k * (k - 1) * y ** np.maximum(k - 2, 0)
        dxy = k * y ** (k - 1)
        hxx = 2 * np.sum(dx * dx, axis=-1)
        hxy = 2 * np.sum(dx * dy + t * dxy, axis=-1)
        hyy = 2 * np.sum(dy * dy + t * dyy, axis=-1)
        return _mat2(hxx, hxy, hyy)

    approx = [((3.0, 0.5), "global minimum"), ((0.0, 1.0), "saddle"), ((0.100538, -2.644514), "saddle")]
    cps = _critical(value, grad, hessian, approx)
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.array([3.0, 0.5]),),
        minimum_value=0.0,
        start=np.array([1.0, 1.5]),
        limits=((-4.5, 4.5), (-4.5, 4.5)),
        formula=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        description="Beale: sharp ridges and flat valleys, minimum at (3, 0.5)",
        critical_points=cps,
    )


def booth() -> TestFunction:
    r"""Booth's function :math:`(x + 2y - 7)^2 + (2x + y - 5)^2`: a convex quadratic, minimum 0 at :math:`(1, 3)`.

    :math:`H = \begin{pmatrix} 10 & 8 \\ 8 & 10 \end{pmatrix}` (eigenvalues 2 and 18).
    """
    name = "booth"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _scalar((x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        u, v = x + 2 * y - 7, 2 * x + y - 5
        return _pair(2 * u + 4 * v, 4 * u + 2 * v)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return np.broadcast_to(np.array([[10.0, 8.0], [8.0, 10.0]]), (*p.shape[:-1], 2, 2)).copy()

    m = np.array([1.0, 3.0])
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(m,),
        minimum_value=0.0,
        start=np.array([-5.0, 5.0]),
        limits=((-10.0, 10.0), (-10.0, 10.0)),
        formula=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        description="Booth: a rotated convex quadratic, condition number 9",
        critical_points=(CriticalPoint(m, "minimum", 0, 0.0, "global minimum"),),
    )


def himmelblau() -> TestFunction:
    r"""Himmelblau's function :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`.

    Four minima of value 0 (:math:`(3, 2)` and three irrational ones), a maximum near
    :math:`(-0.2708, -0.9230)` of value :math:`\approx 181.617` and four saddles.
    """
    name = "himmelblau"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _scalar((x * x + y - 11) ** 2 + (x + y * y - 7) ** 2)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        u, v = x * x + y - 11, x + y * y - 7
        return _pair(4 * x * u + 2 * v, 2 * u + 4 * y * v)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        u, v = x * x + y - 11, x + y * y - 7
        return _mat2(4 * u + 8 * x * x + 2, 4 * x + 4 * y, 2 + 4 * v + 8 * y * y)

    approx = [
        ((3.0, 2.0), "global minimum"),
        ((-2.805118, 3.131312), "global minimum"),
        ((-3.779310, -3.283186), "global minimum"),
        ((3.584428, -1.848126), "global minimum"),
        ((-0.270845, -0.923039), "local maximum"),
        ((0.086678, 2.884255), "saddle"),
        ((-3.073026, -0.081353), "saddle"),
        ((-0.127961, -1.953715), "saddle"),
        ((3.385154, 0.073852), "saddle"),
    ]
    cps = _critical(value, grad, hessian, approx)
    minima, fmin = _global_minima(cps)
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=minima,
        minimum_value=0.0 if fmin is not None else None,
        start=np.array([0.0, 0.0]),
        limits=((-5.0, 5.0), (-5.0, 5.0)),
        formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        description="Himmelblau: four equal minima, one maximum, four saddles",
        critical_points=cps,
    )


def rastrigin(A: float = 10.0, dim: int = 2) -> TestFunction:  # noqa: N803 - the standard symbol
    r"""Rastrigin's function :math:`A n + \sum_i (w_i^2 - A \cos 2\pi w_i)`.

    :math:`\partial_i f = 2 w_i + 2\pi A \sin 2\pi w_i`, :math:`H = \mathrm{diag}(2 + 4\pi^2 A\cos 2\pi
    w_i)`. Global minimum 0 at the origin. Listed: the origin, the local minimum near
    :math:`(1, 0, \dots)`, the saddle near :math:`(\tfrac12, 0, \dots)` (index 1) and the maximum near
    :math:`(\tfrac12, \dots, \tfrac12)` (index :math:`n`), each coordinate a root of
    :math:`w + \pi A \sin 2\pi w = 0`.
    """
    A = check_positive("rastrigin", "A", A)  # noqa: N806
    n = check_int("rastrigin", "dim", dim, minimum=1)
    name = "rastrigin"
    tau = 2 * np.pi

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name, n)
        return _scalar(A * n + np.sum(p * p - A * np.cos(tau * p), axis=-1))

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name, n)
        return 2 * p + tau * A * np.sin(tau * p)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name, n)
        d = 2 + tau * tau * A * np.cos(tau * p)
        return d[..., :, None] * np.eye(n)

    def root(x0: float) -> float:  # of 2w + 2 pi A sin(2 pi w)
        x = x0
        for _ in range(60):
            x -= (2 * x + tau * A * np.sin(tau * x)) / (2 + tau * tau * A * np.cos(tau * x))
        return float(x)

    m1, half = root(1.0), root(0.5)
    e1 = np.zeros(n)
    e1[0] = 1.0
    approx = [(np.zeros(n), "global minimum"), (m1 * e1, "local minimum"), (half * e1, "saddle")]
    if n > 1:
        approx.append((np.full(n, half), "local maximum"))
    cps = _critical(value, grad, hessian, approx, refine=False)
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.zeros(n),),
        minimum_value=0.0,
        start=np.resize(np.array([2.3, 1.7]), n),
        limits=tuple((-5.12, 5.12) for _ in range(n)),
        formula=r"A n + \sum_i (w_i^2 - A\cos 2\pi w_i)",
        description="Rastrigin: a lattice of local minima over a bowl",
        params={"A": A, "dim": n},
        critical_points=cps,
        dim=n,
    )


def six_hump_camel() -> TestFunction:
    r"""The six-hump camel :math:`(4 - 2.1x^2 + x^4/3)x^2 + xy + (-4 + 4y^2)y^2`.

    Two global minima :math:`\approx \pm(0.0898, -0.7127)` of value :math:`\approx -1.0316`, four
    local minima, two maxima and seven saddles (one at the origin), fifteen critical points in all.
    """
    name = "six_hump_camel"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _scalar((4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _pair(8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _mat2(8 - 25.2 * x**2 + 10 * x**4, np.ones_like(x), -8 + 48 * y**2)

    approx = _CAMEL_APPROX
    cps = _critical(value, grad, hessian, approx)
    minima, fmin = _global_minima(cps)
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=minima,
        minimum_value=fmin,
        start=np.array([-1.5, 1.0]),
        limits=((-2.5, 2.5), (-1.5, 1.5)),
        formula=r"(4 - 2.1x^2 + x^4/3)x^2 + xy + (-4 + 4y^2)y^2",
        description="six-hump camel: six minima, two of them global",
        critical_points=cps,
    )


# All fifteen critical points in [-3, 3] x [-2, 2] (a Newton search from a 40 x 40 grid of starts).
_CAMEL_APPROX: list[tuple[Any, str]] = [
    ((0.089842, -0.712656), "global minimum"),
    ((-0.089842, 0.712656), "global minimum"),
    ((-1.703607, 0.796084), "local minimum"),
    ((1.703607, -0.796084), "local minimum"),
    ((-1.607105, -0.568651), "local minimum"),
    ((1.607105, 0.568651), "local minimum"),
    ((-1.230230, -0.162335), "local maximum"),
    ((1.230230, 0.162335), "local maximum"),
    ((0.0, 0.0), "saddle"),
    ((-1.109205, 0.768268), "saddle"),
    ((1.109205, -0.768268), "saddle"),
    ((-1.296070, -0.605084), "saddle"),
    ((1.296070, 0.605084), "saddle"),
    ((-1.638068, -0.228674), "saddle"),
    ((1.638068, 0.228674), "saddle"),
]


# --------------------------------------------------------------------------- saddles, plateau, anatomy


def saddle() -> TestFunction:
    r"""The saddle :math:`w_1^2 - w_2^2`: :math:`\nabla f = (2w_1, -2w_2)`, :math:`H = \mathrm{diag}(2, -2)`.

    A saddle of index 1 at the origin; unbounded below, so no minima (``minimum_value`` is
    ``None``). The start :math:`(1.5, 0)` lies on the saddle's stable manifold: gradient descent
    converges to the saddle, and any perturbation of :math:`w_2` escapes it.
    """
    name = "saddle"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        return _scalar(p[..., 0] ** 2 - p[..., 1] ** 2)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return _pair(2 * p[..., 0], -2 * p[..., 1])

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        return np.broadcast_to(np.diag([2.0, -2.0]), (*p.shape[:-1], 2, 2)).copy()

    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(),
        minimum_value=None,
        start=np.array([1.5, 0.0]),
        limits=((-2.0, 2.0), (-2.0, 2.0)),
        formula=r"w_1^2 - w_2^2",
        description="a saddle: a minimum along w1, a maximum along w2",
        critical_points=(CriticalPoint(np.zeros(2), "saddle", 1, 0.0, "saddle"),),
    )


def monkey_saddle() -> TestFunction:
    r"""The monkey saddle :math:`w_1^3 - 3 w_1 w_2^2`: three valleys, a zero Hessian at the origin.

    :math:`\nabla f = (3w_1^2 - 3w_2^2,\; -6 w_1 w_2)`, :math:`H = \begin{pmatrix} 6w_1 & -6w_2 \\
    -6w_2 & -6w_1\end{pmatrix}`; the origin is degenerate (second-order tests cannot classify it).
    """
    name = "monkey_saddle"

    def value(w: npt.ArrayLike) -> Any:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _scalar(x**3 - 3 * x * y**2)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _pair(3 * x**2 - 3 * y**2, -6 * x * y)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p = _points(w, name)
        x, y = p[..., 0], p[..., 1]
        return _mat2(6 * x, -6 * y, -6 * x)

    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(),
        minimum_value=None,
        start=np.array([1.0, 0.0]),
        limits=((-1.5, 1.5), (-1.5, 1.5)),
        formula=r"w_1^3 - 3 w_1 w_2^2",
        description="the monkey saddle: a degenerate critical point",
        critical_points=(CriticalPoint(np.zeros(2), "degenerate", 0, 0.0, "monkey saddle"),),
    )


def plateau(width: float = 1.0, dim: int = 2) -> TestFunction:
    r"""A well in a plateau: :math:`f(w) = 1 - e^{-\lVert w\rVert^2 / (2 s^2)}` (``width`` :math:`s`).

    :math:`\nabla f = (1 - f)\, w / s^2`, :math:`H = (1 - f)(I - w w^\top / s^2) / s^2`. Minimum 0 at
    the origin; far from it the gradient vanishes exponentially (start :math:`(2.5, 2)`, where
    :math:`\lVert\nabla f\rVert \approx 0.019` for :math:`s = 1`).
    """
    s2 = check_positive("plateau", "width", width) ** 2
    n = check_int("plateau", "dim", dim, minimum=1)
    name = "plateau"

    def _e(w: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        p = _points(w, name, n)
        return p, np.exp(-0.5 * np.sum(p * p, axis=-1) / s2)

    def value(w: npt.ArrayLike) -> Any:
        _, e = _e(w)
        return _scalar(1.0 - e)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        p, e = _e(w)
        return e[..., None] * p / s2

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        p, e = _e(w)
        outer = p[..., :, None] * p[..., None, :]
        return e[..., None, None] * (np.eye(n) - outer / s2) / s2

    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.zeros(n),),
        minimum_value=0.0,
        start=np.resize(np.array([2.5, 2.0]), n),
        limits=tuple((-4.0, 4.0) for _ in range(n)),
        formula=r"1 - \exp(-\lVert w\rVert^2 / 2s^2)",
        description="a narrow well in a flat plateau: vanishing gradients far from the minimum",
        params={"width": float(np.sqrt(s2)), "dim": n},
        critical_points=(CriticalPoint(np.zeros(n), "minimum", 0, 0.0, "global minimum"),),
        dim=n,
    )


def anatomy() -> TestFunction:
    r"""The 1-D "anatomy of a cost landscape": every kind of critical point on one curve.

    :math:`f(\theta) = \theta^6/6 + \theta^5/2 - 9\theta^4/16 - 15\theta^3/8`, so
    :math:`f'(\theta) = \theta^2 (\theta + \tfrac52)(\theta + \tfrac32)(\theta - \tfrac32)` and
    :math:`f''(\theta) = 5\theta^4 + 10\theta^3 - 27\theta^2/4 - 45\theta/4`. Exactly four critical
    points:

    ========  ==========  ==================================================
    θ         f(θ)        kind
    ========  ==========  ==================================================
    -5/2      -625/768    local minimum (second derivative 25)
    -3/2      405/256     local maximum (second derivative -27/4)
    0         0           stationary inflection, the 1-D saddle (second derivative 0, third -45/4)
    3/2       -891/256    global minimum (second derivative 27)
    ========  ==========  ==================================================

    Points have one coordinate on the last axis (shape ``(..., 1)``). Start :math:`-0.75` (between
    the maximum and the shelf at 0, where gradient descent stalls).

    >>> f = anatomy()
    >>> [(float(cp.point[0]), cp.kind) for cp in f.critical_points]
    [(-2.5, 'minimum'), (-1.5, 'maximum'), (0.0, 'degenerate'), (1.5, 'minimum')]
    """
    name = "anatomy"

    def value(w: npt.ArrayLike) -> Any:
        t = _points(w, name, 1)[..., 0]
        return _scalar(t**6 / 6 + t**5 / 2 - 0.5625 * t**4 - 1.875 * t**3)

    def grad(w: npt.ArrayLike) -> np.ndarray:
        t = _points(w, name, 1)
        return t**2 * (t + 2.5) * (t + 1.5) * (t - 1.5)

    def hessian(w: npt.ArrayLike) -> np.ndarray:
        t = _points(w, name, 1)
        return (5 * t**4 + 10 * t**3 - 6.75 * t**2 - 11.25 * t)[..., None]

    table = [
        (-2.5, "minimum", 0, "local minimum"),
        (-1.5, "maximum", 1, "local maximum"),
        (0.0, "degenerate", 0, "stationary inflection (1-D saddle)"),
        (1.5, "minimum", 0, "global minimum"),
    ]
    cps = tuple(CriticalPoint(np.array([t]), k, i, float(value([t])), lab) for t, k, i, lab in table)
    return TestFunction(
        name=name,
        value=value,
        grad=grad,
        hessian=hessian,
        minima=(np.array([1.5]),),
        minimum_value=-891 / 256,
        start=np.array([-0.75]),
        limits=((-2.95, 2.0),),
        formula=r"\theta^6/6 + \theta^5/2 - 9\theta^4/16 - 15\theta^3/8",
        description="local minimum, local maximum, a saddle (stationary inflection), global minimum",
        critical_points=cps,
        dim=1,
    )


# --------------------------------------------------------------------------- registry

_REGISTRY: dict[str, Callable[..., TestFunction]] = {}


def register(name: str, factory: Callable[..., TestFunction]) -> None:
    """Add a test-function factory (called with keyword parameters by :func:`get`)."""
    if name in _REGISTRY:
        raise ValueError(f"register: a test function named {name!r} is already registered")
    _REGISTRY[name] = factory


for _factory in (
    quadratic_bowl, quadratic, rosenbrock, beale, booth, himmelblau, rastrigin,
    six_hump_camel, saddle, monkey_saddle, plateau, anatomy,
):  # fmt: skip
    register(_factory.__name__, _factory)


def names() -> list[str]:
    """Registered test-function names."""
    return sorted(_REGISTRY)


def markdown_table() -> str:
    """The registry as a Markdown table (``docs/landscape.md`` embeds it; a test keeps it current)."""
    rows = [
        "| name | f(w) | dim | global minimum | critical points listed |",
        "|---|---|---|---|---|",
    ]
    for key in names():
        f = get(key)
        counts = {k: sum(cp.kind == k for cp in f.critical_points) for k in KINDS}
        plural = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles", "degenerate": "degenerate"}
        listed = ", ".join(f"{v} {k if v == 1 else plural[k]}" for k, v in counts.items() if v)
        if f.minimum_value is None:
            best = "none (unbounded below)"
        else:
            where = "; ".join("(" + ", ".join(f"{c:.6g}" for c in m) + ")" for m in f.minima)
            best = f"{f.minimum_value:.6g} at {where}"
        formula = f.formula.replace("|", "\\|")
        rows.append(f"| `{key}` | ${formula}$ | {f.dim} | {best} | {listed} |")
    return "\n".join(rows) + "\n"


def get(name: str, **params: Any) -> TestFunction:
    """The test function ``name``, with optional parameters (``get("quadratic_bowl", b=100)``)."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"unknown test function {name!r}; valid names: {', '.join(names())}")
    return _REGISTRY[key](**params)
