r"""Default learning rates for optimizer races: one rate per (test function, optimizer).

PyTorch's default rates (``adam``'s 1e-3) barely move an optimizer in a 100-step race, and one
rate for every optimizer makes some of them diverge and others crawl. These rates were measured
on each function from its suggested start over 100 steps, on a grid of 1e-4 ... 2: the rate kept
makes clear progress, keeps the path inside the function's plot limits and is at most half the
smallest grid rate that diverges (so a path shows the method, not the edge of stability). Every
optimizer goes downhill from the start and none diverges (``tests/test_cli_conventions.py`` checks it for every function and optimizer).

==================  =======  ========  ========  ============  ========  ======  =======  =======
function            gd/sgd   momentum  nesterov  ema_momentum  velocity  adam    adamw    rmsprop
==================  =======  ========  ========  ============  ========  ======  =======  =======
quadratic_bowl      0.1      0.02      0.05      0.2           0.02      0.1     0.1      0.05
rosenbrock          0.002    0.002     0.001     0.02          0.002     0.5     0.5      0.05
(any other)         0.01     0.002     0.002     0.02          0.002     0.1     0.1      0.01
==================  =======  ========  ========  ============  ========  ======  =======  =======

The other test functions have measured rows of their own in :data:`DEFAULT_LEARNING_RATES`, by
the same rule. Where no rate makes progress the row has no entry and the fallback applies:
``newton`` walks to the nearest critical point whatever its kind (the local maximum from the
starts of ``himmelblau`` and ``anatomy``), and plain gradient descent stalls on ``anatomy``'s flat
inflection. ``newton`` takes the pure step, 1, elsewhere.

``sutskever_nesterov`` (Sutskever's look-ahead form, which the race steps with the gradient at
its look-ahead point) takes ``nesterov``'s rates: it is the same method.
``adagrad``: 0.5 on ``quadratic_bowl``, 1.0 on ``rosenbrock``, 0.5 elsewhere. The momentum forms
use :math:`\beta = 0.9`; ``ema_momentum``'s rate is ten times ``momentum``'s because the EMA form
scales the step by :math:`1 - \beta` (see :func:`losslab.optim.ema_momentum`).

>>> default_learning_rate("rosenbrock", "adam")
0.5
>>> default_learning_rate("some_new_function", "sgd")
0.01
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from losslab.optim import optimizers as _optimizers
from losslab.optim.base import GradientTransformation
from losslab.optim.transforms import sutskever_nesterov

#: Momentum forms a race can run besides the registered optimizers (they need the race's help:
#: Sutskever's form takes its gradient at a look-ahead point, which ``ll.train.race`` provides).
RACE_FORMS: Mapping[str, Callable[..., GradientTransformation]] = {
    "sutskever_nesterov": lambda lr=1e-3, beta=0.9: sutskever_nesterov(lr, beta),
}

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "FALLBACK_LEARNING_RATES",
    "RACE_FORMS",
    "default_learning_rate",
    "race_names",
    "race_optimizer",
]

#: Rates for functions without a row of their own (and optimizers without a column: ``None``).
FALLBACK_LEARNING_RATES: Mapping[str, float] = {
    "gd": 0.01,
    "sgd": 0.01,
    "momentum": 0.002,
    "nesterov": 0.002,
    "ema_momentum": 0.02,
    "velocity": 0.002,
    "adam": 0.1,
    "adamw": 0.1,
    "rmsprop": 0.01,
    "adagrad": 0.5,
    "newton": 1.0,
}

#: ``DEFAULT_LEARNING_RATES[function][optimizer]``: the measured rates of the module docstring.
DEFAULT_LEARNING_RATES: Mapping[str, Mapping[str, float]] = {
    "quadratic_bowl": {
        "gd": 0.1,
        "sgd": 0.1,
        "momentum": 0.02,
        "nesterov": 0.05,
        "ema_momentum": 0.2,
        "velocity": 0.02,
        "adam": 0.1,
        "adamw": 0.1,
        "rmsprop": 0.05,
        "adagrad": 0.5,
    },
    "rosenbrock": {
        "gd": 0.002,
        "sgd": 0.002,
        "momentum": 0.002,
        "nesterov": 0.001,
        "ema_momentum": 0.02,
        "velocity": 0.002,
        "adam": 0.5,
        "adamw": 0.5,
        "rmsprop": 0.05,
        "adagrad": 1.0,
    },
    "anatomy": {
        "adagrad": 1.0,
        "adam": 1.0,
        "adamw": 1.0,
        "ema_momentum": 0.5,
        "momentum": 0.05,
        "nesterov": 0.05,
        "rmsprop": 0.1,
        "velocity": 0.05,
    },
    "beale": {
        "adagrad": 2.0,
        "adam": 1.0,
        "adamw": 1.0,
        "ema_momentum": 0.05,
        "gd": 0.02,
        "momentum": 0.005,
        "nesterov": 0.005,
        "newton": 2.0,
        "rmsprop": 0.5,
        "sgd": 0.02,
        "velocity": 0.005,
    },
    "booth": {
        "adagrad": 2.0,
        "adam": 2.0,
        "adamw": 2.0,
        "ema_momentum": 1.0,
        "gd": 0.1,
        "momentum": 0.1,
        "nesterov": 0.05,
        "newton": 1.0,
        "rmsprop": 0.5,
        "sgd": 0.1,
        "velocity": 0.1,
    },
    "himmelblau": {
        "adagrad": 2.0,
        "adam": 2.0,
        "adamw": 2.0,
        "ema_momentum": 0.2,
        "gd": 0.02,
        "momentum": 0.02,
        "nesterov": 0.02,
        "rmsprop": 0.5,
        "sgd": 0.02,
        "velocity": 0.02,
    },
    "monkey_saddle": {
        "adagrad": 1.0,
        "adam": 0.05,
        "adamw": 0.05,
        "ema_momentum": 0.02,
        "gd": 0.2,
        "momentum": 0.002,
        "nesterov": 0.005,
        "newton": 2.0,
        "rmsprop": 0.1,
        "sgd": 0.2,
        "velocity": 0.002,
    },
    "plateau": {
        "adagrad": 2.0,
        "adam": 2.0,
        "adamw": 2.0,
        "ema_momentum": 2.0,
        "gd": 2.0,
        "momentum": 2.0,
        "nesterov": 2.0,
        "rmsprop": 0.2,
        "sgd": 2.0,
        "velocity": 2.0,
    },
    "quadratic": {
        "adagrad": 2.0,
        "adam": 2.0,
        "adamw": 2.0,
        "ema_momentum": 2.0,
        "gd": 0.1,
        "momentum": 0.2,
        "nesterov": 0.1,
        "newton": 1.0,
        "rmsprop": 0.5,
        "sgd": 0.1,
        "velocity": 0.2,
    },
    "rastrigin": {
        "adagrad": 2.0,
        "adam": 0.5,
        "adamw": 0.5,
        "ema_momentum": 0.05,
        "gd": 0.005,
        "momentum": 0.005,
        "nesterov": 0.002,
        "newton": 1.0,
        "rmsprop": 0.2,
        "sgd": 0.005,
        "velocity": 0.005,
    },
    "saddle": {
        "adagrad": 2.0,
        "adam": 2.0,
        "adamw": 2.0,
        "ema_momentum": 2.0,
        "gd": 0.5,
        "momentum": 1.0,
        "nesterov": 0.5,
        "newton": 1.0,
        "rmsprop": 0.2,
        "sgd": 0.5,
        "velocity": 1.0,
    },
    "six_hump_camel": {
        "adagrad": 1.0,
        "adam": 1.0,
        "adamw": 1.0,
        "ema_momentum": 0.5,
        "gd": 0.05,
        "momentum": 0.05,
        "nesterov": 0.1,
        "newton": 0.5,
        "rmsprop": 0.05,
        "sgd": 0.05,
        "velocity": 0.05,
    },
}


def default_learning_rate(function: str, optimizer: str) -> float | None:
    """The race's rate for ``optimizer`` on ``function``, or ``None`` (the optimizer's own default)."""
    if optimizer == "sutskever_nesterov":
        optimizer = "nesterov"
    row = DEFAULT_LEARNING_RATES.get(function, {})
    return row.get(optimizer, FALLBACK_LEARNING_RATES.get(optimizer))


def race_names() -> list[str]:
    """Every name a race accepts: the registered optimizers and :data:`RACE_FORMS`."""
    return sorted({*_optimizers.names(), *RACE_FORMS})


def race_optimizer(name: str, **hyperparams: Any) -> GradientTransformation:
    """The optimizer a race runs under ``name`` (``ll.optim.get`` or one of :data:`RACE_FORMS`).

    >>> race_optimizer("sutskever_nesterov", lr=0.01).init(0.0).beta
    0.9
    """
    key = name.lower() if isinstance(name, str) else name
    if key in RACE_FORMS:
        return RACE_FORMS[key](**hyperparams)
    return _optimizers.get(name, **hyperparams)
