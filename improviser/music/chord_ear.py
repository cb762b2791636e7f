"""The chord the player is playing: every key held, both hands, and the notes of a broken
chord released within the last beat.

:class:`ChordEar` is fed the player's note-ons and note-offs and asked, off the note path
(in the session's pause work), which chord sounds now. It keeps what is held and the
recently released notes only, so it holds at most a bounded number of notes however long
the session or however fast the flood.
"""

from __future__ import annotations

from collections import deque

from improviser.music.chords import Chord, estimate_set

__all__ = ["FULL_CHORD", "RECENT_KEPT", "ChordEar"]

RECENT_KEPT = 32
"""Released notes remembered (the newest): more than any broken chord within a beat."""
FULL_CHORD = 3
"""Pitch classes held that make a chord without the notes released before."""


class ChordEar:
    """Held notes and the notes released within ``window_beats``: the chord heard."""

    def __init__(self, window_beats: float = 1.0) -> None:
        self.window_beats = window_beats
        self._held: dict[int, float] = {}
        """pitch -> onset, for every key down (any channel)."""
        self._recent: deque[tuple[float, int]] = deque(maxlen=RECENT_KEPT)
        """(release time, pitch) of the notes released lately, oldest first."""

    def press(self, pitch: int, at: float) -> None:
        """A key went down."""
        self._held[pitch] = at

    def release(self, pitch: int, at: float) -> None:
        """A key came up: it still counts for a beat (a broken chord)."""
        if self._held.pop(pitch, None) is not None:
            self._recent.append((at, pitch))

    def release_all(self, at: float) -> None:
        """Every key came up (the player's all-notes-off, a lost port)."""
        for pitch in list(self._held):
            self.release(pitch, at)

    def forget(self) -> None:
        """Nothing held, nothing remembered."""
        self._held.clear()
        self._recent.clear()

    def pitches(self, now: float, seconds_per_beat: float) -> set[int]:
        """What counts now: the keys held when they make a chord of their own (three pitch
        classes or more: a chord struck replaces the one before at once); otherwise the
        keys held and those released within the window (a broken chord)."""
        since = now - self.window_beats * seconds_per_beat
        while self._recent and self._recent[0][0] < since:
            self._recent.popleft()
        held = set(self._held)
        if len({p % 12 for p in held}) >= FULL_CHORD:
            return held
        return held | {pitch for _, pitch in self._recent}

    def chord(self, now: float, seconds_per_beat: float) -> Chord | None:
        """The chord heard now (``None``: fewer than two pitch classes)."""
        pitches = self.pitches(now, seconds_per_beat)
        if not pitches:
            return None
        return estimate_set(frozenset(p % 12 for p in pitches), min(pitches) % 12)
