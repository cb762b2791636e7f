"""A virtual player: a keyboard and a synth on real MIDI ports, for the demo and tests.

A separate MIDI client with ports ``demo-keys`` and ``demo-synth`` plays notes into the
improviser and listens to its answers as a synth would, tracking every ``note_on`` and
``note_off`` (:class:`NoteTracker`), so a stuck note is found.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import rtmidi

from improviser.errors import PortError
from improviser.live.io.apis import close_client
from improviser.live.io.midi import note_off, note_on
from improviser.music.notes import Note

__all__ = ["KEYS_CLIENT", "SYNTH_CLIENT", "NoteTracker", "VirtualPlayer"]

KEYS_CLIENT = "demo-keys"
SYNTH_CLIENT = "demo-synth"


class NoteTracker:
    """What a synth would hear: every note-on and note-off, from RtMidi's thread.

    Strict on purpose: CC 123/120 do not count as releases, so :meth:`stuck` finds any
    ``note_on`` that never got its own ``note_off``.
    """

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.sounding: dict[tuple[int, int], float] = {}
        self.ons: list[tuple[float, int, int]] = []
        """(time, channel, pitch) of every note-on heard."""
        self.offs = 0
        self.controls: list[tuple[int, int, int]] = []

    def feed(self, data: Sequence[int]) -> None:
        """Take one raw message."""
        if len(data) != 3:
            return
        status, d1, d2 = data
        kind, channel = status & 0xF0, status & 0x0F
        now = self._clock()
        with self._lock:
            if kind == 0x90 and d2 > 0:
                self.sounding[(channel, d1)] = now
                self.ons.append((now, channel, d1))
            elif kind in (0x80, 0x90):
                self.offs += 1
                self.sounding.pop((channel, d1), None)
            elif kind == 0xB0:
                self.controls.append((channel, d1, d2))

    def callback(self, event: tuple[list[int], float], _data: object = None) -> None:
        """An rtmidi input callback."""
        self.feed(event[0])

    def stuck(self) -> list[tuple[int, int]]:
        """(channel, pitch) of notes still sounding."""
        with self._lock:
            return sorted(self.sounding)

    def first_on_after(self, t: float) -> float | None:
        """The time of the first note-on heard after ``t``."""
        with self._lock:
            return next((on for on, _, _ in self.ons if on > t), None)


class VirtualPlayer:
    """A keyboard (port ``demo-keys``) and a synth (port ``demo-synth``) on ``api``."""

    def __init__(self, api: int, keys: str = KEYS_CLIENT, synth: str = SYNTH_CLIENT) -> None:
        self.tracker = NoteTracker()
        self._api = api
        self._keys = keys
        self._synth = synth
        self._out: Any = None
        try:
            self.plug_keys()
            self._in = rtmidi.MidiIn(api, synth)
            self._in.ignore_types(sysex=True, timing=True, active_sense=True)
            self._in.set_callback(self.tracker.callback)
            self._in.open_virtual_port("synth")
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            raise PortError(f"cannot create the demo player's ports ({exc})") from exc
        self._down: set[tuple[int, int]] = set()

    def plug_keys(self) -> None:
        """Create the keyboard's port (again, after :meth:`unplug_keys`)."""
        self._out = rtmidi.MidiOut(self._api, self._keys)
        self._out.open_virtual_port("keys")

    def unplug_keys(self) -> None:
        """Make the keyboard's port vanish, as a USB keyboard pulled out does."""
        out, self._out = self._out, None
        if out is not None:
            close_client(out)
        self._down.clear()

    def send(self, data: Sequence[int]) -> None:
        """Send one raw message from the keyboard."""
        if self._out is not None:
            self._out.send_message(list(data))

    async def play(self, notes: Sequence[Note], channel: int = 0) -> float:
        """Play notes (their ``start``/``duration`` in seconds); return the last release time."""
        events: list[tuple[float, int, int, int]] = []
        origin = notes[0].start
        for n in notes:
            events.append((n.start - origin, 1, n.pitch, n.velocity))
            events.append((n.start - origin + max(n.duration, 0.02), 0, n.pitch, 0))
        events.sort(key=lambda e: (e[0], e[1]))
        begin = time.perf_counter()
        last = begin
        for at, kind, pitch, velocity in events:
            delay = begin + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind:
                self.send(note_on(channel, pitch, velocity))
                self._down.add((channel, pitch))
            else:
                self.send(note_off(channel, pitch))
                self._down.discard((channel, pitch))
            last = time.perf_counter()
        return last

    def close(self) -> None:
        """Let go of every key, then close both ports."""
        for channel, pitch in list(self._down):
            self.send(note_off(channel, pitch))
        self._down.clear()
        time.sleep(0.05)  # let JACK deliver them before the port goes
        self.unplug_keys()
        close_client(self._in, self._synth)
