"""The harmony model's listening taken off the note path.

In call and response the harmony model only listens while the player plays (the voices
are drawn with the answer), so the four steps of each melody note heard (melody, bass,
tenor, alto) need not delay the note: :class:`DeferredHarmony` keeps each
:meth:`~DeferredHarmony.hold` and steps it in the next pause (:meth:`settle`, which the
session calls right after a note when no message waits), or first thing when the model is
next asked to draw or to snapshot, so what it hears and in which order is unchanged.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from improviser.live.engine.voice import Harmony

__all__ = ["HOLDS_KEPT", "DeferredHarmony"]

HOLDS_KEPT = 4096
"""Onsets waiting at most: a flood that outruns the pauses loses its oldest, never grows."""


class DeferredHarmony:
    """A :class:`Harmony` whose :meth:`hold` waits for the next pause."""

    def __init__(self, harmony: Harmony) -> None:
        self.harmony = harmony
        self._holds: deque[tuple[int, int, int, tuple[int, ...]]] = deque(maxlen=HOLDS_KEPT)

    def _catch_up(self) -> None:
        while self._holds:
            melody, metre, ioi, voices = self._holds.popleft()
            self.harmony.hold(melody, metre, ioi, voices)

    def voice(self, melody: int, metre: int, ioi: int) -> Sequence[int]:
        """Hear what waits, then a melody onset; its voices drawn at once."""
        self._catch_up()
        return self.harmony.voice(melody, metre, ioi)

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        """Hear a melody onset over ``voices`` in the next pause."""
        self._holds.append((melody, metre, ioi, tuple(int(v) for v in voices)))

    def settle(self) -> None:
        """Hear what waits, and let the model do its own idle work."""
        self._catch_up()
        self.harmony.settle()

    def snapshot(self) -> Any:
        """What was heard, everything waiting included."""
        self._catch_up()
        return self.harmony.snapshot()

    def restore(self, state: Any) -> None:
        """Return to a snapshot (nothing waits after it)."""
        self._holds.clear()
        self.harmony.restore(state)
