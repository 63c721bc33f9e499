"""Reliability run: load with faults (`make reliability`); see run.py."""
