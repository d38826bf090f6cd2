"""Benchmark of the project against plain pandas and DuckDB baselines (see benchmarks/README.md)."""
