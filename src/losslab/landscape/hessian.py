r"""Curvature of an objective at a point: Hessian-vector products, the dense Hessian, extreme eigenpairs, trace.

``obj`` is a model objective (``model.objective(X, y, loss=...)``), a test function
(:mod:`losslab.landscape.functions`) or any object with ``value`` and ``grad`` (see
:mod:`losslab.landscape._flat`); ``params`` a tree of arrays (a model's dict, or a point array).
Vectors ``v`` are trees like ``params``; matrices and eigenvectors are over the flat parameter
vector in :func:`~losslab._core.tree.tree_ravel` order (``W1`` row-major, then ``b1``, ...).

**Hessian-vector products** (:func:`hvp`), in order of preference:

1. exact, when ``obj`` has ``hvp`` (models: Pearlmutter's R-operator, see
   :mod:`losslab.models.curvature`);
2. exact, when ``obj`` has a dense ``hessian`` (the test functions): :math:`H(x) v`;
3. otherwise central differences of the analytic gradient,
   :math:`H v \approx [\nabla L(x + h v) - \nabla L(x - h v)] / (2h)`. Its error is
   :math:`\tfrac{h^2}{6} \|\nabla^3 L[v, v, \cdot]\| + O(\epsilon \|\nabla L\| / h)` (truncation
   plus rounding, :math:`\epsilon` the float64 machine epsilon); the default
   :math:`h = \epsilon^{1/3} \max(1, \|x\|) / \|v\|` balances the two, leaving a relative error
   of about :math:`\epsilon^{2/3} \approx 4 \cdot 10^{-11}` on smooth objectives.

**Eigenpairs** (:func:`hessian_eigs`): implicitly restarted Lanczos (ARPACK's ``eigsh`` via
``scipy.sparse.linalg``) on a ``LinearOperator`` whose matvec is one Hessian-vector product, for
the largest (``"LA"``) or smallest (``"SA"``) algebraic eigenvalues -- both ends directly, no
spectral shift. Below ``max(2k + 1, 20)`` parameters the dense Hessian's ``numpy.linalg.eigh`` is
used instead (exact, and cheaper there). **Trace** (:func:`hessian_trace`): Hutchinson's estimator
:math:`\operatorname{tr} H \approx \frac1m \sum_i z_i^\top H z_i` with Rademacher probes
(:math:`z_{ij} = \pm 1`), unbiased, with variance :math:`2(\|H\|_F^2 - \sum_j H_{jj}^2)/m`.

>>> import numpy as np, losslab as ll
>>> model = ll.models.Linear(2)
>>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
>>> obj = model.objective(X, np.zeros(3), loss="mse")
>>> H = ll.landscape.hessian_matrix(obj, model.init(0))   # 2 [X 1]^T [X 1] / n
>>> np.round(H * 3 / 2, 12).tolist()
[[2.0, 1.0, 2.0], [1.0, 5.0, 3.0], [2.0, 3.0, 3.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from losslab._core.validation import check_choice, check_int, check_positive
from losslab.landscape._flat import Flat

__all__ = ["hessian_eigs", "hessian_matrix", "hessian_trace", "hvp"]

Method = Literal["auto", "exact", "central"]
EPS = float(np.finfo(np.float64).eps)


def hvp(
    obj: Any,
    params: Any,
    v: Any,
    *,
    method: Method = "auto",
    step: float | None = None,
) -> Any:
    """The Hessian of ``obj`` at ``params`` applied to ``v`` (a tree like ``params``), as a tree.

    ``method="auto"`` is exact where ``obj`` has ``hvp`` or ``hessian`` and central differences of
    its gradient otherwise (see the module docstring for the error bound; ``step`` overrides
    :math:`h`); ``"exact"`` raises ``TypeError`` where no exact product exists; ``"central"``
    forces the differences.
    """
    F = Flat(obj, params, "hvp")
    vec = F.ravel(v, "v")
    return F.unravel(_matvec(F, method, step, "hvp")(vec))


def _matvec(F: Flat, method: Method, step: float | None, where: str) -> Callable[[np.ndarray], np.ndarray]:
    """``v -> H(x0) v`` on flat vectors."""
    check_choice(where, "method", method, ("auto", "exact", "central"))
    obj = F.obj
    if method != "central" and hasattr(obj, "hvp"):
        p = F.params
        return lambda v: np.asarray(F.ravel(obj.hvp(p, F.unravel(v)), "hvp"), dtype=np.float64)
    if method != "central" and hasattr(obj, "hessian"):
        H = np.asarray(obj.hessian(F.params), dtype=np.float64)
        if H.shape != (F.n, F.n):
            raise ValueError(f"{where}: obj.hessian returned shape {H.shape}, expected ({F.n}, {F.n})")
        return lambda v: H @ v
    if method == "exact":
        raise TypeError(f"{where}: method='exact' needs an obj with hvp or hessian, got {type(obj).__name__}")
    if step is not None:
        check_positive(where, "step", step)
    scale = max(1.0, float(np.linalg.norm(F.x0)))
    x0 = F.x0

    def central(v: np.ndarray) -> np.ndarray:
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return np.zeros_like(v)
        h = step if step is not None else EPS ** (1 / 3) * scale / norm
        return (F.grad(x0 + h * v) - F.grad(x0 - h * v)) / (2 * h)

    return central


def hessian_matrix(obj: Any, params: Any, *, max_params: int = 4096, method: Method = "auto") -> np.ndarray:
    r"""The dense Hessian :math:`\nabla^2 L` over the flat parameter vector, shape ``(n, n)``.

    Column :math:`j` is :math:`H e_j` (one Hessian-vector product each); the result is
    symmetrized, :math:`(H + H^\top)/2` (the products are symmetric to rounding). For small models:
    more than ``max_params`` parameters raise ``ValueError``.
    """
    F = Flat(obj, params, "hessian_matrix")
    max_params = check_int("hessian_matrix", "max_params", max_params, minimum=1)
    if F.n > max_params:
        raise ValueError(
            f"hessian_matrix: {F.n} parameters exceed max_params={max_params} (the dense Hessian holds "
            f"{F.n}^2 entries); use hessian_eigs or hessian_trace, or raise max_params"
        )
    return _dense(F, _matvec(F, method, None, "hessian_matrix"))


def _dense(F: Flat, mv: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    H = np.empty((F.n, F.n))
    e = np.zeros(F.n)
    for j in range(F.n):
        e[j] = 1.0
        H[:, j] = mv(e)
        e[j] = 0.0
    return 0.5 * (H + H.T)


def hessian_eigs(
    obj: Any,
    params: Any,
    k: int = 5,
    which: Literal["largest", "smallest"] = "largest",
    *,
    tol: float = 0.0,
    maxiter: int | None = None,
    seed: int = 0,
    method: Method = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest (or smallest) algebraic eigenvalues of the Hessian and their eigenvectors.

    Returns ``(values, vectors)``: ``values`` of shape ``(k,)`` (descending for ``"largest"``,
    ascending for ``"smallest"``) and unit ``vectors`` of shape ``(n, k)`` (columns, flat parameter
    order; ``landscape.hessian_directions`` turns them into trees). Lanczos (``eigsh``) on a
    ``LinearOperator`` of Hessian-vector products, starting from a seeded random vector, to
    ``tol`` (0: machine precision); the dense ``eigh`` below ``max(2k + 1, 20)`` parameters.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    F = Flat(obj, params, "hessian_eigs")
    check_choice("hessian_eigs", "which", which, ("largest", "smallest"))
    k = check_int("hessian_eigs", "k", k, minimum=1)
    if k > F.n:
        raise ValueError(f"hessian_eigs: k={k} exceeds the number of parameters ({F.n})")
    check_positive("hessian_eigs", "tol", tol, strict=False)
    mv = _matvec(F, method, None, "hessian_eigs")
    if F.n <= max(2 * k + 1, 20):
        w, U = np.linalg.eigh(_dense(F, mv))
    else:
        op = LinearOperator(
            (F.n, F.n), matvec=lambda v: mv(np.asarray(v, dtype=np.float64).ravel()), dtype=np.float64
        )
        v0 = np.random.default_rng(seed).standard_normal(F.n)
        w, U = eigsh(op, k=k, which="LA" if which == "largest" else "SA", v0=v0, tol=tol, maxiter=maxiter)
    order = np.argsort(w)
    idx = order[::-1][:k] if which == "largest" else order[:k]
    return w[idx], U[:, idx]


def hessian_trace(
    obj: Any,
    params: Any,
    n_probes: int = 100,
    seed: int = 0,
    *,
    return_stderr: bool = False,
    method: Method = "auto",
) -> Any:
    r"""Hutchinson's estimate of :math:`\operatorname{tr} \nabla^2 L` from ``n_probes`` Rademacher probes.

    :math:`\hat t = \frac1m \sum_{i=1}^m z_i^\top H z_i`, :math:`z_i \in \{-1, +1\}^n` drawn from
    ``seed``. With ``return_stderr=True`` returns ``(estimate, standard error)``, the standard
    error being the sample standard deviation of :math:`z_i^\top H z_i` over :math:`\sqrt m`.
    """
    F = Flat(obj, params, "hessian_trace")
    n_probes = check_int("hessian_trace", "n_probes", n_probes, minimum=1)
    mv = _matvec(F, method, None, "hessian_trace")
    rng = np.random.default_rng(seed)
    samples = np.empty(n_probes)
    for i in range(n_probes):
        z = rng.integers(0, 2, size=F.n) * 2.0 - 1.0
        samples[i] = float(z @ mv(z))
    estimate = float(samples.mean())
    if not return_stderr:
        return estimate
    stderr = float(samples.std(ddof=1) / np.sqrt(n_probes)) if n_probes > 1 else float("inf")
    return estimate, stderr
