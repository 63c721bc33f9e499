"""Benchmarks (not tests): `make bench` runs bench/run.py and rewrites docs/benchmarks.md."""
