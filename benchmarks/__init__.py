"""Benchmarks, run from the repository root: ``python -m benchmarks.<name>``. Not part of the test suite."""
