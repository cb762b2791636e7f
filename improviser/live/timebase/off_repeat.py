"""Each of our note-offs sent once more a moment later, so the synth agrees nothing sounds.

JACK drops a whole cycle of a client's MIDI when the client is late (no realtime
scheduling on a busy machine): a note-off in that cycle is lost and the synth holds the
note, though our own table says it ended (a 10-minute soak left one so). With three
accompaniment voices there are three times the note-offs to lose. :class:`OffRepeat`
listens to what the scheduler sends and, ``delay`` after each release, sends that
note-off again unless the pitch was struck again meanwhile (a repeat must never cut a new
note short). A note-off for a note that is not sounding is ignored by every synth, so
the repeat is harmless when the first one arrived.

Why not All Notes Off (CC 123) on our channels whenever none of ours should sound: the
player's own notes may share the channel (``thru``), some synths ignore CC 123 or hold
it under the sustain pedal, and "none of ours sounds" is rare while accompanying, when
notes come and go all the time; the repeat covers each note at the moment it ends.
"""

from __future__ import annotations

from collections import deque

from improviser.live.io.midi import note_off
from improviser.live.timebase.scheduler import Scheduler

__all__ = ["REPEATS_KEPT", "OffRepeat"]

REPEATS_KEPT = 4096
"""Repeats waiting at most (a flood of releases drops the oldest, never grows)."""


class OffRepeat:
    """Repeats each note-off of ``scheduler`` ``delay`` seconds later (a listener and a
    timer of it: add it with ``scheduler.listeners.append`` and ``scheduler.add_timer``)."""

    def __init__(self, scheduler: Scheduler, delay: float) -> None:
        if delay <= 0:
            raise ValueError(f"delay must be positive, got {delay}")
        self.scheduler = scheduler
        self.delay = delay
        self._due: deque[tuple[float, int, int]] = deque(maxlen=REPEATS_KEPT)
        self.repeated = 0
        """Note-offs sent again so far."""

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
        """A note started: nothing to do (the repeat checks what sounds when it is due)."""

    def note_released(
        self, channel: int, pitch: int, tag: str, at: float, *, intended: float | None
    ) -> None:
        """A note ended: send its note-off again ``delay`` from now."""
        self._due.append((at + self.delay, channel, pitch))

    def next_due(self) -> float | None:
        """When the next repeat is due."""
        return self._due[0][0] if self._due else None

    def fire(self, now: float) -> None:
        """Send the repeats due, except for pitches sounding again."""
        sounding = self.scheduler.sounding
        while self._due and self._due[0][0] <= now:
            _, channel, pitch = self._due.popleft()
            if (channel, pitch) not in sounding:
                self.scheduler.send_raw(note_off(channel, pitch), channel)
                self.repeated += 1
