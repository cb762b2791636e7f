"""The player's tempo, estimated from the onsets of a call.

The median inter-onset interval is robust to a few hesitations and ornaments; it is
taken as one beat and folded by factors of two into ``[min_bpm, max_bpm)`` (an eighth
note at 70 bpm and a quarter at 140 bpm are the same pulse), then smoothed with the
previous estimate so one odd phrase does not throw the answer's tempo.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

__all__ = ["MIN_IOI_SECONDS", "TempoEstimator"]

MIN_IOI_SECONDS = 0.06
"""Onsets closer than this are one chord, not a pulse."""


class TempoEstimator:
    """Follows the player's tempo from call to call (or holds a fixed one)."""

    def __init__(
        self,
        initial_bpm: float,
        min_bpm: float,
        max_bpm: float,
        fixed_bpm: float | None = None,
        smoothing: float = 0.5,
    ) -> None:
        if not (min_bpm > 0 and 2 * min_bpm <= max_bpm):
            raise ValueError(f"max_bpm must be at least twice min_bpm, got {min_bpm}..{max_bpm}")
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in range [0, 1), got {smoothing}")
        self.min_bpm = min_bpm
        self.max_bpm = max_bpm
        self.fixed = fixed_bpm
        self.smoothing = smoothing
        self.bpm = fixed_bpm if fixed_bpm is not None else self.fold(initial_bpm)

    @property
    def seconds_per_beat(self) -> float:
        """The length of one beat at the current tempo."""
        return 60.0 / self.bpm

    def fold(self, bpm: float) -> float:
        """``bpm`` doubled or halved into ``[min_bpm, max_bpm)``."""
        while bpm < self.min_bpm:
            bpm *= 2.0
        while bpm >= self.max_bpm:
            bpm /= 2.0
        return bpm

    def estimate(self, onsets: Sequence[float]) -> float | None:
        """The tempo these onsets (seconds) suggest, or ``None`` if they are too few."""
        iois = [b - a for a, b in itertools.pairwise(onsets) if b - a >= MIN_IOI_SECONDS]
        if len(iois) < 2:
            return None
        return self.fold(60.0 / statistics.median(iois))

    def update(self, onsets: Sequence[float]) -> float:
        """Fold a call's onsets into the tempo (unless fixed); return the tempo now."""
        if self.fixed is not None:
            return self.bpm
        estimate = self.estimate(onsets)
        if estimate is not None:
            # Smooth in log space, after bringing the estimate within a factor sqrt(2).
            while estimate > self.bpm * 1.414:
                estimate /= 2.0
            while estimate < self.bpm / 1.414:
                estimate *= 2.0
            new = self.bpm**self.smoothing * estimate ** (1.0 - self.smoothing)
            self.bpm = self.fold(new)
        return self.bpm
