"""Timed ``note_on``/``note_off`` on the output port, and the promise of no stuck note.

The scheduler owns every note the improviser sounds. It keeps its own table of sounding
notes, so:

- every ``note_on`` it sends has a ``note_off`` (planned with it, at most
  ``max_note_seconds`` later for an improviser note);
- re-striking a sounding pitch releases it first (and its old release is then ignored);
- :meth:`Scheduler.cancel` drops an answer's pending events and releases its notes;
- :meth:`Scheduler.panic` releases every sounding note, then sends CC 123 (all notes
  off) and CC 120 (all sound off) on each channel it has used.

It is a plain state machine driven by :meth:`Scheduler.process_due` with an injected
clock, so tests step it on a fake clock; :meth:`Scheduler.run` is the asyncio driver that
sleeps until just before the next event and then waits precisely (``spin_seconds``, in
naps of at most 0.2 ms with a turn of the loop after each, so incoming notes are never
held up by the wait), so a note leaves within a fraction of a millisecond of its time.
A planned note due now leaves at once, from :meth:`Scheduler.note` itself. Its
listeners (the session's event feed, the feedback guard) are told of every note that
actually left, with the time it was planned for and, for the first note answering a cue
(the end of a phrase, a followed note), that cue's time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from improviser.live.events import THRU
from improviser.live.io.midi import (
    ALL_NOTES_OFF,
    ALL_SOUND_OFF,
    control_change,
    note_off,
    note_on,
)

__all__ = ["THRU", "NoteListener", "Scheduler", "Sounding", "Timer"]

_OFF, _ON = 0, 1
_SPIN_NAP = 0.0002
"""Longest sleep inside the precise wait: how long an incoming note can wait behind it."""


class NoteListener(Protocol):
    """Told of every note the scheduler actually sends (recorder, feedback guard)."""

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
        """A ``note_on`` left at ``at`` (planned for ``intended``, answering ``cue``)."""

    def note_released(
        self, channel: int, pitch: int, tag: str, at: float, *, intended: float | None
    ) -> None:
        """Its ``note_off`` left at ``at`` (planned for ``intended``; ``None``: not planned)."""


class Timer(Protocol):
    """Something else the scheduler sends on time (a MIDI clock we are master of)."""

    def next_due(self) -> float | None:
        """When it must next fire (``None``: not now)."""

    def fire(self, now: float) -> None:
        """Send what is due now."""


@dataclass(order=True, slots=True)
class _Event:
    at: float
    order: int
    seq: int
    channel: int = field(compare=False)
    pitch: int = field(compare=False)
    velocity: int = field(compare=False)
    tag: str = field(compare=False)
    note_id: int = field(compare=False)
    """The ``note_on`` a release belongs to; a stale release (re-struck note) is ignored."""
    cue: float | None = field(default=None, compare=False)


@dataclass(slots=True)
class Sounding:
    """A note that is sounding now."""

    note_id: int
    tag: str
    started: float


class Scheduler:
    """Sends timed notes on one output and tracks what sounds."""

    def __init__(
        self,
        send: Callable[[Sequence[int]], None],
        now: Callable[[], float],
        *,
        max_note_seconds: float = 4.0,
        spin_seconds: float = 0.0015,
        listeners: Sequence[NoteListener] = (),
    ) -> None:
        if max_note_seconds <= 0:
            raise ValueError(f"max_note_seconds must be positive, got {max_note_seconds}")
        self._send = send
        self._now = now
        self.max_note_seconds = max_note_seconds
        self.spin_seconds = spin_seconds
        self.listeners = list(listeners)
        self._heap: list[_Event] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self.sounding: dict[tuple[int, int], Sounding] = {}
        self.channels_used: set[int] = set()
        self._sent_by_tag: dict[str, int] = {}
        self.notes_sent = 0
        self._timers: list[Timer] = []
        self._wake = asyncio.Event()

    def add_timer(self, timer: Timer) -> None:
        """Send ``timer``'s messages when they fall due, with the notes' precise wait."""
        self._timers.append(timer)
        self._wake.set()

    # --- planning --------------------------------------------------------------------------
    def note(
        self,
        channel: int,
        pitch: int,
        velocity: int,
        *,
        at: float,
        duration: float,
        tag: str,
        capped: bool = True,
        cue: float | None = None,
    ) -> None:
        """Plan a note at ``at`` for ``duration`` seconds (cut to ``max_note_seconds``).

        ``cue`` is the time of what this note answers (its listeners then learn the
        response time); a note already due leaves at once.
        """
        if capped:
            duration = min(duration, self.max_note_seconds)
        note_id = next(self._ids)
        seq = next(self._seq)
        heapq.heappush(
            self._heap, _Event(at, _ON, seq, channel, pitch, velocity, tag, note_id, cue)
        )
        off_at = at + max(duration, 0.0)
        heapq.heappush(
            self._heap, _Event(off_at, _OFF, next(self._seq), channel, pitch, 0, tag, note_id)
        )
        now = self._now()
        if at <= now:
            self.process_due(now)
        self._wake.set()

    def play_now(self, channel: int, pitch: int, velocity: int, tag: str) -> None:
        """Sound a note at once; it lasts until :meth:`release` (no cap: the player's own)."""
        now = self._now()
        self._start(
            channel=channel, pitch=pitch, velocity=velocity, tag=tag,
            note_id=next(self._ids), intended=None, actual=now, cue=None,
        )  # fmt: skip

    def release(self, channel: int, pitch: int, tag: str) -> None:
        """Release a sounding note of ``tag`` now (the player let go of a thru note)."""
        current = self.sounding.get((channel, pitch))
        if current is not None and current.tag == tag:
            self._stop(channel, pitch, self._now())

    def send_control(self, channel: int, control: int, value: int) -> None:
        """Send a control change now."""
        self.channels_used.add(channel)
        self._send(control_change(channel, control, value))

    def send_raw(self, data: Sequence[int], channel: int) -> None:
        """Send any message now (program change at start)."""
        self.channels_used.add(channel)
        self._send(data)

    def cancel(self, tag: str) -> int:
        """Drop ``tag``'s pending events, release its sounding notes; how many it sent."""
        self._heap = [e for e in self._heap if e.tag != tag]
        heapq.heapify(self._heap)
        now = self._now()
        for (channel, pitch), sounding in list(self.sounding.items()):
            if sounding.tag == tag:
                self._stop(channel, pitch, now)
        return self._sent_by_tag.pop(tag, 0)

    def pending(self, tag: str) -> int:
        """How many events of ``tag`` are still to be sent."""
        return sum(1 for e in self._heap if e.tag == tag)

    def release_all(self) -> None:
        """Drop every pending event and release every sounding note."""
        self._heap.clear()
        now = self._now()
        for channel, pitch in list(self.sounding):
            self._stop(channel, pitch, now)

    def panic(self) -> None:
        """:meth:`release_all`, then CC 123 and CC 120 on every channel used."""
        self.release_all()
        for channel in sorted(self.channels_used):
            self._send(control_change(channel, ALL_NOTES_OFF, 0))
            self._send(control_change(channel, ALL_SOUND_OFF, 0))

    def forget_sounding(self) -> None:
        """The output vanished: nothing we sent can sound any more, drop the table."""
        self._heap.clear()
        now = self._now()
        for (channel, pitch), sounding in list(self.sounding.items()):
            del self.sounding[(channel, pitch)]
            for listener in self.listeners:
                listener.note_released(channel, pitch, sounding.tag, now, intended=None)

    # --- sending ----------------------------------------------------------------------------
    def next_due(self) -> float | None:
        """When the next event is due (``None``: nothing planned)."""
        due = self._heap[0].at if self._heap else None
        for timer in self._timers:
            at = timer.next_due()
            if at is not None and (due is None or at < due):
                due = at
        return due

    def process_due(self, now: float) -> int:
        """Send every event due at ``now``; return how many were sent."""
        sent = 0
        for timer in self._timers:
            at = timer.next_due()
            if at is not None and at <= now:
                timer.fire(self._now())
        while self._heap and self._heap[0].at <= now:
            event = heapq.heappop(self._heap)
            actual = self._now()
            key = (event.channel, event.pitch)
            if event.order == _ON:
                self._start(
                    channel=event.channel, pitch=event.pitch, velocity=event.velocity,
                    tag=event.tag, note_id=event.note_id, intended=event.at, actual=actual,
                    cue=event.cue,
                )  # fmt: skip
                sent += 1
            else:
                current = self.sounding.get(key)
                if current is not None and current.note_id == event.note_id:
                    self._stop(event.channel, event.pitch, actual, intended=event.at)
                    sent += 1
        return sent

    def _start(
        self,
        *,
        channel: int,
        pitch: int,
        velocity: int,
        tag: str,
        note_id: int,
        intended: float | None,
        actual: float,
        cue: float | None,
    ) -> None:
        if (channel, pitch) in self.sounding:
            self._stop(channel, pitch, actual)  # re-strike: release first
        self.channels_used.add(channel)
        self._send(note_on(channel, pitch, velocity))
        self.sounding[(channel, pitch)] = Sounding(note_id, tag, actual)
        self._sent_by_tag[tag] = self._sent_by_tag.get(tag, 0) + 1
        self.notes_sent += 1
        for listener in self.listeners:
            listener.note_sent(channel, pitch, velocity, tag, actual, intended=intended, cue=cue)

    def _stop(self, channel: int, pitch: int, at: float, intended: float | None = None) -> None:
        sounding = self.sounding.pop((channel, pitch))
        self._send(note_off(channel, pitch))
        for listener in self.listeners:
            listener.note_released(channel, pitch, sounding.tag, at, intended=intended)

    async def _wait_precisely(self, due: float) -> None:
        """Wait until ``due`` without holding up the loop.

        The loop's own timers wake up to a millisecond late (epoll counts in whole
        milliseconds), so the last ``spin_seconds`` are waited here, in short sleeps that
        release the GIL (the input callback's thread runs in them) with a turn of the loop
        after each (so a note that came in is handled now, not after the spin).
        """
        while (remaining := due - self._now()) > 0:
            if remaining > _SPIN_NAP:
                time.sleep(min(remaining / 2, _SPIN_NAP))  # noqa: ASYNC251 - a 0.2 ms nap
            await asyncio.sleep(0)
            if self.next_due() != due:
                return  # the plan changed while we waited (a note due sooner, a cancel)

    async def run(self) -> None:
        """Send events as they fall due, until cancelled."""
        while True:
            due = self.next_due()
            if due is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = due - self._now() - self.spin_seconds
            if wait > 0:
                self._wake.clear()
                try:
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                continue
            await self._wait_precisely(due)
            self.process_due(self._now())
            await asyncio.sleep(0)
