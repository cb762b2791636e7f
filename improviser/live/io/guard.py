"""The feedback guard: echoes of our own notes are not the player.

When the output is routed back to the input (a synth's MIDI thru, a DAW track left
armed), every note we send comes back a moment later. An incoming ``note_on`` whose
pitch we sent within ``window`` seconds is taken for such an echo: it and its
``note_off`` are ignored and counted. A genuine player note of the same pitch within the
window is ignored too; the window is kept short (50 ms by default) for that reason.
"""

from __future__ import annotations

__all__ = ["FeedbackGuard"]


class FeedbackGuard:
    """Remembers what we sent; recognises it when it comes back."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.echoes = 0
        self._sent: dict[int, float] = {}
        self._echoing: set[tuple[int, int]] = set()

    def note_sent(
        self,
        channel: int,
        pitch: int,
        velocity: int,
        tag: str,
        at: float,
        *,
        intended: float | None,
        cue: float | None,
    ) -> None:
        """scheduler.NoteListener: we sent ``pitch`` at ``at``."""
        if self.window > 0:
            self._sent[pitch] = at

    def note_released(
        self, channel: int, pitch: int, tag: str, at: float, *, intended: float | None
    ) -> None:
        """scheduler.NoteListener: releases need no tracking."""

    def is_echo_on(self, channel: int, pitch: int, at: float) -> bool:
        """Whether an incoming ``note_on`` is an echo (then counted, and its release too)."""
        sent = self._sent.get(pitch)
        if sent is None or not 0.0 <= at - sent <= self.window:
            return False
        self.echoes += 1
        self._echoing.add((channel, pitch))
        return True

    def is_echo_off(self, channel: int, pitch: int) -> bool:
        """Whether an incoming ``note_off`` ends an echo."""
        if (channel, pitch) in self._echoing:
            self._echoing.discard((channel, pitch))
            return True
        return False
