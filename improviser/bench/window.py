"""Carried state against a fresh N-note window: bits/note on held-out pieces, and latency.

The live engine carries the LSTM state from the first note on; the notebook predicted
each note from the last N notes alone. :func:`compare_windows` scores both on the
held-out pieces under DATA (the files the model did not train or validate on), note by
note, as :func:`improviser.training.evaluate.evaluate` scores the model: each piece from a zero
state, each note on the distribution predicted before it.

For the first N notes of a piece the two are the same computation, so the figures are
given for all notes and for the notes beyond the window (``beyond_window``), where they
can differ. ``every=k`` modes re-prime from the window every k notes and carry the state
between.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from improviser.bench.stats import summarize
from improviser.config import DataConfig
from improviser.errors import ModelError
from improviser.inference import NumpyEngine, StepModel, WindowEngine, read_metadata
from improviser.music.encoding import Token
from improviser.training.evaluate import Scores, held_out

__all__ = ["compare_windows"]


def _score(engine: StepModel, pieces: Sequence[Any], window: int) -> dict[str, Any]:
    every_note, beyond, fields = Scores(), Scores(), Scores()
    times: list[float] = []
    clock = time.perf_counter_ns
    for piece in pieces:
        engine.reset()
        t = piece.tokens
        for i in range(len(t) - 1):
            t0 = clock()
            dist = engine.step(Token(*(int(v) for v in t[i])))
            times.append((clock() - t0) / 1e6)
            target = int(t[i + 1][0])
            every_note.add(dist.pitch, target)
            if i >= window:
                beyond.add(dist.pitch, target)
            for j, name in enumerate(("ioi", "duration", "velocity"), start=1):
                fields.add(dist.field(name), int(t[i + 1][j]))
    out: dict[str, Any] = {
        "bits_per_note": every_note.summary()["bits_per_note"],
        "accuracy": every_note.summary()["accuracy"],
        "rhythm_velocity_bits_per_note": fields.bits / max(every_note.count, 1),
        "notes": every_note.count,
        "latency": summarize(times),
    }
    if beyond.count:
        out["beyond_window"] = {**beyond.summary(), "notes": beyond.count}
    return out


def compare_windows(
    model_path: str | Path,
    data: Sequence[str | Path],
    window: int = 30,
    every: Sequence[int] = (1,),
) -> dict[str, Any]:
    """Score carried state and each windowed mode on the held-out pieces under ``data``."""
    model_path = Path(model_path)
    meta = read_metadata(model_path)
    cfg = DataConfig.model_validate(meta.get("config", {}).get("data", {}))
    held = held_out(data, meta, cfg)
    if not held.pieces:
        raise ModelError(
            f"no held-out piece to compare on ({held.excluded} files were in the model's "
            "training or validation split)"
        )
    modes: dict[str, StepModel] = {"carried": NumpyEngine.from_file(model_path)}
    for k in every:
        label = f"window {window}" + (f" every {k}" if k > 1 else "")
        modes[label] = WindowEngine(NumpyEngine.from_file(model_path), window=window, every=k)
    result: dict[str, Any] = {
        "model": str(model_path),
        "files": len(held.pieces),
        "excluded_files": held.excluded,
        "window": window,
        "trained_seq_len": cfg.seq_len,
        "modes": {name: _score(engine, held.pieces, window) for name, engine in modes.items()},
    }
    carried = result["modes"]["carried"]
    for mode in result["modes"].values():
        mode["bits_vs_carried"] = mode["bits_per_note"] - carried["bits_per_note"]
    result["loadavg_1min"] = os.getloadavg()[0]
    result["cpu_count"] = os.cpu_count()
    return result
