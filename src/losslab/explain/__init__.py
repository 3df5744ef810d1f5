"""Step-by-step worked computations, rendered as text or markdown, and the loss catalog.

>>> import losslab as ll
>>> ex = ll.explain.explain("huber", [5.0], [3.0], delta=1.5)
>>> float(ex.value), ex.grad.tolist()
(1.875, [1.5])
>>> print(ex.step("Branch").text)
[0] |r| = 2 > delta = 1.5: linear branch
"""

from losslab.explain import classification, regression  # noqa: F401  (register the explainers)
from losslab.explain._catalog import LossCard, card, catalog_markdown
from losslab.explain._core import (
    Context,
    Explanation,
    Step,
    explain,
    explainer,
    explainer_names,
    has_explainer,
)
from losslab.explain.backprop import BackpropExplanation, backprop
from losslab.explain.optimizer import OptimizerExplanation, optimizer_step

__all__ = [
    "BackpropExplanation",
    "Context",
    "Explanation",
    "LossCard",
    "OptimizerExplanation",
    "Step",
    "backprop",
    "card",
    "catalog_markdown",
    "explain",
    "explainer",
    "explainer_names",
    "has_explainer",
    "optimizer_step",
]
