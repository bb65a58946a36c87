"""Benchmarks: `make bench` runs each bench_*.py module and writes bench/results.md."""
