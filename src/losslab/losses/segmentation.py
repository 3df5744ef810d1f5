"""Segmentation and image losses: Dice, Tversky, focal Tversky, IoU, SSIM, perceptual.

The overlap losses (``dice``, ``tversky``, ``focal_tversky``, ``iou``) take predicted
probabilities ``y_pred`` and (soft) masks ``y_true`` of shape ``(batch, ...)``. With
``per_sample=True`` (the default) each sample's overlap is computed over its non-batch axes and the
unreduced loss has shape ``(batch,)``; ``per_sample=False`` pools the whole batch into one overlap
("micro" reduction, unreduced shape ``()``). Multi-class masks ``(batch, C, H, W)`` are pooled over
classes too; for a per-class average, move the class axis into the batch axis
(``p.transpose(0, 1).reshape(C, -1)`` per class or ``(B*C, H*W)`` per sample and class) and average
the ``reduction="none"`` values.

Notation: :math:`p_i` = ``y_pred``, :math:`g_i` = ``y_true``, sums over one sample (or the batch),
:math:`TP = \\sum p_i g_i`, :math:`FP = \\sum p_i (1 - g_i)`, :math:`FN = \\sum (1 - p_i) g_i`,
:math:`s` = ``smooth``. A ratio whose denominator is exactly 0 (possible only with ``smooth=0`` and
empty masks and predictions) is taken as 1 (perfect agreement), with a zero gradient.

``ssim_loss`` is 1 - SSIM on ``(batch, channel, H, W)`` images (valid 11x11 Gaussian windows);
``perceptual`` compares the features of any user-supplied extractor.

>>> import numpy as np
>>> import losslab as ll
>>> p, g = np.array([[0.9, 0.1, 0.8, 0.2]]), np.array([[1.0, 0.0, 1.0, 0.0]])
>>> round(float(ll.losses.dice(p, g, smooth=0.0)), 12)  # 1 - 2 * 1.7 / (2.0 + 2.0)
0.15
>>> round(float(ll.losses.iou(p, g, smooth=0.0)), 12)  # 1 - 1.7 / 2.3
0.260869565217
>>> x = np.random.default_rng(0).uniform(size=(2, 1, 16, 16))
>>> float(ll.losses.ssim_loss(x, x))
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from losslab._core.arrays import array_namespace, as_float, is_numpy_namespace, result_float_dtype
from losslab._core.config import get_config
from losslab._core.validation import check_bool, check_int, check_positive
from losslab.losses._spec import (
    PROBABILITY,
    REAL,
    Loss,
    Param,
    Terms,
    _check_nonempty,
    _check_shape_equal,
    register,
)

__all__ = [
    "RandomTanhFeatures",
    "dice",
    "focal_tversky",
    "iou",
    "perceptual",
    "ssim_loss",
    "tversky",
]


# --------------------------------------------------------------------------- shared helpers


def _nonneg(where: str, name: str, value: Any) -> float:
    return check_positive(where, name, value, strict=False)


def _pair(xp: ModuleType, y_pred: Any, y_true: Any, where: str) -> tuple[Any, Any]:
    """Both inputs as floating arrays of ``xp`` in one dtype, same shape, non-empty."""
    if is_numpy_namespace(xp):
        y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
    else:
        y_pred = (
            y_pred if hasattr(y_pred, "dtype") and not isinstance(y_pred, np.ndarray) else xp.asarray(y_pred)
        )
        y_true = (
            y_true if hasattr(y_true, "dtype") and not isinstance(y_true, np.ndarray) else xp.asarray(y_true)
        )
    dtype = result_float_dtype(xp, y_pred, y_true)
    y_pred = as_float(xp, y_pred, "y_pred", where, dtype=dtype)
    y_true = as_float(xp, y_true, "y_true", where, dtype=dtype)
    _check_shape_equal(where, y_pred, y_true)
    _check_nonempty(where, y_pred)
    return y_pred, y_true


def _native(xp: ModuleType, x: Any) -> Any:
    """``x`` as an array of the foreign namespace ``xp`` (NumPy arrays and lists converted)."""
    return x if hasattr(x, "dtype") and not isinstance(x, (np.ndarray, np.generic)) else xp.asarray(x)


def _expand(xp: ModuleType, cot: Any, ndim: int) -> Any:
    """A cotangent (scalar or shaped like the unreduced loss) broadcast against the input."""
    if isinstance(cot, (int, float)):
        return cot
    cot = xp.asarray(cot) if not hasattr(cot, "shape") else cot
    return xp.reshape(cot, tuple(cot.shape) + (1,) * (ndim - cot.ndim))


def _safe_ratio(xp: ModuleType, num: Any, den: Any) -> tuple[Any, Any]:
    """``(num / den, 1 / den)`` with ``0 / 0 := 1`` and ``1 / 0 := 0`` (empty masks, smooth = 0)."""
    zero = den == 0
    safe = xp.where(zero, xp.ones_like(den), den)
    return xp.where(zero, xp.ones_like(den), num / safe), xp.where(zero, xp.zeros_like(den), 1.0 / safe)


# --------------------------------------------------------------------------- overlap losses


def _overlap_prepare(name: str) -> Callable[..., tuple[Any, Any]]:
    def prepare(xp: ModuleType, y_pred: Any, y_true: Any, **params: Any) -> tuple[Any, Any]:
        y_pred, y_true = _pair(xp, y_pred, y_true, name)
        if params["per_sample"] and y_pred.ndim < 2:
            raise ValueError(
                f"{name}: per_sample=True needs y_pred of shape (batch, ...) with at least 2 axes, got "
                f"shape {tuple(y_pred.shape)}; use per_sample=False for a single mask"
            )
        if get_config().validate:
            PROBABILITY.check(xp, y_pred, "y_pred", name)
            PROBABILITY.check(xp, y_true, "y_true", name)
        return y_pred, y_true

    return prepare


def _sums(xp: ModuleType, x: Any, per_sample: bool) -> Any:
    """Sum over the non-batch axes (``per_sample``) or over everything (shape ``()``)."""
    if per_sample:
        return xp.sum(xp.reshape(x, (x.shape[0], -1)), axis=1)
    return xp.sum(x)


def _tversky_index(
    xp: ModuleType, p: Any, g: Any, alpha: float, beta: float, smooth: float, per_sample: bool
):
    """Tversky index TI = (TP + s) / (TP + alpha FP + beta FN + s) and dTI/dp (element-wise)."""
    tp = _sums(xp, p * g, per_sample)
    sp = _sums(xp, p, per_sample)
    sg = _sums(xp, g, per_sample)
    fp, fn = sp - tp, sg - tp
    ti, inv = _safe_ratio(xp, tp + smooth, tp + alpha * fp + beta * fn + smooth)

    def d_index() -> Any:
        # dTI/dp_i = (g_i - TI (g_i + alpha (1 - g_i) - beta g_i)) / den
        t, v = _expand(xp, ti, p.ndim), _expand(xp, inv, p.ndim)
        return (g - t * (g + alpha * (1.0 - g) - beta * g)) * v

    return ti, d_index


def _tversky_forward(xp, y_pred, y_true, *, need_grad, alpha, beta, smooth, per_sample, gamma=1.0):
    ti, d_index = _tversky_index(xp, y_pred, y_true, alpha, beta, smooth, per_sample)
    base = xp.maximum(1.0 - ti, xp.zeros_like(ti))
    loss = base if gamma == 1.0 else base**gamma
    if not need_grad:
        return Terms(loss)

    def vjp(cot: Any) -> tuple[Any]:
        if gamma == 1.0:
            outer = -_expand(xp, cot, y_pred.ndim) * d_index()
        else:
            # d(base^gamma)/dTI = -gamma base^(gamma - 1); set to 0 at the minimum base = 0.
            pos = base > 0
            safe = xp.where(pos, base, xp.ones_like(base))
            slope = xp.where(pos, gamma * safe ** (gamma - 1.0), xp.zeros_like(base))
            outer = -_expand(xp, slope * cot, y_pred.ndim) * d_index()
        return (outer,)

    return Terms(loss, vjp=vjp)


def _dice_forward(xp, y_pred, y_true, *, need_grad, smooth, per_sample):
    inter = _sums(xp, y_pred * y_true, per_sample)
    den = _sums(xp, y_pred, per_sample) + _sums(xp, y_true, per_sample) + smooth
    d, inv = _safe_ratio(xp, 2.0 * inter + smooth, den)
    loss = xp.maximum(1.0 - d, xp.zeros_like(d))
    if not need_grad:
        return Terms(loss)
    # dL/dp_i = (D - 2 g_i) / den
    return Terms(
        loss,
        vjp=lambda cot: ((_expand(xp, d, y_pred.ndim) - 2.0 * y_true) * _expand(xp, inv * cot, y_pred.ndim),),
    )


def _iou_forward(xp, y_pred, y_true, *, need_grad, smooth, per_sample):
    inter = _sums(xp, y_pred * y_true, per_sample)
    union = _sums(xp, y_pred, per_sample) + _sums(xp, y_true, per_sample) - inter
    j, inv = _safe_ratio(xp, inter + smooth, union + smooth)
    loss = xp.maximum(1.0 - j, xp.zeros_like(j))
    if not need_grad:
        return Terms(loss)
    # dL/dp_i = -(g_i - J (1 - g_i)) / (U + s)
    return Terms(
        loss,
        vjp=lambda cot: (
            (_expand(xp, j, y_pred.ndim) * (1.0 - y_true) - y_true) * _expand(xp, inv * cot, y_pred.ndim),
        ),
    )


def _mask_sample(rng: np.random.Generator, **_: Any) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0.05, 0.95, size=(3, 2, 4)), rng.integers(0, 2, size=(3, 2, 4)).astype(np.float64)


def _mask_perfect(rng: np.random.Generator, **_: Any) -> tuple[np.ndarray, np.ndarray]:
    g = rng.integers(0, 2, size=(3, 2, 4)).astype(np.float64)
    return g.copy(), g


_SMOOTH = Param(1.0, _nonneg, "additive smoothing in numerator and denominator (>= 0)")
_PER_SAMPLE = Param(True, check_bool, "overlap per sample (True) or pooled over the batch (False)")
_OVERLAP_DOMAINS = dict(
    y_pred="probabilities in [0, 1], shape (batch, ...)", y_true="(soft) masks in [0, 1], same shape"
)
_OVERLAP_USE = "Segmentation with imbalanced foreground/background: overlap rather than per-pixel error."

dice = register(
    Loss(
        "dice",
        task="segmentation",
        params={"smooth": _SMOOTH, "per_sample": _PER_SAMPLE},
        prepare=_overlap_prepare("dice"),
        forward=_dice_forward,
        sample=_mask_sample,
        perfect=_mask_perfect,
        test_params=({}, {"smooth": 0.0}, {"per_sample": False, "smooth": 0.5}),
        info=dict(
            traits=("handles_imbalance",),
            summary="Soft Dice loss: one minus the soft Sorensen-Dice coefficient of prediction and mask.",
            formula=r"\ell = 1 - \frac{2\sum_i p_i g_i + s}{\sum_i p_i + \sum_i g_i + s}",
            gradient=(
                r"\partial\ell/\partial p_i = \frac{D - 2 g_i}{\sum_i p_i + \sum_i g_i + s},"
                r"\ D = 1 - \ell"
            ),
            aliases=("soft_dice", "dice_loss"),
            use_when=_OVERLAP_USE,
            conventions=(
                "smooth=1.0 is added to numerator and denominator (the common 'Laplace smoothing' form; "
                "it makes empty-mask/empty-prediction samples score 0 loss). "
                "segmentation_models_pytorch uses smooth=0 plus an eps clamp of the denominator, MONAI "
                "1e-5 in both, Keras' Dice an epsilon in the denominator only. On large masks the choice "
                "is negligible; on small ones smooth=1 flattens the loss. Per-sample by default "
                "(shape (batch,)); per_sample=False pools the batch ('micro'). "
                "tversky(0.5, 0.5, smooth=s) == dice(smooth=2s)."
            ),
            references=(
                "Milletari, Navab, Ahmadi (2016), V-Net, arXiv:1606.04797",
                "Sudre et al. (2017), Generalised Dice overlap, arXiv:1707.03237",
            ),
            **_OVERLAP_DOMAINS,
        ),
    )
)


def _check_tversky(params: dict[str, Any]) -> None:
    if params["alpha"] + params["beta"] == 0 and params["smooth"] == 0:
        raise ValueError("tversky: alpha + beta must be > 0 when smooth=0, got alpha=0, beta=0")


class _TverskyLoss(Loss):
    def _check_params(self, params: dict[str, Any]) -> None:
        _check_tversky(params)


tversky = register(
    _TverskyLoss(
        "tversky",
        task="segmentation",
        params={
            "alpha": Param(0.5, _nonneg, "weight of false positives"),
            "beta": Param(0.5, _nonneg, "weight of false negatives"),
            "smooth": _SMOOTH,
            "per_sample": _PER_SAMPLE,
        },
        prepare=_overlap_prepare("tversky"),
        forward=_tversky_forward,
        sample=_mask_sample,
        perfect=_mask_perfect,
        test_params=({}, {"alpha": 0.3, "beta": 0.7}, {"alpha": 0.7, "beta": 0.3, "per_sample": False}),
        info=dict(
            traits=("handles_imbalance",),
            summary="Tversky loss: 1 - TP / (TP + alpha FP + beta FN), weighs FP against FN.",
            formula=r"\ell = 1 - \mathrm{TI},\ \mathrm{TI} = \frac{TP + s}{TP + \alpha FP + \beta FN + s}",
            gradient=(
                r"\partial\ell/\partial p_i = -\frac{g_i - \mathrm{TI}\,(g_i + \alpha(1 - g_i) - \beta g_i)}"
                r"{TP + \alpha FP + \beta FN + s}"
            ),
            use_when="Segmentation where recall matters more than precision (beta > alpha) or vice versa.",
            conventions=(
                "alpha weighs false positives and beta false negatives (Salehi et al.; "
                "segmentation_models_pytorch agrees). smooth=1.0 enters numerator and denominator once, "
                "so tversky(0.5, 0.5, smooth=s) == dice(smooth=2s) and tversky(1, 1) == iou."
            ),
            references=("Salehi, Erdogmus, Gholipour (2017), Tversky loss, arXiv:1706.05721",),
            **_OVERLAP_DOMAINS,
        ),
    )
)

focal_tversky = register(
    _TverskyLoss(
        "focal_tversky",
        task="segmentation",
        params={
            "alpha": Param(0.5, _nonneg, "weight of false positives"),
            "beta": Param(0.5, _nonneg, "weight of false negatives"),
            "gamma": Param(0.75, check_positive, "exponent applied to 1 - TI"),
            "smooth": _SMOOTH,
            "per_sample": _PER_SAMPLE,
        },
        prepare=_overlap_prepare("focal_tversky"),
        forward=_tversky_forward,
        sample=_mask_sample,
        perfect=_mask_perfect,
        test_params=({}, {"alpha": 0.3, "beta": 0.7, "gamma": 2.0}, {"gamma": 1.5, "per_sample": False}),
        info=dict(
            traits=("handles_imbalance",),
            summary="Focal Tversky loss: (1 - TI)^gamma, focusing training on poorly segmented samples.",
            formula=r"\ell = (1 - \mathrm{TI})^{\gamma}",
            gradient=(
                r"\partial\ell/\partial p_i = -\gamma (1 - \mathrm{TI})^{\gamma - 1}\,"
                r"\partial\mathrm{TI}/\partial p_i \quad(0\ \text{at}\ \mathrm{TI} = 1)"
            ),
            use_when="Small structures in segmentation; emphasize samples with low overlap.",
            conventions=(
                "gamma is the exponent itself: (1 - TI)^gamma, default 0.75. Abraham & Khan write "
                "(1 - TI)^(1/gamma) with gamma = 4/3, the same loss; segmentation_models_pytorch's "
                "TverskyLoss(gamma) uses the exponent form as here. For gamma < 1 the derivative is "
                "infinite at TI = 1 (the minimum); losslab returns 0 there."
            ),
            references=("Abraham, Khan (2019), A Novel Focal Tversky Loss, arXiv:1810.07842",),
            **_OVERLAP_DOMAINS,
        ),
    )
)

iou = register(
    Loss(
        "iou",
        task="segmentation",
        params={"smooth": _SMOOTH, "per_sample": _PER_SAMPLE},
        prepare=_overlap_prepare("iou"),
        forward=_iou_forward,
        sample=_mask_sample,
        perfect=_mask_perfect,
        test_params=({}, {"smooth": 0.0, "per_sample": False}),
        info=dict(
            summary="Soft Jaccard (IoU) loss: one minus intersection over union of prediction and mask.",
            formula=r"\ell = 1 - \frac{I + s}{U + s},\ I = \sum_i p_i g_i,\ U = \sum_i p_i + \sum_i g_i - I",
            gradient=r"\partial\ell/\partial p_i = \frac{J (1 - g_i) - g_i}{U + s},\ J = 1 - \ell",
            aliases=("jaccard", "soft_jaccard"),
            use_when="Segmentation evaluated by IoU; optimizes the metric directly (soft relaxation).",
            conventions="smooth=1.0 in numerator and denominator; iou == tversky(alpha=1, beta=1).",
            references=("Rahman, Wang (2016), Optimizing Intersection-Over-Union in Deep Neural Networks",),
            **_OVERLAP_DOMAINS,
        ),
    )
)


# --------------------------------------------------------------------------- SSIM


def _gaussian_window(size: int, sigma: float) -> list[float]:
    """Normalized 1-D Gaussian weights, centred on the middle tap."""
    c = (size - 1) / 2.0
    w = np.exp(-((np.arange(size) - c) ** 2) / (2.0 * sigma * sigma))
    return [float(v) for v in w / w.sum()]


def _corr(xp: ModuleType, x: Any, w: Sequence[float], axis: int) -> Any:
    """Valid correlation along ``axis`` (-1 or -2): out[j] = sum_k w[k] x[j + k]."""
    n = x.shape[axis] - len(w) + 1
    out = None
    for k, wk in enumerate(w):
        piece = x[..., k : k + n] if axis == -1 else x[..., k : k + n, :]
        out = wk * piece if out is None else out + wk * piece
    return out


def _corr_adjoint(xp: ModuleType, g: Any, w: Sequence[float], axis: int) -> Any:
    """Adjoint of :func:`_corr`: zero-pad by len(w) - 1 on both sides, correlate with w reversed."""
    pad_shape = list(g.shape)
    pad_shape[axis] = len(w) - 1
    zeros = xp.zeros(tuple(pad_shape), dtype=g.dtype)
    padded = xp.concat([zeros, g, zeros], axis=axis % g.ndim)
    return _corr(xp, padded, list(reversed(w)), axis)


def _blur(xp: ModuleType, x: Any, w: Sequence[float]) -> Any:
    return _corr(xp, _corr(xp, x, w, -1), w, -2)


def _blur_adjoint(xp: ModuleType, g: Any, w: Sequence[float]) -> Any:
    return _corr_adjoint(xp, _corr_adjoint(xp, g, w, -2), w, -1)


def _ssim_prepare(xp, y_pred, y_true, *, data_range, window_size, sigma, k1, k2):
    y_pred, y_true = _pair(xp, y_pred, y_true, "ssim_loss")
    if y_pred.ndim != 4:
        raise ValueError(
            f"ssim_loss: y_pred and y_true must be images of shape (batch, channel, H, W), "
            f"got shape {tuple(y_pred.shape)}"
        )
    if y_pred.shape[-1] < window_size or y_pred.shape[-2] < window_size:
        raise ValueError(
            f"ssim_loss: images must be at least window_size={window_size} pixels on each side, "
            f"got H, W = {tuple(y_pred.shape[-2:])}"
        )
    if get_config().validate:
        REAL.check(xp, y_pred, "y_pred", "ssim_loss")
        REAL.check(xp, y_true, "y_true", "ssim_loss")
    return y_pred, y_true


def _ssim_forward(xp, x, y, *, need_grad, data_range, window_size, sigma, k1, k2):
    w = _gaussian_window(window_size, sigma)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    # one pass over the five stacked local statistics (fewer, larger array operations)
    stats = _blur(xp, xp.stack([x, y, x * x, y * y, x * y]), w)
    mx, my, exx, eyy, exy = (stats[i, ...] for i in range(5))
    a1 = 2.0 * mx * my + c1
    a2 = 2.0 * (exy - mx * my) + c2
    b1 = mx * mx + my * my + c1
    b2 = (exx - mx * mx) + (eyy - my * my) + c2
    s_map = (a1 * a2) / (b1 * b2)
    count = math.prod(tuple(s_map.shape[1:]))
    loss = 1.0 - xp.sum(xp.reshape(s_map, (s_map.shape[0], -1)), axis=1) / count
    if not need_grad:
        return Terms(loss)

    def vjp(cot: Any) -> tuple[Any]:
        g = -_expand(xp, cot, 4) / count  # dL/dS per map entry
        den = b1 * b2
        s_b1, s_b2 = s_map / b1, s_map / b2
        # S = A1 A2 / (B1 B2) as a function of mu_x, E[x^2], E[xy] (mu_y, E[y^2] held fixed)
        d_mx = 2.0 * my * (a2 - a1) / den + 2.0 * mx * (s_b2 - s_b1)
        d_exx = -s_b2
        d_exy = 2.0 * a1 / den
        back = _blur_adjoint(xp, xp.stack([g * d_mx, g * d_exx, g * d_exy]), w)
        gx = back[0, ...] + 2.0 * x * back[1, ...] + y * back[2, ...]
        return (gx,)

    return Terms(loss, vjp=vjp)


def _ssim_torch(torch, p, t, *, reduction, data_range=1.0, window_size=11, sigma=1.5, k1=0.01, k2=0.03):
    """Independent reference: 2-D Gaussian kernel applied with ``torch.nn.functional.conv2d``."""
    coords = torch.arange(window_size, dtype=p.dtype) - (window_size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    channels = p.shape[1]
    kernel = torch.outer(g, g).expand(channels, 1, window_size, window_size)

    def filt(z):
        return torch.nn.functional.conv2d(z, kernel, groups=channels)

    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mx, my = filt(p), filt(t)
    sxx, syy, sxy = filt(p * p) - mx**2, filt(t * t) - my**2, filt(p * t) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    loss = 1 - s.flatten(1).mean(1)
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def _ssim_sample(rng, *, window_size, **_):
    side = window_size + 2
    x = rng.uniform(0.0, 1.0, size=(2, 1, side, side + 1))
    y = np.clip(x + rng.normal(scale=0.2, size=x.shape), 0.0, 1.0)
    return x, y


def _ssim_perfect(rng, *, window_size, **_):
    x = rng.uniform(0.0, 1.0, size=(2, 1, window_size + 2, window_size + 2))
    return x.copy(), x


def _odd_window(where: str, name: str, value: Any) -> int:
    out = check_int(where, name, value, minimum=1)
    if out % 2 == 0:
        raise ValueError(f"{where}: {name} must be odd, got {name}={value!r}")
    return out


ssim_loss = register(
    Loss(
        "ssim_loss",
        task="segmentation",
        params={
            "data_range": Param(1.0, check_positive, "L, the dynamic range of the pixel values"),
            "window_size": Param(11, _odd_window, "side of the Gaussian window (odd)"),
            "sigma": Param(1.5, check_positive, "standard deviation of the Gaussian window"),
            "k1": Param(0.01, check_positive, "C1 = (k1 L)^2"),
            "k2": Param(0.03, check_positive, "C2 = (k2 L)^2"),
        },
        prepare=_ssim_prepare,
        forward=_ssim_forward,
        sample=_ssim_sample,
        perfect=_ssim_perfect,
        torch_fn=_ssim_torch,
        test_params=({}, {"window_size": 7, "sigma": 1.0, "data_range": 2.0}),
        info=dict(
            summary="SSIM loss: one minus the mean structural similarity (Gaussian 11x11 window).",
            formula=(
                r"\ell = 1 - \frac{1}{|\Omega|}\sum_{j\in\Omega}"
                r"\frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}"
                r"{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}\Big|_j"
            ),
            gradient=(
                r"\partial\ell/\partial x = G^\top\!\big[g\,\partial S/\partial\mu_x\big]"
                r" + 2x\,G^\top\!\big[g\,\partial S/\partial E[x^2]\big]"
                r" + y\,G^\top\!\big[g\,\partial S/\partial E[xy]\big],\ g = -1/|\Omega|"
            ),
            y_pred="images (batch, channel, H, W), H, W >= window_size",
            y_true="reference images, same shape",
            aliases=("ssim",),
            use_when="Image restoration and reconstruction where structure matters more than pixel error.",
            conventions=(
                "Valid windows only (no padding): the mean runs over the (H - 10) x (W - 10) positions "
                "where the window fits, over channels, per image; the unreduced loss has shape (batch,). "
                "Population (biased) local variances. This matches pytorch-msssim's ssim(..., "
                "win_size=11, win_sigma=1.5) and scikit-image's structural_similarity(..., "
                "gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=L) "
                "(which crops the same border); kornia pads ('same') and its ssim_loss returns "
                "(1 - SSIM) / 2. Only y_pred is differentiable; SSIM is symmetric, so the gradient "
                "with respect to y_true is grad(y_true, y_pred)."
            ),
            references=(
                "Wang, Bovik, Sheikh, Simoncelli (2004), Image quality assessment: from error "
                "visibility to structural similarity, IEEE TIP 13(4)",
                "Zhao, Gallo, Frosio, Kautz (2017), Loss Functions for Image Restoration, arXiv:1511.08861",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- perceptual


class RandomTanhFeatures:
    """A small random feature extractor ``x -> [h_1, ..., h_L]``, ``h_l = tanh(h_{l-1} W_l + b_l)``.

    A stand-in for a pretrained network when learning or testing perceptual losses: samples of
    shape ``(batch, ...)`` are flattened to ``(batch, in_features)``; ``W_l`` has entries
    ``N(0, 1 / fan_in)`` and ``b_l`` entries ``N(0, 0.1^2)``, drawn from ``seed``. It works in the
    inputs' array namespace (NumPy, PyTorch, ...) and keeps their dtype. ``vjp(x, cotangents)`` is
    the backward pass: with ``\\bar h_L = c_L`` and
    ``\\bar h_{l-1} = (\\bar h_l \\odot (1 - h_l^2)) W_l^\\top + c_{l-1}``, it returns
    ``\\bar x = (\\bar h_1 \\odot (1 - h_1^2)) W_1^\\top`` reshaped like ``x``.

    >>> import numpy as np
    >>> phi = RandomTanhFeatures(4, widths=(3, 2), seed=0)
    >>> [f.shape for f in phi(np.ones((5, 4)))]
    [(5, 3), (5, 2)]
    """

    def __init__(self, in_features: int, widths: Sequence[int] = (8, 4), *, seed: int = 0) -> None:
        self.in_features = check_int("RandomTanhFeatures", "in_features", in_features, minimum=1)
        self.widths = tuple(check_int("RandomTanhFeatures", "widths", w, minimum=1) for w in widths)
        if not self.widths:
            raise ValueError("RandomTanhFeatures: widths must name at least one layer, got ()")
        self.seed = seed
        rng = np.random.default_rng(seed)
        sizes = (self.in_features, *self.widths)
        self.weights = [rng.normal(0.0, 1.0 / math.sqrt(a), size=(a, b)) for a, b in zip(sizes, sizes[1:])]
        self.biases = [rng.normal(0.0, 0.1, size=b) for b in self.widths]

    def __repr__(self) -> str:
        return f"RandomTanhFeatures({self.in_features}, widths={self.widths}, seed={self.seed})"

    def _layers(self, x: Any) -> tuple[ModuleType, list[Any], list[Any]]:
        xp = array_namespace(x)
        x = as_float(xp, x, "x", "RandomTanhFeatures")
        if math.prod(tuple(x.shape[1:])) != self.in_features:
            raise ValueError(
                f"RandomTanhFeatures: x must have {self.in_features} features per sample, "
                f"got shape {tuple(x.shape)}"
            )
        ws = [xp.asarray(w, dtype=x.dtype) for w in self.weights]
        h = xp.reshape(x, (x.shape[0], self.in_features))
        out = []
        for w, b in zip(ws, self.biases):
            h = xp.tanh(h @ w + xp.asarray(b, dtype=x.dtype))
            out.append(h)
        return xp, ws, out

    def __call__(self, x: Any) -> list[Any]:
        """The features of every layer, each of shape ``(batch, width)``."""
        return self._layers(x)[2]

    def vjp(self, x: Any, cotangents: Sequence[Any]) -> Any:
        """``sum_l <cotangents[l], d h_l / d x>``: an array shaped like ``x``."""
        xp, ws, hs = self._layers(x)
        grad = None
        for l in range(len(hs) - 1, -1, -1):
            c = cotangents[l]
            grad = c if grad is None else grad + c
            grad = (grad * (1.0 - hs[l] * hs[l])) @ xp.permute_dims(ws[l], (1, 0))
        return xp.reshape(grad, tuple(x.shape))


class _FeaturePair:
    """A ``(forward, vjp)`` pair seen through the feature-extractor interface."""

    def __init__(self, forward: Callable[[Any], Sequence[Any]], vjp: Callable[[Any, Sequence[Any]], Any]):
        self.forward, self._vjp = forward, vjp

    def __call__(self, x: Any) -> Sequence[Any]:
        return self.forward(x)

    def vjp(self, x: Any, cotangents: Sequence[Any]) -> Any:
        return self._vjp(x, cotangents)

    def __repr__(self) -> str:
        return f"features({self.forward!r}, {self._vjp!r})"


def _check_features(where: str, name: str, value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and all(callable(v) for v in value):
        return _FeaturePair(*value)
    if value is None or not callable(value) or not callable(getattr(value, "vjp", None)):
        raise TypeError(
            f"{where}: {name} must be a feature extractor: an object with __call__(x) -> list of arrays "
            f"and vjp(x, cotangents) -> array, or a (forward, vjp) pair of callables; got {name}={value!r}"
        )
    return value


def _check_layer_weights(where: str, name: str, value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        items = list(value)
    except TypeError:
        raise TypeError(
            f"{where}: {name} must be a sequence of numbers or None, got {name}={value!r}"
        ) from None
    return tuple(_nonneg(where, f"{name}[{i}]", v) for i, v in enumerate(items))


def _perceptual_prepare(xp, y_pred, y_true, **_):
    y_pred, y_true = _pair(xp, y_pred, y_true, "perceptual")
    if y_pred.ndim < 1:
        raise ValueError("perceptual: y_pred must have a batch axis, got a scalar")
    if get_config().validate:
        REAL.check(xp, y_pred, "y_pred", "perceptual")
        REAL.check(xp, y_true, "y_true", "perceptual")
    return y_pred, y_true


def _features_of(xp: ModuleType, features: Any, x: Any, which: str) -> list[Any]:
    out = features(x)
    if isinstance(out, (str, bytes)) or not isinstance(out, Sequence):
        out = [out] if hasattr(out, "shape") else out
    feats = [_native(xp, f) if not is_numpy_namespace(xp) else np.asarray(f) for f in out]
    if not feats:
        raise ValueError(f"perceptual: features({which}) returned no feature arrays")
    for l, f in enumerate(feats):
        if f.ndim < 1 or f.shape[0] != x.shape[0]:
            raise ValueError(
                f"perceptual: features({which})[{l}] must have the batch size {x.shape[0]} as its first "
                f"axis, got shape {tuple(f.shape)}"
            )
    return feats


def _perceptual_forward(xp, x, y, *, need_grad, features, layer_weights):
    fx = _features_of(xp, features, x, "y_pred")
    fy = _features_of(xp, features, y, "y_true")
    if len(fx) != len(fy):
        raise ValueError(f"perceptual: features returned {len(fx)} layers for y_pred, {len(fy)} for y_true")
    weights = layer_weights if layer_weights is not None else (1.0,) * len(fx)
    if len(weights) != len(fx):
        raise ValueError(
            f"perceptual: layer_weights must have one weight per feature layer ({len(fx)}), "
            f"got {len(weights)}"
        )
    diffs, sizes, loss = [], [], None
    for a, b, w in zip(fx, fy, weights):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(
                f"perceptual: feature shapes differ between y_pred and y_true: {tuple(a.shape)} and "
                f"{tuple(b.shape)}"
            )
        d = a - xp.astype(b, a.dtype) if b.dtype != a.dtype else a - b
        n = math.prod(tuple(d.shape[1:]))
        term = w * xp.sum(xp.reshape(d * d, (d.shape[0], -1)), axis=1) / n
        loss = term if loss is None else loss + term
        diffs.append(d)
        sizes.append(n)
    loss = xp.astype(loss, x.dtype) if loss.dtype != x.dtype else loss
    if not need_grad:
        return Terms(loss)

    def vjp(cot: Any) -> tuple[Any]:
        cots = [(2.0 * w / n) * d * _expand(xp, cot, d.ndim) for d, w, n in zip(diffs, weights, sizes)]
        g = features.vjp(x, cots)
        g = _native(xp, g) if not is_numpy_namespace(xp) else np.asarray(g)
        if tuple(g.shape) != tuple(x.shape):
            raise ValueError(
                f"perceptual: features.vjp must return an array shaped like y_pred {tuple(x.shape)}, "
                f"got {tuple(g.shape)}"
            )
        return (xp.astype(g, x.dtype) if g.dtype != x.dtype else g,)

    return Terms(loss, vjp=vjp)


def _perceptual_sample(rng, *, features, **_):
    n = getattr(features, "in_features", None)
    if n is None:
        raise TypeError(
            "perceptual: sampling inputs needs features with an in_features attribute (the input width), "
            f"got {type(features).__name__}"
        )
    return rng.normal(size=(3, n)), rng.normal(size=(3, n))


def _perceptual_perfect(rng, *, features, **_):
    x = rng.normal(size=(3, features.in_features))
    return x.copy(), x


class _PerceptualLoss(Loss):
    """``perceptual(y_pred, y_true, features, layer_weights=None, *, reduction, sample_weight)``."""

    @staticmethod
    def _merge(features: Any, layer_weights: Any, params: dict[str, Any]) -> dict[str, Any]:
        for key, value in (("features", features), ("layer_weights", layer_weights)):
            if value is not None:
                params[key] = value
        return params

    def __call__(  # type: ignore[override]
        self, y_pred: Any, y_true: Any, features: Any = None, layer_weights: Any = None, **kwargs: Any
    ) -> Any:
        return super().__call__(y_pred, y_true, **self._merge(features, layer_weights, kwargs))

    def grad(  # type: ignore[override]
        self, y_pred: Any, y_true: Any, features: Any = None, layer_weights: Any = None, **kwargs: Any
    ) -> Any:
        return super().grad(y_pred, y_true, **self._merge(features, layer_weights, kwargs))

    def value_and_grad(  # type: ignore[override]
        self, y_pred: Any, y_true: Any, features: Any = None, layer_weights: Any = None, **kwargs: Any
    ) -> tuple[Any, Any]:
        return super().value_and_grad(y_pred, y_true, **self._merge(features, layer_weights, kwargs))


_PERCEPTUAL_DOC = r"""Perceptual (feature reconstruction) loss through any feature extractor.

.. math::
    \ell_b = \sum_l w_l \frac{1}{n_l}\lVert\phi_l(x_b) - \phi_l(y_b)\rVert^2,\qquad
    \frac{\partial\ell_b}{\partial x_b} = J_{\phi}(x_b)^\top
    \Big[\tfrac{2 w_l}{n_l}(\phi_l(x_b) - \phi_l(y_b))\Big]_l

:math:`x` = ``y_pred``, :math:`y` = ``y_true`` (shape ``(batch, ...)``), :math:`\phi_l` = the
``l``-th array returned by ``features``, :math:`n_l` its number of entries per sample,
:math:`w_l` = ``layer_weights[l]`` (default 1). The unreduced loss has shape ``(batch,)``. The
squared error is averaged within a layer (Johnson et al. 2016); the curriculum's
:math:`\sum_l\lVert\cdot\rVert^2` is ``layer_weights = [n_1, n_2, ...]``.

``features`` is any object with ``features(x) -> list of arrays`` (each with the batch as first
axis) and ``features.vjp(x, cotangents) -> array shaped like x`` (the vector-Jacobian product
:math:`\sum_l J_{\phi_l}(x)^\top c_l`), or a ``(forward, vjp)`` pair of callables. It may be given
positionally or as a keyword. No pretrained weights are shipped: :class:`RandomTanhFeatures` is a
toy extractor, and a PyTorch network plugs in through ``torch.autograd``::

    import torch

    class TorchFeatures:
        def __init__(self, net, layers):           # e.g. torchvision VGG16 features, layers (3, 8, 15)
            self.net, self.layers = net.eval(), set(layers)

        def _run(self, x):
            out, h = [], x
            for i, module in enumerate(self.net):
                h = module(h)
                if i in self.layers:
                    out.append(h)
            return out

        def __call__(self, x):
            with torch.no_grad():
                return [f.numpy() for f in self._run(torch.as_tensor(x))]

        def vjp(self, x, cotangents):
            xt = torch.tensor(x, requires_grad=True)
            feats = self._run(xt)
            (gx,) = torch.autograd.grad(feats, xt, [torch.as_tensor(c) for c in cotangents])
            return gx.numpy()

    ll.losses.perceptual(x, y, TorchFeatures(vgg.features, (3, 8, 15)))

With PyTorch tensors as inputs the features are computed on tensors, so autograd differentiates
the value directly. Not convex in general; non-negative, 0 when ``y_pred == y_true``.

Reference: Johnson, Alahi, Fei-Fei (2016), Perceptual Losses for Real-Time Style Transfer and
Super-Resolution, arXiv:1603.08155.
"""

_DEMO_FEATURES = RandomTanhFeatures(6, widths=(5, 3), seed=0)

perceptual = register(
    _PerceptualLoss(
        "perceptual",
        task="segmentation",
        params={
            "features": Param(None, _check_features, "feature extractor with __call__ and vjp"),
            "layer_weights": Param(None, _check_layer_weights, "one non-negative weight per layer"),
        },
        prepare=_perceptual_prepare,
        forward=_perceptual_forward,
        sample=_perceptual_sample,
        perfect=_perceptual_perfect,
        test_params=(
            {"features": _DEMO_FEATURES},
            {"features": _DEMO_FEATURES, "layer_weights": (0.5, 2.0)},
        ),
        doc=_PERCEPTUAL_DOC,
        info=dict(
            summary="Perceptual loss: weighted mean squared distance between features of a user network.",
            formula=r"\ell = \sum_l w_l \tfrac{1}{n_l}\lVert\phi_l(\hat y) - \phi_l(y)\rVert^2",
            gradient=(
                r"\partial\ell/\partial\hat y = J_\phi(\hat y)^\top"
                r"\big[\tfrac{2w_l}{n_l}(\phi_l(\hat y) - \phi_l(y))\big]_l"
            ),
            y_pred="samples (batch, ...) accepted by features",
            y_true="reference samples, same shape",
            use_when="Image generation, super-resolution, style transfer: match features, not pixels.",
            conventions=(
                "features is required (no pretrained network is shipped); per-layer mean of squared "
                "differences as in Johnson et al.; layer_weights default to 1."
            ),
            references=("Johnson, Alahi, Fei-Fei (2016), arXiv:1603.08155",),
        ),
    )
)
