"""losslab: the loss-function and optimization lab.

Every loss and optimizer of the deep-learning curriculum, exact to PyTorch, with analytic
gradients; the models and training loops to run the classic experiments; loss landscapes;
figures, a report and advice.

>>> import losslab as ll
>>> value, grad = ll.losses.mse.value_and_grad([2.5, 0.0], [3.0, 0.0])
>>> float(value), grad.tolist()
(0.125, [-0.5, 0.0])
"""

from losslab import advise, data, explain, landscape, losses, models, optim, train
from losslab._core.config import config, get_config
from losslab._core.tree import tree_ravel

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "advise",
    "config",
    "data",
    "explain",
    "get_config",
    "landscape",
    "losses",
    "models",
    "optim",
    "train",
    "tree_ravel",
]
