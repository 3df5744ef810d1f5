r"""Directions in parameter space for slicing a network's loss (Li et al. 2018, arXiv:1712.09913).

A direction is a tree shaped like ``params``. The slices then evaluate
:math:`L(\theta + \alpha d_1 + \beta d_2)` (:mod:`losslab.landscape.slices`).

**Random directions** (:func:`random_direction`): Gaussian entries, drawn leaf by leaf from a
generator seeded by ``(seed, crc32(leaf name))`` -- a leaf's direction depends only on the seed and
its name (``"W1"``, ``"b2"``), never on the other leaves or their order. Then a normalization:

``"filter"`` (Li et al.'s filter normalization)
    each filter of the direction gets the norm of the same filter of the parameters:
    :math:`d_{:,j} \leftarrow d_{:,j}\, \|\theta_{:,j}\| / \|d_{:,j}\|`. losslab stores a dense
    layer's weight as ``W`` of shape ``(n_in, n_out)`` (PyTorch's ``nn.Linear`` stores ``W.T``), so a
    filter -- one output neuron's incoming weights, a row of PyTorch's weight -- is a **column**
    ``W[:, j]``. Leaves of more than two dimensions normalize each slice along their last axis.
``"layer"``
    each weight array as a whole: :math:`d \leftarrow d\,\|\theta\|_F / \|d\|_F`.
``"weight"``
    element-wise, :math:`d \leftarrow d \odot |\theta|` (the reference code's ``weight`` option).
``"none"``
    the raw Gaussian.

Biases (leaves of at most one dimension) follow ``bias``: ``"zero"`` (:math:`d = 0`: the paper's
plots, the reference scripts' ``--xignore biasbn``), ``"copy"`` (:math:`d = \theta`: the reference
code's default for such leaves) or ``"random"`` (Gaussian, normalized as one filter under
``"filter"``/``"layer"``, element-wise under ``"weight"``, raw under ``"none"``).

Filter normalization makes a slice invariant to the rescalings that leave the network unchanged:
for ReLU units, scaling a layer's weights and bias by :math:`c > 0` and the next layer's weights by
:math:`1/c` changes neither the function nor the filter-normalized slice (the tests check it), while
raw directions see a different landscape.

**Other directions**: :func:`orthogonalize` (Gram-Schmidt, reporting the cosine between the two
directions before: random high-dimensional directions are nearly orthogonal already),
:func:`pca_directions` (principal components of a training trajectory, Li et al. Section 7),
:func:`hessian_directions` (extreme Hessian eigenvectors), :func:`interpolation` (the segment from
one parameter set to another) and :func:`plane` (the plane through three).

>>> import numpy as np, losslab as ll
>>> params = {"W1": np.array([[3.0, 0.0], [4.0, 1.0]]), "b1": np.ones(2)}
>>> d = ll.landscape.random_direction(params, seed=0)
>>> np.linalg.norm(d["W1"], axis=0).round(12).tolist(), d["b1"].tolist()   # filter norms 5 and 1
([5.0, 1.0], [0.0, 0.0])
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from losslab._core.tree import tree_flatten, tree_leaves_with_paths, tree_unflatten
from losslab._core.validation import check_choice, check_int
from losslab.landscape._flat import Flat

__all__ = [
    "PCADirections",
    "Plane",
    "hessian_directions",
    "interpolation",
    "orthogonalize",
    "pca_directions",
    "plane",
    "random_direction",
]

Normalization = Literal["filter", "layer", "weight", "none"]
BiasPolicy = Literal["zero", "copy", "random"]
NORMALIZATIONS = ("filter", "layer", "weight", "none")
BIAS_POLICIES = ("zero", "copy", "random")


def random_direction(
    params: Any,
    seed: int = 0,
    normalization: Normalization = "filter",
    bias: BiasPolicy = "zero",
) -> Any:
    """A random direction shaped like ``params``, normalized as ``normalization`` says (module docstring).

    Leaves of two or more dimensions are weights; leaves of at most one dimension are biases and
    follow ``bias``. A filter whose parameters are all zero gets a zero direction.
    """
    check_choice("random_direction", "normalization", normalization, NORMALIZATIONS)
    check_choice("random_direction", "bias", bias, BIAS_POLICIES)
    seed = check_int("random_direction", "seed", seed, minimum=0)
    _check_params(params, "random_direction")
    leaves, skeleton = tree_flatten(params)
    paths = [p for p, _ in tree_leaves_with_paths(params)]
    out = []
    for path, leaf in zip(paths, leaves):
        theta = np.asarray(leaf, dtype=np.float64)
        name = "/".join(str(p) for p in path)
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        d = rng.standard_normal(theta.shape)
        if theta.ndim <= 1:
            if bias == "zero":
                d = np.zeros_like(theta)
            elif bias == "copy":
                d = theta.copy()
            else:
                d = _normalize(d, theta, normalization, as_filter=True)
        else:
            d = _normalize(d, theta, normalization, as_filter=False)
        dtype = np.asarray(leaf).dtype
        out.append(d.astype(dtype) if np.issubdtype(dtype, np.floating) else d)
    return tree_unflatten(skeleton, out)


def _check_params(params: Any, where: str) -> None:
    for path, leaf in tree_leaves_with_paths(params):
        arr = np.asarray(leaf)
        if not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"{where}: params leaf {'/'.join(map(str, path))} is not numeric ({arr.dtype})")
        if not np.isfinite(arr).all():
            raise ValueError(
                f"{where}: params contains NaN or infinite values (in {'/'.join(map(str, path))})"
            )


def _normalize(d: np.ndarray, theta: np.ndarray, normalization: str, *, as_filter: bool) -> np.ndarray:
    if normalization == "none":
        return d
    if normalization == "weight":
        return d * np.abs(theta)
    if normalization == "layer" or as_filter or theta.ndim <= 1:
        nd = float(np.linalg.norm(d))
        return d * (float(np.linalg.norm(theta)) / nd) if nd > 0 else d
    # filter: every slice along the last axis (a column W[:, j] of a dense layer's (n_in, n_out) W)
    axes = tuple(range(theta.ndim - 1))
    nt = np.sqrt(np.sum(theta * theta, axis=axes, keepdims=True))
    nd = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
    return d * np.divide(nt, nd, out=np.zeros_like(nt), where=nd > 0)


def orthogonalize(d: Any, against: Any) -> tuple[Any, float]:
    r"""``(d - proj_against(d), cosine)``: ``d`` made orthogonal to ``against``, and
    :math:`\cos(d, \text{against})` before (the flat vectors' cosine)."""
    F = Flat(lambda p: 0.0, against, "orthogonalize")
    u, w = F.ravel(against, "against"), F.ravel(d, "d")
    nu, nw = float(np.linalg.norm(u)), float(np.linalg.norm(w))
    if nu == 0 or nw == 0:
        raise ValueError("orthogonalize: d and against must be nonzero directions")
    cosine = float(u @ w) / (nu * nw)
    return F.unravel(w - (u @ w) / (u @ u) * u), cosine


def interpolation(params_a: Any, params_b: Any) -> tuple[Any, Any]:
    r"""``(origin, direction)`` of the segment :math:`\theta(\alpha) = (1 - \alpha)\theta_a + \alpha\theta_b`:
    origin :math:`\theta_a`, direction :math:`\theta_b - \theta_a` (so ``slice_1d`` at ``alphas`` in
    [0, 1] walks from one to the other; Goodfellow et al. 2015, arXiv:1412.6544)."""
    F = Flat(lambda p: 0.0, params_a, "interpolation")
    b = F.ravel(params_b, "params_b")
    return params_a, F.unravel(b - F.x0)


@dataclass(frozen=True)
class Plane:
    """The plane through three parameter sets: ``origin`` (the first), orthogonal directions ``d1``,
    ``d2`` and the three points' ``coordinates`` (shape (3, 2): (0, 0), (1, 0), (a, b))."""

    origin: Any
    d1: Any
    d2: Any
    coordinates: np.ndarray


def plane(params_0: Any, params_1: Any, params_2: Any) -> Plane:
    r"""The plane through three parameter sets (Garipov et al. 2018, arXiv:1802.10026).

    :math:`d_1 = \theta_1 - \theta_0` and :math:`d_2 = (\theta_2 - \theta_0)` minus its projection on
    :math:`d_1`, rescaled to the norm of :math:`d_1`; :math:`\theta_0 + a d_1 + b d_2` is then
    :math:`\theta_0, \theta_1, \theta_2` at the returned coordinates.
    """
    F = Flat(lambda p: 0.0, params_0, "plane")
    u = F.ravel(params_1, "params_1") - F.x0
    w = F.ravel(params_2, "params_2") - F.x0
    uu = float(u @ u)
    if uu == 0:
        raise ValueError("plane: params_0 and params_1 are the same point")
    a = float(u @ w) / uu
    r = w - a * u
    nr = float(np.linalg.norm(r))
    if nr <= 1e-12 * float(np.linalg.norm(w)):
        raise ValueError("plane: the three parameter sets lie on one line")
    d2 = r * (np.sqrt(uu) / nr)
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [a, nr / np.sqrt(uu)]])
    return Plane(params_0, F.unravel(u), F.unravel(d2), coords)


@dataclass(frozen=True)
class PCADirections:
    """Principal directions of a trajectory (Li et al. 2018, Section 7).

    ``directions``: unit trees, the leading principal components of the trajectory's displacements
    from ``origin`` (its last point); ``explained_variance_ratio``: each component's share of the
    total variance of the (centered) displacements; ``coordinates``: shape (T, k), every point of the
    trajectory projected on the directions (``projection``: ``"cosine"`` or ``"lstsq"``), the last
    row (0, 0).
    """

    directions: tuple[Any, ...]
    explained_variance_ratio: np.ndarray
    coordinates: np.ndarray
    origin: Any


def pca_directions(
    trajectory: Sequence[Any],
    n_components: int = 2,
    *,
    projection: Literal["cosine", "lstsq"] = "cosine",
) -> PCADirections:
    r"""PCA directions of a recorded trajectory (``fit(..., record_params=True).trajectory``).

    With :math:`\theta_T` the last point, the rows :math:`\theta_t - \theta_T` are centered and
    decomposed by SVD (as scikit-learn's ``PCA``, which Li et al.'s code calls); the
    explained-variance ratios are :math:`s_i^2 / \sum_j s_j^2`. The path is projected on the
    directions (the columns :math:`D`) as ``"cosine"``, :math:`c_t = D^\top(\theta_t - \theta_T)`
    (each direction being a unit vector, the cosine projection of Li et al.'s code times the norm)
    or ``"lstsq"``, :math:`\min_c \|Dc - (\theta_t - \theta_T)\|`; the two agree since the
    directions are orthonormal.
    """
    check_choice("pca_directions", "projection", projection, ("cosine", "lstsq"))
    if isinstance(trajectory, (str, bytes)) or not isinstance(trajectory, Sequence) or len(trajectory) < 2:
        raise ValueError("pca_directions: trajectory must be a sequence of at least 2 parameter sets")
    k = check_int("pca_directions", "n_components", n_components, minimum=1)
    origin = trajectory[-1]
    F = Flat(lambda p: 0.0, origin, "pca_directions")
    M = np.stack([F.ravel(p, f"trajectory[{t}]") for t, p in enumerate(trajectory)]) - F.x0
    if k > min(M.shape):
        raise ValueError(f"pca_directions: n_components={k} exceeds min(points, parameters) = {min(M.shape)}")
    centered = M - M.mean(axis=0)
    _, s, Vt = np.linalg.svd(centered, full_matrices=False)
    total = float(np.sum(s**2))
    if total == 0:
        raise ValueError("pca_directions: the trajectory does not move (all points are equal)")
    ratio = s[:k] ** 2 / total
    D = Vt[:k].T
    coords = M @ D if projection == "cosine" else np.linalg.lstsq(D, M.T, rcond=None)[0].T
    return PCADirections(tuple(F.unravel(D[:, i]) for i in range(k)), ratio, coords, origin)


def hessian_directions(
    obj: Any, params: Any, k: int = 2, which: Literal["largest", "smallest"] = "largest", *, seed: int = 0
) -> tuple[Any, ...]:
    """The unit eigenvectors of the ``k`` largest (or smallest) Hessian eigenvalues, as trees like
    ``params`` (:func:`~losslab.landscape.hessian_eigs`)."""
    from losslab.landscape.hessian import hessian_eigs

    _, U = hessian_eigs(obj, params, k=k, which=which, seed=seed)
    F = Flat(obj, params, "hessian_directions")
    return tuple(F.unravel(U[:, i]) for i in range(U.shape[1]))
