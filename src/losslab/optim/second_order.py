r"""Matrix preconditioners: Newton's method and full-matrix AdaGrad.

Both act on all parameters at once, flattened into one vector :math:`\theta \in \mathbb R^d`
(:func:`~losslab.tree_ravel` order), and cost :math:`O(d^2)` memory and :math:`O(d^3)` time per
step -- for small models and the landscape's test functions, where they are the methods the
curriculum names (001 §7.3, 003 §9).

Newton's method needs the curvature at :math:`\theta`: its ``update`` takes ``hessian=`` (a
:math:`d \times d` matrix, or a function ``v -> H v`` on trees like ``params``), declared in the
transformation's ``extra_args`` so that :func:`~losslab.train.fit` and
:func:`~losslab.train.race` compute and pass it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from losslab._core.tree import tree_ravel
from losslab._core.validation import check_positive
from losslab.optim.base import EmptyState, GradientTransformation

__all__ = ["ScaleByFullMatrixAdagradState", "scale_by_full_matrix_adagrad", "scale_by_newton"]

Tree = Any


def _dense_hessian(where: str, hessian: Any, params: Tree, d: int) -> np.ndarray:
    """The Hessian as a ``(d, d)`` matrix: given as one, or built column by column from an HVP."""
    if hessian is None:
        raise ValueError(
            f"{where}: update needs hessian= (the Hessian of the loss at params, a (d, d) matrix or a "
            "function v -> H v); fit and race pass it for optimizers that declare it in extra_args"
        )
    if callable(hessian):
        _, unravel = tree_ravel(params)
        eye = np.eye(d)
        columns = [tree_ravel(hessian(unravel(eye[i])))[0] for i in range(d)]
        H = np.stack(columns, axis=1)
    else:
        H = np.asarray(hessian, dtype=np.float64)
    if H.shape != (d, d):
        raise ValueError(f"{where}: hessian must have shape ({d}, {d}) for {d} parameters, got {H.shape}")
    if not np.isfinite(H).all():
        raise ValueError(f"{where}: hessian contains NaN or infinite values")
    return H


def scale_by_newton(*, damping: float = 0.0) -> GradientTransformation:
    r"""Newton's direction :math:`d_t = (H_t + \lambda I)^{-1} g_t` from the Hessian passed to ``update``.

    :math:`H_t = \nabla^2 L(\theta_t)` is ``hessian=`` (a ``(d, d)`` matrix in
    :func:`~losslab.tree_ravel` order, or a Hessian-vector product ``v -> H v`` on trees, from
    which the matrix is built by :math:`d` products), :math:`\lambda` = ``damping``
    (Levenberg-Marquardt damping: it bends the step towards gradient descent with rate
    :math:`1/\lambda` and makes an indefinite :math:`H` usable when :math:`\lambda > -\lambda_{min}`).
    A singular system is solved in the least-squares sense. Followed by
    ``scale_by_learning_rate(lr)`` this is damped Newton, :math:`\theta \leftarrow \theta - \eta d_t`.
    """
    damping = check_positive("scale_by_newton", "damping", damping, strict=False)

    def update(
        grads: Tree, state: EmptyState, params: Tree = None, *, hessian: Any = None
    ) -> tuple[Tree, EmptyState]:
        g, unravel = tree_ravel(grads)
        g = g.astype(np.float64, copy=False)
        H = _dense_hessian("newton", hessian, grads if params is None else params, g.size)
        if damping:
            H = H + damping * np.eye(g.size)
        try:
            direction = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            direction = np.linalg.lstsq(H, g, rcond=None)[0]
        return unravel(direction), state

    return GradientTransformation(lambda params: EmptyState(), update, None, frozenset({"hessian"}))


class ScaleByFullMatrixAdagradState(NamedTuple):
    """The accumulated outer products :math:`G_t = G_0 + \\sum_s g_s g_s^\\top` (``(d, d)``) and the count."""

    step: int
    outer_products: np.ndarray


def scale_by_full_matrix_adagrad(
    *, lr_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> GradientTransformation:
    r"""AdaGrad with the full matrix of Duchi et al. (2011): :math:`u_t = (\epsilon I + G_t^{1/2})^{-1} g_t`.

    .. math::
        G_t = G_{t-1} + g_t g_t^\top \quad (G_0 = c\, I),\qquad
        u_t = \frac{1}{1 + (t-1)\lambda}\,(\epsilon I + G_t^{1/2})^{-1} g_t

    over the flattened parameters (:math:`d` of them): the curriculum's
    :math:`G_t = \sum_i g_i g_i^\top` (003 §9). :math:`c` = ``initial_accumulator_value``,
    :math:`\lambda` = ``lr_decay``, :math:`\epsilon` = ``eps`` -- with the same meaning as
    ``torch.optim.Adagrad``'s, so that when :math:`G_t` stays diagonal (every gradient along
    the coordinate axes, or one parameter) the step is exactly PyTorch's diagonal
    :math:`g/(\sqrt{G_t} + \epsilon)`. The root comes from an eigendecomposition
    :math:`G = Q\Lambda Q^\top`; directions of :math:`G`'s null space, which :math:`g_t` never has
    a component along, are dropped rather than divided by :math:`\epsilon`.

    Cost: :math:`O(d^2)` memory for :math:`G` and :math:`O(d^3)` time per step (the
    eigendecomposition), against :math:`O(d)` for the diagonal form -- why libraries ship only
    the diagonal one.
    """
    where = "scale_by_full_matrix_adagrad"
    lr_decay = check_positive(where, "lr_decay", lr_decay, strict=False)
    initial = check_positive(where, "initial_accumulator_value", initial_accumulator_value, strict=False)
    eps = check_positive(where, "eps", eps, strict=False)

    def init(params: Tree) -> ScaleByFullMatrixAdagradState:
        d = tree_ravel(params)[0].size
        return ScaleByFullMatrixAdagradState(0, initial * np.eye(d))

    def update(
        grads: Tree, state: ScaleByFullMatrixAdagradState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, ScaleByFullMatrixAdagradState]:
        g, unravel = tree_ravel(grads)
        g = g.astype(np.float64, copy=False)
        G = state.outer_products + np.outer(g, g)
        lam, Q = np.linalg.eigh(G)
        root = np.sqrt(np.maximum(lam, 0.0))
        coeffs = Q.T @ g
        null = lam <= g.size * np.finfo(np.float64).eps * max(float(lam.max()), 0.0)
        scaled = np.where(null & (initial == 0.0), 0.0, coeffs / (root + eps))
        decay = 1.0 / (1.0 + state.step * lr_decay)
        return unravel(decay * (Q @ scaled)), ScaleByFullMatrixAdagradState(state.step + 1, G)

    return GradientTransformation(init, update)
