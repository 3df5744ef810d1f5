"""Loss landscapes: test functions, surfaces, directions, Hessians and critical points."""

from losslab.landscape import directions, functions, hessian, rates, slices, spectrum
from losslab.landscape.critical import CriticalPointResult, classify_critical_point, find_critical_points
from losslab.landscape.directions import (
    hessian_directions,
    interpolation,
    orthogonalize,
    pca_directions,
    plane,
    random_direction,
)
from losslab.landscape.hessian import hessian_eigs, hessian_matrix, hessian_trace, hvp
from losslab.landscape.race import RaceEntry, RateMap, momentum_rate, momentum_rate_map, race
from losslab.landscape.rates import default_learning_rate
from losslab.landscape.slices import Slice, model_surface, slice_1d, slice_2d, slice_metrics
from losslab.landscape.spectrum import SpectralDensity, eigenvalue_ratio_map, spectral_density
from losslab.landscape.surface import Grid, grid, linear_regression_surface, logistic_surface

__all__ = [
    "CriticalPointResult",
    "Grid",
    "RaceEntry",
    "RateMap",
    "Slice",
    "SpectralDensity",
    "classify_critical_point",
    "default_learning_rate",
    "directions",
    "eigenvalue_ratio_map",
    "find_critical_points",
    "functions",
    "grid",
    "hessian",
    "hessian_directions",
    "hessian_eigs",
    "hessian_matrix",
    "hessian_trace",
    "hvp",
    "interpolation",
    "linear_regression_surface",
    "logistic_surface",
    "model_surface",
    "momentum_rate",
    "momentum_rate_map",
    "orthogonalize",
    "pca_directions",
    "plane",
    "race",
    "random_direction",
    "rates",
    "slice_1d",
    "slice_2d",
    "slice_metrics",
    "slices",
    "spectral_density",
    "spectrum",
]
