"""Harness: a private JACK server and virtual players, shared by the demo, benchmarks and tests."""
