"""What a melody onset costs the harmonizer: three steps and three draws, timed.

:func:`voice_times` times :meth:`Harmonizer.voice
<improviser.inference.harmonizer.Harmonizer.voice>` (melody, bass and tenor tokens
stepped, bass, tenor and alto drawn) onset after onset, hot (back to back), with
:meth:`~improviser.inference.harmonizer.Harmonizer.settle` (the alto's step, the next
product ahead) untimed between, as the live session takes it in the pause after a note.
:func:`harmony_rows` gives these rows for each streaming CPU engine;
:func:`harmony_latency_summary` summarizes them for ``bench latency`` (the bundled harmony
model's, when it is there), with the FLOPs of an onset.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from improviser.bench.stats import summarize
from improviser.inference.harmonizer import Harmonizer
from improviser.inference.modelfile import load_weights
from improviser.inference.native_engine import NativeEngine, native_available
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.weights import LstmWeights
from improviser.music.encoding import ioi_class
from improviser.music.voicing import metre_class
from improviser.paths import HARMONY_MODEL

__all__ = [
    "STEPS_PER_ONSET",
    "harmony_latency_summary",
    "harmony_rows",
    "onset_flops",
    "onset_stream",
    "voice_times",
]

Onset = tuple[int, int, int]
STEPS_PER_ONSET = 3
"""Steps on an onset's hot path: the melody, bass and tenor tokens (the alto's waits)."""


def onset_stream(count: int, seed: int = 3) -> list[Onset]:
    """``count`` melody onsets (pitch, metre, IOI class): a hymn-like line in quarters and
    eighths, wandering by step and leap around G4."""
    rng = np.random.default_rng(seed)
    out: list[Onset] = []
    pitch, beat = 67, 0.0
    for i in range(count):
        step = float(rng.choice([1.0, 1.0, 1.0, 0.5]))
        pitch = int(np.clip(pitch + rng.choice([-2, -1, 1, 2, -3, 4]), 60, 79))
        out.append((pitch, metre_class(beat, 4.0), 0 if i == 0 else ioi_class(step)))
        beat += step
    return out


def voice_times(harmonizer: Harmonizer, onsets: Sequence[Onset], warmup: int = 20) -> list[float]:
    """Milliseconds of each ``voice()`` after ``warmup`` untimed ones (settled between)."""
    clock = time.perf_counter_ns
    times = []
    harmonizer.reset()
    for i, (pitch, metre, ioi) in enumerate(onsets):
        harmonizer.settle()
        t0 = clock()
        harmonizer.voice(pitch, metre, ioi)
        t1 = clock()
        if i >= warmup:
            times.append((t1 - t0) / 1e6)
    return times


def harmony_rows(
    model_path: str | Path, onsets: int = 2000, stream: Sequence[Onset] | None = None
) -> dict[str, list[float]]:
    """``harmony voice (3 steps + 3 draws), ENGINE``: per-onset times of each CPU engine."""
    weights = load_weights(model_path, "harmony")
    melody = list(stream) if stream is not None else onset_stream(onsets + 20)
    while len(melody) < onsets + 20:
        melody += melody
    engines: dict[str, NumpyEngine] = {"numpy": NumpyEngine(weights)}
    if native_available():
        engines["native"] = NativeEngine(weights)
    return {
        f"harmony voice (3 steps + 3 draws), {name}": voice_times(
            Harmonizer(engine, seed=0), melody[: onsets + 20]
        )
        for name, engine in engines.items()
    }


def onset_flops(weights: LstmWeights) -> int:
    """Floating-point operations of an onset's steps on the streaming engine (layer 0's
    input side tabulated: row additions, no product), the heads' softmax not counted."""
    flops = 0
    below = 0
    for i, r in enumerate(weights.recurrents):
        units = int(r.shape[0])
        gates = 4 * units
        if i == 0:
            flops += len(weights.embeddings) * gates  # one table row added per input
        else:
            flops += 2 * (below + 1) * gates  # [h_below; 1] against kernel and bias
        flops += 2 * units * gates + 4 * gates + 5 * units  # recurrent product, the cell
        below = units
    flops += 2 * (below + 1) * sum(weights.output_sizes())
    return STEPS_PER_ONSET * flops


def harmony_latency_summary(
    notes: int, model_path: str | Path = HARMONY_MODEL
) -> dict[str, dict[str, float]]:
    """The harmony rows of ``bench latency``, summarized (none without the model)."""
    if not Path(model_path).with_suffix(".npz").exists():
        return {}
    flops = onset_flops(load_weights(model_path, "harmony"))
    out = {}
    for name, times in harmony_rows(model_path, notes).items():
        s = summarize(times)
        s["gflops"] = flops / (s["p50_ms"] / 1000) / 1e9
        out[name] = s
    return out
