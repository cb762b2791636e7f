"""Each of our note-offs sent once more a moment later, so the synth agrees nothing sounds.

JACK drops a whole cycle of a client's MIDI when the client is late (no realtime
scheduling on a busy machine): a note-off in that cycle is lost and the synth holds the
note, though our own table says it ended (a 10-minute soak left one so). With three
accompaniment voices there are three times the note-offs to lose. :class:`OffRepeat`
listens to what the scheduler sends and, ``delay`` after each release and again
:data:`LATER` times ``delay`` after it, sends that note-off again unless the pitch is
sounding again by then (a repeat must never cut a new note short). A note-off for a note
that is not sounding is ignored by every synth, so the repeats are harmless when the
first one arrived. Two, because a machine's stall often lasts longer than the first
repeat's 25 ms: in ~40 broker-restart tests under a load of 12 on 2 cores one note was
left sounding at the player's synth with a single repeat (the off and its repeat both
lost in one stall); the second comes a quarter of a second later, after the stall.

Why not All Notes Off (CC 123) on our channels whenever none of ours should sound: the
player's own notes may share the channel (``thru``), some synths ignore CC 123 or hold
it under the sustain pedal, and "none of ours sounds" is rare while accompanying, when
notes come and go all the time; the repeat covers each note at the moment it ends.
"""

from __future__ import annotations

from collections import deque

from improviser.live.io.midi import note_off
from improviser.live.timebase.scheduler import Scheduler

__all__ = ["LATER", "REPEATS_KEPT", "OffRepeat"]

REPEATS_KEPT = 4096
"""Repeats waiting at most, each round (a flood of releases drops the oldest, never grows)."""
LATER = 10.0
"""The second repeat comes this many times ``delay`` after the release."""


class OffRepeat:
    """Repeats each note-off of ``scheduler`` ``delay`` seconds later (a listener and a
    timer of it: add it with ``scheduler.listeners.append`` and ``scheduler.add_timer``)."""

    def __init__(self, scheduler: Scheduler, delay: float) -> None:
        if delay <= 0:
            raise ValueError(f"delay must be positive, got {delay}")
        self.scheduler = scheduler
        self.delay = delay
        self._rounds: tuple[deque[tuple[float, int, int]], ...] = (
            deque(maxlen=REPEATS_KEPT),
            deque(maxlen=REPEATS_KEPT),
        )
        """(due, channel, pitch) of the first and the second repeats, each in time order."""
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
        """A note ended: send its note-off again ``delay`` and ``LATER * delay`` from now."""
        first, second = self._rounds
        first.append((at + self.delay, channel, pitch))
        second.append((at + LATER * self.delay, channel, pitch))

    def next_due(self) -> float | None:
        """When the next repeat is due."""
        return min((r[0][0] for r in self._rounds if r), default=None)

    def fire(self, now: float) -> None:
        """Send the repeats due, except for pitches sounding again."""
        sounding = self.scheduler.sounding
        for due in self._rounds:
            while due and due[0][0] <= now:
                _, channel, pitch = due.popleft()
                if (channel, pitch) not in sounding:
                    self.scheduler.send_raw(note_off(channel, pitch), channel)
                    self.repeated += 1
