"""Two looks inside the per-note cost: start-up in a fresh process, and the step by phase."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from improviser.inference import NumpyEngine
from improviser.inference.select import probe_tokens
from improviser.music.encoding import FIELDS
from improviser.music.sampling import Sampler, SamplingParams
from improviser.paths import ROOT

__all__ = ["LIVE_SAMPLING", "measure_startup", "profile_numpy_step"]

LIVE_SAMPLING = SamplingParams(top_p=0.95, min_pitch=21, max_pitch=108)
"""The sampling of the benchmarks' "+ sampling" rows (the piano's range, top-p 0.95)."""

_STARTUP_CODE = """
import json, sys, time
t0 = time.perf_counter()
from improviser.inference import make_engine
engine = make_engine(sys.argv[1], engine=sys.argv[2], device="cpu")
t1 = time.perf_counter()
engine.step((60, 1, 2, 3))
t2 = time.perf_counter()
status = dict(
    line.split(":", 1) for line in open("/proc/self/status") if line.startswith("Vm")
)
print(json.dumps({
    "engine_name": getattr(engine, "name", type(engine).__name__),
    "import_to_ready_s": t1 - t0,
    "first_step_ms": (t2 - t1) * 1000,
    "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
    "hwm_mb": int(status["VmHWM"].split()[0]) / 1024,
    "tensorflow_imported": "tensorflow" in sys.modules,
}))
"""


def measure_startup(model_path: str | Path, engine: str = "numpy") -> dict[str, Any]:
    """Start a fresh Python that imports improviser and makes ``engine``; time and size it.

    ``wall_s`` is from spawning the interpreter to its exit (interpreter start-up
    included); ``import_to_ready_s`` from its first line to the engine made; RSS and its
    high-water mark are read from ``/proc/self/status`` once the first note is stepped.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _STARTUP_CODE, str(model_path), engine],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=300,
    )
    wall = time.perf_counter() - t0
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["engine"] = engine
    return result


def profile_numpy_step(
    engine: NumpyEngine, notes: int = 2000, gap_s: tuple[float, float] | None = None
) -> dict[str, float]:
    """Median microseconds of each phase of :meth:`NumpyEngine.step_probs`, plus sampling.

    Re-runs the engine's step phase by phase with a clock read between phases (which adds
    ~0.1 µs each); the phases add up to about one step. ``gap_s``: a pause drawn from
    that range before each note, as a player's notes are spaced (cold caches).
    """
    gaps = np.random.default_rng(3)
    clock = time.perf_counter_ns
    sampler = Sampler(LIVE_SAMPLING)
    rng = np.random.default_rng(0)
    e = engine
    phases: dict[str, list[int]] = {}

    def mark(name: str, t: int) -> int:
        now = clock()
        phases.setdefault(name, []).append(now - t)
        return now

    engine.reset()
    for token in probe_tokens(notes, seed=2):
        if gap_s is not None:
            time.sleep(gaps.uniform(*gap_s))
        t = clock()
        z = e._z[0]
        np.dot(e._h[0], e._recurrent0, out=z)
        t = mark("layer 0 recurrent product", t)
        for i in range(len(FIELDS)):
            z += e._tables[i][token[i]]
        t = mark("layer 0 input (4 table rows)", t)
        e._cell(0, z)
        t = mark("layer 0 gates", t)
        for i, w in enumerate(e._stacked, start=1):
            z = e._z[i]
            np.dot(e._inputs[i - 1], w, out=z)
            t = mark(f"layer {i} stacked product", t)
            e._cell(i, z)
            if i < len(e.units) - 1:
                e._inputs[i][: e.units[i]] = e._h[i]
            t = mark(f"layer {i} gates", t)
        np.dot(e._top, e._head_kernel, out=e._logits)
        t = mark("heads product", t)
        ex = e._exp
        np.maximum.reduce(e._logits2d, axis=1, keepdims=True, out=e._rowmax)
        np.subtract(e._logits2d, e._rowmax, out=ex)
        np.exp(ex, out=ex)
        probs = np.divide(ex, np.add.reduce(ex, axis=1, keepdims=True), dtype=np.float64)
        t = mark("softmax", t)
        sampler.sample_padded(probs, rng)
        mark("sample (top-p, pitch range)", t)
    return {name: float(np.median(v)) / 1000 for name, v in phases.items()}
