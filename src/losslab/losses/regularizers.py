"""Regularizers on parameter arrays or trees: L1, L2 and elastic net.

``L_total = L_data + R(theta)``. Each regularizer is a registered point-wise loss of the parameters
``w`` whose default reduction is ``"sum"`` (the penalty of the whole array); it also accepts a tree
of arrays (dict/list/tuple, as the optimizers and models use) and then returns the penalty summed
over every leaf and a gradient tree of the same structure.

Convention: ``l2_regularizer`` carries the 1/2 factor, ``strength/2 * sum w^2``, so its gradient
``strength * w`` is exactly what PyTorch's ``weight_decay=strength`` adds to the gradient. Keras'
``regularizers.L2(l2)`` has no 1/2 (``l2 * sum w^2``): ``L2(l2)`` == ``l2_regularizer(strength=2*l2)``.

>>> import numpy as np
>>> import losslab as ll
>>> params = {"W": np.array([[1.0, -2.0]]), "b": np.array([0.5])}
>>> float(ll.losses.regularizers.l2(params, strength=0.1))  # 0.05 * (1 + 4 + 0.25)
0.2625
>>> ll.losses.regularizers.l1.grad(params, strength=0.1)["W"].tolist()
[[0.1, -0.1]]
"""

from __future__ import annotations

from typing import Any

from losslab._core.tree import tree_flatten, tree_unflatten
from losslab._core.validation import check_positive
from losslab.losses._numerics import reduce_like_torch
from losslab.losses._spec import Param, PointwiseLoss, Reduction, ReductionArg, register

__all__ = ["elastic_net", "l1_regularizer", "l2_regularizer"]


def _nonnegative(where: str, name: str, value: Any) -> float:
    return check_positive(where, name, value, strict=False)


class RegularizerLoss(PointwiseLoss):
    """A point-wise penalty of parameters: default ``reduction="sum"``; trees of arrays accepted."""

    kind = "regularizer"
    default_reduction: Reduction = "sum"

    def __call__(
        self, *inputs: Any, reduction: ReductionArg = "sum", sample_weight: Any = None, **params: Any
    ) -> Any:
        return self._evaluate_tree(inputs, reduction, sample_weight, params, need_grad=False)[0]

    def grad(
        self, *inputs: Any, reduction: ReductionArg = "sum", sample_weight: Any = None, **params: Any
    ) -> Any:
        return self._evaluate_tree(inputs, reduction, sample_weight, params, need_grad=True)[1]

    def value_and_grad(
        self, *inputs: Any, reduction: ReductionArg = "sum", sample_weight: Any = None, **params: Any
    ) -> tuple[Any, Any]:
        return self._evaluate_tree(inputs, reduction, sample_weight, params, need_grad=True)

    def _evaluate_tree(self, inputs, reduction, sample_weight, params, need_grad):
        if len(inputs) != 1 or not isinstance(inputs[0], (dict, list, tuple)):
            return self._evaluate(inputs, reduction, sample_weight, params, need_grad)
        w = inputs[0]
        if reduction != "sum" or sample_weight is not None:
            raise ValueError(
                f"{self.name}: a tree of parameters takes reduction='sum' and no sample_weight, "
                f"got reduction={reduction!r}"
            )
        leaves, skeleton = tree_flatten(w)
        if not leaves:
            raise ValueError(f"{self.name}: the parameter tree has no arrays")
        results = [self._evaluate((leaf,), "sum", None, params, need_grad) for leaf in leaves]
        value = sum((r[0] for r in results[1:]), results[0][0])
        grads = tree_unflatten(skeleton, [r[1] for r in results]) if need_grad else None
        return value, grads


_L2_NOTE = "l2 carries the 1/2 factor: grad = strength * w (PyTorch weight_decay); Keras L2(l2) has no 1/2."

l1_regularizer = register(
    RegularizerLoss(
        "l1_regularizer",
        task="regularizer",
        inputs=("w",),
        differentiable=("w",),
        params={"strength": Param(0.01, _nonnegative, "lambda_1")},
        value=lambda xp, w, strength: strength * xp.abs(w),
        grads=lambda xp, w, strength: (strength * xp.sign(w),),
        perfect=lambda rng, strength: (rng.normal(size=(4, 3)) * 0.0,),
        grad_bound=lambda strength: strength,
        test_params=({"strength": 0.01}, {"strength": 1.0}),
        torch_fn=lambda torch, w, *, reduction, strength: reduce_like_torch(strength * w.abs(), reduction),
        info=dict(
            summary="L1 (lasso) penalty strength * sum |w|: drives weights to exactly zero.",
            formula=r"R(w) = \lambda_1 \sum_i |w_i|",
            gradient=r"\partial R/\partial w_i = \lambda_1 \operatorname{sign}(w_i)",
            convex=True,
            robust=True,
            differentiable=False,
            keras="keras.regularizers.L1(l1=strength)",
            use_when="Sparse models and feature selection.",
            conventions="Subgradient 0 at w = 0. Default reduction 'sum'; trees are summed over leaves.",
            references=("Tibshirani (1996), Regression Shrinkage and Selection via the Lasso",),
        ),
    )
)

l2_regularizer = register(
    RegularizerLoss(
        "l2_regularizer",
        task="regularizer",
        inputs=("w",),
        differentiable=("w",),
        params={"strength": Param(0.01, _nonnegative, "lambda_2")},
        value=lambda xp, w, strength: 0.5 * strength * w * w,
        grads=lambda xp, w, strength: (strength * w,),
        perfect=lambda rng, strength: (rng.normal(size=(4, 3)) * 0.0,),
        test_params=({"strength": 0.01}, {"strength": 1.0}),
        torch_fn=lambda torch, w, *, reduction, strength: reduce_like_torch(
            0.5 * strength * w * w, reduction
        ),
        info=dict(
            summary="L2 (ridge, weight decay) penalty strength/2 * sum w^2.",
            formula=r"R(w) = \tfrac{\lambda_2}{2} \sum_i w_i^2",
            gradient=r"\partial R/\partial w_i = \lambda_2 w_i",
            convex=True,
            torch="SGD(weight_decay=strength) adds the same gradient",
            keras="keras.regularizers.L2(l2=strength / 2)",
            use_when="Shrinking weights smoothly; the classic weight decay.",
            conventions=_L2_NOTE,
            references=("Hoerl & Kennard (1970), Ridge Regression",),
        ),
    )
)

elastic_net = register(
    RegularizerLoss(
        "elastic_net",
        task="regularizer",
        inputs=("w",),
        differentiable=("w",),
        params={
            "l1_strength": Param(0.01, _nonnegative, "lambda_1"),
            "l2_strength": Param(0.01, _nonnegative, "lambda_2"),
        },
        value=lambda xp, w, l1_strength, l2_strength: l1_strength * xp.abs(w) + 0.5 * l2_strength * w * w,
        grads=lambda xp, w, l1_strength, l2_strength: (l1_strength * xp.sign(w) + l2_strength * w,),
        perfect=lambda rng, l1_strength, l2_strength: (rng.normal(size=(4, 3)) * 0.0,),
        test_params=({"l1_strength": 0.01, "l2_strength": 0.01}, {"l1_strength": 0.5, "l2_strength": 2.0}),
        torch_fn=lambda torch, w, *, reduction, l1_strength, l2_strength: reduce_like_torch(
            l1_strength * w.abs() + 0.5 * l2_strength * w * w, reduction
        ),
        info=dict(
            summary="Elastic net: L1 plus L2 penalty, sparse yet stable under correlated features.",
            formula=r"R(w) = \lambda_1 \sum_i |w_i| + \tfrac{\lambda_2}{2} \sum_i w_i^2",
            gradient=r"\partial R/\partial w_i = \lambda_1 \operatorname{sign}(w_i) + \lambda_2 w_i",
            convex=True,
            differentiable=False,
            keras="keras.regularizers.L1L2(l1=l1_strength, l2=l2_strength / 2)",
            use_when="Sparse models with groups of correlated features.",
            conventions=(
                "The curriculum's lambda_2 sum w^2 is l2_strength = 2 lambda_2. scikit-learn's (alpha, "
                "l1_ratio) maps to l1_strength = alpha*l1_ratio, l2_strength = alpha*(1 - l1_ratio). "
                + _L2_NOTE
            ),
            references=("Zou & Hastie (2005), Regularization and Variable Selection via the Elastic Net",),
        ),
    )
)

#: Short names for use on parameter trees: ``ll.losses.regularizers.l2(params, strength=1e-4)``.
l1 = l1_regularizer
l2 = l2_regularizer
