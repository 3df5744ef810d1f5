"""Training loops, batching, history, callbacks, convergence criteria and metrics.

>>> import losslab as ll
>>> X, y = ll.data.outliers()
>>> history = ll.train.fit(ll.models.Linear(1), X, y, loss="huber", loss_params={"delta": 2.0},
...                        optimizer=ll.optim.chain(ll.optim.scale(-0.02)), epochs=3, seed=0)
>>> history.n_epochs, history.n_steps
(3, 3)
"""

from losslab.train import curriculum, metrics, regularization, weighting
from losslab.train.callbacks import (
    Callback,
    EarlyStopping,
    GradientNormThreshold,
    LossChangeThreshold,
    TrainingRun,
    ValidationPlateau,
)
from losslab.train.gan import GAN_FAMILIES, GanHistory, fit_gan
from losslab.train.history import History
from losslab.train.loop import fit, learning_rate_of
from losslab.train.multitask import MultiTask, multitask
from losslab.train.race import RaceEntry, RaceResults, race
from losslab.train.recipes import MODEL_KINDS, class_report, default_loss, evaluate, make_model

__all__ = [
    "GAN_FAMILIES",
    "MODEL_KINDS",
    "Callback",
    "EarlyStopping",
    "GanHistory",
    "GradientNormThreshold",
    "History",
    "LossChangeThreshold",
    "MultiTask",
    "RaceEntry",
    "RaceResults",
    "TrainingRun",
    "ValidationPlateau",
    "class_report",
    "curriculum",
    "default_loss",
    "evaluate",
    "fit",
    "fit_gan",
    "learning_rate_of",
    "make_model",
    "metrics",
    "multitask",
    "race",
    "regularization",
    "weighting",
]
