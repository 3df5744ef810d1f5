"""Loss landscapes: test functions, surfaces, directions, Hessians and critical points."""

from losslab.landscape import functions, rates
from losslab.landscape.rates import default_learning_rate

__all__ = ["default_learning_rate", "functions", "rates"]
