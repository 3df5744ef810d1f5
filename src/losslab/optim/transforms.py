r"""Gradient transformations: the verbs optimizers are built from (Optax style, PyTorch semantics).

Each function returns a :class:`~losslab.optim.base.GradientTransformation`; its state is a
NamedTuple. ``update`` never mutates grads, state or params: every output is a new array. Scaling
transformations (``scale_by_*``, :func:`trace`, :func:`ema`) return a *direction*; the sign and the
learning rate come last from :func:`scale_by_learning_rate`, so
``chain(scale_by_adam(), scale_by_learning_rate(1e-3))`` is Adam. Transformations that already
return final updates (sign included) say so: :func:`velocity_momentum`, :func:`sutskever_nesterov`,
:func:`decoupled_weight_decay`.

Steps are counted from 0: a state's ``step`` is the number of updates made so far, so the update
number is ``t = step + 1`` (PyTorch's ``step`` after its increment) and a schedule is evaluated
at ``step`` (PyTorch's lr after ``step`` calls of ``scheduler.step()``).

The three momentum forms of the curriculum, and how they relate for a constant lr :math:`\eta`:

* PyTorch buffer (:func:`trace`): :math:`b_1 = g_1`, :math:`b_t = \mu b_{t-1} + (1-d) g_t`,
  :math:`\theta \mathrel{-}= \eta b_t`.
* EMA (:func:`ema`): :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`, :math:`\theta \mathrel{-}= \eta v_t`.
  With :math:`v_0 = 0` and :math:`d = 0`, :math:`v_t = (1-\beta) b_t` exactly, so EMA with lr
  :math:`\eta/(1-\beta)` **is** PyTorch with lr :math:`\eta` and ``dampening=0``. PyTorch with
  ``dampening=beta`` is *not* the EMA: its undampened first step gives
  :math:`b_t = v_t + \beta^t g_1`.
* Classic velocity (:func:`velocity_momentum`): :math:`v_t = \beta v_{t-1} + \eta g_t`,
  :math:`\theta \mathrel{-}= v_t`. For a constant lr, :math:`v_t = \eta b_t` (``dampening=0``),
  the same trajectory; with a schedule they differ (the velocity keeps old lrs inside it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np

from losslab._core import buffers as _buffers
from losslab._core.config import get_config
from losslab._core.tree import tree_leaves, tree_map
from losslab._core.validation import (
    NonFiniteError,
    check_choice,
    check_finite_tree,
    check_in_range,
    check_int,
    check_positive,
)
from losslab.optim import _compiled
from losslab.optim.base import EmptyState, GradientTransformation, _add_leaf, checks_finite_grads

__all__ = [
    "MultiStepsState",
    "ReduceOnPlateauState",
    "ScaleByAdagradState",
    "ScaleByAdamState",
    "ScaleByLearningRateState",
    "ScaleByRmsState",
    "SutskeverNesterovState",
    "TraceState",
    "VelocityMomentumState",
    "add_decayed_weights",
    "clip_by_global_norm",
    "clip_by_value",
    "decoupled_weight_decay",
    "ema",
    "multi_steps",
    "nesterov_lookahead",
    "reduce_on_plateau",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_rms",
    "sutskever_nesterov",
    "trace",
    "velocity_momentum",
]

Tree = Any
LearningRate = float | Callable[[int], float]

# Elements per block of the fused Adam kernel: the block's working set stays in cache.
_BLOCK = 1 << 15


# ----------------------------------------------------------------------------- shared helpers
def _as_float(x: Any) -> np.ndarray:
    """A floating array view of a leaf (integers become float64; float32 stays float32)."""
    a = np.asarray(x)
    return a if a.dtype.kind == "f" else a.astype(np.float64)  # (kind, not issubdtype: a hot path)


def _zeros(params: Tree, fill: float = 0.0) -> Tree:
    return tree_map(lambda p: np.full_like(_as_float(p), fill), params)


def _check_lr(where: str, lr: Any) -> LearningRate:
    """A learning rate: a float >= 0 or a schedule ``step -> lr``."""
    if callable(lr):
        return lr
    return check_positive(where, "lr", lr, strict=False)


def _lr_at(lr: LearningRate, count: int) -> float:
    """The learning rate of the update that follows ``count`` completed ones.

    A schedule's value is checked while validation is on: NaN, infinite or negative rates raise
    :class:`~losslab._core.validation.NonFiniteError` (a ``ValueError``) naming ``lr`` and the step.
    """
    if not callable(lr):
        return lr
    raw = lr(count)
    try:
        if isinstance(raw, (bool, str)) or raw is None:
            raise TypeError
        eta = float(raw)
    except (TypeError, ValueError):
        raise TypeError(
            f"optimizer: the lr schedule must return a real number, got lr={raw!r} at step {count}"
        ) from None
    if not (eta >= 0.0 and math.isfinite(eta)) and get_config().validate:
        raise NonFiniteError(
            f"optimizer: the lr schedule returned lr={eta!r} at step {count}; "
            "a learning rate must be finite and >= 0"
        )
    return eta


def _need_params(where: str, params: Tree) -> Tree:
    if params is None:
        raise ValueError(f"{where}: update needs params (call update(grads, state, params)), got params=None")
    return params


def _moment(new: np.ndarray, old: np.ndarray, decay: float, order: int = 1) -> np.ndarray:
    r"""The exponential moving average of ``new**order``: :math:`\beta m + (1-\beta) x^k`.

    The one place moment estimates are updated (Adam's m and v, RMSProp's mean square, EMA
    momentum). The first moment is written as PyTorch's ``lerp``: :math:`m + (1-\beta)(x - m)`.
    """
    if order == 1:
        return old + (1.0 - decay) * (new - old)
    return decay * old + (1.0 - decay) * (new * new)


def _bias_correction(decay: float, count: int) -> float:
    r""":math:`1 - \beta^t`, the factor that debiases a zero-initialised moment after ``t`` updates."""
    return 1.0 - decay**count


# ----------------------------------------------------------------------------- momentum
class TraceState(NamedTuple):
    """PyTorch's momentum buffer (zeros before the first update) and the update count."""

    step: int
    buffer: Tree


def trace(decay: float, *, dampening: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    r"""PyTorch's momentum buffer: :math:`b_1 = g_1`, :math:`b_t = \mu b_{t-1} + (1-d)\,g_t`.

    Returns :math:`b_t`, or :math:`g_t + \mu b_t` with ``nesterov=True`` (PyTorch's Nesterov
    form). Symbols: :math:`\mu` = ``decay`` (PyTorch ``momentum``), :math:`d` = ``dampening``. The
    first update is undampened, as in ``torch.optim.SGD``. Followed by
    ``scale_by_learning_rate(lr)`` this is ``torch.optim.SGD(momentum=decay, ...)``.

    PyTorch's Nesterov form evaluates the gradient at the current iterate; it is Sutskever et
    al.'s look-ahead method under the change of variables :math:`y = x + \beta v` (see
    :func:`sutskever_nesterov`).

    >>> import numpy as np
    >>> t = trace(0.9)
    >>> s = t.init(np.zeros(1))
    >>> b, s = t.update(np.array([1.0]), s)
    >>> b, s = t.update(np.array([1.0]), s)
    >>> b
    array([1.9])
    """
    decay = check_in_range("trace", "decay", decay, 0.0, 1.0, closed="both")
    dampening = check_in_range("trace", "dampening", dampening, 0.0, 1.0, closed="both")

    def init(params: Tree) -> TraceState:
        return TraceState(0, _zeros(params))

    def update(grads: Tree, state: TraceState, params: Tree = None, **extra: Any) -> tuple[Tree, TraceState]:
        if state.step == 0:
            buffer = tree_map(lambda g: np.array(_as_float(g), copy=True), grads)
        else:
            keep = 1.0 - dampening  # (1.0 * g is g exactly: undampened buffers skip the product)
            buffer = tree_map(
                lambda g, b: decay * b + (keep * _as_float(g) if dampening else _as_float(g)),
                grads,
                state.buffer,
            )
        if nesterov:
            out = tree_map(lambda g, b: _as_float(g) + decay * b, grads, buffer)
        else:
            out = tree_map(np.copy, buffer)  # (the updates never alias the state)
        return out, TraceState(state.step + 1, buffer)

    return GradientTransformation(init, update)


def ema(decay: float, *, debias: bool = False) -> GradientTransformation:
    r"""EMA momentum: :math:`v_t = \beta v_{t-1} + (1-\beta)\,g_t` from :math:`v_0 = 0`.

    Returns :math:`v_t` (or :math:`v_t / (1-\beta^t)` with ``debias=True``, Adam's first moment).
    :math:`\beta` = ``decay``. ``chain(ema(beta), scale_by_learning_rate(lr / (1 - beta)))`` has
    exactly the trajectory of ``torch.optim.SGD(lr, momentum=beta)``.
    """
    decay = check_in_range("ema", "decay", decay, 0.0, 1.0, closed="left")

    def init(params: Tree) -> TraceState:
        return TraceState(0, _zeros(params))

    def update(grads: Tree, state: TraceState, params: Tree = None, **extra: Any) -> tuple[Tree, TraceState]:
        count = state.step + 1
        v = tree_map(lambda g, m: _moment(_as_float(g), m, decay), grads, state.buffer)
        out = tree_map(lambda m: m / _bias_correction(decay, count), v) if debias else tree_map(np.copy, v)
        return out, TraceState(count, v)

    return GradientTransformation(init, update)


class VelocityMomentumState(NamedTuple):
    """The velocity :math:`v` (lr included), the update count and the rate of the latest update."""

    step: int
    velocity: Tree
    lr: float = math.nan


def velocity_momentum(lr: LearningRate, beta: float = 0.9) -> GradientTransformation:
    r"""Classic velocity momentum: :math:`v_t = \beta v_{t-1} + \eta_t g_t`, update :math:`-v_t`.

    Returns final updates (the sign and lr are inside): ``apply_updates`` then does
    :math:`\theta \mathrel{-}= v_t`. :math:`\eta` = ``lr`` (float or schedule), :math:`\beta` =
    ``beta``. For a constant lr this is ``torch.optim.SGD(lr, momentum=beta)`` exactly; with a
    schedule the lrs of past steps stay inside :math:`v`, unlike PyTorch.
    """
    lr = _check_lr("velocity_momentum", lr)
    beta = check_in_range("velocity_momentum", "beta", beta, 0.0, 1.0, closed="both")

    def init(params: Tree) -> VelocityMomentumState:
        return VelocityMomentumState(0, _zeros(params))

    def update(
        grads: Tree, state: VelocityMomentumState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, VelocityMomentumState]:
        eta = _lr_at(lr, state.step)
        v = tree_map(lambda g, v: beta * v + eta * _as_float(g), grads, state.velocity)
        return tree_map(np.negative, v), VelocityMomentumState(state.step + 1, v, eta)

    return GradientTransformation(init, update)


class SutskeverNesterovState(NamedTuple):
    """The velocity :math:`v` of Sutskever's Nesterov method, the update count and :math:`\beta`."""

    step: int
    velocity: Tree
    beta: float = math.nan

    def lookahead(self, params: Tree) -> Tree:
        r"""The point :math:`x + \beta v` where the next gradient is taken (:func:`nesterov_lookahead`)."""
        return nesterov_lookahead(params, self, self.beta)


def sutskever_nesterov(lr: LearningRate, beta: float = 0.9) -> GradientTransformation:
    r"""Nesterov momentum in Sutskever et al.'s look-ahead form.

    .. math::
        v_{t+1} = \beta v_t - \eta\, \nabla f(x_t + \beta v_t), \qquad x_{t+1} = x_t + v_{t+1}.

    The gradient must be taken at the **look-ahead point** :math:`x_t + \beta v_t`, which
    :func:`nesterov_lookahead` returns from the params and this transformation's state; ``update``
    returns the final update :math:`v_{t+1}` (sign and lr included).

    Equivalence with PyTorch's form (:func:`trace` with ``nesterov=True``): put
    :math:`y_t = x_t + \beta v_t`. Then :math:`y_{t+1} = y_t - \eta\nabla f(y_t) + \beta v_{t+1}`,
    and with :math:`b = -v/\eta` this is :math:`b_{t+1} = \beta b_t + \nabla f(y_t)`,
    :math:`y_{t+1} = y_t - \eta(\nabla f(y_t) + \beta b_{t+1})` -- PyTorch's Nesterov SGD. So
    PyTorch's iterates are Sutskever's look-ahead points, and the gradient is evaluated at the
    iterate itself (constant lr).

    References: Sutskever, Martens, Dahl, Hinton (2013), "On the importance of initialization and
    momentum in deep learning", ICML.
    """
    lr = _check_lr("sutskever_nesterov", lr)
    beta = check_in_range("sutskever_nesterov", "beta", beta, 0.0, 1.0, closed="both")

    def init(params: Tree) -> SutskeverNesterovState:
        return SutskeverNesterovState(0, _zeros(params), beta)

    def update(
        grads: Tree, state: SutskeverNesterovState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, SutskeverNesterovState]:
        eta = _lr_at(lr, state.step)
        v = tree_map(lambda g, v: beta * v - eta * _as_float(g), grads, state.velocity)
        return tree_map(np.copy, v), SutskeverNesterovState(state.step + 1, v, beta)

    return GradientTransformation(init, update)


def nesterov_lookahead(params: Tree, state: SutskeverNesterovState, beta: float) -> Tree:
    r"""The look-ahead point :math:`x + \beta v` where :func:`sutskever_nesterov` needs the gradient."""
    if not isinstance(state, SutskeverNesterovState):
        raise TypeError(
            f"nesterov_lookahead: state must be a SutskeverNesterovState, got {type(state).__name__}"
        )
    return tree_map(lambda p, v: _as_float(p) + beta * v, params, state.velocity)


# ----------------------------------------------------------------------------- adaptive scalings
class ScaleByAdagradState(NamedTuple):
    """The running sum of squared gradients :math:`G` and the update count."""

    step: int
    sum_of_squares: Tree


def scale_by_adagrad(
    *, lr_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> GradientTransformation:
    r"""AdaGrad's diagonal scaling, as ``torch.optim.Adagrad``.

    .. math::
        G_t = G_{t-1} + g_t^2,\qquad u_t = \frac{g_t}{(1 + (t-1)\,\lambda)\,(\sqrt{G_t} + \epsilon)}

    with :math:`G_0` = ``initial_accumulator_value``, :math:`\lambda` = ``lr_decay``,
    :math:`\epsilon` = ``eps`` (outside the root, as PyTorch). The full-matrix form of Duchi et al.
    keeps :math:`G_t = \sum_s g_s g_s^\top` (a d x d matrix) and steps
    :math:`-\eta\, (\delta I + G_t)^{-1/2} g_t`; it costs :math:`O(d^2)` memory and an
    :math:`O(d^3)` matrix root per step, which is why every library ships the diagonal form.

    Reference: Duchi, Hazan, Singer (2011), "Adaptive Subgradient Methods", JMLR 12.
    """
    lr_decay = check_positive("scale_by_adagrad", "lr_decay", lr_decay, strict=False)
    initial = check_positive(
        "scale_by_adagrad", "initial_accumulator_value", initial_accumulator_value, strict=False
    )
    eps = check_positive("scale_by_adagrad", "eps", eps, strict=False)

    def init(params: Tree) -> ScaleByAdagradState:
        return ScaleByAdagradState(0, _zeros(params, initial))

    def update(
        grads: Tree, state: ScaleByAdagradState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, ScaleByAdagradState]:
        decay = 1.0 / (1.0 + state.step * lr_decay)
        sums = tree_map(lambda g, s: s + _as_float(g) * _as_float(g), grads, state.sum_of_squares)
        out = tree_map(lambda g, s: decay * (_as_float(g) / (np.sqrt(s) + eps)), grads, sums)
        return out, ScaleByAdagradState(state.step + 1, sums)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    """Mean square :math:`s`, mean gradient :math:`\\bar g` (zeros unless centered), count."""

    step: int
    mean_square: Tree
    mean_grad: Tree


def scale_by_rms(
    *,
    alpha: float = 0.99,
    eps: float = 1e-8,
    centered: bool = False,
    eps_in_sqrt: bool = False,
) -> GradientTransformation:
    r"""RMSProp's scaling, as ``torch.optim.RMSprop`` (momentum comes from a following :func:`trace`).

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) g_t^2,\quad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t,\quad
        u_t = \frac{g_t}{\sqrt{s_t - \bar g_t^2} + \epsilon}

    (:math:`\bar g` only when ``centered``). ``eps_in_sqrt=True`` puts :math:`\epsilon` inside the
    root, :math:`g/\sqrt{s + \epsilon}` (Hinton's lecture notes, Optax ``eps_in_sqrt``); PyTorch
    and Keras add it outside. :math:`\alpha` = ``alpha`` (Keras ``rho``).

    Reference: Tieleman & Hinton (2012), Lecture 6.5; Graves (2013), arXiv:1308.0850 (centered).
    """
    alpha = check_in_range("scale_by_rms", "alpha", alpha, 0.0, 1.0, closed="both")
    eps = check_positive("scale_by_rms", "eps", eps, strict=False)

    def init(params: Tree) -> ScaleByRmsState:
        return ScaleByRmsState(0, _zeros(params), _zeros(params))

    def update(
        grads: Tree, state: ScaleByRmsState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, ScaleByRmsState]:
        sq = tree_map(lambda g, s: _moment(_as_float(g), s, alpha, order=2), grads, state.mean_square)
        if centered:
            mean = tree_map(lambda g, m: _moment(_as_float(g), m, alpha), grads, state.mean_grad)
            var = tree_map(lambda s, m: s - m * m, sq, mean)
        else:
            mean, var = state.mean_grad, sq
        if eps_in_sqrt:
            out = tree_map(lambda g, v: _as_float(g) / np.sqrt(v + eps), grads, var)
        else:
            out = tree_map(lambda g, v: _as_float(g) / (np.sqrt(v) + eps), grads, var)
        return out, ScaleByRmsState(state.step + 1, sq, mean)

    return GradientTransformation(init, update)


class ScaleByAdamState(NamedTuple):
    """Adam's moments :math:`m`, :math:`v`, the running max of :math:`v` (AMSGrad) and the count.

    ``lr`` is the learning rate of the most recent update when the learning rate is fused in (the
    ``adam``/``adamw`` presets), else ``None``.
    """

    step: int
    mu: Tree
    nu: Tree
    nu_max: Tree
    lr: float | None = None


def _adam_leaf(
    g: Any,
    m: np.ndarray,
    v: np.ndarray,
    v_max: np.ndarray | None,
    *,
    b1: float,
    b2: float,
    eps: float,
    coef: float,
    root_scale: float,
    param: Any = None,
    param_coef: float = 0.0,
    grad_param_coef: float = 0.0,
    apply: bool = False,
    eps_inside: float = 0.0,
    probe: list[float] | None = None,
) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray | None]:
    r"""One Adam step for one leaf, in cache-sized blocks, into fresh output arrays.

    With :math:`\tilde g = g + c_g\,p` (coupled decay), returns
    :math:`u = c\, m_t / (r\sqrt{\hat v} + \epsilon) + c_p\, p`, :math:`m_t`, :math:`v_t` and the new
    max, where :math:`\hat v = v_t` or :math:`\max(v_{max}, v_t)` (AMSGrad). Nothing is mutated
    except the new arrays; each block's temporaries stay in cache, and large leaves are split
    over a few threads. :math:`c/(r\sqrt{\hat v} + \epsilon)` is computed as
    :math:`(c/r)/(\sqrt{\hat v} + \epsilon/r)`, one pass fewer (a rounding-level difference).

    ``apply=True`` (the fused step; ``param`` required) returns the new parameter
    :math:`p + u` -- exactly what :func:`~losslab.optim.apply_updates` would make of :math:`u` --
    in place of :math:`u`, without writing :math:`u` to memory (with Numba installed the fused
    step is instead one compiled pass, :class:`_AdamKernel`, bitwise equal to this one).
    ``eps_inside`` is added under the root, :math:`\sqrt{\hat v + \epsilon_{in}}` (the
    ``eps_placement="inside"`` form; NumPy blocks only).

    ``probe`` (a list, for the input check): ``inf`` is appended when ``g`` (or the parameter)
    holds a NaN or an infinity (each block's dot product, taken while the block is in cache,
    before any work on it). After an ``inf`` the caller checks the inputs themselves.
    """
    g = _as_float(g)
    dtype = np.result_type(g.dtype, m.dtype)
    shape = g.shape
    gf = np.ascontiguousarray(g, dtype=dtype).reshape(-1)
    mf = np.ascontiguousarray(m, dtype=dtype).reshape(-1)
    vf = np.ascontiguousarray(v, dtype=dtype).reshape(-1)
    vmf = None if v_max is None else np.ascontiguousarray(v_max, dtype=dtype).reshape(-1)
    if apply and not _fusable(param, shape, dtype):
        # a parameter of another dtype or shape (integers, a broadcast leaf): unfused, as apply_updates
        u, m_new, v_new, vm_new = _adam_leaf(
            g, m, v, v_max, b1=b1, b2=b2, eps=eps, coef=coef, root_scale=root_scale, param=param,
            param_coef=param_coef, grad_param_coef=grad_param_coef, eps_inside=eps_inside,
            probe=probe,
        )  # fmt: skip
        return _add_leaf(param, u), m_new, v_new, vm_new
    pf = None
    if param is not None and (apply or param_coef != 0.0 or grad_param_coef != 0.0):
        pf = np.ascontiguousarray(_as_float(param), dtype=dtype).reshape(-1)
    n = gf.size
    m_out = _buffers.empty(n, dtype)
    v_out = _buffers.empty(n, dtype)
    u_out = _buffers.empty(n, dtype)  # the new parameter when apply=True
    vm_out = None if vmf is None else _buffers.empty(n, dtype)
    c1, c2 = 1.0 - b1, 1.0 - b2
    scaled_coef, scaled_eps = coef / root_scale, eps / root_scale
    block = min(_BLOCK, max(n, 1))
    coupled = pf is not None and grad_param_coef != 0.0
    decoupled = pf is not None and param_coef != 0.0

    def work(lo: int, hi: int) -> None:
        tmp = np.empty(block, dtype)
        tmp2 = np.empty(block, dtype) if coupled else None
        ub = np.empty(block, dtype) if apply else None
        for start in range(lo, hi, block):
            stop = min(start + block, hi)
            k = stop - start
            t = tmp[:k]
            gb = gf[start:stop]
            if probe is not None:
                pb = gb if pf is None else pf[start:stop]
                with np.errstate(over="ignore", invalid="ignore"):
                    dot = float(np.dot(gb, gb)) + float(np.dot(pb, pb))  # finite iff all entries are
                if not math.isfinite(dot) and not (np.isfinite(gb).all() and np.isfinite(pb).all()):
                    probe.append(math.inf)  # the caller raises; no work on the invalid values
                    return
            if tmp2 is not None and pf is not None:  # coupled weight decay: g + wd * p
                gb = np.multiply(pf[start:stop], grad_param_coef, out=tmp2[:k])
                gb += gf[start:stop]
            mb, vb = mf[start:stop], vf[start:stop]
            mo, vo = m_out[start:stop], v_out[start:stop]
            uo = u_out[start:stop] if ub is None else ub[:k]
            np.subtract(gb, mb, out=mo)  # m + (1 - b1)(g - m), PyTorch's lerp
            mo *= c1
            mo += mb
            np.multiply(gb, gb, out=t)  # b2 v + (1 - b2) g^2, PyTorch's mul_ + addcmul_
            t *= c2
            np.multiply(vb, b2, out=vo)
            vo += t
            src = vo
            if vm_out is not None and vmf is not None:
                src = np.maximum(vmf[start:stop], vo, out=vm_out[start:stop])
            if eps_inside:
                np.add(src, eps_inside, out=t)
                np.sqrt(t, out=t)
            else:
                np.sqrt(src, out=t)
            t += scaled_eps
            np.multiply(mo, scaled_coef, out=uo)
            uo /= t
            if decoupled and pf is not None:
                np.multiply(pf[start:stop], param_coef, out=t)
                uo += t
            if ub is not None and pf is not None:  # the fused step: p + u, as apply_updates
                np.add(pf[start:stop], uo, out=u_out[start:stop])

    _buffers.parallel_ranges(n, block, work)
    return _reshaped(shape, u_out, m_out, v_out, vm_out)


def _fusable(param: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> bool:
    """Whether ``param + u`` can be written by the fused kernel with apply_updates' exact result."""
    return isinstance(param, np.ndarray) and param.dtype == dtype and param.shape == shape


def _reshaped(
    shape: tuple[int, ...], u: np.ndarray, m: np.ndarray, v: np.ndarray, vm: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    return u.reshape(shape), m.reshape(shape), v.reshape(shape), None if vm is None else vm.reshape(shape)


def _adam_coefficients(
    count: int, b1: float, b2: float, scale_factor: float, eps_placement: str
) -> tuple[float, float]:
    r"""``(coef, root_scale)`` with :math:`u = c\, m / (r\sqrt{v} + \epsilon)`.

    Algorithm 1 (and PyTorch): :math:`\hat m / (\sqrt{\hat v} + \epsilon)`, i.e. coef
    :math:`= s/(1-\beta_1^t)`, root_scale :math:`= 1/\sqrt{1-\beta_2^t}`. Keras' "epsilon hat":
    :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`, :math:`u = \eta_t m/(\sqrt v + \hat\epsilon)`.
    ``"inside"`` (:math:`\hat m/\sqrt{\hat v + \epsilon}`) has Algorithm 1's coefficients, its
    :math:`\epsilon` going under the root (see :func:`_adam_eps`).
    """
    bc1 = _bias_correction(b1, count)
    bc2 = _bias_correction(b2, count)
    if eps_placement == "keras":
        return scale_factor * math.sqrt(bc2) / bc1, 1.0
    return scale_factor / bc1, 1.0 / math.sqrt(bc2)


def _adam_eps(eps: float, b2: float, count: int, eps_placement: str) -> tuple[float, float]:
    r"""``(eps outside, eps inside)`` of the kernel's :math:`c\,m / (r\sqrt{v + \epsilon_{in}} + \epsilon)`.

    ``"inside"``: :math:`\hat m / \sqrt{v/(1-\beta_2^t) + \epsilon} = \hat m \sqrt{1-\beta_2^t} /
    \sqrt{v + \epsilon(1-\beta_2^t)}`, so :math:`\epsilon_{in} = \epsilon(1-\beta_2^t)` and no
    outer :math:`\epsilon`; the other placements add :math:`\epsilon` outside.
    """
    if eps_placement == "inside":
        return 0.0, eps * _bias_correction(b2, count)
    return eps, 0.0


class _AdamScalars(NamedTuple):
    """One Adam step's learning rate and the coefficients :func:`_adam_leaf` takes."""

    eta: float
    coef: float
    root_scale: float
    eps_out: float
    eps_in: float
    grad_coef: float  # coupled weight decay: g + wd * p
    param_coef: float  # decoupled weight decay: p - eta * wd * p


def _adam_scalars(
    step: int,
    *,
    lr: LearningRate | None,
    b1: float,
    b2: float,
    eps: float,
    eps_placement: str,
    weight_decay: float,
    decoupled: bool,
) -> _AdamScalars:
    """The scalars of the step taken from a state at ``step`` (``lr=None``: the direction, scale 1)."""
    count = step + 1
    eta = 1.0 if lr is None else _lr_at(lr, step)
    coef, root_scale = _adam_coefficients(count, b1, b2, 1.0 if lr is None else -eta, eps_placement)
    eps_out, eps_in = _adam_eps(eps, b2, count, eps_placement)
    param_coef = grad_coef = 0.0
    if weight_decay != 0.0:
        if decoupled:
            param_coef = -eta * weight_decay
        else:
            grad_coef = weight_decay
    return _AdamScalars(eta, coef, root_scale, eps_out, eps_in, grad_coef, param_coef)


def _adam_transformation(
    where: str,
    *,
    b1: float,
    b2: float,
    eps: float,
    amsgrad: bool,
    eps_placement: str,
    lr: LearningRate | None,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> GradientTransformation:
    """Adam as one transformation; ``lr=None`` gives the direction (``scale_by_adam``)."""
    scalars_at = functools.partial(
        _adam_scalars, lr=lr, b1=b1, b2=b2, eps=eps, eps_placement=eps_placement,
        weight_decay=weight_decay, decoupled=decoupled,
    )  # fmt: skip

    def init(params: Tree) -> ScaleByAdamState:
        zeros = _zeros(params)
        first_lr = None if lr is None else _lr_at(lr, 0)
        return ScaleByAdamState(0, zeros, _zeros(params), _zeros(params) if amsgrad else None, first_lr)

    def run(grads: Tree, state: ScaleByAdamState, params: Tree, apply: bool) -> tuple[Tree, ScaleByAdamState]:
        sc = scalars_at(state.step)
        if weight_decay != 0.0:
            _need_params(where, params)
        # The fused step checks the gradients' finiteness in its own pass (see checks_finite_grads).
        probe: list[float] | None = [] if apply and get_config().validate else None
        use_params = params is not None and (apply or weight_decay != 0.0)
        leaves_p = params if use_params else tree_map(lambda _: None, grads)
        nu_max = state.nu_max if amsgrad else tree_map(lambda _: None, grads)
        results = tree_map(
            lambda g, m, v, vm, p: _adam_leaf(
                g,
                m,
                v,
                vm,
                b1=b1,
                b2=b2,
                eps=sc.eps_out,
                coef=sc.coef,
                root_scale=sc.root_scale,
                param=p,
                param_coef=sc.param_coef,
                grad_param_coef=sc.grad_coef,
                apply=apply,
                eps_inside=sc.eps_in,
                probe=probe,
            ),
            grads,
            state.mu,
            state.nu,
            nu_max,
            leaves_p,
        )
        if probe is not None and not math.isfinite(sum(probe)):
            check_finite_tree("step", "grads", grads)  # raises, naming the leaf
            check_finite_tree("step", "params", params)
        pick = [tree_map(lambda g, r, i=i: r[i], grads, results) for i in range(4)]
        used_lr = None if lr is None else sc.eta
        return pick[0], ScaleByAdamState(
            state.step + 1, pick[1], pick[2], pick[3] if amsgrad else None, used_lr
        )

    def update(
        grads: Tree, state: ScaleByAdamState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, ScaleByAdamState]:
        return run(grads, state, params, apply=False)

    @checks_finite_grads
    def step(
        grads: Tree, state: ScaleByAdamState, params: Tree, **extra: Any
    ) -> tuple[Tree, ScaleByAdamState]:
        # the update and apply_updates in one pass (lr is fused in, so the update is final)
        return run(grads, state, _need_params(where, params), apply=True)

    numpy = GradientTransformation(init, update, None if lr is None else step)
    if lr is None or eps_placement == "inside":  # (the kernel adds eps outside the root)
        return numpy
    return _compiled.with_compiled_step(numpy, _AdamKernel(scalars_at, b1=b1, b2=b2, amsgrad=amsgrad))


class _AdamKernel(_compiled.Kernel):
    """Adam's fused step as one compiled pass per leaf (``adam_serial``): the operations of
    :func:`_adam_leaf` with ``apply=True``, element by element, so bitwise its results; the step's
    scalars come from the same ``scalars_at`` (:func:`_adam_scalars`) as the NumPy step's."""

    name = "adam"

    def __init__(
        self, scalars_at: Callable[[int], _AdamScalars], *, b1: float, b2: float, amsgrad: bool
    ) -> None:
        self.scalars_at, self.b1, self.b2, self.amsgrad = scalars_at, b1, b2, amsgrad
        self.slots = (True, True, amsgrad)

    def prepare(self, state: ScaleByAdamState) -> tuple[list[Any], tuple[Any, ...], Any]:
        sc = self.scalars_at(state.step)
        trees = [state.mu, state.nu, state.nu_max] if self.amsgrad else [state.mu, state.nu]
        scalars = (
            1.0 - self.b1, 1.0 - self.b2, self.b2, sc.coef / sc.root_scale, sc.eps_out / sc.root_scale,
            sc.grad_coef, sc.param_coef, self.amsgrad,
        )  # fmt: skip
        return trees, scalars, sc.eta

    def rebuild(self, state: ScaleByAdamState, ctx: Any, new: list[Any]) -> ScaleByAdamState:
        return ScaleByAdamState(state.step + 1, new[0], new[1], new[2] if self.amsgrad else None, ctx)


def _check_betas(where: str, b1: Any, b2: Any) -> tuple[float, float]:
    b1 = check_in_range(where, "b1", b1, 0.0, 1.0, closed="left")
    b2 = check_in_range(where, "b2", b2, 0.0, 1.0, closed="left")
    return b1, b2


def scale_by_adam(
    *,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    amsgrad: bool = False,
    eps_placement: Literal["algorithm1", "keras", "inside"] = "algorithm1",
) -> GradientTransformation:
    r"""Adam's direction :math:`\hat m_t / (\sqrt{\hat v_t} + \epsilon)`, as ``torch.optim.Adam``.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        u_t = \frac{m_t / (1-\beta_1^t)}{\sqrt{\hat v_t / (1-\beta_2^t)} + \epsilon}

    with :math:`\hat v_t = v_t`, or with ``amsgrad=True`` :math:`\hat v_t = \max(\hat v_{t-1}, v_t)`
    -- the max of the *raw* second moments, bias-corrected afterwards, exactly as PyTorch (Reddi et
    al.'s paper takes the max without bias correction). ``eps_placement="algorithm1"`` (Kingma &
    Ba's Algorithm 1, PyTorch, Optax) adds :math:`\epsilon` to the corrected root;
    ``"keras"`` uses the paper's "epsilon hat" form (Section 2, Keras/TensorFlow):
    :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`, :math:`\theta \mathrel{-}= \eta_t m_t / (\sqrt{v_t}
    + \hat\epsilon)`, which equals Algorithm 1 with :math:`\epsilon = \hat\epsilon/\sqrt{1-\beta_2^t}`.
    ``"inside"`` puts :math:`\epsilon` under the root, :math:`u_t = \hat m_t / \sqrt{\hat v_t +
    \epsilon}` -- the form the curriculum prints (003) and Optax's ``eps_root`` (with its ``eps=0``);
    no PyTorch or Keras Adam has it. The two agree when :math:`\hat v_t \gg \epsilon^2` (outside)
    and :math:`\hat v_t \gg \epsilon` (inside), so inside damps small gradients far sooner: with
    :math:`\epsilon = 10^{-8}` a first gradient of :math:`10^{-4}` gives a step of :math:`0.71\eta`
    inside and :math:`\eta` outside.

    References: Kingma & Ba (2015), arXiv:1412.6980; Reddi, Kale, Kumar (2018), "On the
    Convergence of Adam and Beyond", ICLR.
    """
    b1, b2 = _check_betas("scale_by_adam", b1, b2)
    eps = check_positive("scale_by_adam", "eps", eps, strict=False)
    check_choice("scale_by_adam", "eps_placement", eps_placement, ("algorithm1", "keras", "inside"))
    return _adam_transformation(
        "scale_by_adam", b1=b1, b2=b2, eps=eps, amsgrad=bool(amsgrad), eps_placement=eps_placement, lr=None
    )


# ----------------------------------------------------------------------------- weight decay, lr
def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    r"""Coupled L2 weight decay: :math:`u = g + \lambda\,\theta` (PyTorch's ``weight_decay`` of SGD,
    Adam, Adagrad, RMSprop; the gradient of :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`).

    Placed *after* an adaptive scaling and before ``scale_by_learning_rate(lr)`` it becomes
    decoupled decay :math:`\eta\lambda\theta` (that is how :func:`~losslab.optim.adamw` is built in
    Optax).
    """
    weight_decay = check_positive("add_decayed_weights", "weight_decay", weight_decay, strict=False)

    def update(grads: Tree, state: EmptyState, params: Tree = None, **extra: Any) -> tuple[Tree, EmptyState]:
        if weight_decay == 0.0:
            return tree_map(lambda g: np.array(_as_float(g), copy=True), grads), state
        params = _need_params("add_decayed_weights", params)
        return tree_map(lambda g, p: _as_float(g) + weight_decay * _as_float(p), grads, params), state

    return GradientTransformation(lambda params: EmptyState(), update)


class ScaleByLearningRateState(NamedTuple):
    """The number of updates made (the step a schedule is evaluated at) and the learning rate of
    the most recent update (before any update: the first one's), for logs and progress bars."""

    step: int
    lr: float


def decoupled_weight_decay(weight_decay: float, lr: LearningRate) -> GradientTransformation:
    r"""Decoupled weight decay (AdamW): adds :math:`-\eta_t\lambda\,\theta` to final updates.

    Place it *after* ``scale_by_learning_rate``. PyTorch's AdamW multiplies
    :math:`\theta \leftarrow (1-\eta\lambda)\theta` before its Adam step, the same update.
    Reference: Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization", ICLR.
    """
    weight_decay = check_positive("decoupled_weight_decay", "weight_decay", weight_decay, strict=False)
    lr = _check_lr("decoupled_weight_decay", lr)

    def update(
        grads: Tree, state: ScaleByLearningRateState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, ScaleByLearningRateState]:
        params = _need_params("decoupled_weight_decay", params)
        eta = _lr_at(lr, state.step)
        c = -eta * weight_decay
        out = tree_map(lambda u, p: _as_float(u) + c * _as_float(p), grads, params)
        return out, ScaleByLearningRateState(state.step + 1, eta)

    return GradientTransformation(lambda params: ScaleByLearningRateState(0, _lr_at(lr, 0)), update)


def scale_by_learning_rate(lr: LearningRate) -> GradientTransformation:
    r"""Final step: :math:`u = -\eta_t\, d` with :math:`\eta_t` = ``lr`` (a float, or a schedule
    evaluated at the number of completed updates).

    Its fused ``step`` writes :math:`\theta - \eta_t d` directly (large leaves in cache-sized
    blocks, without the updates array), so every chain that ends with it -- ``sgd``, ``adagrad``,
    ``rmsprop`` and their aliases -- steps in fewer passes through :func:`~losslab.optim.step`.
    """
    lr = _check_lr("scale_by_learning_rate", lr)

    def update(
        grads: Tree, state: ScaleByLearningRateState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, ScaleByLearningRateState]:
        eta = _lr_at(lr, state.step)
        return tree_map(lambda g: -eta * _as_float(g), grads), ScaleByLearningRateState(state.step + 1, eta)

    def step(
        grads: Tree, state: ScaleByLearningRateState, params: Tree, **extra: Any
    ) -> tuple[Tree, ScaleByLearningRateState]:
        params = _need_params("scale_by_learning_rate", params)
        eta = _lr_at(lr, state.step)
        new = tree_map(lambda p, g: _scaled_add_leaf(p, g, -eta), params, grads)
        return new, ScaleByLearningRateState(state.step + 1, eta)

    return GradientTransformation(lambda params: ScaleByLearningRateState(0, _lr_at(lr, 0)), update, step)


def _scaled_add_leaf(p: Any, g: Any, factor: float) -> Any:
    """``apply_updates``' leaf of ``p`` and ``factor * g``, large leaves without the updates array."""
    g = _as_float(g)
    if not (isinstance(p, np.ndarray) and p.dtype == g.dtype and p.shape == g.shape) or (
        p.size < _buffers.POOL_MIN_SIZE
    ):
        return _add_leaf(p, factor * g)
    pf = np.ascontiguousarray(p).reshape(-1)
    gf = np.ascontiguousarray(g).reshape(-1)
    n = pf.size
    out = _buffers.empty(n, p.dtype)

    def work(lo: int, hi: int) -> None:
        tmp = np.empty(_BLOCK, p.dtype)
        for start in range(lo, hi, _BLOCK):
            stop = min(start + _BLOCK, hi)
            t = np.multiply(gf[start:stop], factor, out=tmp[: stop - start])
            np.add(pf[start:stop], t, out=out[start:stop])

    _buffers.parallel_ranges(n, _BLOCK, work)
    return out.reshape(p.shape)


# ----------------------------------------------------------------------------- clipping
def clip_by_value(clip_value: float) -> GradientTransformation:
    """Clip every gradient entry to ``[-clip_value, clip_value]`` (``torch.nn.utils.clip_grad_value_``)."""
    clip_value = check_positive("clip_by_value", "clip_value", clip_value, strict=False)

    def update(grads: Tree, state: EmptyState, params: Tree = None, **extra: Any) -> tuple[Tree, EmptyState]:
        return tree_map(lambda g: np.clip(_as_float(g), -clip_value, clip_value), grads), state

    return GradientTransformation(lambda params: EmptyState(), update)


def clip_by_global_norm(max_norm: float, *, eps: float = 1e-6) -> GradientTransformation:
    r"""Rescale all gradients together when their global norm exceeds ``max_norm``.

    :math:`g \leftarrow g \cdot \min(1, c / (\lVert g\rVert_2 + \epsilon))` with :math:`\lVert g\rVert_2`
    over every leaf, :math:`c` = ``max_norm``, :math:`\epsilon` = ``eps`` -- exactly
    ``torch.nn.utils.clip_grad_norm_`` (Optax's ``clip_by_global_norm`` uses :math:`\epsilon = 0`).
    Reference: Pascanu, Mikolov, Bengio (2013), arXiv:1211.5063.
    """
    max_norm = check_positive("clip_by_global_norm", "max_norm", max_norm)
    eps = check_positive("clip_by_global_norm", "eps", eps, strict=False)

    def update(grads: Tree, state: EmptyState, params: Tree = None, **extra: Any) -> tuple[Tree, EmptyState]:
        total = math.sqrt(
            sum(float(np.vdot(g, g)) for g in (_as_float(x).ravel() for x in tree_leaves(grads)))
        )
        factor = min(1.0, max_norm / (total + eps))
        return tree_map(lambda g: _as_float(g) * factor, grads), state

    return GradientTransformation(lambda params: EmptyState(), update)


# ----------------------------------------------------------------------------- accumulation
class MultiStepsState(NamedTuple):
    """Mini-steps done in the current accumulation, the gradient sum, the inner state."""

    mini_step: int
    grad_sum: Tree
    inner_state: Any


def multi_steps(inner: GradientTransformation, every_k: int) -> GradientTransformation:
    r"""Gradient accumulation: call ``inner`` once every ``every_k`` updates with the mean gradient.

    The first ``k - 1`` calls return zero updates and only add :math:`g` to a running sum; the
    ``k``-th feeds :math:`\frac1k\sum_{i=1}^k g_i` to ``inner`` and returns its updates. With a
    mean-reduced loss this is one step on a batch ``k`` times larger (Optax ``MultiSteps``; in
    PyTorch, ``backward()`` on ``loss / k`` for ``k`` micro-batches, then ``step()``).
    """
    if not isinstance(inner, GradientTransformation):
        raise TypeError(f"multi_steps: inner must be a GradientTransformation, got {type(inner).__name__}")
    every_k = check_int("multi_steps", "every_k", every_k, minimum=1)

    def init(params: Tree) -> MultiStepsState:
        return MultiStepsState(0, _zeros(params), inner.init(params))

    def update(
        grads: Tree, state: MultiStepsState, params: Tree = None, **extra: Any
    ) -> tuple[Tree, MultiStepsState]:
        total = tree_map(lambda g, s: s + _as_float(g), grads, state.grad_sum)
        if state.mini_step + 1 < every_k:
            zeros = tree_map(lambda g: np.zeros_like(_as_float(g)), grads)
            return zeros, MultiStepsState(state.mini_step + 1, total, state.inner_state)
        mean = tree_map(lambda s: s / every_k, total)
        updates, inner_state = inner.update(mean, state.inner_state, params, **extra)
        return updates, MultiStepsState(0, _zeros(total), inner_state)

    return GradientTransformation(init, update, None, inner.extra_args)


# ----------------------------------------------------------------------------- plateau
class ReduceOnPlateauState(NamedTuple):
    """PyTorch ``ReduceLROnPlateau``'s counters; ``lr`` is the current learning rate."""

    lr: float
    best: float
    num_bad_steps: int
    cooldown_counter: int
    step: int


def reduce_on_plateau(
    *,
    lr: float = 1.0,
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: Literal["rel", "abs"] = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
    mode: Literal["min", "max"] = "min",
) -> GradientTransformation:
    r"""Scale updates by ``current_lr / lr``, cutting the lr when the loss ``value`` stops improving.

    Feed the loss: ``update(grads, state, params, value=loss)`` (``chain`` passes ``value`` on).
    The rule is ``torch.optim.lr_scheduler.ReduceLROnPlateau``'s: a value is *better* when
    :math:`v < \text{best}(1 - \tau)` (``"rel"``) or :math:`v < \text{best} - \tau` (``"abs"``)
    (mirrored for ``mode="max"``); after more than ``patience`` bad values in a row the lr
    becomes :math:`\max(\eta\cdot\text{factor}, \eta_{min})` (skipped when the change is at most
    ``eps``), then ``cooldown`` values are ignored. The value is processed *before* scaling, so
    ``update`` at loss :math:`L_t` matches calling ``scheduler.step(L_t)`` right before
    ``optimizer.step()``.

    ``lr`` is the optimizer's base lr, so that ``min_lr`` and ``eps`` are in lr units as in PyTorch
    (``chain(sgd(lr=0.1), reduce_on_plateau(lr=0.1, ...))``); with the default ``lr=1.0`` they
    are in units of the scale factor, like Optax's ``min_scale``.
    """
    where = "reduce_on_plateau"
    lr = check_positive(where, "lr", lr)
    factor = check_in_range(where, "factor", factor, 0.0, 1.0, closed="left")
    patience = check_int(where, "patience", patience, minimum=0)
    threshold = check_positive(where, "threshold", threshold, strict=False)
    check_choice(where, "threshold_mode", threshold_mode, ("rel", "abs"))
    cooldown = check_int(where, "cooldown", cooldown, minimum=0)
    min_lr = check_positive(where, "min_lr", min_lr, strict=False)
    eps = check_positive(where, "eps", eps, strict=False)
    check_choice(where, "mode", mode, ("min", "max"))

    def is_better(a: float, best: float) -> bool:
        if mode == "min":
            return a < best * (1.0 - threshold) if threshold_mode == "rel" else a < best - threshold
        return a > best * (threshold + 1.0) if threshold_mode == "rel" else a > best + threshold

    def init(params: Tree) -> ReduceOnPlateauState:
        return ReduceOnPlateauState(lr, math.inf if mode == "min" else -math.inf, 0, 0, 0)

    def update(
        grads: Tree, state: ReduceOnPlateauState, params: Tree = None, *, value: Any = None, **extra: Any
    ) -> tuple[Tree, ReduceOnPlateauState]:
        if value is None:
            raise TypeError(f"{where}: update needs the loss value: update(grads, state, params, value=loss)")
        current = float(value)
        current_lr, best, bad, cool = state.lr, state.best, state.num_bad_steps, state.cooldown_counter
        if is_better(current, best):
            best, bad = current, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new_lr = max(current_lr * factor, min_lr)
            if current_lr - new_lr > eps:
                current_lr = new_lr
            cool, bad = cooldown, 0
        ratio = current_lr / lr
        out = tree_map(lambda g: _as_float(g) * ratio, grads)  # (a new array even for ratio 1)
        return out, ReduceOnPlateauState(current_lr, best, bad, cool, state.step + 1)

    return GradientTransformation(init, update)
