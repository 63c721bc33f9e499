"""Benchmarks (not tests): `make bench` runs bench/run.py and rewrites docs/benchmarks.md.

run.py is the driver (arguments, `--only`, the report); each scenario is a module of bench/scenarios/
registered in its SCENARIOS, sharing the database, seed and gunicorn of context.py and returning
result.py's Outcome; report.py renders templates/benchmarks.md with the results.
"""
