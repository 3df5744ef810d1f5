"""Figures: data or losslab objects in, a :class:`matplotlib.figure.Figure` out.

Every function builds its figure with matplotlib's object-oriented API (no pyplot state, no
backend switch), so it is safe headless and from several threads, or draws into a given
``ax=``. Colours are stable per loss and per optimizer across figures (:mod:`losslab.viz.style`);
:func:`save` writes PNG, SVG or PDF. matplotlib is imported only when a figure is drawn.

>>> import losslab as ll
>>> fig = ll.viz.loss_curves(["mse", "mae", ("huber", {"delta": 1.5})], n=41)
>>> [line.get_label() for line in fig.axes[0].lines]
['mse', 'mae', 'huber (δ=1.5)']
"""

from losslab.viz import style
from losslab.viz.classification import confusion_matrix, pr_curve
from losslab.viz.landscape import critical_points, eigenvalues, slice_1d, slice_2d, spectral_density
from losslab.viz.losses import focal_effect, loss_curves, loss_label
from losslab.viz.output import FORMATS, save
from losslab.viz.surfaces import Grid, animate_race, contour, convergence, grid_of, paths, surface_3d
from losslab.viz.training import (
    decision_boundary,
    fit_lines,
    schedule_label,
    schedules,
    training_curves,
    training_summary,
    trajectories,
)

__all__ = [
    "FORMATS",
    "Grid",
    "animate_race",
    "confusion_matrix",
    "contour",
    "convergence",
    "critical_points",
    "decision_boundary",
    "eigenvalues",
    "fit_lines",
    "focal_effect",
    "grid_of",
    "loss_curves",
    "loss_label",
    "paths",
    "pr_curve",
    "save",
    "schedule_label",
    "schedules",
    "slice_1d",
    "slice_2d",
    "spectral_density",
    "style",
    "surface_3d",
    "training_curves",
    "training_summary",
    "trajectories",
]
