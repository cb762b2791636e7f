"""Benchmarks behind ``improviser bench``: each prints a table or JSON with p50/p99."""
