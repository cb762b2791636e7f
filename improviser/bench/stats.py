"""Summary statistics shared by the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["summarize"]


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean of timings in milliseconds."""
    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {
        "n": int(a.size),
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "mean_ms": float(a.mean()),
    }
