"""``improviser bench lean``: answers to two-hand calls, with and without the chord lean.

On the held-out chorales (the harmony model's test split: pieces no bundled model was
fitted to), the first ``call_beats`` beats are the call: its top line the melody, the
notes under it the other hand, and the chord under its last two-hand onset the chord
(:func:`~improviser.music.chord_lean.call_chord`). Each call is answered by the bundled
melody model on the one answer path (:mod:`improviser.inference.answer`, as ``generate``
and a live answer draw), for each ``chord_lean`` weight and sampler seed, and the answers
are measured in one run:

- ``strong``: answer notes on a strong beat that are tones of the call's chord;
- ``other``: the same for the notes off the strong beats (a lean must leave them be);
- ``in key``: answer notes in the scale of the call's key;
- the time of drawing one answer note (the draw, with its redraws; not the model's step).

``truth`` is the chorale's own soprano over the same number of beats after the call,
against the same chord, as a reference of what a real continuation does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from improviser.bench.harmony import held_out
from improviser.bench.stats import summarize
from improviser.config.generate import GenerateConfig
from improviser.inference.answer import first_onset
from improviser.inference.generate import prepare_answer
from improviser.inference.protocol import StepModel
from improviser.inference.select import cpu_engine_type
from improviser.music.chord_lean import call_chord, strong_beat
from improviser.music.chords import Chord
from improviser.music.key import estimate_key, scale_mask
from improviser.music.midi_read import read_midi
from improviser.music.notes import Note, skyline
from improviser.music.sampling import Sampler, SamplingParams
from improviser.paths import DEFAULT_MODEL, HARMONY_MODEL

__all__ = ["LEANS", "Call", "calls", "run_lean_bench"]

LEANS = (1.0, 3.0, 10.0)
"""The weights compared by default: none, the default, a strong one."""


@dataclass(frozen=True, slots=True)
class Call:
    """A two-hand call cut from a chorale, and what the chorale plays after it."""

    name: str
    melody: list[Note]
    chord: Chord
    end: float
    """The beat the call's last note ends on."""
    truth: list[Note]
    """The soprano's next notes, over as many beats as the call."""
    scale: np.ndarray[Any, np.dtype[np.bool_]]


def calls(paths: Sequence[Path], call_beats: float) -> list[Call]:
    """The calls of ``paths`` that have a chord under their melody."""
    out: list[Call] = []
    for path in paths:
        notes = read_midi(path).notes
        head = [n for n in notes if n.start_beats < call_beats]
        melody = skyline(head)
        chord = call_chord(melody, head)
        if chord is None or len(melody) < 4:
            continue
        end = max(n.end_beats for n in head)
        later = skyline([n for n in notes if call_beats <= n.start_beats < 2 * call_beats])
        key = estimate_key([n.pitch for n in melody], [n.duration_beats for n in melody])
        out.append(Call(path.stem, melody, chord, end, later, scale_mask(key)))
    return out


def _shares(
    notes: Sequence[Note], call: Call, beats_per_bar: int
) -> tuple[int, int, int, int, int]:
    """(strong notes, of them chord tones, other notes, of them chord tones, in key)."""
    strong = tones = other = other_tones = in_key = 0
    for n in notes:
        tone = n.pitch % 12 in call.chord.tones
        if strong_beat(n.start_beats, beats_per_bar):
            strong += 1
            tones += tone
        else:
            other += 1
            other_tones += tone
        in_key += bool(call.scale[n.pitch])
    return strong, tones, other, other_tones, in_key


def _answer(
    engine: StepModel, call: Call, cfg: GenerateConfig, lean: float, seed: int
) -> tuple[list[Note], list[float]]:
    """One answer on the one path, its notes in beats, and each note's draw in ms."""
    start = first_onset(cfg.answer_start, call.end, 0.0, cfg.beats_per_bar)
    call_beats = call.end - call.melody[0].start_beats
    context, draw = prepare_answer(
        engine, call.melody, cfg, start, call_beats, call.chord, lean=lean
    )
    sampler = Sampler(SamplingParams.from_config(cfg.sampling))
    rng = np.random.default_rng(seed)
    notes: list[Note] = []
    times: list[float] = []
    prediction = context.prediction
    while True:
        began = time.perf_counter()
        drawn = draw.next(context, sampler, rng, prediction)
        times.append((time.perf_counter() - began) * 1e3)
        if drawn is None:
            times.pop()
            break
        t = drawn.token
        notes.append(Note(t.pitch, 80, 0.0, 0.0, 0, 0, start + drawn.beats, 0.0))
        if drawn.last:
            break
        prediction = context.predict(t)
    return notes, times


def _row(counts: np.ndarray[Any, np.dtype[np.int64]]) -> dict[str, float]:
    strong, tones, other, other_tones, in_key = (int(c) for c in counts)
    notes = strong + other
    return {
        "notes": notes,
        "strong_notes": strong,
        "strong_chord_tones": tones / strong if strong else float("nan"),
        "other_chord_tones": other_tones / other if other else float("nan"),
        "in_key": in_key / notes if notes else float("nan"),
    }


def run_lean_bench(
    *,
    leans: Sequence[float] = LEANS,
    seeds: int = 4,
    call_beats: float = 8.0,
    model: Path = DEFAULT_MODEL,
    harmony_model: Path = HARMONY_MODEL,
    engine: str = "auto",
) -> dict[str, Any]:
    """Answer every held-out two-hand call with each weight and seed; the measures."""
    pieces = held_out(harmony_model)
    found = calls([Path(p.path) for p in pieces], call_beats)
    step = cpu_engine_type(engine).from_file(model)
    cfg = GenerateConfig(answer_length="beats", answer_beats=call_beats)
    result: dict[str, Any] = {
        "bench": "lean",
        "model": str(model),
        "engine": type(step).__name__,
        "pieces": len(pieces),
        "calls": len(found),
        "call_beats": call_beats,
        "seeds": seeds,
        "load": list(os.getloadavg()),
        "systems": {},
    }
    truth = np.zeros(5, dtype=np.int64)
    for call in found:
        truth += _shares(call.truth, call, cfg.beats_per_bar)
    for lean in leans:
        counts = np.zeros(5, dtype=np.int64)
        times: list[float] = []
        for call in found:
            for seed in range(seeds):
                notes, took = _answer(step, call, cfg, lean, seed)
                counts += _shares(notes, call, cfg.beats_per_bar)
                times += took
        row: dict[str, Any] = _row(counts)
        row["draw"] = summarize(times)
        result["systems"][f"chord_lean {lean:g}"] = row
    result["systems"]["truth"] = _row(truth)
    return result
