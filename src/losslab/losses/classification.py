r"""Classification losses: cross-entropies, focal, the hinge family, KL and JS divergences.

Conventions shared by the module:

- ``from_logits=False`` (the default, as in Keras): ``y_pred`` holds probabilities; log-probabilities
  are clamped below at -100 and gradient denominators floored at 1e-12, exactly as PyTorch's
  ``BCELoss``, so exact 0/1 probabilities give finite values and gradients.
  ``from_logits=True``: ``y_pred`` holds logits (sigmoid for the binary losses, softmax over the last
  axis for the others) and every formula is evaluated in logit space (softplus, log-sum-exp), finite
  at logits of +-1e4 and in float32.
- Losses over a class axis take it last, shape ``(..., C)`` (PyTorch uses dim 1 for inputs of more
  than two dimensions: move it last); the class axis is summed per sample, then the samples are
  reduced, so KL ``"mean"`` is PyTorch's ``"batchmean"``.
- Probability-space cross-entropies are :math:`-\sum_c y_c \log p_c` on ``y_pred`` as given
  (PyTorch's ``NLLLoss`` on ``log(y_pred)``, the curriculum's formula); Keras first renormalizes
  each row of ``y_pred`` to sum 1, which only differs off the probability simplex.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from losslab._core.arrays import is_numpy_namespace
from losslab._core.validation import check_bool, check_choice, check_in_range, check_int, check_positive
from losslab.losses._numerics import (
    as_like,
    clamped_log,
    clamped_log1m,
    floor_eps,
    log_softmax,
    logsumexp,
    one_hot,
    reduce_like_torch,
    relu,
    sigmoid,
    softmax_chain_hvp,
    take_labels,
    xlogy,
)
from losslab.losses._spec import (
    PROBABILITY,
    REAL,
    ClassAxisLoss,
    Domain,
    ElementwiseLoss,
    Param,
    register,
)

__all__ = [
    "binary_cross_entropy",
    "binary_focal",
    "categorical_cross_entropy",
    "categorical_focal",
    "hinge",
    "js_divergence",
    "kl_divergence",
    "multiclass_hinge",
    "smoothed_hinge",
    "sparse_categorical_cross_entropy",
    "squared_hinge",
]

N_SAMPLES, N_CLASSES = 5, 4


# --------------------------------------------------------------------------- parameter checks


def _check_smoothing(where: str, name: str, value: Any) -> float:
    return check_in_range(where, name, value, 0.0, 1.0)


def _check_weights(where: str, name: str, value: Any, *, scalar: bool, strict: bool) -> Any:
    """None, a number (when ``scalar``) or a 1-d array of finite weights (> 0 or >= 0)."""
    if value is None:
        return None
    if np.ndim(value) == 0 and scalar:
        return check_positive(where, name, value, strict=strict)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: {name} must be None or an array of numbers, got {name}={value!r}"
        ) from None
    kind = "a number or a 1-d array" if scalar else "a 1-d array with one weight per class"
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where}: {name} must be None or {kind}, got shape {arr.shape}")
    bound = "> 0" if strict else ">= 0"
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (strict and np.any(arr == 0)):
        raise ValueError(f"{where}: {name} must hold finite weights {bound}, got {name}={value!r}")
    return arr


def _check_pos_weight(where: str, name: str, value: Any) -> Any:
    return _check_weights(where, name, value, scalar=True, strict=True)


class ClassWeights(dict[int, float]):
    """Keras-style class weights ``{class index: weight}``; classes not listed weigh 1."""

    def vector(self, n_classes: int, where: str, name: str) -> np.ndarray:
        """The weights as one entry per class (PyTorch's ``weight``)."""
        out = np.ones(n_classes)
        for k, w in self.items():
            if k >= n_classes:
                raise ValueError(f"{where}: {name} has class {k}, but y_pred has {n_classes} classes")
            out[k] = w
        return out


def _check_class_weight(where: str, name: str, value: Any) -> Any:
    """One weight per class, as a 1-d array or as a dict ``{class index: weight}`` (Keras)."""
    if not isinstance(value, Mapping):
        return _check_weights(where, name, value, scalar=False, strict=False)
    out = ClassWeights()
    for k, w in value.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise TypeError(f"{where}: {name} keys must be class indices (int >= 0), got {k!r}")
        out[int(k)] = check_positive(where, f"{name}[{k}]", w, strict=False)
    if not out:
        raise ValueError(f"{where}: {name} must not be an empty dict")
    return out


def _check_alpha_binary(where: str, name: str, value: Any) -> Any:
    return None if value is None else check_in_range(where, name, value, 0.0, 1.0)


def _check_alpha_classes(where: str, name: str, value: Any) -> Any:
    return _check_weights(where, name, value, scalar=True, strict=False)


def _check_gamma(where: str, name: str, value: Any) -> float:
    return check_positive(where, name, value, strict=False)


def _check_ignore_index(where: str, name: str, value: Any) -> Any:
    return None if value is None else check_int(where, name, value)


FROM_LOGITS = Param(False, check_bool, "y_pred holds logits (True) or probabilities (False)")
LABEL_SMOOTHING = Param(0.0, _check_smoothing, "mix the targets with the uniform distribution")
CLASS_WEIGHT = Param(None, _check_class_weight, "one weight per class (PyTorch's weight)")


def _class_vector(xp: ModuleType, value: Any, like: Any, name: str, where: str) -> Any:
    """A per-class parameter as an array like ``like``; its size must be the class count."""
    if isinstance(value, ClassWeights):
        value = value.vector(like.shape[-1], where, name)
    if np.ndim(value) == 0:
        return value
    n = like.shape[-1]
    if np.size(value) != n:
        raise ValueError(f"{where}: {name} must have one entry per class ({n}), got {np.size(value)}")
    return as_like(xp, value, like)


# --------------------------------------------------------------------------- samplers


def _binary_sample(rng: np.random.Generator, *, from_logits: bool = False, **_: Any) -> tuple[Any, Any]:
    """(4, 3) predictions and targets: two rows of 0/1 labels, two of soft targets."""
    shape = (4, 3)
    y_pred = rng.normal(0.0, 2.0, size=shape) if from_logits else rng.uniform(0.05, 0.95, size=shape)
    y_true = rng.uniform(0.0, 1.0, size=shape)
    y_true[:2] = np.round(y_true[:2])
    return y_pred, y_true


def _binary_perfect(rng: np.random.Generator, *, from_logits: bool = False, **_: Any) -> tuple[Any, Any]:
    """Exact 0/1 probabilities equal to the labels, or logits of +-1e4."""
    y_true = rng.integers(0, 2, size=(4, 3)).astype(np.float64)
    return (1e4 * (2 * y_true - 1) if from_logits else y_true.copy()), y_true


def _row_logits(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, 1.0, size=(N_SAMPLES, N_CLASSES))


def _predictions(rng: np.random.Generator, from_logits: bool) -> np.ndarray:
    """Logits, or softmax rows (entries kept away from 0 and 1 for finite differences)."""
    z = _row_logits(rng)
    return z if from_logits else np.exp(z) / np.exp(z).sum(-1, keepdims=True)


def _distribution_targets(rng: np.random.Generator) -> np.ndarray:
    """Probability rows: the first two one-hot, the others soft."""
    y = _predictions(rng, from_logits=False)
    y[:2] = np.eye(N_CLASSES)[rng.integers(0, N_CLASSES, size=2)]
    return y


def _prob_target_sample(rng: np.random.Generator, *, from_logits: bool = False, **_: Any) -> tuple[Any, Any]:
    return _predictions(rng, from_logits), _distribution_targets(rng)


def _label_sample(
    rng: np.random.Generator, *, from_logits: bool = True, ignore_index: Any = None, **_: Any
) -> tuple[Any, Any]:
    labels = rng.integers(0, N_CLASSES, size=N_SAMPLES)
    if ignore_index is not None:
        labels[1] = ignore_index
    return _predictions(rng, from_logits), labels


# --------------------------------------------------------------------------- binary losses


class _BinaryLoss(ElementwiseLoss):
    """An element-wise binary loss on probabilities, or on logits when ``from_logits=True``.

    The valid domain of ``y_pred`` depends on ``from_logits``: a twin declaration with a real
    domain serves the logit case, so validation stays one min/max pass in the blocked path.
    ``pos_weight`` arrays (broadcast over the last axis) skip the blocked path.
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        info = dict(kwargs.pop("info"))
        info.setdefault("y_pred", "probabilities in [0, 1], or logits when from_logits=True")
        info.setdefault("y_true", "targets in [0, 1] (0/1 labels or soft targets)")
        super().__init__(name, y_pred_domain=PROBABILITY, y_true_domain=PROBABILITY, info=info, **kwargs)
        self._logit_twin = copy.copy(self)
        self._logit_twin.y_pred_domain = REAL

    def _twin(self, params: dict[str, Any]) -> ElementwiseLoss:
        return self._logit_twin if params["from_logits"] else self

    def _prepare(self, xp: ModuleType, inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
        y_pred, y_true = super()._prepare(xp, inputs, params)
        pos_weight: Any = params.get("pos_weight")
        if np.ndim(pos_weight) > 0 and (y_pred.ndim == 0 or y_pred.shape[-1] != np.size(pos_weight)):
            raise ValueError(
                f"{self.name}: pos_weight of {np.size(pos_weight)} entries must match the last axis "
                f"of y_pred, shape {tuple(y_pred.shape)}"
            )
        return y_pred, y_true

    def _forward(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], need_grad: bool
    ) -> Any:
        return ElementwiseLoss._forward(self._twin(params), xp, arrays, params, need_grad)

    def _local_hvp(
        self, xp: ModuleType, arrays: tuple[Any, ...], params: dict[str, Any], v: Any
    ) -> tuple[Any, Any, tuple[int, ...]]:
        return ElementwiseLoss._local_hvp(self._twin(params), xp, arrays, params, v)

    def _fast_path(
        self,
        xp: ModuleType,
        arrays: tuple[Any, ...],
        reduction: str,
        sample_weight: Any,
        params: dict[str, Any],
        need_grad: bool,
    ) -> Any:
        pos_weight: Any = params.get("pos_weight")
        if np.ndim(pos_weight) > 0:
            return None
        return ElementwiseLoss._fast_path(
            self._twin(params), xp, arrays, reduction, sample_weight, params, need_grad
        )


def _smooth_binary(y: Any, label_smoothing: float) -> Any:
    return y if label_smoothing == 0 else y * (1.0 - label_smoothing) + 0.5 * label_smoothing


def _pos(xp: ModuleType, pos_weight: Any, like: Any) -> Any:
    if pos_weight is None:
        return 1.0
    return _class_vector(xp, pos_weight, like, "pos_weight", "binary_cross_entropy")


# --------------------------------------------------------------------------- BCE


def _bce_value(xp, y_pred, y_true, *, from_logits, pos_weight, label_smoothing):
    y = _smooth_binary(y_true, label_smoothing)
    w = _pos(xp, pos_weight, y_pred)
    if from_logits:
        # (1 - y) softplus(x) + w y softplus(-x), with one log1p(e^{-|x|}) shared.
        lse = xp.log1p(xp.exp(-xp.abs(y_pred)))
        return (1.0 - y) * (relu(xp, y_pred) + lse) + (w * y) * (relu(xp, -y_pred) + lse)
    return -((w * y) * clamped_log(xp, y_pred) + (1.0 - y) * clamped_log1m(xp, y_pred))


def _bce_grad(xp, y_pred, y_true, *, from_logits, pos_weight, label_smoothing):
    y = _smooth_binary(y_true, label_smoothing)
    w = _pos(xp, pos_weight, y_pred)
    if from_logits:
        if pos_weight is None:
            return sigmoid(xp, y_pred) - y
        return (1.0 - y) * sigmoid(xp, y_pred) - (w * y) * sigmoid(xp, -y_pred)
    wy = w * y
    return (y_pred * (wy + 1.0 - y) - wy) / floor_eps(xp, y_pred * (1.0 - y_pred))


def _bce_hessian(xp, y_pred, y_true, *, from_logits, pos_weight, label_smoothing):
    y = _smooth_binary(y_true, label_smoothing)
    wy = _pos(xp, pos_weight, y_pred) * y
    if from_logits:
        return (1.0 - y + wy) * sigmoid(xp, y_pred) * sigmoid(xp, -y_pred)
    return wy / floor_eps(xp, y_pred * y_pred) + (1.0 - y) / floor_eps(xp, (1.0 - y_pred) ** 2)


def _bce_logits_pre(x):
    # -|x|, written by the compiled pass into the first auxiliary array of the next block.
    return -abs(x)


def _bce_logits_aux(e, lse):
    """NumPy's vectorized transcendentals for one block, in place: e = exp(-|x|) from e = -|x|
    (written by ``_bce_logits_pre``), then lse = log1p(e)."""
    np.exp(e, out=e)
    np.log1p(e, out=lse)


def _bce_logits_element_args(dtype, *, from_logits, pos_weight, label_smoothing):
    """The compiled element covers float64 logits with no or a scalar pos_weight.

    Probabilities and float32 use the NumPy kernel: the element computes in float64, which near a
    zero of the gradient (sigmoid(x) close to y) would not round as NumPy's float32 does.
    ``pos_weight=None`` stays ``None``: Numba compiles a separate, shorter loop for it.
    """
    if not from_logits or np.ndim(pos_weight) > 0 or dtype != np.float64:
        return None
    return (None if pos_weight is None else float(pos_weight), float(label_smoothing))


def _bce_logits_element(x, y, e, lse, w, eps):
    # Scalar form of the NumPy kernel (w None) and of _bce_value/_bce_grad (scalar pos_weight w)
    # for the optional compiled path; e = exp(-|x|) and lse = log1p(e) come from NumPy.
    # sigmoid(+-x) = (1 or e) / (1 + e) as in sigmoid(); y (1 - eps) + eps / 2 is y when eps = 0.
    ys = y * (1.0 - eps) + 0.5 * eps
    d = 1.0 + e
    sig = (1.0 if x >= 0 else e) / d
    if w is None:
        return lse + (max(x, 0.0) - ys * x), sig - ys
    sig_neg = (1.0 if -x >= 0 else e) / d
    wy = w * ys
    value = (1.0 - ys) * (max(x, 0.0) + lse) + wy * (max(-x, 0.0) + lse)
    return value, (1.0 - ys) * sig - wy * sig_neg


@ElementwiseLoss.compiled(
    _bce_logits_element, aux=_bce_logits_aux, n_aux=2, args=_bce_logits_element_args, pre=_bce_logits_pre
)
def _bce_kernel(p, t, out, scale, *, from_logits, pos_weight, label_smoothing):
    """One block of BCE: fused for logits without pos_weight (the benchmarked case)."""
    params = dict(from_logits=from_logits, pos_weight=pos_weight, label_smoothing=label_smoothing)
    if not from_logits or pos_weight is not None:
        value = float(_bce_value(np, p, t, **params).sum())
        if out is not None:
            np.multiply(_bce_grad(np, p, t, **params), scale, out=out)
        return value
    y = _smooth_binary(t, label_smoothing)
    e = np.abs(p)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e = exp(-|x|)
    tmp = np.log1p(e)
    value = float(tmp.sum())
    # relu(x) - y x per element is exact for 0/1 labels (no cancellation across the block).
    r = np.maximum(p, 0.0)
    r -= np.multiply(y, p, out=tmp)
    value += float(r.sum())
    if out is not None:
        # sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|)), exact on both sides.
        np.minimum(p, 0.0, out=out)
        np.exp(out, out=out)
        e += 1.0
        out /= e
        out -= y
        out *= scale
    return value


def _bce_torch(torch, p, t, *, reduction, from_logits=False, pos_weight=None, label_smoothing=0.0):
    F = torch.nn.functional
    t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    w = None if pos_weight is None else torch.as_tensor(np.asarray(pos_weight), dtype=p.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(p, t, pos_weight=w, reduction=reduction)
    if w is None:
        return F.binary_cross_entropy(p, t, reduction=reduction)
    # BCELoss has no pos_weight: its clamped formula with the positive term weighted.
    loss = -(w * t * torch.clamp(torch.log(p), min=-100) + (1 - t) * torch.clamp(torch.log1p(-p), min=-100))
    return reduce_like_torch(loss, reduction)


binary_cross_entropy = register(
    _BinaryLoss(
        "binary_cross_entropy",
        task="binary",
        params={
            "from_logits": FROM_LOGITS,
            "pos_weight": Param(None, _check_pos_weight, "weight of the positive term (scalar or per class)"),
            "label_smoothing": LABEL_SMOOTHING,
        },
        value=_bce_value,
        grad=_bce_grad,
        hessian=_bce_hessian,
        kernel=_bce_kernel,
        sample=_binary_sample,
        torch_fn=_bce_torch,
        test_params=(
            {},
            {"from_logits": True},
            {"from_logits": True, "pos_weight": 2.5},
            {"pos_weight": 3.0},
            {"label_smoothing": 0.1},
            {"from_logits": True, "label_smoothing": 0.2, "pos_weight": 2.0},
        ),
        info=dict(
            summary="Binary cross-entropy (log loss): the Bernoulli negative log-likelihood.",
            formula=(
                r"\ell = -[w_+ y' \log p + (1 - y')\log(1 - p)],\ p = \hat y \text{ or } \sigma(\hat y),"
                r"\ y' = y(1 - \varepsilon) + \varepsilon/2"
            ),
            gradient=(
                r"\partial\ell/\partial\hat y = \frac{p(w_+ y' + 1 - y') - w_+ y'}{p(1 - p)}"
                r"\ \text{(probabilities)},\ (1 - y')\sigma(\hat y) - w_+ y'\sigma(-\hat y)\ \text{(logits)}"
            ),
            convex=True,
            torch="torch.nn.BCELoss / torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)",
            keras="keras.losses.BinaryCrossentropy(from_logits, label_smoothing)",
            aliases=("bce", "log_loss"),
            use_when="Binary or multi-label classification with a sigmoid output.",
            conventions=(
                "Probabilities: log clamped at -100 and the gradient denominator p(1-p) floored at "
                "1e-12, as PyTorch's BCELoss (Keras clips p to [1e-7, 1 - 1e-7] instead). Logits: "
                "PyTorch's BCEWithLogitsLoss; pos_weight w_+ (scalar, or one entry per class of the "
                "last axis) also applies to probabilities. Label smoothing y(1-e)+e/2 as Keras."
            ),
            references=(
                "Cox (1958), The Regression Analysis of Binary Sequences",
                "Szegedy et al. (2016), Rethinking the Inception Architecture, arXiv:1512.00567",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- binary focal


def _focal_parts(xp, y_pred, y_true, from_logits):
    """Cross-entropy, m = 1 - p_t and their derivatives with respect to y_pred."""
    y = y_true
    if from_logits:
        s, s_neg = sigmoid(xp, y_pred), sigmoid(xp, -y_pred)
        lse = xp.log1p(xp.exp(-xp.abs(y_pred)))
        ce = (1.0 - y) * (relu(xp, y_pred) + lse) + y * (relu(xp, -y_pred) + lse)
        m = y * s_neg + (1.0 - y) * s
        dce = s - y
        dm = (1.0 - 2.0 * y) * s * s_neg
    else:
        p = y_pred
        ce = -(y * clamped_log(xp, p) + (1.0 - y) * clamped_log1m(xp, p))
        m = y * (1.0 - p) + (1.0 - y) * p
        dce = (p - y) / floor_eps(xp, p * (1.0 - p))
        dm = 1.0 - 2.0 * y
    return ce, m, dce, dm


def _alpha_t(y, alpha):
    return 1.0 if alpha is None else alpha * y + (1.0 - alpha) * (1.0 - y)


def _pow(xp, m, gamma):
    """m ** gamma and d(m ** gamma)/dm, with the derivative at m = 0 set to 0 (its limit for gamma > 1)."""
    if gamma == 0:
        return xp.ones_like(m), xp.zeros_like(m)
    positive = m > 0
    safe = xp.where(positive, m, xp.ones_like(m))
    dpow = xp.where(positive, gamma * safe ** (gamma - 1.0), xp.zeros_like(m))
    return m**gamma, (dpow if gamma != 1 else xp.ones_like(m))


def _pow2(xp, m, gamma):
    """d^2(m ** gamma)/dm^2 = gamma (gamma - 1) m ** (gamma - 2), 0 at m = 0 (as ``_pow``; its limit for
    gamma > 2 or gamma in {0, 1}; gamma = 2 gives 2 everywhere)."""
    if gamma in (0, 1):
        return xp.zeros_like(m)
    if gamma == 2:
        return 2.0 * xp.ones_like(m)
    positive = m > 0
    safe = xp.where(positive, m, xp.ones_like(m))
    return xp.where(positive, gamma * (gamma - 1.0) * safe ** (gamma - 2.0), xp.zeros_like(m))


def _binary_focal_hessian(xp, y_pred, y_true, *, gamma, alpha, from_logits):
    r"""(a_t) [(m^g)'' m'^2 ce + (m^g)' m'' ce + 2 (m^g)' m' ce' + m^g ce''] with m = 1 - p_t."""
    ce, m, dce, dm = _focal_parts(xp, y_pred, y_true, from_logits)
    mg, dmg = _pow(xp, m, gamma)
    d2mg = _pow2(xp, m, gamma)
    y = y_true
    if from_logits:
        s, s_neg = sigmoid(xp, y_pred), sigmoid(xp, -y_pred)
        d2ce = s * s_neg
        d2m = dm * (s_neg - s)  # (1 - 2y) s (1 - s) (1 - 2s)
    else:
        p = y_pred
        d2ce = y / floor_eps(xp, p * p) + (1.0 - y) / floor_eps(xp, (1.0 - p) ** 2)
        d2m = xp.zeros_like(p)
    return _alpha_t(y, alpha) * (d2mg * dm * dm * ce + dmg * d2m * ce + 2.0 * dmg * dm * dce + mg * d2ce)


def _binary_focal_value(xp, y_pred, y_true, *, gamma, alpha, from_logits):
    ce, m, _, _ = _focal_parts(xp, y_pred, y_true, from_logits)
    return _alpha_t(y_true, alpha) * m**gamma * ce if gamma != 0 else _alpha_t(y_true, alpha) * ce


def _binary_focal_grad(xp, y_pred, y_true, *, gamma, alpha, from_logits):
    ce, m, dce, dm = _focal_parts(xp, y_pred, y_true, from_logits)
    mg, dmg = _pow(xp, m, gamma)
    return _alpha_t(y_true, alpha) * (dmg * dm * ce + mg * dce)


def _binary_focal_torch(torch, p, t, *, reduction, gamma=2.0, alpha=0.25, from_logits=False):
    """torchvision.ops.sigmoid_focal_loss (and its probability-input analogue) in torch ops."""
    F = torch.nn.functional
    if from_logits:
        prob = torch.sigmoid(p)
        ce = F.binary_cross_entropy_with_logits(p, t, reduction="none")
    else:
        prob = p
        ce = F.binary_cross_entropy(p, t, reduction="none")
    p_t = prob * t + (1 - prob) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return reduce_like_torch(loss, reduction)


binary_focal = register(
    _BinaryLoss(
        "binary_focal",
        task="binary",
        params={
            "gamma": Param(2.0, _check_gamma, "focusing parameter (0: cross-entropy)"),
            "alpha": Param(0.25, _check_alpha_binary, "weight of positives (1-alpha: negatives); None: off"),
            "from_logits": FROM_LOGITS,
        },
        value=_binary_focal_value,
        grad=_binary_focal_grad,
        hessian=_binary_focal_hessian,
        sample=_binary_sample,
        perfect=_binary_perfect,
        torch_fn=_binary_focal_torch,
        test_params=(
            {},
            {"from_logits": True},
            {"gamma": 0.0, "alpha": None},
            {"gamma": 1.0, "alpha": 0.75, "from_logits": True},
            {"gamma": 5.0, "alpha": None},
            {"gamma": 0.5, "alpha": 0.5, "from_logits": True},
        ),
        info=dict(
            traits=("handles_imbalance",),
            summary="Binary focal loss: cross-entropy down-weighted on easy examples by (1 - p_t)^gamma.",
            formula=(
                r"\ell = -\alpha_t (1 - p_t)^\gamma \log p_t,\ p_t = y p + (1 - y)(1 - p),"
                r"\ \alpha_t = \alpha y + (1 - \alpha)(1 - y)"
            ),
            gradient=(
                r"\partial\ell/\partial p = \alpha_t (1 - 2y)\,[\gamma (1 - p_t)^{\gamma - 1}\,\mathrm{CE}]"
                r" + \alpha_t (1 - p_t)^\gamma\,\partial\mathrm{CE}/\partial p;"
                r"\ \text{logits: times } \sigma(\hat y)\sigma(-\hat y)"
            ),
            torch="torchvision.ops.sigmoid_focal_loss (logits)",
            keras="keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha, gamma)",
            aliases=("focal",),
            use_when="Heavy class imbalance with many easy negatives (detection, fraud, rare events).",
            conventions=(
                "The torchvision formula (also for soft targets): alpha weights positives and 1 - alpha "
                "negatives, alpha=None disables it; gamma=0 is alpha_t-weighted BCE. Keras applies alpha "
                "only with apply_class_balancing=True. Probabilities use BCELoss's log clamp at -100."
            ),
            references=(
                "Lin, Goyal, Girshick, He, Dollar (2017), Focal Loss for Dense Object Detection, "
                "arXiv:1708.02002",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- hinge family


def _signed_labels(xp, y_true):
    """Labels in {-1, +1}; 0 is read as -1, so {0, 1} labels work unchanged."""
    return xp.where(y_true == 0, -xp.ones_like(y_true), y_true)


SIGNED = Domain("labels -1 or +1 (0 is read as -1)", -1.0, 1.0, values=(-1.0, 0.0, 1.0))


def _signed_perfect(rng: np.random.Generator, **_: Any) -> tuple[Any, Any]:
    """Correct side with margin >= 1: y * y_pred >= 1."""
    y = rng.choice([-1.0, 1.0], size=(4, 3))
    return y * rng.uniform(1.0, 3.0, size=y.shape), y


def _signed_sample(rng: np.random.Generator, **_: Any) -> tuple[Any, Any]:
    return rng.uniform(-3.0, 3.0, size=(4, 3)), rng.choice([-1.0, 1.0], size=(4, 3))


def _hinge_torch(power):
    def fn(torch, s, y, *, reduction):
        y = torch.where(y == 0, -torch.ones_like(y), y)
        return reduce_like_torch(torch.clamp(1 - y * s, min=0) ** power, reduction)

    return fn


hinge = register(
    ElementwiseLoss(
        "hinge",
        task="binary",
        value=lambda xp, y_pred, y_true: relu(xp, 1.0 - y_true * y_pred),
        grad=lambda xp, y_pred, y_true: xp.where(y_true * y_pred < 1, -y_true, xp.zeros_like(y_pred)),
        hessian=lambda xp, y_pred, y_true: xp.zeros_like(y_pred),
        y_true_domain=SIGNED,
        transform_y_true=_signed_labels,
        sample=_signed_sample,
        perfect=_signed_perfect,
        grad_bound=lambda: 1.0,
        torch_fn=_hinge_torch(1),
        info=dict(
            traits=("margin",),
            summary="Hinge loss: zero once the score is on the right side by a margin of 1 (SVM).",
            formula=r"\ell = \max(0, 1 - y\hat y),\ y \in \{-1, +1\}",
            gradient=r"\partial\ell/\partial\hat y = -y\ \text{if } y\hat y < 1,\ 0 \text{ otherwise}",
            convex=True,
            robust=True,
            differentiable=False,
            keras="keras.losses.Hinge",
            use_when="Max-margin classification on raw scores (linear SVMs); no probabilities needed.",
            conventions=(
                "Labels -1/+1; 0 is read as -1, so 0/1 labels work (Keras converts 0/1 the same way). "
                "Subgradient 0 at the kink y*y_pred = 1. PyTorch has no binary hinge "
                "(HingeEmbeddingLoss is a different loss); the torch reference is the formula."
            ),
            references=("Cortes, Vapnik (1995), Support-Vector Networks",),
        ),
    )
)

squared_hinge = register(
    ElementwiseLoss(
        "squared_hinge",
        task="binary",
        value=lambda xp, y_pred, y_true: relu(xp, 1.0 - y_true * y_pred) ** 2,
        grad=lambda xp, y_pred, y_true: -2.0 * y_true * relu(xp, 1.0 - y_true * y_pred),
        hessian=lambda xp, y_pred, y_true: 2.0 * xp.astype(y_true * y_pred < 1, y_pred.dtype),
        y_true_domain=SIGNED,
        transform_y_true=_signed_labels,
        sample=_signed_sample,
        perfect=_signed_perfect,
        torch_fn=_hinge_torch(2),
        info=dict(
            traits=("margin",),
            summary="Squared hinge: the hinge squared, differentiable, penalizes margin violations more.",
            formula=r"\ell = \max(0, 1 - y\hat y)^2,\ y \in \{-1, +1\}",
            gradient=r"\partial\ell/\partial\hat y = -2y\max(0, 1 - y\hat y)",
            convex=True,
            keras="keras.losses.SquaredHinge",
            use_when="Margin classification with a smooth (C^1) objective, e.g. L2-SVM.",
            conventions="Labels -1/+1 (0 read as -1), as Keras' SquaredHinge.",
            references=("Rennie, Srebro (2005), Loss Functions for Preference Levels",),
        ),
    )
)


def _smoothed_hinge_value(xp, y_pred, y_true):
    z = y_true * y_pred
    quad = 0.5 * relu(xp, 1.0 - z) ** 2
    return xp.where(z <= 0, 0.5 - z, quad)


def _smoothed_hinge_grad(xp, y_pred, y_true):
    z = y_true * y_pred
    return -y_true * xp.clip(1.0 - z, 0.0, 1.0)


smoothed_hinge = register(
    ElementwiseLoss(
        "smoothed_hinge",
        task="binary",
        value=_smoothed_hinge_value,
        grad=_smoothed_hinge_grad,
        hessian=lambda xp, y_pred, y_true: xp.astype(
            (y_true * y_pred > 0) & (y_true * y_pred < 1), y_pred.dtype
        ),
        y_true_domain=SIGNED,
        transform_y_true=_signed_labels,
        sample=_signed_sample,
        perfect=_signed_perfect,
        grad_bound=lambda: 1.0,
        torch_fn=lambda torch, s, y, *, reduction: reduce_like_torch(
            torch.where(y * s <= 0, 0.5 - y * s, 0.5 * torch.clamp(1 - y * s, min=0) ** 2), reduction
        ),
        info=dict(
            traits=("margin",),
            summary="Quadratically smoothed hinge (Rennie & Srebro): linear far off, quadratic near margin.",
            formula=(
                r"\ell = \begin{cases} \tfrac12 - z & z \le 0 \\ \tfrac12 (1 - z)^2 & 0 < z < 1 \\"
                r" 0 & z \ge 1 \end{cases},\ z = y\hat y"
            ),
            gradient=r"\partial\ell/\partial\hat y = -y\,\operatorname{clip}(1 - z, 0, 1)",
            convex=True,
            robust=True,
            keras=None,
            use_when="A hinge-like margin loss with a continuous gradient for gradient-based training.",
            conventions=(
                "The smoothing of Rennie & Srebro (2005): value and slope continuous at z = 0 and "
                "z = 1; it is the Huber-ized hinge with delta = 1 shifted, labels -1/+1 (0 read as -1)."
            ),
            references=("Rennie, Srebro (2005), Loss Functions for Preference Levels, IJCAI workshop",),
        ),
    )
)


# --------------------------------------------------------------------------- cross-entropies


def _check_probabilities(xp, y_pred, y_true, *, where, from_logits=False, **_):
    """With from_logits=False, y_pred must hold probabilities in [0, 1]."""
    if not from_logits:
        PROBABILITY.check(xp, y_pred, "y_pred", where)


def _ce_from_coefficients(xp, y_pred, a, from_logits, need_grad):
    """Per-row -sum_c a_c log q_c and its gradient ((sum a) q - a for logits, -a / p otherwise)."""
    if not from_logits:
        loss = -xp.sum(a * clamped_log(xp, y_pred), axis=-1)
        return loss, (-a / floor_eps(xp, y_pred) if need_grad else None)
    lse = logsumexp(xp, y_pred)
    loss = -xp.sum(a * (y_pred - lse), axis=-1)
    if not need_grad:
        return loss, None
    q = xp.exp(y_pred - lse)
    return loss, xp.sum(a, axis=-1, keepdims=True) * q - a


def _ce_hvp(xp, y_pred, a, from_logits, v):
    r"""Per-row Hessian-vector product of -sum_c a_c log q_c: :math:`(\sum_c a_c)(q \odot v - q\,
    \langle q, v\rangle)` from logits (softmax's Hessian, scaled), :math:`a \odot v / \hat y^2`
    from probabilities."""
    if not from_logits:
        return a * v / floor_eps(xp, y_pred * y_pred)
    q = xp.exp(log_softmax(xp, y_pred))
    s = xp.sum(a, axis=-1, keepdims=True)
    return s * (q * v - q * xp.sum(q * v, axis=-1, keepdims=True))


def _cce_hvp(xp, y_pred, y_true, v, *, from_logits, label_smoothing, class_weight):
    a = _cce_coefficients(xp, y_pred, y_true, label_smoothing, class_weight, "categorical_cross_entropy")
    return _ce_hvp(xp, y_pred, a, from_logits, v)


def _cce_coefficients(xp, y_pred, y_true, label_smoothing, class_weight, where):
    n = y_pred.shape[-1]
    a = y_true if label_smoothing == 0 else y_true * (1.0 - label_smoothing) + label_smoothing / n
    if class_weight is not None:
        a = a * _class_vector(xp, class_weight, y_pred, "class_weight", where)
    return a


def _cce_vg(xp, y_pred, y_true, *, from_logits, label_smoothing, class_weight, need_grad=True):
    a = _cce_coefficients(xp, y_pred, y_true, label_smoothing, class_weight, "categorical_cross_entropy")
    if from_logits and is_numpy_namespace(xp):
        return _ce_logits_numpy(y_pred, a, need_grad)
    return _ce_from_coefficients(xp, y_pred, a, from_logits, need_grad)


def _ce_logits_numpy(x, a, need_grad):
    """_ce_from_coefficients from logits in few in-place passes: log-softmax once, no temporaries
    beyond one array shaped like ``x``. With z = x - max(x) and s = sum exp(z), the per-row loss
    is (sum a) log s - sum a z, the gradient (sum a) exp(z) / s - a."""
    m = x.max(axis=-1, keepdims=True)
    if not np.isfinite(m).all():  # as logsumexp: a row max of +-inf shifts by 0
        m = np.where(np.isfinite(m), m, 0.0)
    z = np.subtract(x, m)
    sa = a.sum(axis=-1)
    za = np.einsum("...c,...c->...", a, z)
    np.exp(z, out=z)
    s = z.sum(axis=-1)
    loss = sa * np.log(s) - za
    if not need_grad:
        return loss, None
    z *= (sa / s)[..., None]
    z -= a
    return loss, z


def _cce_torch(torch, p, t, *, reduction, from_logits=False, label_smoothing=0.0, class_weight=None):
    F = torch.nn.functional
    w = None if class_weight is None else torch.as_tensor(class_weight, dtype=p.dtype)
    if from_logits:
        return F.cross_entropy(p, t, weight=w, reduction=reduction, label_smoothing=label_smoothing)
    # cross_entropy's probability-target formula, on log(y_pred) instead of log_softmax.
    t = t * (1 - label_smoothing) + label_smoothing / p.shape[-1]
    loss = -((t if w is None else t * w) * torch.clamp(torch.log(p), min=-100)).sum(-1)
    return reduce_like_torch(loss, reduction)


categorical_cross_entropy = register(
    ClassAxisLoss(
        "categorical_cross_entropy",
        task="multiclass",
        params={"from_logits": FROM_LOGITS, "label_smoothing": LABEL_SMOOTHING, "class_weight": CLASS_WEIGHT},
        value=lambda xp, p, t, **kw: _cce_vg(xp, p, t, need_grad=False, **kw)[0],
        grad=lambda xp, p, t, **kw: _cce_vg(xp, p, t, **kw)[1],
        value_and_grad=_cce_vg,
        hvp=_cce_hvp,
        targets="probabilities",
        y_true_domain=PROBABILITY,
        validate=_check_probabilities,
        sample=_prob_target_sample,
        torch_fn=_cce_torch,
        test_params=(
            {},
            {"from_logits": True},
            {"from_logits": True, "label_smoothing": 0.1},
            {"from_logits": True, "class_weight": (1.0, 2.0, 0.5, 3.0), "label_smoothing": 0.2},
            {"class_weight": (0.2, 1.0, 1.0, 4.0)},
            {"label_smoothing": 0.3},
        ),
        info=dict(
            summary="Categorical cross-entropy with one-hot or probability targets (softmax outputs).",
            formula=(
                r"\ell = -\sum_c w_c y'_c \log q_c,\ q = \hat y \text{ or } \operatorname{softmax}(\hat y),"
                r"\ y' = (1 - \varepsilon) y + \varepsilon / C"
            ),
            gradient=(
                r"\partial\ell/\partial\hat y_c = -w_c y'_c / \hat y_c\ \text{(probabilities)},"
                r"\ (\textstyle\sum_k w_k y'_k)\, q_c - w_c y'_c\ \text{(logits)}"
            ),
            convex=True,
            torch="torch.nn.CrossEntropyLoss (probability targets)",
            keras="keras.losses.CategoricalCrossentropy(from_logits, label_smoothing)",
            aliases=("cce",),
            use_when="Multiclass classification with one-hot or soft targets (distillation, mixup).",
            conventions=(
                "Class axis last. With probability targets PyTorch's 'mean' divides by the number of "
                "samples even with class weights (integer targets: see sparse_categorical_cross_entropy). "
                "Probabilities: -sum y log y_pred, log clamped at -100 (PyTorch's NLLLoss on log y_pred); "
                "Keras renormalizes y_pred rows first and clips at 1e-7."
            ),
            references=("Shannon (1948); Szegedy et al. (2016), arXiv:1512.00567 (label smoothing)",),
        ),
    )
)


def _scce_parts(xp, y_pred, y_true, ignore_index, label_smoothing, class_weight):
    """Coefficients a (per row) with loss = -sum_c a_c log q_c, and the per-sample count."""
    n = y_pred.shape[-1]
    keep = None
    labels = y_true
    if ignore_index is not None:
        keep = y_true != ignore_index
        labels = xp.where(keep, y_true, xp.zeros_like(y_true))
    w = (
        None
        if class_weight is None
        else _class_vector(xp, class_weight, y_pred, "class_weight", "sparse_categorical_cross_entropy")
    )
    hot = one_hot(xp, labels, n, y_pred)
    w_y = xp.ones_like(hot[..., 0]) if w is None else take_labels(xp, xp.broadcast_to(w, hot.shape), labels)
    a = (1.0 - label_smoothing) * (hot if w is None else hot * w)
    if label_smoothing:
        a = a + (label_smoothing / n) * (xp.ones_like(hot) if w is None else xp.broadcast_to(w, hot.shape))
    if keep is not None:
        mask = xp.astype(keep, y_pred.dtype)
        a = a * mask[..., None]
        w_y = w_y * mask
    count = None if (keep is None and w is None) else w_y
    return a, count


def _scce_vg(xp, y_pred, y_true, *, from_logits, ignore_index, label_smoothing, class_weight, need_grad=True):
    if from_logits and is_numpy_namespace(xp):
        return _scce_logits_numpy(y_pred, y_true, ignore_index, label_smoothing, class_weight, need_grad)
    a, _ = _scce_parts(xp, y_pred, y_true, ignore_index, label_smoothing, class_weight)
    return _ce_from_coefficients(xp, y_pred, a, from_logits, need_grad)


def _scce_logits_numpy(x, labels, ignore_index, label_smoothing, class_weight, need_grad):
    """The same values and gradients as the generic path, in few in-place passes (no one-hot)."""
    n = x.shape[-1]
    eps = label_smoothing
    keep = None if ignore_index is None else labels != ignore_index
    safe = labels if keep is None else np.where(keep, labels, 0)
    w = (
        None
        if class_weight is None
        else _class_vector(np, class_weight, x, "class_weight", "sparse_categorical_cross_entropy")
    )
    z = np.subtract(x, x.max(axis=-1, keepdims=True))
    z_y = np.take_along_axis(z, safe[..., None], axis=-1)[..., 0]
    z_all = (z.sum(axis=-1) if w is None else z @ w) if eps else 0.0
    np.exp(z, out=z)
    s = z.sum(axis=-1)
    log_s = np.log(s)
    w_y = 1.0 if w is None else w[safe]
    w_all = float(n if w is None else w.sum())
    loss = (1.0 - eps) * w_y * (log_s - z_y)
    if eps:
        loss = loss + (eps / n) * (w_all * log_s - z_all)
    if keep is not None:
        loss = np.where(keep, loss, 0.0)
    loss = np.asarray(loss, dtype=x.dtype)
    if not need_grad:
        return loss, None
    on_label = (1.0 - eps) * np.broadcast_to(np.asarray(w_y, dtype=x.dtype), s.shape)
    total = on_label + (eps / n) * w_all
    if keep is not None:
        on_label = on_label * keep
        total = total * keep
    z *= (total / s)[..., None]
    at = safe[..., None]
    np.put_along_axis(z, at, np.take_along_axis(z, at, -1) - on_label[..., None], -1)
    if eps:
        smooth = (eps / n) * (np.ones(n, dtype=x.dtype) if w is None else w)
        z -= smooth if keep is None else smooth * keep[..., None]
    return loss, z


def _scce_hvp(xp, y_pred, y_true, v, *, from_logits, ignore_index, label_smoothing, class_weight):
    a, _ = _scce_parts(xp, y_pred, y_true, ignore_index, label_smoothing, class_weight)
    return _ce_hvp(xp, y_pred, a, from_logits, v)


def _scce_count(xp, y_pred, y_true, *, from_logits, ignore_index, label_smoothing, class_weight):
    if ignore_index is None and class_weight is None:
        return None
    return _scce_parts(xp, y_pred, y_true, ignore_index, label_smoothing, class_weight)[1]


def _scce_torch(
    torch, p, t, *, reduction, from_logits=False, ignore_index=None, label_smoothing=0.0, class_weight=None
):
    F = torch.nn.functional
    w = None if class_weight is None else torch.as_tensor(class_weight, dtype=p.dtype)
    ignore = -100 if ignore_index is None else ignore_index
    if from_logits:
        return F.cross_entropy(
            p, t, weight=w, ignore_index=ignore, reduction=reduction, label_smoothing=label_smoothing
        )
    # cross_entropy's formula (NLL + smoothing term) on log(y_pred) instead of log_softmax.
    logp = torch.clamp(torch.log(p), min=-100)
    nll = F.nll_loss(logp, t, weight=w, ignore_index=ignore, reduction=reduction)
    if label_smoothing == 0:
        return nll
    n = p.shape[-1]
    wv = torch.ones(n, dtype=p.dtype) if w is None else w
    keep = (t != ignore).to(p.dtype)
    smooth = -(logp * wv).sum(-1) * keep
    if reduction == "none":
        return (1 - label_smoothing) * nll + label_smoothing / n * smooth
    if reduction == "sum":
        return (1 - label_smoothing) * nll + label_smoothing / n * smooth.sum()
    denom = (wv[torch.where(t != ignore, t, 0)] * keep).sum()
    return (1 - label_smoothing) * nll + label_smoothing / n * smooth.sum() / denom


sparse_categorical_cross_entropy = register(
    ClassAxisLoss(
        "sparse_categorical_cross_entropy",
        task="multiclass",
        params={
            "from_logits": FROM_LOGITS,
            "ignore_index": Param(None, _check_ignore_index, "label whose samples are left out"),
            "label_smoothing": LABEL_SMOOTHING,
            "class_weight": CLASS_WEIGHT,
        },
        value=lambda xp, p, t, **kw: _scce_vg(xp, p, t, need_grad=False, **kw)[0],
        grad=lambda xp, p, t, **kw: _scce_vg(xp, p, t, **kw)[1],
        value_and_grad=_scce_vg,
        hvp=_scce_hvp,
        count=_scce_count,
        targets="labels",
        validate=_check_probabilities,
        sample=_label_sample,
        doc=(
            "Cross-entropy with integer class targets, PyTorch's CrossEntropyLoss semantics.\n\n"
            "'mean' divides by the sum of the class weights of the non-ignored targets. When every "
            "target equals ignore_index, 'mean' returns 0 with a zero gradient: a deliberate "
            "difference from PyTorch, which returns NaN."
        ),
        torch_fn=_scce_torch,
        test_params=(
            {},
            {"from_logits": True},
            {"from_logits": True, "class_weight": (1.0, 2.0, 0.5, 3.0)},
            {"from_logits": True, "ignore_index": 2},
            {"from_logits": True, "ignore_index": -100, "label_smoothing": 0.1},
            {
                "from_logits": True,
                "class_weight": (1.0, 2.0, 0.5, 3.0),
                "ignore_index": 0,
                "label_smoothing": 0.2,
            },
            {"class_weight": (0.5, 1.0, 2.0, 1.0), "label_smoothing": 0.1},
            {"ignore_index": 3},
        ),
        info=dict(
            summary="Cross-entropy with integer class targets: PyTorch's CrossEntropyLoss semantics.",
            formula=(
                r"\ell_i = (1 - \varepsilon)\, w_{y_i} (-\log q_{i y_i}) + \frac{\varepsilon}{C}"
                r" \sum_c w_c (-\log q_{ic}),\ \text{mean} = \sum_i \ell_i / \sum_i w_{y_i}"
            ),
            gradient=(
                r"\partial\ell_i/\partial\hat y_{ic} = (\textstyle\sum_k a_{ik}) q_{ic} - a_{ic}"
                r"\ \text{(logits)},"
                r"\ -a_{ic}/\hat y_{ic}\ \text{(probabilities)},\ a_{ic} = (1 - \varepsilon) w_c [c = y_i]"
                r" + \varepsilon w_c / C"
            ),
            convex=True,
            torch="torch.nn.CrossEntropyLoss(weight, ignore_index, label_smoothing) / NLLLoss",
            keras="keras.losses.SparseCategoricalCrossentropy(from_logits, ignore_class)",
            aliases=("scce",),
            use_when="Multiclass classification with integer labels (memory-light; the usual case).",
            conventions=(
                "PyTorch semantics: 'mean' divides by the sum of the class weights of the non-ignored "
                "targets; ignored samples count 0 and have zero loss and gradient. When every target is "
                "ignored 'mean' returns 0 with a zero gradient (PyTorch returns NaN). ignore_index=None "
                "ignores nothing (PyTorch's default is -100). Keras' label smoothing needs one-hot targets."
            ),
            references=("Szegedy et al. (2016), arXiv:1512.00567 (label smoothing)",),
        ),
    )
)


# --------------------------------------------------------------------------- categorical focal


def _categorical_focal_vg(xp, y_pred, y_true, *, gamma, alpha, from_logits, need_grad=True):
    a = y_true
    if alpha is not None:
        a = a * _class_vector(xp, alpha, y_pred, "alpha", "categorical_focal")
    if from_logits:
        logq = log_softmax(xp, y_pred)
        q = xp.exp(logq)
    else:
        q = y_pred
        logq = clamped_log(xp, q)
    mg, dmg = _pow(xp, 1.0 - q, gamma)
    h = a * mg  # weight of -log q_c
    loss = -xp.sum(h * logq, axis=-1)
    if not need_grad:
        return loss, None
    r = a * dmg * logq  # d loss / d q_c = r_c - h_c / q_c
    if from_logits:
        qr_h = q * r - h
        return loss, qr_h - q * xp.sum(qr_h, axis=-1, keepdims=True)
    return loss, r - h / floor_eps(xp, q)


def _categorical_focal_hvp(xp, y_pred, y_true, v, *, gamma, alpha, from_logits):
    r"""Per row, with :math:`\varphi_c(q) = -a_c (1 - q)^\gamma \log q` (the loss is
    :math:`\sum_c \varphi_c(q_c)`): :math:`\varphi_c'' \odot v` from probabilities, the softmax chain
    rule (:func:`~losslab.losses._numerics.softmax_chain_hvp`) from logits;
    :math:`\varphi'' = a[-\gamma(\gamma - 1)(1 - q)^{\gamma - 2}\log q + 2\gamma (1 - q)^{\gamma - 1}/q
    + (1 - q)^\gamma / q^2]`."""
    a = y_true
    if alpha is not None:
        a = a * _class_vector(xp, alpha, y_pred, "alpha", "categorical_focal")
    if from_logits:
        logq = log_softmax(xp, y_pred)
        q = xp.exp(logq)
    else:
        q = y_pred
        logq = clamped_log(xp, q)
    mg, dmg = _pow(xp, 1.0 - q, gamma)
    d2mg = _pow2(xp, 1.0 - q, gamma)
    qs = floor_eps(xp, q)
    d2 = a * (-d2mg * logq + 2.0 * dmg / qs + mg / (qs * qs))
    if not from_logits:
        return d2 * v
    g = a * dmg * logq - a * mg / qs
    return softmax_chain_hvp(xp, q, g, lambda u: d2 * u, v)


def _categorical_focal_torch(torch, p, t, *, reduction, gamma=2.0, alpha=None, from_logits=False):
    q = torch.softmax(p, -1) if from_logits else p
    logq = torch.log_softmax(p, -1) if from_logits else torch.clamp(torch.log(p), min=-100)
    a = t if alpha is None else t * torch.as_tensor(alpha, dtype=p.dtype)
    return reduce_like_torch(-(a * (1 - q) ** gamma * logq).sum(-1), reduction)


categorical_focal = register(
    ClassAxisLoss(
        "categorical_focal",
        task="multiclass",
        params={
            "gamma": Param(2.0, _check_gamma, "focusing parameter (0: cross-entropy)"),
            "alpha": Param(None, _check_alpha_classes, "class weight: scalar or one per class; None: 1"),
            "from_logits": FROM_LOGITS,
        },
        value=lambda xp, p, t, **kw: _categorical_focal_vg(xp, p, t, need_grad=False, **kw)[0],
        grad=lambda xp, p, t, **kw: _categorical_focal_vg(xp, p, t, **kw)[1],
        value_and_grad=_categorical_focal_vg,
        hvp=_categorical_focal_hvp,
        targets="probabilities",
        validate=_check_probabilities,
        sample=_prob_target_sample,
        torch_fn=_categorical_focal_torch,
        test_params=(
            {},
            {"from_logits": True},
            {"gamma": 0.0, "from_logits": True},
            {"gamma": 1.0, "alpha": 0.25, "from_logits": True},
            {"gamma": 3.0, "alpha": (0.25, 0.5, 1.0, 2.0)},
        ),
        info=dict(
            traits=("handles_imbalance",),
            summary="Categorical focal loss: cross-entropy with each class term scaled by (1 - q_c)^gamma.",
            formula=(
                r"\ell = -\sum_c \alpha_c\, y_c (1 - q_c)^\gamma \log q_c,"
                r"\ q = \hat y \text{ or } \operatorname{softmax}(\hat y)"
            ),
            gradient=(
                r"\partial\ell/\partial q_c = g_c = \alpha_c y_c [\gamma (1 - q_c)^{\gamma - 1}\log q_c"
                r" - (1 - q_c)^\gamma / q_c];"
                r"\ \text{logits: } \partial\ell/\partial\hat y_j = q_j (g_j - \sum_c g_c q_c)"
            ),
            keras="keras.losses.CategoricalFocalCrossentropy(alpha, gamma, from_logits)",
            use_when="Imbalanced multiclass problems where easy examples dominate the loss.",
            conventions=(
                "Keras' formula; alpha defaults to None (no weighting) where Keras uses 0.25. gamma = 0 is "
                "the class-weighted categorical cross-entropy. No PyTorch class: the torch reference is "
                "the formula in torch ops. Probabilities are used as given (Keras renormalizes rows)."
            ),
            references=("Lin et al. (2017), Focal Loss for Dense Object Detection, arXiv:1708.02002",),
        ),
    )
)


# --------------------------------------------------------------------------- multiclass hinge


def _margins(xp, y_pred, y_true, margin):
    """s_j - s_y + margin for every class, with the true class itself masked to -inf."""
    hot = one_hot(xp, y_true, y_pred.shape[-1], y_pred)
    s_y = xp.sum(hot * y_pred, axis=-1, keepdims=True)
    d = y_pred - s_y + margin
    return xp.where(hot > 0, xp.full_like(d, -math.inf), d), hot


def _multiclass_hinge_vg(xp, y_pred, y_true, *, margin, variant, need_grad=True):
    d, hot = _margins(xp, y_pred, y_true, margin)
    if variant == "weston_watkins":
        loss = xp.sum(relu(xp, d), axis=-1)
        if not need_grad:
            return loss, None
        active = xp.astype(d > 0, y_pred.dtype)
    else:
        top = xp.max(d, axis=-1, keepdims=True)
        loss = relu(xp, top)[..., 0]
        if not need_grad:
            return loss, None
        first = xp.argmax(d, axis=-1)  # ties: the first maximal class (a subgradient)
        active = one_hot(xp, first, y_pred.shape[-1], y_pred) * xp.astype(top > 0, y_pred.dtype)
    return loss, active - hot * xp.sum(active, axis=-1, keepdims=True)


def _multiclass_hinge_perfect(rng: np.random.Generator, *, margin: float, **_: Any) -> tuple[Any, Any]:
    s, labels = _row_logits(rng), rng.integers(0, N_CLASSES, size=N_SAMPLES)
    s[np.arange(N_SAMPLES), labels] = s.max(-1) + margin + rng.uniform(0.1, 1.0, size=N_SAMPLES)
    return s, labels


def _multiclass_hinge_torch(torch, s, t, *, reduction, margin=1.0, variant="weston_watkins"):
    if variant == "weston_watkins":
        # MultiMarginLoss averages over the C classes: the curriculum's sum is C times it.
        return s.shape[-1] * torch.nn.functional.multi_margin_loss(s, t, margin=margin, reduction=reduction)
    hot = torch.nn.functional.one_hot(t, s.shape[-1]).bool()
    s_y = s.gather(-1, t[:, None])
    d = torch.where(hot, torch.full_like(s, -math.inf), s - s_y + margin)
    return reduce_like_torch(torch.clamp(d.max(-1).values, min=0), reduction)


multiclass_hinge = register(
    ClassAxisLoss(
        "multiclass_hinge",
        task="multiclass",
        params={
            "margin": Param(1.0, check_positive, "required gap between the true score and the others"),
            "variant": Param(
                "weston_watkins",
                lambda where, name, v: check_choice(where, name, v, ("weston_watkins", "crammer_singer")),
                "sum over the wrong classes (weston_watkins) or the largest violation (crammer_singer)",
            ),
        },
        value=lambda xp, p, t, **kw: _multiclass_hinge_vg(xp, p, t, need_grad=False, **kw)[0],
        grad=lambda xp, p, t, **kw: _multiclass_hinge_vg(xp, p, t, **kw)[1],
        value_and_grad=_multiclass_hinge_vg,
        hvp=lambda xp, p, t, v, **kw: xp.zeros_like(v),  # piecewise linear: 0 almost everywhere
        targets="labels",
        sample=lambda rng, **kw: (_row_logits(rng), rng.integers(0, N_CLASSES, size=N_SAMPLES)),
        perfect=_multiclass_hinge_perfect,
        torch_fn=_multiclass_hinge_torch,
        test_params=(
            {},
            {"margin": 0.5},
            {"variant": "crammer_singer"},
            {"variant": "crammer_singer", "margin": 2.0},
        ),
        info=dict(
            traits=("margin",),
            summary="Multiclass hinge on class scores: the true score must beat the others by a margin.",
            formula=(
                r"\ell = \sum_{j \ne y} \max(0, s_j - s_y + m)\ \text{(Weston-Watkins)},"
                r"\ \max(0, \max_{j \ne y} s_j - s_y + m)\ \text{(Crammer-Singer)}"
            ),
            gradient=(
                r"\partial\ell/\partial s_j = [s_j - s_y + m > 0],"
                r"\ \partial\ell/\partial s_y = -\sum_{j \ne y}"
                r" [s_j - s_y + m > 0]\ \text{(WW; CS: the arg-max class only)}"
            ),
            convex=True,
            differentiable=False,
            torch="C * torch.nn.MultiMarginLoss(margin=margin) (weston_watkins)",
            keras="keras.losses.CategoricalHinge (crammer_singer, margin 1, one-hot targets)",
            use_when="Multiclass max-margin training on raw scores (multiclass SVMs).",
            conventions=(
                "weston_watkins is the curriculum's sum, not divided by the class count C: PyTorch's "
                "MultiMarginLoss divides by C, so this loss is C times it. Crammer-Singer subgradient: the "
                "first maximal wrong class. Scores are y_pred of shape (..., C), integer targets."
            ),
            references=(
                "Weston, Watkins (1999), Support Vector Machines for Multi-Class Pattern Recognition",
                "Crammer, Singer (2001), On the Algorithmic Implementation of Multiclass Kernel-based SVMs",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- divergences


def _kl_vg(xp, y_pred, y_true, *, from_logits, need_grad=True):
    entropy_term = xp.sum(xlogy(xp, y_true, y_true), axis=-1)
    cross, d = _ce_from_coefficients(xp, y_pred, y_true, from_logits, need_grad)
    return entropy_term + cross, d


def _kl_torch(torch, p, t, *, reduction, from_logits=False):
    logq = torch.log_softmax(p, -1) if from_logits else torch.clamp(torch.log(p), min=-100)
    if reduction == "none":
        return torch.nn.functional.kl_div(logq, t, reduction="none").sum(-1)
    return torch.nn.functional.kl_div(logq, t, reduction="batchmean" if reduction == "mean" else "sum")


def _distribution_perfect(
    rng: np.random.Generator, *, from_logits: bool = False, **_: Any
) -> tuple[Any, Any]:
    y = _predictions(rng, from_logits=False)
    return (np.log(y) + rng.normal() if from_logits else y.copy()), y


kl_divergence = register(
    ClassAxisLoss(
        "kl_divergence",
        task="distribution",
        params={"from_logits": FROM_LOGITS},
        value=lambda xp, p, t, **kw: _kl_vg(xp, p, t, need_grad=False, **kw)[0],
        grad=lambda xp, p, t, **kw: _kl_vg(xp, p, t, **kw)[1],
        value_and_grad=_kl_vg,
        hvp=lambda xp, p, t, v, *, from_logits: _ce_hvp(xp, p, t, from_logits, v),
        targets="probabilities",
        sample=_prob_target_sample,
        validate=_check_probabilities,
        perfect=_distribution_perfect,
        torch_fn=_kl_torch,
        test_params=({}, {"from_logits": True}),
        info=dict(
            summary="Kullback-Leibler divergence D(y_true || y_pred) over the class axis.",
            formula=(
                r"\ell = \sum_c y_c (\log y_c - \log q_c),\ 0 \log 0 = 0,"
                r"\ q = \hat y \text{ or } \operatorname{softmax}(\hat y)"
            ),
            gradient=(
                r"\partial\ell/\partial\hat y_c = -y_c / \hat y_c\ \text{(probabilities)},"
                r"\ (\textstyle\sum_k y_k)\, q_c - y_c\ \text{(logits)}"
            ),
            convex=True,
            torch="torch.nn.KLDivLoss(reduction='batchmean') on log y_pred",
            keras="keras.losses.KLDivergence",
            use_when="Matching a target distribution: distillation, VAEs, label distributions.",
            conventions=(
                "Argument order (y_pred, y_true) computes D(y_true || y_pred), as PyTorch's "
                "kl_div(log q, p). "
                "'mean' averages over samples after summing the class axis (PyTorch's 'batchmean'; "
                "PyTorch's own 'mean' divides by every element). Keras clips both inputs to [1e-7, 1]; "
                "here 0 log 0 = 0 exactly and log y_pred is clamped at -100."
            ),
            references=("Kullback, Leibler (1951), On Information and Sufficiency",),
        ),
    )
)


def _js_vg(xp, y_pred, y_true, need_grad=True):
    m = 0.5 * (y_pred + y_true)
    log_m = clamped_log(xp, m)
    loss = 0.5 * xp.sum(xlogy(xp, y_pred, y_pred) + xlogy(xp, y_true, y_true), axis=-1) - xp.sum(
        m * log_m, axis=-1
    )
    if not need_grad:
        return loss, None
    return loss, 0.5 * (clamped_log(xp, y_pred) - log_m)


def _js_hvp(xp, y_pred, y_true, v):
    """Diagonal: d^2/dp^2 = 1 / (2p) - 1 / (4m), m = (p + y) / 2 (denominators floored at 1e-12)."""
    m = 0.5 * (y_pred + y_true)
    return (0.5 / floor_eps(xp, y_pred) - 0.25 / floor_eps(xp, m)) * v


def _js_torch(torch, p, t, *, reduction):
    m = 0.5 * (p + t)
    js = 0.5 * (torch.special.xlogy(p, p) + torch.special.xlogy(t, t)) - torch.special.xlogy(m, m)
    return reduce_like_torch(js.sum(-1), reduction)


js_divergence = register(
    ClassAxisLoss(
        "js_divergence",
        task="distribution",
        value=lambda xp, p, t: _js_vg(xp, p, t, need_grad=False)[0],
        grad=lambda xp, p, t: _js_vg(xp, p, t)[1],
        value_and_grad=_js_vg,
        hvp=_js_hvp,
        y_pred_domain=PROBABILITY,
        targets="probabilities",
        sample=lambda rng, **kw: (_predictions(rng, False), _distribution_targets(rng)),
        perfect=_distribution_perfect,
        torch_fn=_js_torch,
        info=dict(
            summary="Jensen-Shannon divergence: symmetric, bounded KL to the mixture M = (P + Q) / 2.",
            formula=(
                r"\ell = \tfrac12 D(y \Vert M) + \tfrac12 D(\hat y \Vert M),\ M = \tfrac12(y + \hat y),"
                r"\ 0 \le \ell \le \log 2"
            ),
            gradient=r"\partial\ell/\partial\hat y_c = \tfrac12 \log(\hat y_c / M_c)",
            convex=True,
            use_when="A symmetric, bounded distance between distributions (the original GAN objective).",
            conventions=(
                "Natural logarithm, so the bound is log 2 (1 in bits). y_pred are probabilities. "
                "The gradient at y_pred_c = 0 uses log clamped at -100 (its true value is -infinity). "
                "No PyTorch class: the torch reference is the formula."
            ),
            references=("Lin (1991), Divergence Measures Based on the Shannon Entropy",),
        ),
    )
)
