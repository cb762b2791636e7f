"""Where each melody note falls, as the harmony model hears it: its metre class in the
bar and its IOI class from the melody note before.

Without a clock, bars count from the first note after a silence longer than
``phrase_gap`` (or from the anchor given, an answer's call); the first note after such a
silence has IOI class 0, as the first note of a piece.
"""

from __future__ import annotations

import math

from improviser.live.engine.voice import Voice
from improviser.music.voicing import metre_class

__all__ = ["MelodyMetre"]


class MelodyMetre:
    """The metre and IOI classes of successive melody onsets."""

    def __init__(self, voice: Voice, anchor: float | None = None, last: float | None = None):
        self.voice = voice
        self.anchor = anchor
        """The downbeat bars count from (``None``: the next onset's)."""
        self.last = last
        """The previous melody onset."""

    def onset(self, at: float) -> tuple[int, int]:
        """The ``(metre, ioi)`` classes of a melody note struck at ``at``."""
        cfg, timing = self.voice.config, self.voice.timing
        last = self.last
        fresh = last is None or at - last > cfg.phrase_gap
        if self.anchor is None or (fresh and last is not None):
            self.anchor = at
        self.last = at
        ioi = 0 if fresh or last is None else timing.ioi_class(at - last)
        beat = timing.beat_in_bar(at, self.anchor)
        return metre_class(beat, float(cfg.beats_per_bar)), ioi

    def bar(self, at: float) -> int:
        """The number of the bar ``at`` falls in, counted from the anchor."""
        anchor = at if self.anchor is None else self.anchor
        beats = (at - anchor) / self.voice.timing.seconds_per_beat
        return math.floor(beats / self.voice.config.beats_per_bar + 1e-9)
