"""Benchmarks and the eval harness."""
