"""Which loss and optimizer to pick: from a task description or measured from data.

:func:`recommend` applies the curriculum's rules (the decision tree of seed 002 §8.1, the selection
guide of seed 001 §8.5, the cheat-sheet of seed 000) to a described task; :func:`from_data`
measures the targets first (outliers, tail heaviness, skew, class balance, ambiguous labels) and
can check the ranking on the data with a seeded k-fold comparison (``verify=True``). Every reason
names its rule or statistic.

>>> import losslab as ll
>>> advice = ll.advise.recommend(task="binary", imbalance=0.05)
>>> [(c.loss, c.label) for c in advice.ranked[:2]]
[('binary_focal', 'focal loss'), ('binary_cross_entropy', 'weighted BCE')]
>>> print(advice.ranked[0].reasons[0])
minority share 0.05: 'Imbalanced data: Weighted BCE or Focal loss' [001 §8.5 selection guide]
"""

from losslab.advise._types import Advice, Candidate, OptimizerChoice, Reason, ScheduleChoice
from losslab.advise.data import from_data, profile
from losslab.advise.rules import ADVISED_TASKS, recommend
from losslab.advise.verify import verify

__all__ = [
    "ADVISED_TASKS",
    "Advice",
    "Candidate",
    "OptimizerChoice",
    "Reason",
    "ScheduleChoice",
    "from_data",
    "profile",
    "recommend",
    "verify",
]
