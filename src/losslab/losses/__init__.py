"""The loss zoo: every loss of the curriculum, declared once with its analytic gradient.

>>> import losslab as ll
>>> float(ll.losses.huber([5.0], [3.0], delta=1.5))
1.875
>>> ll.losses.get("l2") is ll.losses.mse
True
>>> ll.losses.bce is ll.losses.binary_cross_entropy
True
"""

from losslab.losses import (
    adversarial,
    classification,
    composite,
    distribution,
    regression,
    regularizers,
    segmentation,
    similarity,
    weights,
)
from losslab.losses._spec import (
    ClassAxisLoss,
    Domain,
    ElementwiseLoss,
    Loss,
    LossInfo,
    Param,
    PointwiseLoss,
    Terms,
    aliases,
    get,
    names,
    register,
    register_alias,
)
from losslab.losses.adversarial import *  # noqa: F403
from losslab.losses.classification import *  # noqa: F403
from losslab.losses.composite import *  # noqa: F403
from losslab.losses.distribution import *  # noqa: F403
from losslab.losses.regression import *  # noqa: F403
from losslab.losses.regularizers import *  # noqa: F403
from losslab.losses.segmentation import *  # noqa: F403
from losslab.losses.similarity import *  # noqa: F403
from losslab.losses.weights import *  # noqa: F403

__all__ = [
    "ClassAxisLoss",
    "Domain",
    "ElementwiseLoss",
    "Loss",
    "LossInfo",
    "Param",
    "PointwiseLoss",
    "Terms",
    "aliases",
    "get",
    "names",
    "register",
    "register_alias",
    *adversarial.__all__,
    *classification.__all__,
    *composite.__all__,
    *distribution.__all__,
    *regression.__all__,
    *regularizers.__all__,
    *segmentation.__all__,
    *similarity.__all__,
    *weights.__all__,
]


def _alias_attributes() -> None:
    """``ll.losses.bce`` and friends: every alias is also an attribute (``get`` resolves them too)."""
    namespace = globals()
    for alias in aliases():
        namespace.setdefault(alias, get(alias))


# PyTorch's and Keras' names, once every loss is registered.
from losslab.losses import framework_aliases  # noqa: E402, F401

_alias_attributes()
