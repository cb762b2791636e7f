"""Chords heard: a set of sounding pitches named as root, quality and bass.

:func:`estimate` matches the pitch classes against chord templates (triads, sixths,
sevenths, suspensions, the bare fifth) on every root that sounds and keeps the best fit:
each pitch class the template explains counts for it (by its weight: how long or how
loud it sounded, 1 each when not given), each it leaves unexplained and each chord tone
it lacks count against it (a tone heard only faintly, nearly as much as one not heard).
Ties go to the chord whose root is the bass, then to the simpler template (a triad
before a seventh), then to the lower root. A chord is named as lead sheets do: ``C``,
``Am``, ``G7/B``, ``F#m7b5``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CHORDS_CACHED", "NOTE_NAMES", "QUALITIES", "Chord", "estimate", "estimate_set"]

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Pitch-class names, as a lead sheet spells them without a key."""

QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
    "sus2": (0, 2, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "5": (0, 7),
}
"""Chord qualities (the lead-sheet suffix) and their intervals above the root, simplest
first: the order breaks ties."""

CHORDS_CACHED = 128
"""Chords remembered by :func:`estimate_set` (the most recently used): the chords a session
keeps coming back to, in at most ~45 KB however many it meets; another costs ~60 µs, off
the note path (the engine asks in its pause work)."""
_MISSING = 0.75
"""What a template's tone that does not sound costs, against 1 for a tone it explains."""
_EXTRA = 1.0
"""What a sounding pitch class the template does not explain costs (per unit of weight)."""
_ROOT_IN_BASS = 0.25
"""The bonus of a reading whose root is the bass: C-E-G-A over C is C6, not Am7/C."""


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord: root and bass as pitch classes (0 = C), its quality and what sounded."""

    root: int
    quality: str
    bass: int
    pcs: frozenset[int]
    """The pitch classes that sounded."""

    @property
    def name(self) -> str:
        """Lead-sheet name: ``C``, ``Am``, ``G7/B``."""
        base = NOTE_NAMES[self.root] + self.quality
        return base if self.bass == self.root else f"{base}/{NOTE_NAMES[self.bass]}"

    @property
    def tones(self) -> frozenset[int]:
        """The chord's own pitch classes (its template on its root)."""
        return frozenset((self.root + i) % 12 for i in QUALITIES[self.quality])


def _weights(pitches: Iterable[int] | Mapping[int, float]) -> tuple[dict[int, float], int]:
    """Weight per pitch class, and the bass's pitch class."""
    items = pitches.items() if isinstance(pitches, Mapping) else ((p, 1.0) for p in pitches)
    weights: dict[int, float] = {}
    lowest: int | None = None
    for pitch, weight in items:
        if weight <= 0:
            continue
        weights[pitch % 12] = weights.get(pitch % 12, 0.0) + float(weight)
        lowest = pitch if lowest is None else min(lowest, pitch)
    return weights, -1 if lowest is None else lowest % 12


def estimate(pitches: Iterable[int] | Mapping[int, float]) -> Chord | None:
    """The chord that best explains ``pitches`` (MIDI numbers, or pitch -> weight).

    ``None`` when fewer than two pitch classes sound: one note is no chord.
    """
    weights, bass = _weights(pitches)
    if len(weights) < 2:
        return None
    total = sum(weights.values())
    scale = len(weights) / total  # weights averaging 1, so a tone and a cost compare
    best: tuple[float, bool, int, int] | None = None
    found: tuple[int, str] | None = None
    for order, (quality, intervals) in enumerate(QUALITIES.items()):
        for root in weights:  # a chord whose root does not sound is not heard here
            tones = {(root + i) % 12 for i in intervals}
            explained = sum(w for pc, w in weights.items() if pc in tones) * scale
            extra = sum(w for pc, w in weights.items() if pc not in tones) * scale
            # a tone heard only faintly is nearly missing
            missing = sum(max(0.0, 1.0 - weights.get(pc, 0.0) * scale) for pc in tones)
            score = explained - _EXTRA * extra - _MISSING * missing
            score += _ROOT_IN_BASS if root == bass else 0.0
            key = (round(score, 9), root == bass, -order, -root)
            if best is None or key > best:
                best, found = key, (root, quality)
    assert found is not None  # two pitch classes at least: every one is a candidate root
    return Chord(root=found[0], quality=found[1], bass=bass, pcs=frozenset(weights))


_MASKS: tuple[tuple[int, str, int, int], ...] = tuple(
    (order, quality, root, sum(1 << ((root + i) % 12) for i in intervals))
    for order, (quality, intervals) in enumerate(QUALITIES.items())
    for root in range(12)
)
"""Every (template, root) as a 12-bit mask of its pitch classes."""


@lru_cache(maxsize=CHORDS_CACHED)
def estimate_set(pcs: frozenset[int], bass: int) -> Chord | None:
    """:func:`estimate` of pitch classes of equal weight over ``bass`` (the same scores,
    on bit masks), remembered: what the live ear asks, so a chord heard before costs a
    lookup."""
    if len(pcs) < 2:
        return None
    mask = sum(1 << pc for pc in pcs)
    n = len(pcs)
    best: tuple[float, bool, int, int] | None = None
    found: tuple[int, str] | None = None
    for order, quality, root, tones in _MASKS:
        if not mask >> root & 1:
            continue
        explained = (mask & tones).bit_count()
        missing = tones.bit_count() - explained
        score = explained - _EXTRA * (n - explained) - _MISSING * missing
        score += _ROOT_IN_BASS if root == bass else 0.0
        key = (round(score, 9), root == bass, -order, -root)
        if best is None or key > best:
            best, found = key, (root, quality)
    assert found is not None
    return Chord(root=found[0], quality=found[1], bass=bass, pcs=pcs)
