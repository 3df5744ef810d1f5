r"""Named optimizers: PyTorch's names, defaults and exact trajectories, built from transformations.

Each preset is a :class:`~losslab.optim.base.GradientTransformation`; ``lr`` is a float or a
schedule ``step -> lr`` (evaluated at the number of completed updates). Float64 trajectories
match ``torch.optim`` to rounding (tested to a relative 1e-10 over 200 steps).

>>> import numpy as np
>>> import losslab as ll
>>> opt = ll.optim.gd(lr=0.3)                   # L(W) = W^2, W0 = 4 (the curriculum's example)
>>> W = np.array(4.0)
>>> state = opt.init(W)
>>> for _ in range(4):
...     updates, state = opt.update(2 * W, state, W)
...     W = ll.optim.apply_updates(W, updates)
>>> round(float(W), 10)
0.1024
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeVar

from losslab._core.validation import check_bool, check_choice, check_in_range, check_positive
from losslab.optim._compiled import with_compiled_step
from losslab.optim._fused import AdagradKernel, RmspropKernel, SgdKernel
from losslab.optim.base import GradientTransformation, chain
from losslab.optim.second_order import scale_by_full_matrix_adagrad, scale_by_newton
from losslab.optim.transforms import (
    LearningRate,
    _adam_transformation,
    _check_lr,
    _lr_at,
    add_decayed_weights,
    ema,
    scale_by_adagrad,
    scale_by_learning_rate,
    scale_by_rms,
    trace,
    velocity_momentum,
)

__all__ = [
    "Description",
    "adagrad",
    "adam",
    "adamw",
    "describe",
    "ema_momentum",
    "gd",
    "get",
    "momentum",
    "names",
    "nesterov",
    "newton",
    "rmsprop",
    "sgd",
    "velocity",
]


class Description(NamedTuple):
    """How a preset was built: its ``name`` and every hyperparameter, defaults filled in."""

    name: str
    hyperparams: dict[str, Any]


# The description of each preset, keyed by its ``init`` function (fresh for every preset built).
_DESCRIPTIONS: weakref.WeakKeyDictionary[Callable[..., Any], Description] = weakref.WeakKeyDictionary()

_F = TypeVar("_F", bound=Callable[..., GradientTransformation])


def _described(factory: _F) -> _F:
    """Record the name and hyperparameters of every optimizer ``factory`` builds (see :func:`describe`).

    A preset built from another (``momentum`` is ``sgd(lr, momentum=beta)``) keeps the inner,
    canonical description: the one that names every transformation in it.
    """
    signature = inspect.signature(factory)

    @functools.wraps(factory)
    def build(*args: Any, **kwargs: Any) -> GradientTransformation:
        opt = factory(*args, **kwargs)
        if opt.init not in _DESCRIPTIONS:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            _DESCRIPTIONS[opt.init] = Description(factory.__name__, dict(bound.arguments))
        return opt

    return build  # type: ignore[return-value]


def describe(optimizer: GradientTransformation) -> Description | None:
    """The name and hyperparameters a preset was built with; ``None`` for other transformations.

    ``momentum`` and ``nesterov`` (and ``gd``) are described as the ``sgd`` they are.

    >>> import losslab as ll
    >>> ll.optim.describe(ll.optim.momentum(lr=0.1))
    Description(name='sgd', hyperparams={'lr': 0.1, 'momentum': 0.9, 'dampening': 0.0, 'nesterov': False, 'weight_decay': 0.0})
    >>> ll.optim.describe(ll.optim.scale(-0.1)) is None
    True
    """
    if not isinstance(optimizer, GradientTransformation):
        raise TypeError(
            f"describe: optimizer must be a GradientTransformation, got {type(optimizer).__name__}"
        )
    return _DESCRIPTIONS.get(optimizer.init)


def _check_betas(where: str, betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got betas={betas!r}")
    b1 = check_in_range(where, "betas[0]", betas[0], 0.0, 1.0, closed="left")
    b2 = check_in_range(where, "betas[1]", betas[1], 0.0, 1.0, closed="left")
    return b1, b2


@_described
def sgd(
    lr: LearningRate = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> GradientTransformation:
    r"""Stochastic gradient descent with optional momentum, as ``torch.optim.SGD``.

    .. math::
        g \leftarrow g + \lambda\theta,\quad b_1 = g_1,\ b_t = \mu b_{t-1} + (1-d) g_t,\quad
        \theta \leftarrow \theta - \eta\,(g_t + \mu b_t \text{ if Nesterov else } b_t)

    :math:`\eta` = ``lr``, :math:`\mu` = ``momentum``, :math:`d` = ``dampening``, :math:`\lambda` =
    ``weight_decay`` (coupled L2). Without momentum: :math:`\theta \leftarrow \theta - \eta g`.
    ``nesterov=True`` needs ``momentum > 0`` and ``dampening == 0`` (as PyTorch). The
    curriculum's other momentum forms are :func:`~losslab.optim.ema` and
    :func:`~losslab.optim.velocity_momentum`.
    """
    where = "sgd"
    lr = _check_lr(where, lr)
    momentum = check_in_range(where, "momentum", momentum, 0.0, 1.0)
    dampening = check_in_range(where, "dampening", dampening, 0.0, 1.0)
    nesterov = check_bool(where, "nesterov", nesterov)
    weight_decay = check_positive(where, "weight_decay", weight_decay, strict=False)
    if nesterov and (momentum <= 0.0 or dampening != 0.0):
        raise ValueError(
            f"sgd: nesterov=True requires momentum > 0 and dampening == 0, "
            f"got momentum={momentum!r}, dampening={dampening!r}"
        )
    parts = []
    if weight_decay:
        parts.append(add_decayed_weights(weight_decay))
    if momentum:
        parts.append(trace(momentum, dampening=dampening, nesterov=nesterov))
    parts.append(scale_by_learning_rate(lr))
    kernel = SgdKernel(
        functools.partial(_lr_at, lr),
        weight_decay=weight_decay,
        momentum=momentum,
        dampening=dampening,
        nesterov=nesterov,
    )
    return with_compiled_step(chain(*parts), kernel)


@_described
def momentum(lr: LearningRate = 1e-3, beta: float = 0.9) -> GradientTransformation:
    r"""Heavy-ball momentum: ``sgd(lr, momentum=beta)``, :math:`b_t = \beta b_{t-1} + g_t`,
    :math:`\theta \leftarrow \theta - \eta b_t` (Polyak 1964)."""
    beta = check_in_range("momentum", "beta", beta, 0.0, 1.0)
    return sgd(lr, momentum=beta)


@_described
def nesterov(lr: LearningRate = 1e-3, beta: float = 0.9) -> GradientTransformation:
    r"""Nesterov momentum in PyTorch's form: ``sgd(lr, momentum=beta, nesterov=True)``.

    See :func:`~losslab.optim.sutskever_nesterov` for the look-ahead form and the change of
    variables that makes the two the same method.
    """
    beta = check_in_range("nesterov", "beta", beta, 0.0, 1.0, closed="right")
    return sgd(lr, momentum=beta, nesterov=True)


@_described
def ema_momentum(lr: LearningRate = 1e-3, beta: float = 0.9, debias: bool = False) -> GradientTransformation:
    r"""EMA momentum (the curriculum's first form): :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`,
    :math:`\theta \leftarrow \theta - \eta v_t`.

    ``chain(ema(beta, debias=debias), scale_by_learning_rate(lr))``. With a constant lr it is
    ``torch.optim.SGD(lr=lr * (1 - beta), momentum=beta)`` (and Keras' SGD likewise): the EMA
    form's step is :math:`1-\beta` times PyTorch's for the same ``lr``.
    """
    beta = check_in_range("ema_momentum", "beta", beta, 0.0, 1.0, closed="left")
    return chain(ema(beta, debias=debias), scale_by_learning_rate(_check_lr("ema_momentum", lr)))


@_described
def velocity(lr: LearningRate = 1e-3, beta: float = 0.9) -> GradientTransformation:
    r"""Classic velocity momentum: :math:`v_t = \beta v_{t-1} + \eta g_t`, :math:`\theta \leftarrow \theta - v_t`.

    :func:`~losslab.optim.velocity_momentum` under a registry name; with a constant lr it is
    ``torch.optim.SGD(lr, momentum=beta)`` exactly (the lr sits inside the velocity).
    """
    return velocity_momentum(lr, beta)


@_described
def gd(lr: LearningRate = 1e-3) -> GradientTransformation:
    r"""Plain gradient descent :math:`\theta \leftarrow \theta - \eta\nabla L(\theta)` (``sgd(lr)``)."""
    return sgd(lr)


@_described
def adagrad(
    lr: LearningRate = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    full_matrix: bool = False,
) -> GradientTransformation:
    r"""AdaGrad, as ``torch.optim.Adagrad``.

    .. math::
        g \leftarrow g + \lambda\theta,\quad G_t = G_{t-1} + g_t^2,\quad
        \theta \leftarrow \theta - \frac{\eta}{1 + (t-1)\lambda_{lr}}\,\frac{g_t}{\sqrt{G_t} + \epsilon}

    :math:`G_0` = ``initial_accumulator_value``, :math:`\lambda_{lr}` = ``lr_decay``.
    ``full_matrix=True`` keeps the curriculum's :math:`G_t = \sum_s g_s g_s^\top` over all
    parameters and steps :math:`-\eta\,(\epsilon I + G_t^{1/2})^{-1} g_t`
    (:func:`~losslab.optim.scale_by_full_matrix_adagrad`; :math:`O(d^2)` memory, :math:`O(d^3)` per
    step); it equals the diagonal form whenever :math:`G_t` stays diagonal.

    >>> import numpy as np, losslab as ll
    >>> opt = ll.optim.adagrad(lr=0.1, full_matrix=True)
    >>> w = np.array([1.0, 2.0])
    >>> updates, state = opt.update(np.array([3.0, 4.0]), opt.init(w), w)
    >>> np.round(updates, 6).tolist(), state.inner[0].outer_products.shape  # -0.1 g / |g| on step 1
    ([-0.06, -0.08], (2, 2))
    """
    where = "adagrad"
    lr = _check_lr(where, lr)
    lr_decay = check_positive(where, "lr_decay", lr_decay, strict=False)
    weight_decay = check_positive(where, "weight_decay", weight_decay, strict=False)
    initial = check_positive(where, "initial_accumulator_value", initial_accumulator_value, strict=False)
    eps = check_positive(where, "eps", eps, strict=False)
    full_matrix = check_bool(where, "full_matrix", full_matrix)
    scaling = scale_by_full_matrix_adagrad if full_matrix else scale_by_adagrad
    parts = [add_decayed_weights(weight_decay)] if weight_decay else []
    parts.append(scaling(lr_decay=lr_decay, initial_accumulator_value=initial, eps=eps))
    parts.append(scale_by_learning_rate(lr))
    if full_matrix:
        return chain(*parts)
    kernel = AdagradKernel(
        functools.partial(_lr_at, lr), weight_decay=weight_decay, lr_decay=lr_decay, eps=eps
    )
    return with_compiled_step(chain(*parts), kernel)


@_described
def rmsprop(
    lr: LearningRate = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> GradientTransformation:
    r"""RMSProp, as ``torch.optim.RMSprop``.

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) g_t^2,\quad
        d_t = \frac{g_t}{\sqrt{s_t - \bar g_t^2} + \epsilon},\quad
        b_t = \mu b_{t-1} + d_t,\quad \theta \leftarrow \theta - \eta\, b_t

    (:math:`\bar g` the EMA of gradients when ``centered``; :math:`b_t = d_t` without momentum;
    :math:`g \leftarrow g + \lambda\theta` first). :math:`\epsilon` is outside the root as in
    PyTorch and Keras; ``scale_by_rms(eps_in_sqrt=True)`` gives the inside form.
    """
    where = "rmsprop"
    lr = _check_lr(where, lr)
    alpha = check_in_range(where, "alpha", alpha, 0.0, 1.0)
    eps = check_positive(where, "eps", eps, strict=False)
    weight_decay = check_positive(where, "weight_decay", weight_decay, strict=False)
    momentum = check_in_range(where, "momentum", momentum, 0.0, 1.0)
    centered = check_bool(where, "centered", centered)
    parts = [add_decayed_weights(weight_decay)] if weight_decay else []
    parts.append(scale_by_rms(alpha=alpha, eps=eps, centered=centered))
    if momentum:
        parts.append(trace(momentum))
    parts.append(scale_by_learning_rate(lr))
    kernel = RmspropKernel(
        functools.partial(_lr_at, lr),
        weight_decay=weight_decay,
        alpha=alpha,
        eps=eps,
        momentum=momentum,
        centered=centered,
    )
    return with_compiled_step(chain(*parts), kernel)


@_described
def adam(
    lr: LearningRate = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    eps_placement: Literal["algorithm1", "keras", "inside"] = "algorithm1",
) -> GradientTransformation:
    r"""Adam, as ``torch.optim.Adam`` (one fused transformation, state :class:`ScaleByAdamState`).

    .. math::
        g \leftarrow g + \lambda\theta,\quad m_t = \beta_1 m_{t-1} + (1-\beta_1)g_t,\quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)g_t^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{\hat v_t/(1-\beta_2^t)} + \epsilon}

    :math:`\hat v_t = v_t`, or :math:`\max(\hat v_{t-1}, v_t)` with ``amsgrad``; ``weight_decay``
    is coupled L2 (use :func:`adamw` for decoupled decay). Equal to
    ``chain(add_decayed_weights(wd), scale_by_adam(...), scale_by_learning_rate(lr))``, computed in
    one cache-blocked pass. ``eps_placement`` (see :func:`~losslab.optim.scale_by_adam`):
    ``"algorithm1"`` (PyTorch, above), ``"keras"`` (the "epsilon hat" form) or ``"inside"``,
    the curriculum's printed :math:`\theta \leftarrow \theta - \eta\,\hat m_t / \sqrt{\hat v_t + \epsilon}`
    (003; Optax's ``eps_root`` with ``eps=0``).
    Reference: Kingma & Ba (2015), arXiv:1412.6980.
    """
    return _adam_preset(
        "adam", lr, betas, eps, weight_decay, amsgrad, decoupled=False, eps_placement=eps_placement
    )


@_described
def adamw(
    lr: LearningRate = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> GradientTransformation:
    r"""AdamW, as ``torch.optim.AdamW``: Adam plus decoupled decay :math:`\eta\lambda\theta`.

    The decay uses the same :math:`\eta` as the step (PyTorch; Optax's ``adamw`` too) and is not
    divided by the bias correction. Reference: Loshchilov & Hutter (2019), ICLR.
    """
    return _adam_preset("adamw", lr, betas, eps, weight_decay, amsgrad, decoupled=True)


def _adam_preset(
    where: str,
    lr: Any,
    betas: Any,
    eps: Any,
    weight_decay: Any,
    amsgrad: Any,
    *,
    decoupled: bool,
    eps_placement: Any = "algorithm1",
) -> GradientTransformation:
    lr = _check_lr(where, lr)
    b1, b2 = _check_betas(where, betas)
    eps = check_positive(where, "eps", eps, strict=False)
    weight_decay = check_positive(where, "weight_decay", weight_decay, strict=False)
    amsgrad = check_bool(where, "amsgrad", amsgrad)
    check_choice(where, "eps_placement", eps_placement, ("algorithm1", "keras", "inside"))
    return _adam_transformation(
        where,
        b1=b1,
        b2=b2,
        eps=eps,
        amsgrad=amsgrad,
        eps_placement=eps_placement,
        lr=lr,
        weight_decay=weight_decay,
        decoupled=decoupled,
    )


@_described
def newton(lr: LearningRate = 1.0, damping: float = 0.0) -> GradientTransformation:
    r"""Damped Newton's method: :math:`\theta \leftarrow \theta - \eta\,(H + \lambda I)^{-1} \nabla L(\theta)`.

    :math:`H = \nabla^2 L(\theta)`, the exact Hessian, is passed to every ``update`` as
    ``hessian=`` (a ``(d, d)`` matrix over the flattened parameters, or a Hessian-vector product);
    the optimizer declares it in ``extra_args``, so :func:`~losslab.train.race` passes the test
    function's Hessian and :func:`~losslab.train.fit` the model's. :math:`\eta` = ``lr`` (1: the
    pure Newton step, which minimizes a quadratic in one step), :math:`\lambda` = ``damping``.
    Near a minimum with :math:`H \succ 0` the error contracts quadratically,
    :math:`\lVert\theta_{t+1} - \theta^*\rVert \le C\,\lVert\theta_t - \theta^*\rVert^2` (001
    §7.3). PyTorch has no Newton optimizer (``torch.optim.LBFGS`` is quasi-Newton).

    >>> import numpy as np, losslab as ll
    >>> opt = ll.optim.newton()
    >>> w = np.array([3.0, -1.0])                    # L = w1^2 + 5 w2^2
    >>> H = np.diag([2.0, 10.0])
    >>> updates, _ = opt.update(H @ w, opt.init(w), w, hessian=H)
    >>> (w + updates).tolist()
    [0.0, 0.0]
    """
    where = "newton"
    lr = _check_lr(where, lr)
    damping = check_positive(where, "damping", damping, strict=False)
    return chain(scale_by_newton(damping=damping), scale_by_learning_rate(lr))


_REGISTRY: dict[str, Callable[..., GradientTransformation]] = {
    "adagrad": adagrad,
    "adam": adam,
    "adamw": adamw,
    "ema_momentum": ema_momentum,
    "gd": gd,
    "momentum": momentum,
    "nesterov": nesterov,
    "newton": newton,
    "rmsprop": rmsprop,
    "sgd": sgd,
    "velocity": velocity,
}


def names() -> list[str]:
    """The registered optimizer names, sorted."""
    return sorted(_REGISTRY)


def get(name: str, **hyperparams: Any) -> GradientTransformation:
    """The named optimizer built with ``hyperparams`` (PyTorch defaults for the rest).

    >>> get("adam", lr=0.01).init  # doctest: +ELLIPSIS
    <function ...>
    """
    if not isinstance(name, str):
        raise TypeError(f"optim.get: name must be a string, got name={name!r}")
    key = name.lower()
    if key not in _REGISTRY:
        raise ValueError(f"optim.get: unknown optimizer {name!r}; expected one of {', '.join(names())}")
    factory = _REGISTRY[key]

    allowed = set(inspect.signature(factory).parameters)
    unknown = sorted(set(hyperparams) - allowed)
    if unknown:
        raise TypeError(
            f"optim.get: {key} has no hyperparameter {unknown[0]!r}; "
            f"expected some of {', '.join(sorted(allowed))}"
        )
    opt = factory(**hyperparams)
    if opt.init not in _DESCRIPTIONS:  # a preset registered without @_described
        bound = inspect.signature(factory).bind(**hyperparams)
        bound.apply_defaults()
        _DESCRIPTIONS[opt.init] = Description(key, dict(bound.arguments))
    return opt
