"""Leaning an answer on the player's chord: on the strong beats, its chord tones.

A call played with two hands has a harmony; an answer that lands on the strong beats of
the bar (the downbeat, and the middle of an even bar: beats 1 and 3 in 4/4) on a tone of
the call's last chord sounds as if it heard the left hand, and one that passes through
other notes between them still sounds free. :class:`ChordLean` says, for a note drawn at
a position in the bar, whether its pitch is kept: a chord tone always is, another pitch
with probability ``1 / weight``. A note refused is drawn again (its pitch only, from the
same prediction, up to :data:`MAX_TRIES` times; the last draw stands), which is
rejection sampling of the pitch distribution weighed by ``weight`` on the chord tones,
so on a strong beat a chord tone is ``weight`` times as likely as the model made it,
relative to the other pitches, and nothing else about the note changes.

The chord comes from the notes under the call's melody where its last two-hand onset
sounded (:func:`chord_under`): live from the keys held, offline from the seed's notes
(:func:`call_chord`), by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from improviser.music.chords import Chord, estimate_set
from improviser.music.notes import DRUM_CHANNEL, Note
from improviser.music.voicing import ONSET_TOLERANCE_BEATS

__all__ = [
    "MAX_TRIES",
    "STRONG_TOLERANCE",
    "ChordLean",
    "call_chord",
    "chord_under",
    "strong_beat",
]

MAX_TRIES = 8
"""Pitches drawn at most for one strong-beat note (the first included)."""
STRONG_TOLERANCE = 1 / 16
"""A position within this many beats of a strong beat is on it (as the metre classes)."""


def strong_beat(beat_in_bar: float, beats_per_bar: int) -> bool:
    """Whether ``beat_in_bar`` (beats from a downbeat; wrapped into the bar) is a strong
    beat: the downbeat, or the middle of a bar of 4, 6, 8... beats."""
    if beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be at least 1, got {beats_per_bar}")
    pos = beat_in_bar % beats_per_bar
    if pos < STRONG_TOLERANCE or beats_per_bar - pos < STRONG_TOLERANCE:
        return True
    half = beats_per_bar / 2
    return beats_per_bar >= 4 and beats_per_bar % 2 == 0 and abs(pos - half) < STRONG_TOLERANCE


def chord_under(melody: int, sounding: Iterable[int]) -> Chord | None:
    """The chord of ``sounding`` (MIDI pitches, the melody note's among them or not) when
    at least one of them lies under ``melody`` (the other hand); ``None`` otherwise, or
    when fewer than two pitch classes sound."""
    pitches = set(sounding)
    pitches.add(melody)
    if min(pitches) >= melody:
        return None
    pcs = frozenset(p % 12 for p in pitches)
    if len(pcs) < 2:
        return None
    return estimate_set(pcs, min(pitches) % 12)


def call_chord(melody: Sequence[Note], notes: Sequence[Note]) -> Chord | None:
    """The chord under the last onset of ``melody`` that had a note of ``notes`` sounding
    under it (struck by then, within :data:`ONSET_TOLERANCE_BEATS`, and not yet ended;
    drums left out): what a live session hears as the keys held at the call's last
    two-hand note. ``None`` for a melody alone."""
    others = [n for n in notes if n.channel != DRUM_CHANNEL]
    if not melody or not others:
        return None
    starts = np.array([n.start_beats for n in others])
    ends = np.array([n.end_beats for n in others])
    pitches = np.array([n.pitch for n in others])
    for m in reversed(melody):
        cut = m.start_beats + ONSET_TOLERANCE_BEATS
        sounding = pitches[(starts <= cut) & (ends > cut)]
        if sounding.size and int(sounding.min()) < m.pitch:
            return chord_under(m.pitch, (int(p) for p in sounding))
    return None


@dataclass(frozen=True, slots=True)
class ChordLean:
    """Weigh the tones of ``chord`` by ``weight`` on the strong beats of an answer whose
    first note falls ``phase`` beats after a downbeat, in bars of ``beats_per_bar``."""

    chord: Chord
    weight: float
    phase: float = 0.0
    beats_per_bar: int = 4

    def __post_init__(self) -> None:
        if self.weight < 1.0:
            raise ValueError(f"a chord lean weighs chord tones by 1 or more, not {self.weight}")

    @classmethod
    def of(
        cls, chord: Chord | None, weight: float, phase: float, beats_per_bar: int
    ) -> ChordLean | None:
        """The lean, or ``None`` where it would change nothing (no chord, weight 1)."""
        if chord is None or weight <= 1.0:
            return None
        return cls(chord, weight, phase % beats_per_bar, beats_per_bar)

    def strong(self, beats: float) -> bool:
        """Whether a note ``beats`` after the answer's first falls on a strong beat."""
        return strong_beat(self.phase + beats, self.beats_per_bar)

    def pitch(self, pitch: int, redraw: Callable[[], int], rng: np.random.Generator) -> int:
        """The pitch of a strong-beat note first drawn as ``pitch``: kept (:meth:`keeps`)
        or drawn again by ``redraw``, at most :data:`MAX_TRIES` draws in all."""
        for _ in range(MAX_TRIES - 1):
            if self.keeps(pitch, rng):
                break
            pitch = redraw()
        return pitch

    def keeps(self, pitch: int, rng: np.random.Generator) -> bool:
        """Whether a strong-beat note of ``pitch`` stands: a chord tone always (nothing is
        drawn from ``rng``), another pitch with probability ``1 / weight`` (one uniform)."""
        return pitch % 12 in self.chord.tones or rng.random() * self.weight < 1.0
