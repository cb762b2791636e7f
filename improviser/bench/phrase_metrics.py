"""How musical an answer is, measured against the call it answers.

Every measure compares one answer (a list of :class:`~improviser.music.notes.Note`, times
in beats) with its call; :func:`answer_metrics` returns them all for one pair. Shares
are in 0..1; ``None`` where a measure has nothing to count (an answer of one note has no
intervals).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

import numpy as np

from improviser.music.key import Key, estimate_key
from improviser.music.notes import Note

__all__ = [
    "GRID_TOLERANCE_BEATS",
    "LONG_BEATS",
    "METRICS",
    "MOTIF_NOTES",
    "answer_metrics",
    "call_key",
    "degenerate",
    "grid_share",
    "interval_shapes",
    "key_share",
    "leap_share",
    "long_note_share",
    "motif_reuse",
    "note_value_drift",
    "register_distance",
    "replay",
    "rest_share",
    "transposed_replay",
]

LONG_BEATS = 1.5
"""A gap (rest) or a duration at least this long, in beats, is a rest / a long note."""
LEAP_SEMITONES = 7
"""An interval wider than this (a fifth) is a leap."""
MOTIF_NOTES = 4
"""Motifs are shapes of this many notes (their intervals, at any transposition)."""
GRID_TOLERANCE_BEATS = 1 / 48
"""An onset this close to a grid line is on it."""
REPLAY_NOTES = 8
"""An answer that plays this many notes of the call in order replays it."""
DRIFT_FACTOR = 2.0
"""An answer whose median IOI is this many times the call's (or 1/that) has drifted."""

METRICS = (
    "key",
    "grid",
    "drift",
    "rests",
    "long_notes",
    "motif_reuse",
    "replay",
    "transposed_replay",
    "register",
    "leaps",
    "degenerate",
)
"""The measures of :func:`answer_metrics`, in table order."""


def call_key(call: Sequence[Note]) -> Key:
    """The call's key, its notes weighed by their durations in beats."""
    return estimate_key([n.pitch for n in call], [n.duration_beats for n in call])


def key_share(answer: Sequence[Note], key: Key) -> float | None:
    """Share of the answer's notes inside ``key``'s scale."""
    if not answer:
        return None
    return sum(key.contains(n.pitch) for n in answer) / len(answer)


def _subdivisions(call: Sequence[Note]) -> tuple[int, ...]:
    """The call's grid: 16ths, and triplet eighths where the call uses them."""
    uses_triplets = any(_on_grid(n.start_beats, 3) and not _on_grid(n.start_beats, 4) for n in call)
    return (4, 3) if uses_triplets else (4,)


def _on_grid(beats: float, per_beat: int) -> bool:
    x = beats * per_beat
    return abs(x - round(x)) * (1.0 / per_beat) <= GRID_TOLERANCE_BEATS


def grid_share(answer: Sequence[Note], call: Sequence[Note]) -> float | None:
    """Share of the answer's onsets on the call's 16th (or triplet) grid.

    Onsets are counted in beats from the call's first note, which is taken to be on a
    beat (the encoding keeps no bar position).
    """
    if not answer or not call:
        return None
    origin = call[0].start_beats
    grid = _subdivisions(call)
    on = sum(any(_on_grid(n.start_beats - origin, g) for g in grid) for n in answer)
    return on / len(answer)


def _median_ioi(notes: Sequence[Note]) -> float | None:
    iois = [b.start_beats - a.start_beats for a, b in itertools.pairwise(notes)]
    iois = [i for i in iois if i > 0]
    return statistics.median(iois) if iois else None


def note_value_drift(answer: Sequence[Note], call: Sequence[Note]) -> float | None:
    """1.0 if the answer's median IOI is off from the call's by a factor of 2 or more."""
    a, c = _median_ioi(answer), _median_ioi(call)
    if a is None or c is None:
        return None
    ratio = a / c
    return float(ratio >= DRIFT_FACTOR or ratio <= 1.0 / DRIFT_FACTOR)


def rest_share(answer: Sequence[Note]) -> float | None:
    """Share of the gaps between consecutive notes that are rests of >= 1.5 beats."""
    gaps = [b.start_beats - a.end_beats for a, b in itertools.pairwise(answer)]
    if not gaps:
        return None
    return sum(g >= LONG_BEATS - 1e-9 for g in gaps) / len(gaps)


def long_note_share(answer: Sequence[Note]) -> float | None:
    """Share of the notes lasting >= 1.5 beats."""
    if not answer:
        return None
    return sum(n.duration_beats >= LONG_BEATS - 1e-9 for n in answer) / len(answer)


def interval_shapes(notes: Sequence[Note], size: int = MOTIF_NOTES) -> list[tuple[int, ...]]:
    """The interval sequence of every run of ``size`` consecutive notes."""
    steps = np.diff([n.pitch for n in notes]).tolist()
    return [tuple(steps[i : i + size - 1]) for i in range(len(steps) - size + 2)]


def motif_reuse(answer: Sequence[Note], call: Sequence[Note]) -> float | None:
    """Share of the answer's 4-note shapes that occur in the call, at any transposition."""
    shapes = interval_shapes(answer)
    if not shapes:
        return None
    known = set(interval_shapes(call))
    return sum(s in known for s in shapes) / len(shapes)


def _runs(notes: Sequence[Note], size: int) -> list[tuple[int, ...]]:
    pitches = [n.pitch for n in notes]
    return [tuple(pitches[i : i + size]) for i in range(len(pitches) - size + 1)]


def replay(answer: Sequence[Note], call: Sequence[Note], size: int = REPLAY_NOTES) -> float:
    """1.0 if the answer plays ``size`` consecutive notes of the call, in order, at the
    call's pitches (an answer shorter than that: 0.0)."""
    known = set(_runs(call, size))
    return float(any(run in known for run in _runs(answer, size)))


def transposed_replay(
    answer: Sequence[Note], call: Sequence[Note], size: int = REPLAY_NOTES
) -> float:
    """1.0 if the answer plays ``size`` consecutive notes of the call, in order, moved to
    another pitch (the same intervals; counted apart from :func:`replay`)."""
    exact = set(_runs(call, size))
    shapes = set(interval_shapes(call, size))
    runs = _runs(answer, size)
    return float(
        any(
            run not in exact and shape in shapes
            for run, shape in zip(runs, interval_shapes(answer, size), strict=True)
        )
    )


def register_distance(answer: Sequence[Note], call: Sequence[Note]) -> float | None:
    """|mean pitch of the answer - mean pitch of the call|, in semitones."""
    if not answer or not call:
        return None
    return abs(statistics.fmean(n.pitch for n in answer) - statistics.fmean(n.pitch for n in call))


def leap_share(answer: Sequence[Note]) -> float | None:
    """Share of the answer's intervals wider than a fifth."""
    steps = np.abs(np.diff([n.pitch for n in answer]))
    if steps.size == 0:
        return None
    return float(np.mean(steps > LEAP_SEMITONES))


def degenerate(answer: Sequence[Note]) -> float | None:
    """1.0 if the answer has <= 2 distinct pitches or one pitch is more than half its notes."""
    if not answer:
        return None
    pitches = [n.pitch for n in answer]
    most = max(pitches.count(p) for p in set(pitches))
    return float(len(set(pitches)) <= 2 or most > len(pitches) / 2)


def answer_metrics(
    answer: Sequence[Note], call: Sequence[Note], key: Key | None = None
) -> dict[str, float | None]:
    """Every measure of :data:`METRICS` for one answer to one call."""
    key = key or call_key(call)
    return {
        "key": key_share(answer, key),
        "grid": grid_share(answer, call),
        "drift": note_value_drift(answer, call),
        "rests": rest_share(answer),
        "long_notes": long_note_share(answer),
        "motif_reuse": motif_reuse(answer, call),
        "replay": replay(answer, call),
        "transposed_replay": transposed_replay(answer, call),
        "register": register_distance(answer, call),
        "leaps": leap_share(answer),
        "degenerate": degenerate(answer),
    }
