"""Step-by-step worked computations, rendered as text or markdown."""

__all__: list[str] = []
