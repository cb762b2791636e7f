"""End-to-end latency through JACK: the same code as ``improviser bench e2e``.

Usage: python benchmarks/e2e.py [--notes 500] [--model M | --untrained] [--json] ...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from improviser.bench.cli import bench_app

if __name__ == "__main__":
    bench_app(["e2e", *sys.argv[1:]], prog_name="benchmarks/e2e.py")
