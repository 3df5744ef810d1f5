"""Similarity and metric-learning losses.

Pair and triplet losses on embeddings (contrastive, triplet margin, cosine embedding, margin
ranking), triplet mining and the batch triplet loss over mined triplets, center loss with its
update rule, and the normalized-softmax margin losses CosFace and ArcFace.

Every loss here has several inputs; ``loss.grad(...)`` returns the gradients of the
differentiable ones as a tuple in argument order (one array when only one input is
differentiable). Embeddings are rows: shape ``(N, D)`` (or ``(..., D)`` where noted), one label or
one loss entry per row. At hinge kinks (``max(0, z)`` with ``z == 0``) and at coinciding points
(a Euclidean distance of exactly 0) the gradient is the zero subgradient.

>>> import losslab as ll
>>> float(ll.losses.contrastive([[0.0, 0.0]], [[0.3, 0.4]], [0.0], margin=1.0))  # d = 0.5
0.125
>>> a, p, n = ll.losses.mine_triplets([[0.0], [1.0], [3.0]], [0, 0, 1], "batch_hard")
>>> a.tolist(), p.tolist(), n.tolist()
([0, 1], [1, 0], [2, 2])
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from losslab._core.arrays import (
    array_namespace,
    as_float,
    as_int,
    is_numpy_namespace,
    result_float_dtype,
    to_numpy,
)
from losslab._core.config import get_config
from losslab._core.validation import (
    check_bool,
    check_choice,
    check_in_range,
    check_int,
    check_number,
    check_positive,
)
from losslab.losses._numerics import logsumexp, norm_scale
from losslab.losses._spec import (
    BINARY,
    NONNEGATIVE,
    PROBABILITY,
    REAL,
    Domain,
    Loss,
    Param,
    Terms,
    get,
    register,
)

__all__ = [
    "arcface",
    "batch_triplet",
    "center_combined",
    "center_loss",
    "center_update",
    "contrastive",
    "contrastive_distance",
    "cosface",
    "cosine_embedding",
    "margin_ranking",
    "mine_triplets",
    "triplet_margin",
]

Strategy = Literal["all", "hard", "semi_hard", "easy", "batch_hard", "random"]
Distance = Literal["euclidean", "squared_euclidean", "cosine"]
STRATEGIES = ("all", "hard", "semi_hard", "easy", "batch_hard", "random")
DISTANCES = ("euclidean", "squared_euclidean", "cosine")
SIGNS = Domain("labels -1 or 1", -1.0, 1.0, values=(-1.0, 1.0))
NORMALIZE_EPS = 1e-12  # torch.nn.functional.normalize's default eps
# Added to the squared norms by torch.nn.functional.cosine_embedding_loss: 1e-12 stored as a float32
# constant there, i.e. 9.999999960041972e-13 in float64.
COSINE_EPS = float(np.float32(1e-12))
HADSELL = "Hadsell, Chopra, LeCun (2006), Dimensionality Reduction by Learning an Invariant Mapping"
WEN = "Wen, Zhang, Li, Qiao (2016), A Discriminative Feature Learning Approach for Deep Face Recognition"


# --------------------------------------------------------------------------- shared helpers


def _check_nonnegative(where: str, name: str, value: Any) -> float:
    return check_positive(where, name, value, strict=False)


def _check_seed(where: str, name: str, value: Any) -> int | None:
    return None if value is None else check_int(where, name, value, minimum=0)


def _raw(xp: ModuleType, x: Any) -> Any:
    """``x`` as an array of ``xp`` without a dtype change."""
    if is_numpy_namespace(xp):
        return np.asarray(x)
    return x if hasattr(x, "dtype") else xp.asarray(x)


def _floats(
    xp: ModuleType, where: str, arrays: dict[str, Any], others: dict[str, Any] | None = None
) -> list[Any]:
    """Floating arrays in one dtype, set by ``arrays`` (the embeddings); ``others`` (labels) follow."""
    raw = {name: _raw(xp, x) for name, x in arrays.items()}
    dtype = result_float_dtype(xp, *raw.values())
    out = [as_float(xp, x, name, where, dtype=dtype) for name, x in raw.items()]
    for name, x in (others or {}).items():
        out.append(as_float(xp, _raw(xp, x), name, where, dtype=dtype))
    return out


def _check_rows(where: str, x: Any, name: str, ndim: int | None = None) -> None:
    """``x`` holds at least one row of a non-empty last (feature) axis."""
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{where}: {name} must be {ndim}-D, got shape {tuple(x.shape)}")
    if x.ndim < 1:
        raise ValueError(f"{where}: {name} must have a feature (last) axis, got a scalar")
    if math.prod(tuple(x.shape)) == 0:
        raise ValueError(
            f"{where}: {name} is empty (shape {tuple(x.shape)}); a loss needs at least one entry"
        )


def _check_same_shape(where: str, a: Any, a_name: str, b: Any, b_name: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{where}: {a_name} and {b_name} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def _check_labels_shape(where: str, labels: Any, name: str, expected: tuple[int, ...], of: str) -> None:
    if tuple(labels.shape) != tuple(expected):
        raise ValueError(
            f"{where}: {name} must hold one entry per row of {of}, shape {tuple(expected)}, "
            f"got {tuple(labels.shape)}"
        )


def _check_finite(xp: ModuleType, where: str, **arrays: Any) -> None:
    if get_config().validate:
        for name, x in arrays.items():
            REAL.check(xp, x, name, where)


def _check_class_range(xp: ModuleType, where: str, labels: Any, name: str, n_classes: int) -> None:
    if not get_config().validate or math.prod(tuple(labels.shape)) == 0:
        return
    lo, hi = int(xp.min(labels)), int(xp.max(labels))
    if lo < 0 or hi >= n_classes:
        bad = lo if lo < 0 else hi
        raise ValueError(f"{where}: {name} must hold class indices in [0, {n_classes}), got {bad}")


def _relu(xp: ModuleType, x: Any) -> Any:
    """max(x, 0); its derivative (used via ``x > 0``) is 0 at the kink."""
    return xp.where(x > 0, x, xp.zeros_like(x))


def _step(xp: ModuleType, x: Any) -> Any:
    """1 where x > 0, else 0, in x's dtype."""
    return xp.astype(x > 0, x.dtype)


def _safe_sqrt(xp: ModuleType, s: Any) -> Any:
    """sqrt(s) for s >= 0 whose autograd derivative is 0 (not NaN) at s = 0."""
    pos = s > 0
    return xp.where(pos, xp.sqrt(xp.where(pos, s, xp.ones_like(s))), xp.zeros_like(s))


def _safe_div(xp: ModuleType, a: Any, b: Any) -> Any:
    """a / b where b > 0, else 0."""
    pos = b > 0
    return xp.where(pos, a / xp.where(pos, b, xp.ones_like(b)), xp.zeros_like(a))


def _col(cot: Any) -> Any:
    """A cotangent (scalar or shaped like a per-row loss) broadcast against the feature axis."""
    return cot[..., None] if getattr(cot, "ndim", 0) else cot


def _scatter_rows(xp: ModuleType, index: Any, values: Any, n: int) -> Any:
    """``out[index[t]] += values[t]`` for an ``(n, D)`` output (scatter-add over rows)."""
    if is_numpy_namespace(xp):
        out = np.zeros((n, values.shape[-1]), dtype=values.dtype)
        np.add.at(out, np.asarray(index), values)
        return out
    onehot = xp.astype(xp.arange(n, device=values.device)[:, None] == index[None, :], values.dtype)
    return onehot @ values


def _normalize(xp: ModuleType, x: Any, axis: int) -> tuple[Any, Any]:
    """``x / max(||x||, 1e-12)`` along ``axis`` (``F.normalize``) and the clamped norm."""
    norm = xp.sqrt(xp.sum(x * x, axis=axis, keepdims=True))
    clamped = xp.where(norm > NORMALIZE_EPS, norm, xp.full_like(norm, NORMALIZE_EPS))
    return x / clamped, clamped


def _normalize_vjp(xp: ModuleType, xn: Any, clamped: Any, g: Any, axis: int) -> Any:
    """Pull ``g`` back through ``x -> x / max(||x||, eps)``: ``(g - xn (xn . g)) / ||x||``."""
    proj = g - xn * xp.sum(g * xn, axis=axis, keepdims=True)
    return xp.where(clamped > NORMALIZE_EPS, proj, g) / clamped


# --------------------------------------------------------------------------- contrastive


def _contrastive_prepare(xp, x1, x2, similar, *, margin):
    x1, x2, similar = _floats(xp, "contrastive", {"x1": x1, "x2": x2}, {"similar": similar})
    _check_rows("contrastive", x1, "x1")
    _check_same_shape("contrastive", x1, "x1", x2, "x2")
    _check_labels_shape("contrastive", similar, "similar", tuple(x1.shape[:-1]), "x1")
    _check_finite(xp, "contrastive", x1=x1, x2=x2)
    if get_config().validate:
        PROBABILITY.check(xp, similar, "similar", "contrastive")
    return x1, x2, similar


def _contrastive_forward(xp, x1, x2, similar, *, need_grad, margin):
    u = x1 - x2
    sq = xp.sum(u * u, axis=-1)
    d = _safe_sqrt(xp, sq)
    gap = _relu(xp, margin - d)
    # (masked, not multiplied: an overflowed similar-pair term must not turn 0 * inf into NaN)
    zero = xp.zeros_like(sq)
    loss = 0.5 * (
        xp.where(similar != 0, similar * sq, zero) + xp.where(similar != 1, (1.0 - similar) * gap * gap, zero)
    )

    def vjp(cot):
        # dl/du = [y - (1 - y) max(0, m - d) / d] u, with the second term 0 at d = 0.
        coef = similar - (1.0 - similar) * _safe_div(xp, gap, d)
        g1 = _col(cot * coef) * u
        return g1, -g1

    return Terms(loss, vjp=vjp if need_grad else None)


def _contrastive_sample(rng, *, margin):
    # Rows keep |d - margin| >= 0.1 (away from the hinge) and d >= 0.1.
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    while len(rows) < 6:
        a = rng.normal(size=3)
        b = a + rng.normal(size=3) * rng.uniform(0.2, 1.0) * margin
        d = float(np.linalg.norm(a - b))
        if abs(d - margin) >= 0.1 and d >= 0.1:
            rows.append((a, b))
    similar = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), similar


def _contrastive_perfect(rng, *, margin):
    x1 = rng.normal(size=(4, 3))
    push = rng.normal(size=(4, 3))
    push *= (margin + 0.5) / np.linalg.norm(push, axis=-1, keepdims=True)
    similar = np.array([1.0, 0.0, 1.0, 0.0])
    x2 = x1 + (1.0 - similar)[:, None] * push
    return x1, x2, similar


contrastive = register(
    Loss(
        "contrastive",
        task="similarity",
        inputs=("x1", "x2", "similar"),
        differentiable=("x1", "x2"),
        params={"margin": Param(1.0, check_positive, "distance beyond which dissimilar pairs cost nothing")},
        prepare=_contrastive_prepare,
        forward=_contrastive_forward,
        sample=_contrastive_sample,
        perfect=_contrastive_perfect,
        test_params=({}, {"margin": 2.0}),
        doc=r"""Contrastive loss of Hadsell, Chopra and LeCun (2006) on pairs of embeddings.

        .. math::
            \ell_i = \tfrac12\left[y_i d_i^2 + (1 - y_i)\max(0, m - d_i)^2\right],\quad
            d_i = \lVert x_{1,i} - x_{2,i}\rVert_2

        .. math::
            \frac{\partial\ell_i}{\partial x_{1,i}} = -\frac{\partial\ell_i}{\partial x_{2,i}}
            = \left[y_i - (1 - y_i)\frac{\max(0, m - d_i)}{d_i}\right](x_{1,i} - x_{2,i})

        ``x1``, ``x2``: embeddings of shape ``(..., D)``; ``similar`` (y): 1 for similar pairs, 0 for
        dissimilar ones (soft values in [0, 1] are accepted), shape ``(...)``; ``margin`` (m).
        At ``d = 0`` the dissimilar term's gradient (direction undefined) is 0. On distances you
        computed yourself use :data:`contrastive_distance`. PyTorch has no built-in equivalent.

        >>> import losslab as ll
        >>> float(ll.losses.contrastive([[0.0, 0.0]], [[3.0, 4.0]], [1.0]))  # 0.5 * 5^2
        12.5
        """,
        info=dict(
            summary="Contrastive (siamese) loss: similar pairs pulled together, others pushed past a margin.",
            formula=r"\ell = \tfrac12[y d^2 + (1-y)\max(0, m - d)^2],\ d = \lVert x_1 - x_2\rVert_2",
            gradient=(
                r"\partial\ell/\partial x_1 = -\partial\ell/\partial x_2"
                r" = [y - (1-y)\max(0, m-d)/d](x_1 - x_2)"
            ),
            use_when="Siamese networks with pair labels (same / different): verification, signatures.",
            conventions=(
                "The curriculum's 1/2 factor; y = 1 means similar (some texts swap the label). Inputs x1, x2 "
                "(..., D), similar (...). Zero gradient for the dissimilar term at d = 0."
            ),
            references=(HADSELL,),
        ),
    )
)


def _contrastive_distance_prepare(xp, distance, similar, *, margin):
    distance, similar = _floats(xp, "contrastive_distance", {"distance": distance}, {"similar": similar})
    _check_same_shape("contrastive_distance", distance, "distance", similar, "similar")
    if math.prod(tuple(distance.shape)) == 0:
        raise ValueError(f"contrastive_distance: distance is empty (shape {tuple(distance.shape)})")
    if get_config().validate:
        NONNEGATIVE.check(xp, distance, "distance", "contrastive_distance")
        PROBABILITY.check(xp, similar, "similar", "contrastive_distance")
    return distance, similar


def _contrastive_distance_forward(xp, distance, similar, *, need_grad, margin):
    gap = _relu(xp, margin - distance)
    loss = 0.5 * (similar * distance * distance + (1.0 - similar) * gap * gap)
    return Terms(
        loss, vjp=(lambda cot: (cot * (similar * distance - (1.0 - similar) * gap),)) if need_grad else None
    )


def _contrastive_distance_sample(rng, *, margin):
    d = rng.uniform(0.0, 2.0 * margin, size=(4, 3))
    d = np.where(np.abs(d - margin) < 0.05 * margin, d + 0.1 * margin, d)
    return d, BINARY.sample(rng, (4, 3))


def _contrastive_distance_perfect(rng, *, margin):
    similar = BINARY.sample(rng, (4, 3))
    return np.where(similar == 1, 0.0, margin + rng.uniform(0.0, 2.0, size=(4, 3))), similar


contrastive_distance = register(
    Loss(
        "contrastive_distance",
        task="similarity",
        inputs=("distance", "similar"),
        differentiable=("distance",),
        params={"margin": Param(1.0, check_positive, "distance beyond which dissimilar pairs cost nothing")},
        prepare=_contrastive_distance_prepare,
        forward=_contrastive_distance_forward,
        sample=_contrastive_distance_sample,
        perfect=_contrastive_distance_perfect,
        test_params=({}, {"margin": 0.5}),
        doc=r"""Contrastive loss on distances you computed: the curriculum's Contrastive(d, y).

        .. math::
            \ell = \tfrac12\left[y d^2 + (1 - y)\max(0, m - d)^2\right],\qquad
            \frac{\partial\ell}{\partial d} = y d - (1 - y)\max(0, m - d)

        ``distance`` (d >= 0, any shape), ``similar`` (y in [0, 1], same shape), ``margin`` (m).
        Chain the gradient through your own distance function; :data:`contrastive` does it for
        Euclidean distances between embeddings.

        >>> import losslab as ll
        >>> float(ll.losses.contrastive_distance([0.5], [0.0], margin=1.0))  # 0.5 * (1 - 0.5)^2
        0.125
        """,
        info=dict(
            summary="Contrastive loss on given distances (Contrastive(d, y) of the curriculum).",
            formula=r"\ell = \tfrac12[y d^2 + (1-y)\max(0, m - d)^2]",
            gradient=r"\partial\ell/\partial d = y d - (1-y)\max(0, m-d)",
            convex=True,
            use_when="Pair losses on a distance of your choice (cosine, learned metric, ...).",
            conventions="The curriculum's 1/2 factor; y = 1 means similar; d must be >= 0.",
            references=(HADSELL,),
        ),
    )
)


# --------------------------------------------------------------------------- triplet margin


def _check_p(where: str, name: str, value: Any) -> float:
    out = check_number(where, name, value)
    if out < 1:
        raise ValueError(f"{where}: {name} must be a norm degree >= 1, got {name}={value!r}")
    return out


def _pnorm(xp: ModuleType, u: Any, p: float) -> Any:
    """||u||_p along the last axis, as ``s ||u / s||_p`` where powers would overflow.

    For p = 2 only rows with huge entries are rescaled (the others are computed unchanged); for
    other p > 1 every row is, by its max |u|, so ``|u / s|^p <= 1`` for any p (p = 1e300 gives the
    max norm, the exact limit).
    """
    if p == 2:
        s = norm_scale(xp, u)
        r = u / s
        return s[..., 0] * _safe_sqrt(xp, xp.sum(r * r, axis=-1))
    a = xp.abs(u)
    if p == 1:
        return xp.sum(a, axis=-1)
    s = norm_scale(xp, a, always=True)
    total = xp.sum((a / s) ** p, axis=-1)  # >= 1 where u != 0 (the max entry contributes 1)
    pos = total > 0
    return s[..., 0] * xp.where(
        pos, xp.where(pos, total, xp.ones_like(total)) ** (1.0 / p), xp.zeros_like(total)
    )


def _pnorm_grad(xp: ModuleType, u: Any, d: Any, p: float) -> Any:
    """d||u||_p / du = sign(u) (|u| / ||u||_p)^{p-1} (0 where ||u||_p = 0); the ratio is <= 1."""
    if p == 1:
        return xp.sign(u)
    if p == 2:
        return _safe_div(xp, u, d[..., None])
    return xp.sign(u) * _safe_div(xp, xp.abs(u), d[..., None]) ** (p - 1.0)


def _triplet_prepare(xp, anchor, positive, negative, *, margin, p, eps, swap):
    where = "triplet_margin"
    anchor, positive, negative = _floats(
        xp, where, {"anchor": anchor, "positive": positive, "negative": negative}
    )
    _check_rows(where, anchor, "anchor")
    _check_same_shape(where, anchor, "anchor", positive, "positive")
    _check_same_shape(where, anchor, "anchor", negative, "negative")
    _check_finite(xp, where, anchor=anchor, positive=positive, negative=negative)
    return anchor, positive, negative


def _triplet_forward(xp, anchor, positive, negative, *, need_grad, margin, p, eps, swap):
    u_ap, u_an = anchor - positive + eps, anchor - negative + eps
    d_ap, d_an = _pnorm(xp, u_ap, p), _pnorm(xp, u_an, p)
    d_neg = d_an
    if swap:
        u_pn = positive - negative + eps
        d_pn = _pnorm(xp, u_pn, p)
        use_pn = d_pn < d_an
        d_neg = xp.where(use_pn, d_pn, d_an)
    z = margin + d_ap - d_neg
    loss = _relu(xp, z)

    def vjp(cot):
        g = cot * _step(xp, z)
        g_ap = _col(g) * _pnorm_grad(xp, u_ap, d_ap, p)
        w_an = g if not swap else g * xp.astype(~use_pn, z.dtype)
        g_an = _col(w_an) * _pnorm_grad(xp, u_an, d_an, p)
        grad_a, grad_p, grad_n = g_ap - g_an, -g_ap, g_an
        if swap:
            g_pn = _col(g * xp.astype(use_pn, z.dtype)) * _pnorm_grad(xp, u_pn, d_pn, p)
            grad_p, grad_n = grad_p - g_pn, grad_n + g_pn
        return grad_a, grad_p, grad_n

    return Terms(loss, vjp=vjp if need_grad else None)


def _triplet_sample(rng, *, margin, p, eps, swap):
    # Rows keep the hinge argument, the swap choice and (p = 1) every |u_k| away from their kinks.
    rows: list[np.ndarray] = []
    while len(rows) < 6:
        a = rng.normal(size=3)
        pos = a + 0.6 * rng.normal(size=3)
        neg = a + rng.uniform(0.3, 1.5) * rng.normal(size=3)
        us = [a - pos + eps, a - neg + eps, pos - neg + eps]
        d_ap, d_an, d_pn = (float(np.sum(np.abs(u) ** p) ** (1 / p)) for u in us)
        d_neg = min(d_an, d_pn) if swap else d_an
        if abs(margin + d_ap - d_neg) < 0.05 or (swap and abs(d_an - d_pn) < 0.05):
            continue
        if p == 1 and min(float(np.min(np.abs(u))) for u in us) < 0.02:
            continue
        rows.append(np.stack([a, pos, neg]))
    batch = np.stack(rows)
    return batch[:, 0], batch[:, 1], batch[:, 2]


def _triplet_perfect(rng, *, margin, p, eps, swap):
    anchor = rng.normal(size=(4, 3))
    push = rng.normal(size=(4, 3))
    push *= (2.0 * margin + 1.0) / np.linalg.norm(push, axis=-1, keepdims=True)
    return anchor, anchor.copy(), anchor + push


def _triplet_torch(torch, anchor, positive, negative, *, reduction, **params):
    return torch.nn.functional.triplet_margin_loss(anchor, positive, negative, reduction=reduction, **params)


triplet_margin = register(
    Loss(
        "triplet_margin",
        task="similarity",
        inputs=("anchor", "positive", "negative"),
        differentiable=("anchor", "positive", "negative"),
        params={
            "margin": Param(1.0, _check_nonnegative, "required gap between d(a, n) and d(a, p)"),
            "p": Param(2.0, _check_p, "degree of the pairwise distance norm"),
            "eps": Param(1e-6, _check_nonnegative, "added to each difference before the norm (PyTorch)"),
            "swap": Param(False, check_bool, "use min(d(a, n), d(p, n)) as the negative distance"),
        },
        prepare=_triplet_prepare,
        forward=_triplet_forward,
        sample=_triplet_sample,
        perfect=_triplet_perfect,
        torch_fn=_triplet_torch,
        test_params=({}, {"p": 1.0}, {"swap": True}, {"margin": 0.5, "p": 3.0, "swap": True}),
        doc=r"""Triplet margin loss (Schroff et al. 2015), exactly PyTorch's ``triplet_margin_loss``.

        .. math::
            \ell_i = \max\left(0,\ m + d(a_i, p_i) - d^-_i\right),\quad
            d(x, y) = \lVert x - y + \epsilon\rVert_p,\quad
            d^-_i = \begin{cases}\min(d(a_i, n_i), d(p_i, n_i)) & \text{swap}\\
            d(a_i, n_i) & \text{otherwise}\end{cases}

        .. math::
            \frac{\partial d(x, y)}{\partial x} = -\frac{\partial d(x, y)}{\partial y}
            = \frac{\operatorname{sign}(u)\,|u|^{p-1}}{\lVert u\rVert_p^{p-1}},\ u = x - y + \epsilon;
            \text{ the hinge passes } \pm 1 \text{ where } \ell_i > 0

        ``anchor`` (a), ``positive`` (p), ``negative`` (n): embeddings of shape ``(..., D)``;
        ``margin`` (m), ``p`` (norm degree >= 1), ``eps`` (epsilon, added to the difference as in
        PyTorch's ``pairwise_distance``), ``swap`` (the distance swap of Balntas et al. 2016).

        >>> import losslab as ll
        >>> round(float(ll.losses.triplet_margin([[0.0, 0.0]], [[0.0, 1.0]], [[0.0, 1.5]], eps=0.0)), 12)
        0.5
        """,
        info=dict(
            summary="Triplet margin loss: the anchor nearer the positive than the negative by a margin.",
            formula=r"\ell = \max(0, m + \lVert a - p + \epsilon\rVert_p - \lVert a - n + \epsilon\rVert_p)",
            gradient=(
                r"\partial\ell/\partial a = \mathbb 1[\ell>0](\nabla\lVert u_{ap}\rVert_p"
                r" - \nabla\lVert u_{an}\rVert_p),\ \nabla\lVert u\rVert_p = \operatorname{sign}(u)|u|^{p-1}"
                r"/\lVert u\rVert_p^{p-1}"
            ),
            torch="torch.nn.TripletMarginLoss(margin, p, eps, swap)",
            use_when="Embedding learning from anchor / positive / negative triplets (faces, re-id).",
            conventions=(
                "PyTorch's eps is added to the difference before the norm (d = ||x - y + eps||_p), so "
                "d(a, a) = eps * D^(1/p), not 0. Zero subgradient at the hinge (PyTorch passes the "
                "gradient at exactly 0). Inputs (..., D); PyTorch accepts only 1-D or 2-D."
            ),
            references=(
                "Schroff, Kalenichenko, Philbin (2015), FaceNet, arXiv:1503.03832",
                "Balntas et al. (2016), Learning local feature descriptors with triplets (distance swap)",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- cosine embedding


def _cosine_embedding_prepare(xp, x1, x2, y, *, margin):
    where = "cosine_embedding"
    x1, x2, y = _floats(xp, where, {"x1": x1, "x2": x2}, {"y": y})
    _check_rows(where, x1, "x1")
    _check_same_shape(where, x1, "x1", x2, "x2")
    _check_labels_shape(where, y, "y", tuple(x1.shape[:-1]), "x1")
    _check_finite(xp, where, x1=x1, x2=x2)
    if get_config().validate:
        SIGNS.check(xp, y, "y", where)
    return x1, x2, y


def _cosine_embedding_forward(xp, x1, x2, y, *, need_grad, margin):
    # Rows with huge entries are divided by their max |x| first (cos is scale-invariant; the eps
    # term scales with them), so squares never overflow; other rows are computed unchanged.
    s1, s2 = norm_scale(xp, x1), norm_scale(xp, x2)
    x1, x2 = x1 / s1, x2 / s2
    s1, s2 = s1[..., 0], s2[..., 0]
    sq1 = xp.sum(x1 * x1, axis=-1) + COSINE_EPS / s1 / s1
    sq2 = xp.sum(x2 * x2, axis=-1) + COSINE_EPS / s2 / s2
    den = xp.sqrt(sq1 * sq2)
    dot = xp.sum(x1 * x2, axis=-1)
    cos = dot / den
    zero = xp.zeros_like(cos)
    loss = xp.where(y == 1, 1.0 - cos, xp.where(y == -1, _relu(xp, cos - margin), zero))

    def vjp(cot):
        dcos = xp.where(y == 1, -xp.ones_like(cos), xp.where(y == -1, _step(xp, cos - margin), zero))
        g = cot * dcos
        # d cos / d x1 = x2 / den - (dot * sq2 / den^3) x1 (= cos x1 / sq1), in PyTorch's order of
        # operations so that tiny vectors, where the two terms nearly cancel, round alike.
        g_sq = -g * dot / (den * den) / (2.0 * den)
        g1 = (g / den)[..., None] * x2 + (2.0 * g_sq * sq2)[..., None] * x1
        g2 = (g / den)[..., None] * x1 + (2.0 * g_sq * sq1)[..., None] * x2
        return g1 / s1[..., None], g2 / s2[..., None]  # (the chain rule through x / s)

    return Terms(loss, vjp=vjp if need_grad else None)


def _cosine_embedding_sample(rng, *, margin):
    x1, x2, y = [], [], []
    labels = [1.0, -1.0, -1.0, 1.0, -1.0, -1.0]
    while len(y) < len(labels):
        a, b = rng.normal(size=3), rng.normal(size=3)
        label = labels[len(y)]
        cos = float(a @ b / np.sqrt((a @ a + COSINE_EPS) * (b @ b + COSINE_EPS)))
        if label == -1 and abs(cos - margin) < 0.05:
            continue
        x1.append(a)
        x2.append(b)
        y.append(label)
    return np.array(x1), np.array(x2), np.array(y)


def _cosine_embedding_perfect(rng, *, margin):
    # |x1|^2 >= 12, so PyTorch's 1e-12 eps in the norms moves cos by at most ~1e-13.
    x1 = rng.uniform(2.0, 5.0, size=(4, 3)) * rng.choice([-1.0, 1.0], size=(4, 3))
    y = np.array([1.0, -1.0, 1.0, -1.0])
    x2 = np.where(y[:, None] == 1, 2.0 * x1, -x1)  # cos = 1 (up to the 1e-12 eps) or -1 < margin
    return x1, x2, y


cosine_embedding = register(
    Loss(
        "cosine_embedding",
        task="similarity",
        inputs=("x1", "x2", "y"),
        differentiable=("x1", "x2"),
        params={
            "margin": Param(
                0.0,
                lambda w, n, v: check_in_range(w, n, v, -1.0, 1.0),
                "cosine below which dissimilar pairs cost nothing",
            )
        },
        prepare=_cosine_embedding_prepare,
        forward=_cosine_embedding_forward,
        sample=_cosine_embedding_sample,
        perfect=_cosine_embedding_perfect,
        torch_fn=lambda torch, x1, x2, y, *, reduction, margin=0.0: torch.nn.functional.cosine_embedding_loss(
            x1, x2, y, margin=margin, reduction=reduction
        ),
        test_params=({}, {"margin": 0.3}, {"margin": -0.4}),
        doc=r"""Cosine embedding loss, exactly PyTorch's ``cosine_embedding_loss``.

        .. math::
            \ell_i = \begin{cases} 1 - \cos_i & y_i = 1\\ \max(0, \cos_i - m) & y_i = -1\end{cases},\quad
            \cos_i = \frac{x_{1,i}\cdot x_{2,i}}{\sqrt{(\lVert x_{1,i}\rVert^2 + \epsilon)
            (\lVert x_{2,i}\rVert^2 + \epsilon)}},\ \epsilon = 10^{-12}

        .. math::
            \frac{\partial\cos}{\partial x_1} = \frac{x_2}{\sqrt{(\lVert x_1\rVert^2+\epsilon)
            (\lVert x_2\rVert^2+\epsilon)}} - \frac{\cos\, x_1}{\lVert x_1\rVert^2 + \epsilon}
            \text{ (symmetric for } x_2);\
            \frac{\partial\ell}{\partial\cos} = -1 \ (y=1),\ \mathbb 1[\cos > m]\ (y=-1)

        ``x1``, ``x2``: shape ``(..., D)``; ``y``: +1 (similar) or -1 (dissimilar), shape ``(...)``;
        ``margin`` (m) in [-1, 1]. The epsilon is added to the squared norms, as PyTorch does, with
        its value there: ``float(np.float32(1e-12))``.

        >>> import losslab as ll
        >>> float(ll.losses.cosine_embedding([[1.0, 0.0]], [[0.0, 2.0]], [1.0]))  # cos = 0
        1.0
        """,
        info=dict(
            summary="Cosine embedding loss: cosine up for similar pairs, below a margin for the others.",
            formula=r"\ell = 1 - \cos(x_1, x_2)\ (y = 1),\ \max(0, \cos(x_1, x_2) - m)\ (y = -1)",
            gradient=(
                r"\partial\cos/\partial x_1 = x_2/(\lVert x_1\rVert\lVert x_2\rVert)"
                r" - \cos\, x_1/\lVert x_1\rVert^2,"
                r"\ \partial\ell/\partial\cos = -1\ \text{or}\ \mathbb 1[\cos > m]"
            ),
            torch="torch.nn.CosineEmbeddingLoss(margin)",
            use_when="Pairs judged by angle, not length: text / image embedding similarity.",
            conventions=(
                "PyTorch's eps = 1e-12 (a float32 constant) added to each squared norm. y must be -1 or 1 "
                "(PyTorch gives 0 for other values; losslab raises unless validation is off). Zero "
                "subgradient at cos = m."
            ),
        ),
    )
)


# --------------------------------------------------------------------------- margin ranking


def _margin_ranking_prepare(xp, x1, x2, y, *, margin):
    where = "margin_ranking"
    x1, x2, y = _floats(xp, where, {"x1": x1, "x2": x2}, {"y": y})
    _check_same_shape(where, x1, "x1", x2, "x2")
    _check_same_shape(where, x1, "x1", y, "y")
    if math.prod(tuple(x1.shape)) == 0:
        raise ValueError(f"{where}: x1 is empty (shape {tuple(x1.shape)}); a loss needs at least one entry")
    _check_finite(xp, where, x1=x1, x2=x2)
    if get_config().validate:
        SIGNS.check(xp, y, "y", where)
    return x1, x2, y


def _margin_ranking_forward(xp, x1, x2, y, *, need_grad, margin):
    z = margin - y * (x1 - x2)
    loss = _relu(xp, z)

    def vjp(cot):
        g = cot * _step(xp, z) * y
        return -g, g

    return Terms(loss, vjp=vjp if need_grad else None)


def _margin_ranking_sample(rng, *, margin):
    y = SIGNS.sample(rng, (8,))
    x1, x2 = rng.normal(size=8), rng.normal(size=8)
    z = margin - y * (x1 - x2)
    x1 = np.where(np.abs(z) < 0.05, x1 + 0.2, x1)
    return x1, x2, y


def _margin_ranking_perfect(rng, *, margin):
    x2, y = rng.normal(size=6), SIGNS.sample(rng, (6,))
    return x2 + y * (abs(margin) + 1.0), x2, y  # y (x1 - x2) = |m| + 1 >= m


margin_ranking = register(
    Loss(
        "margin_ranking",
        task="similarity",
        inputs=("x1", "x2", "y"),
        differentiable=("x1", "x2"),
        params={"margin": Param(0.0, check_number, "required gap y * (x1 - x2)")},
        prepare=_margin_ranking_prepare,
        forward=_margin_ranking_forward,
        sample=_margin_ranking_sample,
        perfect=_margin_ranking_perfect,
        grad_bound=lambda **_: 1.0,
        torch_fn=lambda torch, x1, x2, y, *, reduction, margin=0.0: torch.nn.functional.margin_ranking_loss(
            x1, x2, y, margin=margin, reduction=reduction
        ),
        test_params=({}, {"margin": 0.5}, {"margin": -0.3}),
        doc=r"""Margin ranking loss, exactly PyTorch's ``margin_ranking_loss``.

        .. math::
            \ell_i = \max(0, -y_i (x_{1,i} - x_{2,i}) + m),\qquad
            \frac{\partial\ell_i}{\partial x_{1,i}} = -\frac{\partial\ell_i}{\partial x_{2,i}}
            = -y_i\,\mathbb 1[\ell_i > 0]

        ``x1``, ``x2``: scores of the same shape; ``y``: +1 where ``x1`` should rank higher, -1
        where ``x2`` should; ``margin`` (m).

        >>> import losslab as ll
        >>> float(ll.losses.margin_ranking([1.0], [2.0], [1.0], margin=0.5))
        1.5
        """,
        info=dict(
            summary="Margin ranking loss: the preferred score above the other by at least a margin.",
            formula=r"\ell = \max(0, -y(x_1 - x_2) + m)",
            gradient=r"\partial\ell/\partial x_1 = -\partial\ell/\partial x_2 = -y\,\mathbb 1[\ell > 0]",
            convex=True,
            robust=True,
            torch="torch.nn.MarginRankingLoss(margin)",
            use_when="Pairwise ranking of scores (learning to rank, preference pairs).",
            conventions="y must be -1 or 1 (checked unless validation is off). Zero subgradient at the kink.",
        ),
    )
)


# --------------------------------------------------------------------------- mining


def _pairwise_distances(x: np.ndarray, distance: str) -> np.ndarray:
    """The ``(N, N)`` distance matrix of the rows of ``x`` (direct differences, row blocks)."""
    if distance == "cosine":
        xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), NORMALIZE_EPS)
        return 1.0 - xn @ xn.T
    n = x.shape[0]
    out = np.empty((n, n), dtype=x.dtype)
    block = max(1, (1 << 20) // max(1, n * x.shape[1]))
    for start in range(0, n, block):
        diff = x[start : start + block, None, :] - x[None, :, :]
        out[start : start + block] = np.einsum("ijk,ijk->ij", diff, diff)
    return np.sqrt(out) if distance == "euclidean" else out


def _mining_inputs(embeddings: Any, labels: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    x = as_float(np, to_numpy(embeddings), "embeddings", where)
    y = as_int(np, to_numpy(labels), "labels", where)
    _check_rows(where, x, "embeddings", ndim=2)
    _check_labels_shape(where, y, "labels", (x.shape[0],), "embeddings")
    _check_finite(np, where, embeddings=x)
    return x, y


def _check_mining_margin(where: str, margin: Any) -> float:
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.floating, np.integer)):
        raise TypeError(f"{where}: margin must be a real number, got margin={margin!r}")
    out = float(margin)
    if math.isnan(out) or out < 0:
        raise ValueError(
            f"{where}: margin must be >= 0 (math.inf selects every triplet), got margin={margin!r}"
        )
    return out


def _mine(
    dist: np.ndarray, y: np.ndarray, strategy: str, margin: float, rng: np.random.Generator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Mine from an ``(N, N)`` distance matrix (see :func:`mine_triplets`)."""
    same = y[:, None] == y[None, :]
    out_a: list[np.ndarray] = []
    out_p: list[np.ndarray] = []
    out_n: list[np.ndarray] = []
    for a in range(dist.shape[0]):
        pos = np.flatnonzero(same[a])
        pos = pos[pos != a]
        neg = np.flatnonzero(~same[a])
        if pos.size == 0 or neg.size == 0:
            continue
        if strategy == "batch_hard":
            p_sel = pos[[int(np.argmax(dist[a, pos]))]]
            n_sel = neg[[int(np.argmin(dist[a, neg]))]]
        elif strategy == "random":
            p_sel = rng.choice(pos, size=1)
            n_sel = rng.choice(neg, size=1)
        else:
            m = dist[a, neg][None, :] - dist[a, pos][:, None]  # m[p, n] = d(a, n) - d(a, p)
            if strategy == "all":
                keep = m <= margin
            elif strategy == "hard":
                keep = m <= 0
            elif strategy == "semi_hard":
                keep = (m > 0) & (m <= margin)
            else:  # easy
                keep = m > margin
            ip, in_ = np.nonzero(keep)
            p_sel, n_sel = pos[ip], neg[in_]
        out_a.append(np.full(p_sel.size, a, dtype=np.intp))
        out_p.append(p_sel.astype(np.intp))
        out_n.append(n_sel.astype(np.intp))
    if not out_a:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy(), empty.copy()
    return np.concatenate(out_a), np.concatenate(out_p), np.concatenate(out_n)


def mine_triplets(
    embeddings: npt.ArrayLike,
    labels: npt.ArrayLike,
    strategy: Strategy,
    margin: float = 1.0,
    distance: Distance = "euclidean",
    normalize: bool = False,
    seed: int | np.random.Generator | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    r"""Mine (anchor, positive, negative) index triplets from a labelled batch of embeddings.

    A triplet is valid when ``labels[a] == labels[p]``, ``a != p`` and ``labels[n] != labels[a]``.
    With :math:`m = d(a, n) - d(a, p)` (how far the negative is beyond the positive):

    ``"all"``
        every valid triplet with :math:`m \le` margin (those the triplet loss does not ignore;
        ``margin=math.inf`` returns every valid triplet);
    ``"hard"``
        :math:`m \le 0` (the negative at most as far as the positive);
    ``"semi_hard"``
        :math:`0 < m \le` margin (FaceNet's semi-hard negatives);
    ``"easy"``
        :math:`m >` margin (zero loss);
    ``"batch_hard"``
        one triplet per anchor: its farthest positive and its nearest negative (Hermans et al.
        2017; ties go to the lowest index), whatever the margin;
    ``"random"``
        one triplet per anchor: a uniformly random positive and negative (``seed``).

    Anchors without a positive or without a negative in the batch are dropped. ``distance`` is
    ``"euclidean"`` :math:`\lVert x_i - x_j\rVert_2`, ``"squared_euclidean"`` or ``"cosine"``
    :math:`1 - \hat x_i\cdot\hat x_j`; ``normalize=True`` L2-normalizes the rows first. The four
    margin strategies follow pytorch-metric-learning's ``TripletMarginMiner``; distances carry no
    eps (unlike PyTorch's ``pairwise_distance``).

    Returns three NumPy integer arrays of equal length, sorted by anchor, then positive, then
    negative (``"all"``, ``"hard"``, ``"semi_hard"``, ``"easy"``) or by anchor. Inputs may be
    any arrays (PyTorch tensors are read, detached); indices are NumPy either way.

    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [1.5], [4.0]])
    >>> # d(0,1) = 1, d(0,2) = 1.5, d(1,2) = 0.5, d(0,3) = 4, d(1,3) = 3, d(2,3) = 2.5
    >>> a, p, n = mine_triplets(x, [0, 0, 1, 1], "semi_hard", margin=1.0)
    >>> list(zip(a.tolist(), p.tolist(), n.tolist()))  # m = 1.5 - 1 = 0.5 and 3 - 2.5 = 0.5
    [(0, 1, 2), (3, 2, 1)]

    References: Schroff et al. (2015), FaceNet, arXiv:1503.03832; Hermans, Beyer, Leibe (2017),
    In Defense of the Triplet Loss for Person Re-Identification, arXiv:1703.07737.
    """
    where = "mine_triplets"
    check_choice(where, "strategy", strategy, STRATEGIES)
    check_choice(where, "distance", distance, DISTANCES)
    check_bool(where, "normalize", normalize)
    margin = _check_mining_margin(where, margin)
    x, y = _mining_inputs(embeddings, labels, where)
    if normalize:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), NORMALIZE_EPS)
    return _mine(_pairwise_distances(x, distance), y, strategy, margin, np.random.default_rng(seed))


# --------------------------------------------------------------------------- batch triplet


def _row_distance(xp: ModuleType, u: Any, v: Any, distance: str) -> tuple[Any, Any]:
    """Per-row distance d(u_t, v_t) and its VJP ``g -> (dL/du, dL/dv)``."""
    if distance == "cosine":
        nu = xp.sqrt(xp.sum(u * u, axis=-1))
        nv = xp.sqrt(xp.sum(v * v, axis=-1))
        nu = xp.where(nu > NORMALIZE_EPS, nu, xp.full_like(nu, NORMALIZE_EPS))
        nv = xp.where(nv > NORMALIZE_EPS, nv, xp.full_like(nv, NORMALIZE_EPS))
        cos = xp.sum(u * v, axis=-1) / (nu * nv)

        def cos_vjp(g):
            # d(1 - cos)/du = -(v / (|u||v|) - cos u / |u|^2), and symmetrically for v.
            gu = -_col(g) * (v / (nu * nv)[..., None] - (cos / (nu * nu))[..., None] * u)
            gv = -_col(g) * (u / (nu * nv)[..., None] - (cos / (nv * nv))[..., None] * v)
            return gu, gv

        return 1.0 - cos, cos_vjp
    diff = u - v
    sq = xp.sum(diff * diff, axis=-1)
    if distance == "squared_euclidean":
        return sq, lambda g: ((2.0 * _col(g)) * diff, (-2.0 * _col(g)) * diff)
    d = _safe_sqrt(xp, sq)

    def euclid_vjp(g):
        gu = _col(g) * _safe_div(xp, diff, d[..., None])
        return gu, -gu

    return d, euclid_vjp


def _batch_triplet_prepare(xp, embeddings, labels, *, strategy, margin, distance, normalize, seed):
    where = "batch_triplet"
    (embeddings,) = _floats(xp, where, {"embeddings": embeddings})
    labels = as_int(xp, labels, "labels", where)
    _check_rows(where, embeddings, "embeddings", ndim=2)
    _check_labels_shape(where, labels, "labels", (embeddings.shape[0],), "embeddings")
    _check_finite(xp, where, embeddings=embeddings)
    return embeddings, labels


def _pairwise_vjp(x: np.ndarray, dist: np.ndarray, k: np.ndarray, distance: str) -> np.ndarray:
    """Pull ``k`` = dL/d dist (an ``(N, N)`` matrix) back to the rows of ``x``."""
    if distance == "cosine":
        # dist_ij = 1 - xn_i . xn_j: dL/d xn = -(k + k^T) xn, then through the normalization.
        norm = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), NORMALIZE_EPS)
        xn = x / norm
        g = -(k + k.T) @ xn
        proj = g - xn * np.sum(g * xn, axis=1, keepdims=True)
        return np.where(norm > NORMALIZE_EPS, proj, g) / norm
    # d dist_ij / d x_i = w_ij (x_i - x_j) with w = 1 / dist (euclidean) or 2 (squared)
    coef = (
        2.0 * k
        if distance == "squared_euclidean"
        else np.divide(k, dist, out=np.zeros_like(k), where=dist > 0)
    )
    sym = coef + coef.T
    return np.sum(sym, axis=1, keepdims=True) * x - sym @ x


def _batch_triplet_forward(xp, embeddings, labels, *, need_grad, strategy, margin, distance, normalize, seed):
    x, norm = _normalize(xp, embeddings, axis=1) if normalize else (embeddings, None)
    n = x.shape[0]
    dist = _pairwise_distances(to_numpy(x), distance)
    ia, ip, in_ = _mine(dist, to_numpy(labels), strategy, margin, np.random.default_rng(seed))
    if is_numpy_namespace(xp):
        # NumPy: the loss reads the distance matrix; the gradient goes through an (N, N) matrix of
        # dL/d dist_ij, so its cost does not grow with the number of triplets.
        z = margin + dist[ia, ip] - dist[ia, in_]

        def vjp(cot):
            g = np.broadcast_to(cot * _step(np, z), z.shape)
            k = np.bincount(ia * n + ip, g, n * n) - np.bincount(ia * n + in_, g, n * n)
            grad = _pairwise_vjp(x, dist, k.reshape(n, n).astype(x.dtype, copy=False), distance)
            return (_normalize_vjp(np, x, norm, grad, axis=1) if normalize else grad,)

        return Terms(_relu(np, z), vjp=vjp if need_grad else None)
    # Other namespaces (autograd frameworks): per-triplet distances in the namespace.
    ia, ip, in_ = (xp.asarray(i, device=x.device) for i in (ia, ip, in_))
    xa, xpos, xneg = (xp.take(x, i, axis=0) for i in (ia, ip, in_))
    d_ap, vjp_ap = _row_distance(xp, xa, xpos, distance)
    d_an, vjp_an = _row_distance(xp, xa, xneg, distance)
    z = margin + d_ap - d_an

    def row_vjp(cot):
        g = cot * _step(xp, z)
        ga1, gp = vjp_ap(g)
        ga2, gn = vjp_an(-g)
        index = xp.concat([ia, ip, in_])
        grad = _scatter_rows(xp, index, xp.concat([ga1 + ga2, gp, gn], axis=0), n)
        return (_normalize_vjp(xp, x, norm, grad, axis=1) if normalize else grad,)

    return Terms(_relu(xp, z), vjp=row_vjp if need_grad else None)


def _batch_triplet_sample(rng, *, strategy, margin, distance, normalize, seed):
    # Redraw until no mining decision sits on a tie or a threshold (stable under small steps).
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    for _ in range(10_000):
        x = rng.normal(size=(8, 3))
        xm = x / np.linalg.norm(x, axis=1, keepdims=True) if normalize else x
        dist = _pairwise_distances(xm, distance)
        if np.min(dist[~np.eye(8, dtype=bool)]) < 0.05:
            continue
        same = labels[:, None] == labels[None, :]
        ok = True
        for a in range(8):
            pos = np.sort(dist[a, same[a] & (np.arange(8) != a)])
            neg = np.sort(dist[a, ~same[a]])
            m = neg[None, :] - pos[:, None]
            gaps = [np.min(np.abs(m)), np.min(np.abs(m - margin)), np.min(np.diff(pos), initial=1.0)]
            gaps.append(neg[1] - neg[0])
            if min(gaps) < 0.02:
                ok = False
                break
        if ok:
            return x, labels
    raise RuntimeError("batch_triplet: could not draw tie-free sample embeddings")  # pragma: no cover


batch_triplet = register(
    Loss(
        "batch_triplet",
        task="similarity",
        inputs=("embeddings", "labels"),
        differentiable=("embeddings",),
        params={
            "strategy": Param(
                "batch_hard", lambda w, n, v: check_choice(w, n, v, STRATEGIES), "mining strategy"
            ),
            "margin": Param(1.0, _check_nonnegative, "required gap between d(a, n) and d(a, p)"),
            "distance": Param("euclidean", lambda w, n, v: check_choice(w, n, v, DISTANCES), "distance"),
            "normalize": Param(False, check_bool, "L2-normalize the embeddings first"),
            "seed": Param(None, _check_seed, "seed of the random strategy"),
        },
        prepare=_batch_triplet_prepare,
        forward=_batch_triplet_forward,
        sample=_batch_triplet_sample,
        test_params=(
            {},
            {"strategy": "all", "margin": 0.5},
            {"strategy": "semi_hard", "margin": 1.0},
            {"strategy": "hard", "distance": "squared_euclidean"},
            {"strategy": "random", "seed": 0, "distance": "cosine", "margin": 0.2},
            {"strategy": "batch_hard", "normalize": True, "margin": 0.3},
        ),
        doc=r"""Triplet loss over the triplets mined in a labelled batch (online mining).

        .. math::
            \ell_t = \max\left(0,\ m + d(x_{a_t}, x_{p_t}) - d(x_{a_t}, x_{n_t})\right),\quad
            (a_t, p_t, n_t) = \texttt{mine\_triplets}(x, \text{labels}, \text{strategy}, m)

        .. math::
            \frac{\partial L}{\partial x_k} = \sum_t \mathbb 1[\ell_t > 0]\,\bar\ell_t
            \left(\frac{\partial d_{ap}}{\partial x_k} - \frac{\partial d_{an}}{\partial x_k}\right)
            \text{ (a scatter-add over the rows a triplet uses)}

        ``embeddings`` (x): shape ``(N, D)``; ``labels``: ``(N,)`` integers; ``strategy``,
        ``margin`` (m), ``distance``, ``normalize``, ``seed``: as in :func:`mine_triplets`. The
        mined set is treated as constant (it is piecewise constant in x). The unreduced loss has
        one entry per mined triplet (its length depends on the data); ``"mean"`` averages over
        the mined triplets, 0 when none is mined. ``"batch_hard"`` with ``"mean"`` is the
        batch-hard loss of Hermans et al. (2017) with the hard margin. Distances carry no eps
        (``triplet_margin`` adds PyTorch's). On NumPy arrays the gradient is accumulated in an
        ``(N, N)`` matrix of :math:`\partial L/\partial d_{ij}` (cost :math:`O(N^2 D)`, whatever
        the number of triplets); tensors of autograd frameworks use per-triplet formulas.

        >>> import losslab as ll
        >>> x = [[0.0], [1.0], [1.5], [4.0]]
        >>> # per anchor max(0, 1 + d(a, hardest p) - d(a, nearest n)): 1 + 1 - 1.5, 1 + 1 - 0.5,
        >>> # 1 + 2.5 - 0.5 and 1 + 2.5 - 3, i.e. 0.5, 1.5, 3.0, 0.5; mean 1.375
        >>> float(ll.losses.batch_triplet(x, [0, 0, 1, 1], strategy="batch_hard", margin=1.0))
        1.375
        """,
        info=dict(
            summary="Triplet loss over triplets mined online from a labelled batch (batch-hard by default).",
            formula=r"\ell_t = \max(0, m + d(x_{a_t}, x_{p_t}) - d(x_{a_t}, x_{n_t}))",
            gradient=(
                r"\partial L/\partial x_k = \sum_t \mathbb 1[\ell_t>0](\partial d_{a_tp_t}/\partial x_k"
                r" - \partial d_{a_tn_t}/\partial x_k)"
            ),
            use_when="Metric learning from class labels without precomputed triplets (re-id, faces).",
            conventions=(
                "'mean' divides by the number of mined triplets (pytorch-metric-learning's default "
                "reducer averages over the triplets with a non-zero loss only). Mining ignores the gradient."
            ),
            references=(
                "Hermans, Beyer, Leibe (2017), In Defense of the Triplet Loss, arXiv:1703.07737",
                "Schroff et al. (2015), FaceNet, arXiv:1503.03832",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- center loss


def _center_prepare(xp, features, labels, centers, where="center_loss"):
    features, centers = _floats(xp, where, {"features": features, "centers": centers})
    labels = as_int(xp, labels, "labels", where)
    _check_rows(where, features, "features", ndim=2)
    _check_rows(where, centers, "centers", ndim=2)
    if centers.shape[1] != features.shape[1]:
        raise ValueError(
            f"{where}: centers must have the feature dimension of features ({features.shape[1]}), "
            f"got shape {tuple(centers.shape)}"
        )
    _check_labels_shape(where, labels, "labels", (features.shape[0],), "features")
    _check_finite(xp, where, features=features, centers=centers)
    _check_class_range(xp, where, labels, "labels", centers.shape[0])
    return features, labels, centers


def _center_forward(xp, features, labels, centers, *, need_grad):
    r = features - xp.take(centers, labels, axis=0)
    loss = 0.5 * xp.sum(r * r, axis=-1)

    def vjp(cot):
        g = _col(cot) * r
        return g, -_scatter_rows(xp, labels, g, centers.shape[0])

    return Terms(loss, vjp=vjp if need_grad else None)


def _center_sample(rng):
    return rng.normal(size=(6, 3)), np.array([0, 2, 1, 0, 2, 2]), rng.normal(size=(4, 3))


def _center_perfect(rng):
    centers = rng.normal(size=(3, 4))
    labels = rng.integers(0, 3, size=6)
    return centers[labels], labels, centers


center_loss = register(
    Loss(
        "center_loss",
        task="similarity",
        inputs=("features", "labels", "centers"),
        differentiable=("features", "centers"),
        prepare=lambda xp, features, labels, centers: _center_prepare(xp, features, labels, centers),
        forward=_center_forward,
        sample=_center_sample,
        perfect=_center_perfect,
        doc=r"""Center loss (Wen et al. 2016): half the squared distance of each feature to its class center.

        .. math::
            \ell_i = \tfrac12\lVert x_i - c_{y_i}\rVert_2^2,\qquad
            \frac{\partial\ell_i}{\partial x_i} = x_i - c_{y_i},\qquad
            \frac{\partial L}{\partial c_j} = -\sum_{i: y_i = j}\bar\ell_i (x_i - c_j)

        ``features`` (x): ``(N, D)``; ``labels`` (y): ``(N,)`` class indices; ``centers`` (c):
        ``(C, D)``. The curriculum's and the paper's :math:`\tfrac12\sum_i` is ``reduction="sum"``;
        the default ``"mean"`` divides it by N. The gradient for ``centers`` is a scatter-add over
        the samples of each class; Wen et al. instead move the centers with :func:`center_update`.
        Combined with cross-entropy: :func:`center_combined`.

        >>> import losslab as ll
        >>> float(ll.losses.center_loss([[1.0, 2.0], [0.0, 0.0]], [0, 1], [[0.0, 0.0], [0.0, 0.0]],
        ...                             reduction="sum"))  # 0.5 * (1 + 4)
        2.5
        """,
        info=dict(
            summary="Center loss: pulls each feature toward its class center (intra-class compactness).",
            formula=r"\ell_i = \tfrac12\lVert x_i - c_{y_i}\rVert^2",
            gradient=(
                r"\partial\ell_i/\partial x_i = x_i - c_{y_i},\ "
                r"\partial L/\partial c_j = -\sum_{i:y_i=j}(x_i - c_j)"
            ),
            convex=True,
            use_when="With softmax cross-entropy, for compact, discriminative features (face recognition).",
            conventions=(
                "Per-sample 1/2 ||x_i - c_{y_i}||^2; reduction='sum' is the paper's L_C, "
                "'mean' divides it by N. "
                "features (N, D), labels (N,), centers (C, D)."
            ),
            references=(WEN,),
        ),
    )
)


def center_update(features: Any, labels: Any, centers: Any, alpha: float = 0.5) -> Any:
    r"""The center update rule of Wen et al. (2016): move each class center toward its features.

    .. math::
        \Delta c_j = \frac{\sum_i \delta(y_i = j)(c_j - x_i)}{1 + \sum_i \delta(y_i = j)},\qquad
        c_j \leftarrow c_j - \alpha\,\Delta c_j

    ``features`` (x): ``(N, D)``; ``labels`` (y): ``(N,)``; ``centers`` (c): ``(C, D)``;
    ``alpha`` in [0, 1] is the center learning rate. Classes absent from the batch keep their
    center. Returns new centers (the input is not modified), in the input's array type.

    >>> import numpy as np
    >>> center_update([[2.0, 0.0], [4.0, 0.0]], [0, 0], np.zeros((2, 2)), alpha=0.5).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    where = "center_update"
    alpha = check_in_range(where, "alpha", alpha, 0.0, 1.0)
    xp = array_namespace(features, labels, centers)
    features, labels, centers = _center_prepare(xp, features, labels, centers, where=where)
    ones = xp.ones((features.shape[0], 1), dtype=features.dtype)
    if not is_numpy_namespace(xp):
        ones = xp.ones((features.shape[0], 1), dtype=features.dtype, device=features.device)
    sums = _scatter_rows(xp, labels, features, centers.shape[0])
    counts = _scatter_rows(xp, labels, ones, centers.shape[0])
    delta = (counts * centers - sums) / (1.0 + counts)
    return centers - alpha * delta


def center_combined(
    logits: Any,
    features: Any,
    labels: Any,
    centers: Any,
    *,
    center_weight: float = 0.003,
    reduction: Literal["mean", "sum", "none"] = "mean",
    sample_weight: Any = None,
    **ce_params: Any,
) -> tuple[Any, tuple[Any, Any, Any]]:
    r"""Softmax cross-entropy plus weighted center loss, with the gradients of all three inputs.

    .. math::
        L = \mathrm{CE}(z, y) + \lambda\,\tfrac12\lVert x - c_y\rVert^2,\qquad
        \frac{\partial L}{\partial z} = \frac{\partial\,\mathrm{CE}}{\partial z},\
        \frac{\partial L}{\partial x} = \lambda (x - c_y),\
        \frac{\partial L}{\partial c_j} = -\lambda\sum_{i:y_i=j}(x_i - c_j)

    ``logits`` (z): ``(N, C_cls)``; ``features`` (x): ``(N, D)``; ``labels`` (y): ``(N,)``;
    ``centers`` (c): ``(C, D)``; ``center_weight`` (lambda, the paper's 0.003 by default).
    The cross-entropy is the registered ``sparse_categorical_cross_entropy`` (looked up at each
    call) with ``from_logits=True`` unless given in ``ce_params`` (also ``label_smoothing``,
    ``class_weight``, ``ignore_index``). Both terms use ``reduction`` and ``sample_weight``;
    each ``"mean"`` uses its own denominator (the cross-entropy's class weights and ignored
    samples; N for the center term).

    Returns ``(value, (grad_logits, grad_features, grad_centers))``. Move the centers with
    either ``grad_centers`` or :func:`center_update` (the paper's choice).
    """
    where = "center_combined"
    center_weight = check_positive(where, "center_weight", center_weight, strict=False)
    ce = get("sparse_categorical_cross_entropy")
    ce_params.setdefault("from_logits", True)
    ce_value, ce_grad = ce.value_and_grad(
        logits, labels, reduction=reduction, sample_weight=sample_weight, **ce_params
    )
    c_value, (g_features, g_centers) = center_loss.value_and_grad(
        features, labels, centers, reduction=reduction, sample_weight=sample_weight
    )
    value = ce_value + center_weight * c_value
    return value, (ce_grad, center_weight * g_features, center_weight * g_centers)


# --------------------------------------------------------------------------- CosFace / ArcFace


def _margin_softmax_prepare(xp, embeddings, weights, labels, where):
    embeddings, weights = _floats(xp, where, {"embeddings": embeddings, "weights": weights})
    labels = as_int(xp, labels, "labels", where)
    _check_rows(where, embeddings, "embeddings", ndim=2)
    _check_rows(where, weights, "weights", ndim=2)
    if weights.shape[0] != embeddings.shape[1]:
        raise ValueError(
            f"{where}: weights must have shape (D, C) with D = {embeddings.shape[1]} (the embedding "
            f"dimension), got shape {tuple(weights.shape)}"
        )
    _check_labels_shape(where, labels, "labels", (embeddings.shape[0],), "embeddings")
    _check_finite(xp, where, embeddings=embeddings, weights=weights)
    _check_class_range(xp, where, labels, "labels", weights.shape[1])
    return embeddings, weights, labels


def _margin_softmax(xp, embeddings, weights, labels, s, target, need_grad):
    """Softmax CE over s * cos, the target logit replaced by s * phi(cos_y); ``target(c) -> (phi, dphi)``."""
    xn, nx = _normalize(xp, embeddings, axis=1)
    wn, nw = _normalize(xp, weights, axis=0)
    cos = xn @ wn
    n_classes = weights.shape[1]
    arange = xp.arange(n_classes) if is_numpy_namespace(xp) else xp.arange(n_classes, device=cos.device)
    onehot = labels[:, None] == arange[None, :]
    cos_y = xp.sum(xp.where(onehot, cos, xp.zeros_like(cos)), axis=1)
    phi, dphi = target(cos_y)
    z = s * xp.where(onehot, phi[:, None], cos)
    lse = logsumexp(xp, z, axis=1)
    loss = lse[:, 0] - s * phi

    def vjp(cot):
        prob = xp.exp(z - lse)
        dz = _col(cot) * (prob - xp.astype(onehot, z.dtype))
        dcos = s * dz * xp.where(onehot, dphi[:, None], xp.ones_like(cos))
        dx = _normalize_vjp(xp, xn, nx, dcos @ wn.T, axis=1)
        dw = _normalize_vjp(xp, wn, nw, xn.T @ dcos, axis=0)
        return dx, dw

    return Terms(loss, vjp=vjp if need_grad else None)


def _cosface_forward(xp, embeddings, weights, labels, *, need_grad, s, m):
    return _margin_softmax(xp, embeddings, weights, labels, s, lambda c: (c - m, xp.ones_like(c)), need_grad)


def _arcface_target(xp, c, m, easy_margin):
    """phi(cos) = cos(theta + m) where allowed, else the monotonic fallback; and d phi / d cos."""
    cos_m, sin_m = math.cos(m), math.sin(m)
    sin2 = 1.0 - c * c
    sin = _safe_sqrt(xp, sin2)
    tiny = math.sqrt(float(np.finfo(np.float32 if c.dtype == xp.float32 else np.float64).eps))
    phi = c * cos_m - sin * sin_m
    dphi = cos_m + sin_m * c / xp.where(sin > tiny, sin, xp.full_like(sin, tiny))
    if easy_margin:
        use, fallback = c > 0, c
    else:
        use, fallback = c > math.cos(math.pi - m), c - math.sin(math.pi - m) * m
    return xp.where(use, phi, fallback), xp.where(use, dphi, xp.ones_like(c))


def _arcface_forward(xp, embeddings, weights, labels, *, need_grad, s, m, easy_margin):
    return _margin_softmax(
        xp, embeddings, weights, labels, s, lambda c: _arcface_target(xp, c, m, easy_margin), need_grad
    )


def _margin_softmax_sample(rng, fallback_th=None, easy=False):
    # Embedding 0 points away from its class weight (theta_y + m > pi when fallback_th is given);
    # every target cosine keeps 0.03 from the fallback switch and from +-1.
    labels = np.array([1, 0, 2, 1, 0])
    for _ in range(10_000):
        x = 2.0 * rng.normal(size=(5, 4))
        w = rng.normal(size=(4, 3))
        wn = w / np.linalg.norm(w, axis=0)
        if fallback_th is not None and not easy:
            x[0] = -2.0 * wn[:, labels[0]] + 0.3 * rng.normal(size=4)
        cos_y = np.einsum("nd,dn->n", x / np.linalg.norm(x, axis=1, keepdims=True), wn[:, labels])
        if np.max(np.abs(cos_y)) > 0.97:
            continue
        if fallback_th is not None and np.min(np.abs(cos_y - (0.0 if easy else fallback_th))) < 0.03:
            continue
        return x, w, labels
    raise RuntimeError("margin softmax: could not draw sample embeddings")  # pragma: no cover


def _positive_s(where: str, name: str, value: Any) -> float:
    return check_positive(where, name, value)


cosface = register(
    Loss(
        "cosface",
        task="similarity",
        inputs=("embeddings", "weights", "labels"),
        differentiable=("embeddings", "weights"),
        params={
            "s": Param(30.0, _positive_s, "scale of the cosine logits"),
            "m": Param(0.35, _check_nonnegative, "additive cosine margin"),
        },
        prepare=lambda xp, embeddings, weights, labels, **_: _margin_softmax_prepare(
            xp, embeddings, weights, labels, "cosface"
        ),
        forward=_cosface_forward,
        sample=lambda rng, *, s, m: _margin_softmax_sample(rng),
        test_params=({}, {"s": 10.0, "m": 0.1}),
        doc=r"""CosFace / large margin cosine loss (Wang et al. 2018): an additive cosine margin.

        .. math::
            \ell_i = -\log\frac{e^{s(\cos\theta_{y_i} - m)}}{e^{s(\cos\theta_{y_i} - m)}
            + \sum_{j\ne y_i} e^{s\cos\theta_j}},\quad
            \cos\theta_j = \hat x_i\cdot\hat W_{:,j},\ \hat x = x/\lVert x\rVert,\
            \hat W_{:,j} = W_{:,j}/\lVert W_{:,j}\rVert

        .. math::
            \frac{\partial\ell_i}{\partial\cos\theta_j} = s(p_{ij} - \delta_{j y_i}),\quad
            \frac{\partial\ell}{\partial x} = \frac{g - \hat x(\hat x\cdot g)}{\lVert x\rVert},\
            g = \sum_j \frac{\partial\ell}{\partial\cos\theta_j}\hat W_{:,j}
            \text{ (likewise for each column of W)}

        ``embeddings`` (x): ``(N, D)``; ``weights`` (W): ``(D, C)``, one column per class (the
        transpose of a PyTorch ``nn.Linear(D, C).weight``); ``labels`` (y): ``(N,)``; ``s``,
        ``m``. Rows of x and columns of W are normalized inside (``F.normalize``, eps 1e-12);
        :math:`p_{ij}` is the softmax of the margin logits, computed with log-sum-exp.
        """,
        info=dict(
            summary="CosFace (LMCL): normalized softmax with an additive margin on the target cosine.",
            formula=(
                r"\ell = -\log\frac{e^{s(\cos\theta_y - m)}}{e^{s(\cos\theta_y - m)}"
                r" + \sum_{j\ne y} e^{s\cos\theta_j}}"
            ),
            gradient=(
                r"\partial\ell/\partial\cos\theta_j = s(p_j - \delta_{jy}),"
                r"\ \text{then through the normalizations}"
            ),
            use_when="Face recognition / open-set classification with many classes.",
            conventions="weights are (D, C) (columns are class vectors); both inputs L2-normalized inside.",
            references=("Wang et al. (2018), CosFace: Large Margin Cosine Loss, arXiv:1801.09414",),
        ),
    )
)


arcface = register(
    Loss(
        "arcface",
        task="similarity",
        inputs=("embeddings", "weights", "labels"),
        differentiable=("embeddings", "weights"),
        params={
            "s": Param(64.0, _positive_s, "scale of the cosine logits"),
            "m": Param(
                0.5,
                lambda w, n, v: check_in_range(w, n, v, 0.0, math.pi / 2),
                "additive angular margin (radians)",
            ),
            "easy_margin": Param(False, check_bool, "apply the margin only where cos(theta) > 0"),
        },
        prepare=lambda xp, embeddings, weights, labels, **_: _margin_softmax_prepare(
            xp, embeddings, weights, labels, "arcface"
        ),
        forward=_arcface_forward,
        sample=lambda rng, *, s, m, easy_margin: _margin_softmax_sample(
            rng, fallback_th=math.cos(math.pi - m), easy=easy_margin
        ),
        test_params=({}, {"s": 16.0, "m": 0.3}, {"s": 10.0, "easy_margin": True}),
        doc=r"""ArcFace / additive angular margin loss (Deng et al. 2019).

        .. math::
            \ell_i = -\log\frac{e^{s\varphi(\cos\theta_{y_i})}}{e^{s\varphi(\cos\theta_{y_i})}
            + \sum_{j\ne y_i} e^{s\cos\theta_j}},\quad
            \varphi(c) = \begin{cases}\cos(\theta + m) = c\cos m - \sqrt{1 - c^2}\,\sin m & c > t\\
            c - m\sin m & \text{otherwise}\end{cases},\ t = \cos(\pi - m)

        .. math::
            \varphi'(c) = \cos m + \frac{c\,\sin m}{\sqrt{1 - c^2}}\ (c > t),\ 1\ \text{otherwise};\quad
            \frac{\partial\ell_i}{\partial\cos\theta_j} = s(p_{ij} - \delta_{jy_i})\,
            (\varphi'(\cos\theta_{y_i}) \text{ if } j = y_i)

        The fallback is InsightFace's ``easy_margin=False`` rule: where :math:`\theta + m > \pi`
        (i.e. :math:`\cos\theta \le t`), :math:`\cos(\theta + m)` would increase with
        :math:`\theta`, so the target logit becomes :math:`\cos\theta - m\sin m`
        (``mm = sin(pi - m) * m``), a CosFace-like margin that keeps the logit decreasing in
        :math:`\theta` (it is not continuous at :math:`\theta = \pi - m`, as in the reference).
        ``easy_margin=True`` applies the margin only where :math:`\cos\theta > 0` (else
        :math:`\varphi(c) = c`). ``embeddings`` (x): ``(N, D)``; ``weights`` (W): ``(D, C)``
        (columns are class vectors, the transpose of ``nn.Linear(D, C).weight``); ``labels``
        (y); ``s``; ``m`` in radians. Rows of x and columns of W are normalized inside
        (``F.normalize``, eps 1e-12). Where :math:`\sin\theta` is below sqrt(machine eps), the
        derivative :math:`c/\sin\theta` (infinite at :math:`\theta = 0`) uses that floor.
        """,
        info=dict(
            summary="ArcFace: normalized softmax with an additive angular margin on the target angle.",
            formula=(
                r"\ell = -\log\frac{e^{s\cos(\theta_y + m)}}{e^{s\cos(\theta_y + m)} + \sum_{j\ne y}"
                r" e^{s\cos\theta_j}}\ (\cos\theta_y - m\sin m\ \text{when}\ \theta_y + m > \pi)"
            ),
            gradient=(
                r"\partial\ell/\partial\cos\theta_j = s(p_j - \delta_{jy})\,(\varphi'\ \text{if}\ j = y),\ "
                r"\varphi' = \cos m + \sin m\cot\theta_y"
            ),
            use_when="Face recognition / open-set classification: the state-of-the-art angular margin.",
            conventions=(
                "Margin in radians; InsightFace's fallback (th = cos(pi - m), mm = sin(pi - m) m) when "
                "easy_margin=False. weights are (D, C); both inputs L2-normalized inside."
            ),
            references=("Deng, Guo, Xue, Zafeiriou (2019), ArcFace, arXiv:1801.07698",),
        ),
    )
)


# The declarations' docstrings carry examples; doctest collects them from here.
__test__ = {
    loss.name: loss.__doc__ or ""
    for loss in (
        contrastive,
        contrastive_distance,
        triplet_margin,
        cosine_embedding,
        margin_ranking,
        batch_triplet,
        center_loss,
        cosface,
        arcface,
    )
}
