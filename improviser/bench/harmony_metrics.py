"""What ``improviser bench harmony`` measures of lower voices under a melody.

A :class:`VoicedPiece` is a melody (one pitch per onset, its position in beats and its
metre class) and the ``(bass, tenor, alto)`` sounding at each onset (0 = silent), with
the piece's key. Each measure is a sum over onsets and a count to divide it by, so a set
of pieces is judged as one stream (:func:`measure`):

- ``note_in_chord``: melody notes that are tones of the chord the accompaniment sounds
  (ReaLchords' note-in-chord ratio), judged against the whole sonority: the pitch classes
  of the melody and the voices together fit one triad or seventh chord
  (:data:`TERTIAN`; C-G under E: C major, yes; C-G under D: no triad or seventh holds
  C, D and G). A suspension, a passing note or an onset with no voice sounding is not;
- ``dissonance_per_onset``: voices a minor second, major seventh or tritone (any octave)
  from the melody note, per onset;
- ``parallels_per_100_moves``: two parts (the melody and the three voices) a perfect fifth
  or an octave/unison apart (any octave) that both move the same way to the same interval
  again, per 100 voice moves (a voice sounding at two onsets in a row that changes pitch);
- ``motion``: mean distance in semitones a voice goes from one onset to the next (where it
  sounds at both; a held voice goes 0);
- ``crossings``: onsets where a voice is above the melody or above a higher voice;
- ``in_key``: the voices' notes whose pitch class is in the piece's key;
- ``on_beat``: the voices' attacks (a voice that starts sounding or changes pitch) on a
  beat (metre class 0 or 1);
- ``chords_per_8_beats``: distinct chords the accompaniment sounds (as ``estimate`` names
  its voices at an onset) in each stretch of 8 beats that holds an onset, averaged over
  those stretches (a drone: one).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from improviser.music.chords import QUALITIES, estimate
from improviser.music.key import Key

__all__ = [
    "DISSONANT",
    "MEASURES",
    "PERFECT",
    "TERTIAN",
    "VoicedPiece",
    "attacks_on_beat",
    "chords_per_window",
    "crossings",
    "dissonances",
    "in_key",
    "measure",
    "motion",
    "note_in_chord",
    "parallels",
]

DISSONANT = frozenset({1, 6, 11})
"""Interval classes heard as dissonant against the melody: m2 (m9), tritone, M7."""
PERFECT = (0, 7)
"""Interval classes of parallels: octave (unison) and fifth."""
TERTIAN = ("", "m", "dim", "aug", "7", "maj7", "m7", "m7b5", "dim7", "6", "m6")
"""The chord qualities (of :data:`improviser.music.chords.QUALITIES`) a melody note's
sonority must fit to count as in the chord: triads and sevenths, not sus chords."""
WINDOW_BEATS = 8.0
MEASURES = (
    "note_in_chord",
    "dissonance_per_onset",
    "parallels_per_100_moves",
    "motion",
    "crossings",
    "in_key",
    "on_beat",
    "chords_per_8_beats",
)
"""The measures of :func:`measure`, in table order."""

Voices = tuple[int, int, int]


@dataclass(frozen=True)
class VoicedPiece:
    """A melody and the lower voices at each of its onsets."""

    melody: tuple[int, ...]
    starts: tuple[float, ...]
    """Onsets in beats from the start of the piece."""
    metres: tuple[int, ...]
    voices: tuple[Voices, ...]
    key: Key

    def __post_init__(self) -> None:
        n = len(self.melody)
        if not len(self.starts) == len(self.metres) == len(self.voices) == n:
            raise ValueError("melody, starts, metres and voices must have one entry per onset")

    def with_voices(self, voices: Sequence[Sequence[int]]) -> VoicedPiece:
        """The same melody under other voices."""
        chosen = tuple((int(v[0]), int(v[1]), int(v[2])) for v in voices)
        return VoicedPiece(self.melody, self.starts, self.metres, chosen, self.key)


def _accompaniment(voices: Voices) -> list[int]:
    return [v for v in voices if v]


_CHORD_MASKS = frozenset(
    sum(1 << (root + i) % 12 for i in QUALITIES[q]) for q in TERTIAN for root in range(12)
)


def _fits_a_chord(pitches: Iterable[int]) -> bool:
    """Whether the pitch classes of ``pitches`` all belong to one tertian chord."""
    mask = 0
    for p in pitches:
        mask |= 1 << p % 12
    return any(mask & chord == mask for chord in _CHORD_MASKS)


def note_in_chord(piece: VoicedPiece) -> tuple[int, int]:
    """(melody notes that are tones of the accompaniment's chord, onsets)."""
    hits = 0
    for melody, voices in zip(piece.melody, piece.voices, strict=True):
        sounding = _accompaniment(voices)
        hits += bool(sounding) and _fits_a_chord([melody, *sounding])
    return hits, len(piece.melody)


def dissonances(piece: VoicedPiece) -> tuple[int, int]:
    """(voices dissonant with the melody, onsets)."""
    count = sum(
        1
        for melody, voices in zip(piece.melody, piece.voices, strict=True)
        for v in voices
        if v and abs(melody - v) % 12 in DISSONANT
    )
    return count, len(piece.melody)


def _parts(piece: VoicedPiece) -> list[tuple[int, ...]]:
    """Per part (melody, bass, tenor, alto): its pitch at each onset (0 = silent)."""
    return [piece.melody, *zip(*piece.voices, strict=True)] if piece.voices else [piece.melody]


def parallels(piece: VoicedPiece) -> tuple[int, int]:
    """(parallel fifths and octaves, voice moves)."""
    parts = _parts(piece)
    found = moves = 0
    for k in range(1, len(piece.melody)):
        for voice in parts[1:]:
            moves += bool(voice[k - 1] and voice[k] and voice[k] != voice[k - 1])
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                a0, a1, b0, b1 = parts[i][k - 1], parts[i][k], parts[j][k - 1], parts[j][k]
                if not (a0 and a1 and b0 and b1) or a0 == a1 or b0 == b1:
                    continue
                same_way = (a1 > a0) == (b1 > b0)
                before, after = abs(a0 - b0) % 12, abs(a1 - b1) % 12
                found += same_way and before == after and before in PERFECT
    return found, moves


def motion(piece: VoicedPiece) -> tuple[int, int]:
    """(semitones moved by the voices, transitions where a voice sounds at both onsets)."""
    total = count = 0
    for voice in _parts(piece)[1:]:
        for a, b in itertools.pairwise(voice):
            if a and b:
                total += abs(b - a)
                count += 1
    return total, count


def crossings(piece: VoicedPiece) -> tuple[int, int]:
    """(onsets with a voice above the melody or above a higher voice, onsets)."""
    count = 0
    for melody, voices in zip(piece.melody, piece.voices, strict=True):
        sounding = [v for v in voices if v] + [melody]
        count += any(a > b for a, b in itertools.pairwise(sounding))
    return count, len(piece.melody)


def in_key(piece: VoicedPiece) -> tuple[int, int]:
    """(voice notes in the key, voice notes), counted per onset where a voice sounds."""
    scale = piece.key.pitch_classes
    notes = [v for voices in piece.voices for v in voices if v]
    return sum(v % 12 in scale for v in notes), len(notes)


def attacks_on_beat(piece: VoicedPiece) -> tuple[int, int]:
    """(voice attacks on a beat, voice attacks)."""
    on = total = 0
    for voice in _parts(piece)[1:]:
        for k, pitch in enumerate(voice):
            if pitch and (k == 0 or voice[k - 1] != pitch):
                total += 1
                on += piece.metres[k] <= 1
    return on, total


def chords_per_window(piece: VoicedPiece, beats: float = WINDOW_BEATS) -> list[int]:
    """Distinct chord names of the accompaniment in each stretch of ``beats`` that holds
    an onset."""
    windows: dict[int, set[str]] = {}
    for start, voices in zip(piece.starts, piece.voices, strict=True):
        names = windows.setdefault(int(start // beats), set())
        chord = estimate(_accompaniment(voices))
        if chord is not None:
            names.add(chord.name)
    return [len(names) for names in windows.values()]


def _ratio(pairs: Iterable[tuple[int, int]], scale: float = 1.0) -> float:
    num = den = 0
    for a, b in pairs:
        num += a
        den += b
    return scale * num / den if den else 0.0


def measure(pieces: Sequence[VoicedPiece]) -> dict[str, float]:
    """Every measure of the module docstring over ``pieces`` taken as one stream."""
    windows = [n for p in pieces for n in chords_per_window(p)]
    return {
        "note_in_chord": _ratio(note_in_chord(p) for p in pieces),
        "dissonance_per_onset": _ratio(dissonances(p) for p in pieces),
        "parallels_per_100_moves": _ratio((parallels(p) for p in pieces), 100.0),
        "motion": _ratio(motion(p) for p in pieces),
        "crossings": float(sum(crossings(p)[0] for p in pieces)),
        "in_key": _ratio(in_key(p) for p in pieces),
        "on_beat": _ratio(attacks_on_beat(p) for p in pieces),
        "chords_per_8_beats": sum(windows) / len(windows) if windows else 0.0,
    }
