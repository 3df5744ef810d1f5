"""Loss landscapes: test functions, surfaces, directions, Hessians and critical points."""

from losslab.landscape import directions, functions, hessian, rates, slices, spectrum
from losslab.landscape.directions import (
    hessian_directions,
    interpolation,
    orthogonalize,
    pca_directions,
    plane,
    random_direction,
)
from losslab.landscape.hessian import hessian_eigs, hessian_matrix, hessian_trace, hvp
from losslab.landscape.rates import default_learning_rate
from losslab.landscape.slices import Slice, model_surface, slice_1d, slice_2d, slice_metrics
from losslab.landscape.spectrum import SpectralDensity, eigenvalue_ratio_map, spectral_density

__all__ = [
    "Slice",
    "SpectralDensity",
    "default_learning_rate",
    "directions",
    "eigenvalue_ratio_map",
    "functions",
    "hessian",
    "hessian_directions",
    "hessian_eigs",
    "hessian_matrix",
    "hessian_trace",
    "hvp",
    "interpolation",
    "model_surface",
    "orthogonalize",
    "pca_directions",
    "plane",
    "random_direction",
    "rates",
    "slice_1d",
    "slice_2d",
    "slice_metrics",
    "slices",
    "spectral_density",
    "spectrum",
]
