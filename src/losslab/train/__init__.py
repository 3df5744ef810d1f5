"""Training loops, batching, history, callbacks, convergence criteria and metrics."""

__all__: list[str] = []
