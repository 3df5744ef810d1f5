"""losslab: the loss-function and optimization lab.

Every loss and optimizer of the deep-learning curriculum, exact to PyTorch, with analytic
gradients; the models and training loops to run the classic experiments; loss landscapes;
figures, a report and advice.

>>> import losslab as ll
>>> value, grad = ll.losses.mse.value_and_grad([2.5, 0.0], [3.0, 0.0])
>>> float(value), grad.tolist()
(0.125, [-0.5, 0.0])

``import losslab`` loads nothing but this file: each subpackage (``ll.losses``, ``ll.optim``,
...) and name (``ll.config``, ``ll.tree_ravel``) is imported on first use (PEP 562), so a
script pays only for what it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Subpackages, imported on first attribute access (a new one is one entry here).
_SUBPACKAGES = (
    "advise",
    "data",
    "experiments",
    "explain",
    "landscape",
    "losses",
    "models",
    "optim",
    "report",
    "train",
    "viz",
)

#: Top-level names and the module that defines each (imported on first access).
_NAMES = {
    "config": "losslab._core.config",
    "get_config": "losslab._core.config",
    "tree_ravel": "losslab._core.tree",
}

__all__ = ["__version__", *sorted([*_SUBPACKAGES, *_NAMES])]

if TYPE_CHECKING:  # what type checkers and IDEs see: the eager form of the lazy imports
    from losslab import (  # noqa: F401
        advise,
        data,
        experiments,
        explain,
        landscape,
        losses,
        models,
        optim,
        report,
        train,
        viz,
    )
    from losslab._core.config import config, get_config  # noqa: F401
    from losslab._core.tree import tree_ravel  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"losslab.{name}")
    elif name in _NAMES:
        module = getattr(importlib.import_module(_NAMES[name]), name)
    else:
        raise AttributeError(f"module 'losslab' has no attribute {name!r}")
    globals()[name] = module  # later accesses skip this function
    return module


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
