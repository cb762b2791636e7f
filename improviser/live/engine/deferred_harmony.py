"""The harmony model's listening taken off the note path.

In call and response the harmony model only listens while the player plays (the voices
are drawn with the answer), so the four steps of each melody note heard (melody, bass,
tenor, alto) need not delay the note: :class:`DeferredHarmony` keeps each
:meth:`~DeferredHarmony.hold` and steps it in the next pause (:meth:`settle`, which the
session calls right after a note when no message waits), or first thing when the model is
next asked to draw or to snapshot, so what it hears and in which order is unchanged.

The last onset can be heard again with another melody note (:meth:`~DeferredHarmony.revise_hold`,
:meth:`~DeferredHarmony.revise_voice`): a chord struck a few milliseconds before the melody
note on top of it reached the modes as a melody note of its own, the chord tone first.
The state before that onset is kept for it: taken as a waiting hold is stepped (in a
pause), or before the voices are drawn.
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
        self._before: tuple[Any, int, int, bool] | None = None
        """The state before the last onset (once it was stepped), its metre and IOI, and
        whether its voices were drawn (:meth:`voice`) or held."""

    def _catch_up(self) -> None:
        while self._holds:
            melody, metre, ioi, voices = self._holds.popleft()
            if not self._holds:  # the last onset heard: it may be heard again
                self._before = (self.harmony.snapshot(), metre, ioi, False)
            self.harmony.hold(melody, metre, ioi, voices)

    def voice(self, melody: int, metre: int, ioi: int) -> Sequence[int]:
        """Hear what waits, then a melody onset; its voices drawn at once."""
        self._catch_up()
        self._before = (self.harmony.snapshot(), metre, ioi, True)
        return self.harmony.voice(melody, metre, ioi)

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        """Hear a melody onset over ``voices`` in the next pause."""
        self._holds.append((melody, metre, ioi, tuple(int(v) for v in voices)))
        self._before = None

    def revise_hold(self, melody: int, voices: Sequence[int]) -> bool:
        """Hear the last onset (a :meth:`hold`) again with ``melody`` over ``voices``, at
        its metre and IOI; whether it could be (not after drawn voices, nor a restore)."""
        kept = tuple(int(v) for v in voices)
        if self._holds:  # not stepped yet: replaced where it waits
            _, metre, ioi, _ = self._holds[-1]
            self._holds[-1] = (melody, metre, ioi, kept)
            return True
        if self._before is None or self._before[3]:
            return False
        state, metre, ioi, _ = self._before
        self.harmony.restore(state)
        self._holds.append((melody, metre, ioi, kept))
        return True

    def revise_voice(self, melody: int) -> Sequence[int] | None:
        """Draw the last onset's voices (a :meth:`voice`) again under ``melody``, at its
        metre and IOI (``None``: the last onset was held, or nothing is known before it)."""
        if self._holds or self._before is None or not self._before[3]:
            return None
        state, metre, ioi, _ = self._before
        self.harmony.restore(state)
        return self.harmony.voice(melody, metre, ioi)

    def settle(self) -> None:
        """Hear what waits, and let the model do its own idle work."""
        self._catch_up()
        self.harmony.settle()

    def snapshot(self) -> Any:
        """What was heard, everything waiting included."""
        self._catch_up()
        return self.harmony.snapshot()

    def restore(self, state: Any) -> None:
        """Return to a snapshot (nothing waits after it, nothing can be revised)."""
        self._holds.clear()
        self._before = None
        self.harmony.restore(state)
