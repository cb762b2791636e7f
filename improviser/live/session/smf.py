"""Standard MIDI File bytes for the session recording, encoded as the notes come in.

The recording is rewritten every second or so. Building it with mido from every note
each time costs time in proportion to the whole session (about 25 µs a note here: 50 ms
a second after 2000 notes, in a thread that holds the GIL while the input callback and
the loop wait for it). :class:`TrackEncoder` encodes each event once instead: every
event before the *horizon* — the start of the earliest note still sounding, and never
later than a margin before now — can no longer change, so it is appended to the track's
encoded bytes and never looked at again; only the notes around the horizon are encoded
at each flush. The bytes are those :func:`improviser.music.notes.to_midifile` would write
for the same notes (``time_unit="seconds"``): the same ticks, the same order (releases
before strikes at one tick, then by pitch; one pitch released on two channels at one
tick may come in the other order), the same rule for a pitch struck twice. The player's
control changes that no control took (the pedals, the modulation wheel) are encoded the
same way, each at its tick before the notes there.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence

__all__ = ["TrackEncoder", "midi_file"]

_END_OF_TRACK = b"\x00\xff\x2f\x00"
_MARGIN_SECONDS = 1.0
"""How far before now the horizon stays: a message stamped by the input callback is
recorded a little after its time, never this much."""


def _varint(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta(kind: int, data: bytes) -> bytes:
    return b"\x00\xff" + bytes([kind]) + _varint(len(data)) + data


class _Entry:
    """One note's two events on the tick grid."""

    __slots__ = ("channel", "off", "on", "on_written", "pitch", "velocity")

    def __init__(self, on: int, off: int, pitch: int, channel: int, velocity: int) -> None:
        self.on = on
        self.off = off
        self.pitch = pitch
        self.channel = channel
        self.velocity = velocity
        self.on_written = False


class _Control:
    """One control change (the sustain pedal...) on the tick grid."""

    __slots__ = ("channel", "number", "tick", "value")

    def __init__(self, tick: int, channel: int, number: int, value: int) -> None:
        self.tick = tick
        self.channel = channel
        self.number = number
        self.value = value


_Event = tuple[int, int, int, "_Entry | _Control"]
"""(tick, order, pitch, what): order 0 a control or a release, 1 a strike."""


class TrackEncoder:
    """One part's track: notes in (when they end) and control changes (as they come),
    MIDI track bytes out."""

    def __init__(self, ticks_per_second: float) -> None:
        self.scale = ticks_per_second
        self._written = bytearray()
        self._written_tick = 0
        """Tick of the last event in ``_written``."""
        self._pending: list[_Entry] = []
        self._controls: list[_Control] = []
        """Control changes not written yet."""
        self._last: dict[tuple[int, int], _Entry] = {}

    def _entry(
        self, pitch: int, velocity: int, start: float, end: float, channel: int
    ) -> _Entry | None:
        """The note's entry after the merge rule of :func:`~improviser.music.notes.to_midifile`
        (``None``: the pitch was struck twice at one tick, which sounds as one note)."""
        on = max(round(max(start, 0.0) * self.scale), 0, self._written_tick)
        off = max(round(max(end, start, 0.0) * self.scale), on + 1)
        key = (channel, pitch)
        prev = self._last.get(key)
        if prev is not None:
            if prev.on == on:
                return None
            prev.off = min(prev.off, on)  # still pending: its off is after the horizon
        entry = _Entry(on, off, pitch, channel, min(max(velocity, 1), 127))
        self._last[key] = entry
        return entry

    def add(self, pitch: int, velocity: int, start: float, end: float, channel: int) -> None:
        """A note that has ended (seconds from the start of the recording)."""
        entry = self._entry(pitch, velocity, start, end, channel)
        if entry is not None:
            self._pending.append(entry)

    def control(self, number: int, value: int, at: float, channel: int) -> None:
        """A control change at ``at`` (seconds from the start of the recording); never
        placed before what is written already."""
        tick = max(round(max(at, 0.0) * self.scale), self._written_tick)
        self._controls.append(_Control(tick, channel, number & 0x7F, value & 0x7F))

    def encode(
        self,
        sounding: Iterable[tuple[int, int, float, int]],
        now: float,
        name: str | None = None,
    ) -> bytes:
        """The whole track chunk now; ``sounding`` notes, ``(channel, pitch, start,
        velocity)``, end at ``now`` (seconds). Events before the horizon are kept."""
        sounding = list(sounding)
        horizon = min([now - _MARGIN_SECONDS, *(start for _, _, start, _ in sounding)])
        horizon_tick = max(math.floor(horizon * self.scale), 0)
        events = self._events(self._pending, self._controls)
        keep = 0
        while keep < len(events) and events[keep][0] < horizon_tick:
            keep += 1
        self._written_tick = _encode(events[:keep], self._written_tick, self._written)
        for _, order, _, entry in events[:keep]:
            if order == 1 and isinstance(entry, _Entry):
                entry.on_written = True
        self._pending = [e for e in self._pending if e.off >= horizon_tick]
        self._controls = [c for c in self._controls if c.tick >= horizon_tick]
        # The tail: what is still pending, and the sounding notes as if they ended now.
        # Their entries are thrown away: the rule's state must not see them.
        saved = dict(self._last)
        offs = [(e, e.off) for c, p, _, _ in sounding if (e := saved.get((c, p))) is not None]
        tail_entries = list(self._pending)
        for channel, pitch, start, velocity in sounding:
            ending = self._entry(pitch, velocity, start, now, channel)
            if ending is not None:
                tail_entries.append(ending)
        tail = bytearray()
        _encode(self._events(tail_entries, self._controls), self._written_tick, tail)
        for entry, off in offs:
            entry.off = off
        self._last = saved
        head = _meta(0x03, name.encode("latin-1", "replace")) if name is not None else b""
        body = head + bytes(self._written) + bytes(tail) + _END_OF_TRACK
        return b"MTrk" + struct.pack(">I", len(body)) + body

    @staticmethod
    def _events(entries: Sequence[_Entry], controls: Sequence[_Control] = ()) -> list[_Event]:
        """(tick, 0 release / 1 strike, pitch, entry), in file order; a control change
        comes first at its tick (a pedal pressed with a note holds it)."""
        events: list[_Event] = [(c.tick, 0, -1, c) for c in controls]
        for e in entries:
            if not e.on_written:
                events.append((e.on, 1, e.pitch, e))
            events.append((e.off, 0, e.pitch, e))
        events.sort(key=lambda ev: ev[:3])
        return events


def _encode(events: Sequence[_Event], tick: int, out: bytearray) -> int:
    """Append ``events`` to ``out`` with delta times from ``tick``; return the last tick."""
    for at, order, pitch, entry in events:
        out += _varint(at - tick)
        if isinstance(entry, _Control):
            out += bytes((0xB0 | entry.channel, entry.number, entry.value))
        elif order:
            out += bytes((0x90 | entry.channel, pitch, entry.velocity))
        else:
            out += bytes((0x80 | entry.channel, pitch, 0))
        tick = at
    return tick


class MarkerTrack:
    """Markers (meta event 6) for the tempo track, encoded as they come (in time order)."""

    def __init__(self, ticks_per_second: float) -> None:
        self.scale = ticks_per_second
        self.data = bytearray()
        self._tick = 0

    def add(self, text: str, at: float) -> None:
        """A marker ``text`` at ``at`` seconds from the start (never before the last)."""
        tick = max(round(max(at, 0.0) * self.scale), self._tick)
        self.data += _varint(tick - self._tick) + _meta(0x06, text.encode("latin-1", "replace"))[1:]
        self._tick = tick


def midi_file(
    tracks: Sequence[bytes], *, bpm: float, ticks_per_beat: int, markers: bytes = b""
) -> bytes:
    """A type-1 file: a tempo track (``bpm``, 4/4, then ``markers``: the bytes of a
    :class:`MarkerTrack`), then ``tracks`` (encoded chunks)."""
    tempo = round(60_000_000 / bpm)
    meta = _meta(0x51, tempo.to_bytes(3, "big")) + _meta(0x58, bytes((4, 2, 24, 8)))
    meta += markers + _END_OF_TRACK
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks) + 1, ticks_per_beat)
    return header + b"MTrk" + struct.pack(">I", len(meta)) + meta + b"".join(tracks)
