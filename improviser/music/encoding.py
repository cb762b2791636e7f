"""Notes to model tokens and back.

A note becomes four classes, each predicted by its own softmax:

- ``pitch``: the MIDI pitch, 0..127;
- ``ioi``: the inter-onset interval from the previous note, in beats, quantized to the
  nearest musical value of :data:`IOI_BEATS` (0 = struck together);
- ``duration``: how long it sounds, in beats, quantized to :data:`DURATION_BEATS`;
- ``velocity``: loudness in :data:`VELOCITY_BINS` equal bins.

Rests are what lies between a note's duration and the next note's IOI: a half-note IOI
after a quarter-note duration is a quarter rest. Values beyond the last bin (long
rests, long notes) are clamped to it. Quantization is to the nearest value on a log
scale, so 0.9 of a beat is a quarter note and 0.6 a triplet quarter.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from improviser.music.notes import Note

__all__ = [
    "DURATION_BEATS",
    "FIELDS",
    "IOI_BEATS",
    "PITCHES",
    "VELOCITY_BINS",
    "VOCAB_SIZES",
    "Distribution",
    "Token",
    "decode",
    "duration_class",
    "encode",
    "ioi_class",
    "velocity_class",
    "velocity_value",
]

PITCHES = 128
DURATION_BEATS: tuple[float, ...] = (
    1 / 8, 1 / 6, 1 / 4, 1 / 3, 3 / 8, 1 / 2, 2 / 3, 3 / 4,
    1.0, 4 / 3, 3 / 2, 2.0, 3.0, 4.0, 6.0, 8.0,
)  # fmt: skip
"""Note values from a 32nd to two whole notes, triplets and dotted values included."""
IOI_BEATS: tuple[float, ...] = (0.0, *DURATION_BEATS)
VELOCITY_BINS = 8
FIELDS = ("pitch", "ioi", "duration", "velocity")
VOCAB_SIZES: dict[str, int] = {
    "pitch": PITCHES,
    "ioi": len(IOI_BEATS),
    "duration": len(DURATION_BEATS),
    "velocity": VELOCITY_BINS,
}

_DUR_BOUNDS = [math.sqrt(a * b) for a, b in itertools.pairwise(DURATION_BEATS)]
"""Where the nearest class on a log scale changes: the geometric means of neighbours."""
_CHORD_BEATS = 1 / 16
"""IOIs shorter than this (a 64th) count as struck together."""


class Token(NamedTuple):
    """One note as the model sees it: four class indices."""

    pitch: int
    ioi: int
    duration: int
    velocity: int


def duration_class(beats: float) -> int:
    """The index in :data:`DURATION_BEATS` nearest (log scale) to ``beats``."""
    if beats <= DURATION_BEATS[0]:
        return 0
    # bisect_left: a value exactly between two classes takes the shorter, as argmin would.
    return bisect.bisect_left(_DUR_BOUNDS, beats)


def ioi_class(beats: float) -> int:
    """The index in :data:`IOI_BEATS` for an inter-onset interval of ``beats``."""
    if beats < _CHORD_BEATS:
        return 0
    return 1 + duration_class(beats)


def velocity_class(velocity: int) -> int:
    """The velocity bin of a MIDI velocity 1..127."""
    return min(max(int(velocity), 0), 127) * VELOCITY_BINS // 128


def velocity_value(index: int) -> int:
    """The MIDI velocity at the centre of bin ``index``."""
    width = 128 // VELOCITY_BINS
    return max(1, min(127, index * width + width // 2))


def encode(notes: Sequence[Note]) -> npt.NDArray[np.int32]:
    """Encode a monophonic note sequence as an ``(n, 4)`` array of class indices.

    Times are read from the notes' beat fields. The first note's IOI is 0.
    """
    out = np.zeros((len(notes), 4), dtype=np.int32)
    previous = None
    for i, note in enumerate(notes):
        ioi = 0.0 if previous is None else note.start_beats - previous
        out[i] = (
            note.pitch,
            ioi_class(ioi),
            duration_class(note.duration_beats),
            velocity_class(note.velocity),
        )
        previous = note.start_beats
    return out


def decode(
    tokens: Iterable[Sequence[int]] | npt.NDArray[np.int32],
    *,
    bpm: float = 120.0,
    start_beats: float = 0.0,
    channel: int = 0,
    track: int = 0,
) -> list[Note]:
    """Turn class indices back into notes, placed from ``start_beats`` at ``bpm``.

    The first token's IOI is applied too, so a continuation can be decoded right after
    the last note of its seed.
    """
    spb = 60.0 / bpm
    notes = []
    onset = start_beats
    for row in tokens:
        pitch, ioi, duration, velocity = (int(v) for v in row)
        onset += IOI_BEATS[ioi]
        length = DURATION_BEATS[duration]
        notes.append(
            Note(
                pitch=pitch,
                velocity=velocity_value(velocity),
                start=onset * spb,
                duration=length * spb,
                channel=channel,
                track=track,
                start_beats=onset,
                duration_beats=length,
            )
        )
    return notes


@dataclass(frozen=True, slots=True)
class Distribution:
    """The model's prediction of the next note: one probability vector per field."""

    pitch: npt.NDArray[np.float64]
    ioi: npt.NDArray[np.float64]
    duration: npt.NDArray[np.float64]
    velocity: npt.NDArray[np.float64]

    def field(self, name: str) -> npt.NDArray[np.float64]:
        """The probability vector of ``name`` (one of :data:`FIELDS`)."""
        value: npt.NDArray[np.float64] = getattr(self, name)
        return value

    def argmax(self) -> Token:
        """The most likely value of each field."""
        return Token(*(int(np.argmax(self.field(f))) for f in FIELDS))
