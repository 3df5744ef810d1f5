"""Loss landscapes: test functions, surfaces, directions, Hessians and critical points."""

__all__: list[str] = []
