"""Notebook semantics: each note is predicted from the last N notes alone, from a zero state.

The streaming engines carry the LSTM state from the first note of a session on, which is
not what the notebook did (``model.predict`` on a fresh 30-note window each time): the
carried state has seen more than 30 notes, and is in the training distribution only if
the model was trained on sequences as long as a session's context (hence ``seq_len = 64``
by default). :class:`WindowEngine` gives the notebook's semantics on top of any step
engine, either exactly (``every=1``: reset and re-run the window at each note, N steps per
note) or approximately (``every=k``: re-prime from the last N notes every k notes and carry
the state in between). ``improviser bench window`` measures what each costs in bits/note
and in latency.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from improviser.inference.protocol import StepModel
from improviser.music.encoding import Distribution, Token

__all__ = ["WindowEngine"]


class WindowEngine:
    """Re-run the last ``window`` notes from a zero state (every note, or every ``every``)."""

    def __init__(self, base: StepModel, window: int = 30, every: int = 1) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        if not 1 <= every <= window:
            raise ValueError(f"every must be in range 1..{window}, got {every}")
        self.base = base
        self.window = window
        self.every = every
        self.name = f"window{window}" + (f"/{every}" if every > 1 else "")
        self._notes: deque[Token] = deque(maxlen=window)
        self._since = 0

    def reset(self) -> None:
        """Forget every note."""
        self.base.reset()
        self._notes.clear()
        self._since = 0

    def step(self, token: Sequence[int]) -> Distribution:
        """Take one note; return the next's distribution given at most ``window`` notes."""
        note = Token(*(int(v) for v in token))
        self._notes.append(note)
        self._since += 1
        full = len(self._notes) == self.window
        if not full or self._since < self.every:
            # Until the window is full, the carried state has seen exactly the window.
            return self.base.step(note)
        self._since = 0
        self.base.reset()
        dist = None
        for row in self._notes:
            dist = self.base.step(row)
        assert dist is not None
        return dist

    def snapshot(self) -> tuple[object, tuple[Token, ...], int]:
        """The base engine's state, the window's notes and the re-prime counter."""
        return self.base.snapshot(), tuple(self._notes), self._since

    def restore(self, state: object) -> None:
        """Return to a state taken by :meth:`snapshot`."""
        if not isinstance(state, tuple) or len(state) != 3:
            raise TypeError("restore() takes a state from snapshot()")
        self.base.restore(state[0])
        self._notes = deque(state[1], maxlen=self.window)
        self._since = int(state[2])
