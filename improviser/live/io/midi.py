"""Raw MIDI messages as the live side sees them: parsed once, in the input callback.

The callback must return at once, so parsing is a few integer tests: active sensing,
other system messages and sysex are dropped there, and a channel message becomes a small
immutable :class:`InMessage` stamped with the arrival time. MIDI clock (tick, start,
continue, stop, song position) becomes a :data:`Kind.SYNC` message when the input asks
for it (``--sync clock``; otherwise RtMidi filters the ticks out before they arrive).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import NamedTuple

__all__ = [
    "ALL_NOTES_OFF",
    "ALL_SOUND_OFF",
    "SUSTAIN",
    "InMessage",
    "Kind",
    "control_change",
    "note_off",
    "note_on",
    "parse",
    "program_change",
]

_CLOCK_BYTES = frozenset((0xF8, 0xFA, 0xFB, 0xFC))
_SONG_POSITION = 0xF2
SUSTAIN = 64
ALL_SOUND_OFF = 120
ALL_NOTES_OFF = 123


class Kind(IntEnum):
    """What an incoming message does."""

    NOTE_ON = 0
    NOTE_OFF = 1
    CONTROL = 2
    SYNC = 3
    """MIDI clock: ``data1`` is the status byte (0xF8 tick, 0xFA start, 0xFB continue,
    0xFC stop, 0xF2 song position), ``data2`` the song position in 16ths."""


class InMessage(NamedTuple):
    """One parsed incoming message. ``channel`` is 0..15; ``time`` is the arrival time."""

    kind: Kind
    channel: int
    data1: int
    """Pitch for notes, controller number for CCs."""
    data2: int
    """Velocity for notes, value for CCs."""
    time: float


def parse(data: Sequence[int], time: float) -> InMessage | None:
    """Parse one message from rtmidi; ``None`` for what the live engine ignores."""
    if len(data) != 3:
        return _parse_clock(data, time)  # or sysex, active sensing, program change...
    status, d1, d2 = data[0], data[1], data[2]
    if status < 0x80 or status >= 0xF0 or d1 > 127 or d2 > 127:
        return _parse_clock(data, time)
    kind = status & 0xF0
    channel = status & 0x0F
    if kind == 0x90:
        return InMessage(Kind.NOTE_ON if d2 else Kind.NOTE_OFF, channel, d1, d2, time)
    if kind == 0x80:
        return InMessage(Kind.NOTE_OFF, channel, d1, d2, time)
    if kind == 0xB0:
        return InMessage(Kind.CONTROL, channel, d1, d2, time)
    return None


def _parse_clock(data: Sequence[int], time: float) -> InMessage | None:
    """A MIDI clock message (tick, start, continue, stop, song position), else ``None``."""
    if len(data) == 1 and data[0] in _CLOCK_BYTES:
        return InMessage(Kind.SYNC, 0, data[0], 0, time)
    if len(data) == 3 and data[0] == _SONG_POSITION and max(data[1], data[2]) <= 127:
        return InMessage(Kind.SYNC, 0, data[0], data[1] | (data[2] << 7), time)
    return None


def note_on(channel: int, pitch: int, velocity: int) -> list[int]:
    """The bytes of a ``note_on`` (velocity clamped to 1..127)."""
    return [0x90 | channel, pitch, min(max(velocity, 1), 127)]


def note_off(channel: int, pitch: int) -> list[int]:
    """The bytes of a ``note_off`` (a real note-off, velocity 0)."""
    return [0x80 | channel, pitch, 0]


def control_change(channel: int, control: int, value: int) -> list[int]:
    """The bytes of a control change."""
    return [0xB0 | channel, control, value]


def program_change(channel: int, program: int) -> list[int]:
    """The bytes of a program change (``program`` 0..127)."""
    return [0xC0 | channel, program]
