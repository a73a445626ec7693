"""Aisle's benchmarks: ``python -m bench`` prints one row per registered bench."""

__all__: list[str] = []
