"""Loss landscapes: test functions, surfaces, directions, Hessians and critical points."""

from losslab.landscape import functions

__all__ = ["functions"]
