"""Per-note latency benchmark: the same code as ``improviser bench latency``.

Usage: python benchmarks/latency.py [--model M] [--notes 2000] [--json] [--profile] ...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from improviser.bench.cli import bench_app

if __name__ == "__main__":
    bench_app(["latency", *sys.argv[1:]], prog_name="benchmarks/latency.py")
