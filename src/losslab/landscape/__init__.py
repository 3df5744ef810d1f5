"""Loss landscapes: test functions, surfaces, directions, Hessians and critical points."""

from losslab.landscape import functions
from losslab.landscape.critical import CriticalPointResult, classify_critical_point, find_critical_points
from losslab.landscape.race import RaceEntry, RateMap, momentum_rate, momentum_rate_map, race
from losslab.landscape.surface import Grid, grid, linear_regression_surface, logistic_surface

__all__ = [
    "CriticalPointResult",
    "Grid",
    "RaceEntry",
    "RateMap",
    "classify_critical_point",
    "find_critical_points",
    "functions",
    "grid",
    "linear_regression_surface",
    "logistic_surface",
    "momentum_rate",
    "momentum_rate_map",
    "race",
]
