"""``improviser bench harmony``: the harmonizer against the truth and two baselines.

On the held-out chorales (the model's own test split, as its metadata lists it; or the
files under ``--data`` less every file and tune the model trained or validated on), each
melody is voiced four ways in one run:

- ``model``: the :class:`~improviser.inference.harmonizer.Harmonizer`, onset by onset,
  causally, reset and seeded per piece; ``model, parallels allowed``: the same without
  its rule against parallel fifths and octaves (the network's own voice leading);
- ``truth``: the chorale's own alto, tenor and bass at each soprano onset;
- ``drone`` and ``rule-based``: :mod:`improviser.bench.harmony_baselines`, given the key
  of the whole melody (:func:`improviser.music.key.estimate_key`);

and each is judged by :func:`improviser.bench.harmony_metrics.measure`. ``model / truth``
is the model's measure over the truth's. The latency rows time one melody onset (three
steps and three draws) on each CPU engine, over the held-out melodies played back to back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from improviser.bench.harmony_baselines import drone, rule_based
from improviser.bench.harmony_latency import harmony_rows
from improviser.bench.harmony_metrics import MEASURES, VoicedPiece, measure
from improviser.bench.stats import summarize
from improviser.errors import ModelError
from improviser.inference.harmonizer import Harmonizer, HarmonyParams
from improviser.inference.modelfile import read_metadata
from improviser.music.key import estimate_key
from improviser.paths import DATA
from improviser.training.harmony_corpus import HarmonyPiece, load_harmony_corpus, read_piece
from improviser.training.harmony_evaluate import harmony_config_of

__all__ = ["CHORALES", "SYSTEMS", "held_out", "run_harmony_bench", "voiced"]

CHORALES = DATA / "samples" / "chorales"
SYSTEMS = ("model", "model, parallels allowed", "truth", "drone", "rule-based")


def _resolve(name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or path.exists():
        return path
    return DATA / path


def held_out(model_path: Path, data: Sequence[Path] | None = None) -> list[HarmonyPiece]:
    """The pieces the model never saw: its metadata's ``corpus.test_files``, or the
    pieces under ``data`` that are neither its training or validation files nor one of
    their tunes."""
    meta = read_metadata(model_path)
    listed = meta.get("corpus", {})
    if data is None and listed.get("test_files"):
        return [read_piece(_resolve(str(f))) for f in listed["test_files"]]
    cfg = harmony_config_of(meta, model_path)
    corpus = load_harmony_corpus(data or [CHORALES], cfg)
    seen = {
        str(_resolve(str(p)).resolve())
        for p in listed.get("train_files", []) + listed.get("val_files", [])
    }
    keys = set(listed.get("train_keys", []))
    return [
        p for p in corpus.pieces if str(Path(p.path).resolve()) not in seen and p.key not in keys
    ]


def voiced(piece: HarmonyPiece) -> VoicedPiece:
    """The chorale's melody under its own voices, with the key of its melody."""
    events = piece.events
    melody = tuple(e.melody for e in events)
    return VoicedPiece(
        melody,
        tuple(e.start_beats for e in events),
        tuple(e.metre for e in events),
        tuple(e.voices for e in events),
        estimate_key(melody),
    )


def _model_voices(harmonizer: Harmonizer, piece: HarmonyPiece, seed: int) -> list[Any]:
    harmonizer.reset(seed)
    out = []
    for event in piece.events:
        out.append(harmonizer.voice(event.melody, event.metre, event.ioi))
        harmonizer.settle()
    return out


def run_harmony_bench(
    model_path: str | Path,
    *,
    data: Sequence[Path] | None = None,
    seed: int = 0,
    params: HarmonyParams | None = None,
    engine: str = "auto",
    latency_onsets: int = 2000,
) -> dict[str, Any]:
    """Every system's measures and the latency rows, as one JSON-ready dict."""
    model_path = Path(model_path)
    params = params or HarmonyParams()
    pieces = held_out(model_path, data)
    if not pieces:
        raise ModelError(f"{model_path}: no held-out piece to measure on")
    truth = [voiced(p) for p in pieces]
    harmonizer = Harmonizer.from_file(model_path, engine, params, seed)
    drawn = [_model_voices(harmonizer, p, seed) for p in pieces]
    loose = Harmonizer(harmonizer.engine, replace(params, avoid_parallels=False), seed)
    free = [_model_voices(loose, p, seed) for p in pieces]
    systems = {
        "model": [t.with_voices(v) for t, v in zip(truth, drawn, strict=True)],
        "model, parallels allowed": [t.with_voices(v) for t, v in zip(truth, free, strict=True)],
        "truth": truth,
        "drone": [t.with_voices(drone(t.melody, t.key)) for t in truth],
        "rule-based": [t.with_voices(rule_based(t.melody, t.key)) for t in truth],
    }
    measures = {name: measure(voiced_pieces) for name, voiced_pieces in systems.items()}
    model, real = measures["model"], measures["truth"]
    result: dict[str, Any] = {
        "model": str(model_path),
        "engine": f"{harmonizer.engine.name} engine",
        "files": len(pieces),
        "onsets": sum(len(p.events) for p in pieces),
        "seed": seed,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "measures": list(MEASURES),
        "systems": measures,
        "model_over_truth": {m: model[m] / real[m] if real[m] else None for m in MEASURES},
    }
    if latency_onsets > 0:
        stream = [(e.melody, e.metre, e.ioi) for p in pieces for e in p.events]
        rows = harmony_rows(model_path, latency_onsets, stream)
        result["latency"] = {name: summarize(times) for name, times in rows.items()}
        result["cpu_count"] = os.cpu_count()
        result["loadavg_1min"] = os.getloadavg()[0]
    return result
