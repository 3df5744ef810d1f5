"""The curriculum's synthetic datasets and CSV loading, seeded."""

__all__: list[str] = []
