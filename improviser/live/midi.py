"""Raw MIDI messages as the live side sees them: parsed once, in the input callback.

The callback must return at once, so parsing is a few integer tests: real-time bytes
(clock, active sensing), system messages and sysex are dropped there, and a channel
message becomes a small immutable :class:`InMessage` stamped with the arrival time.
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

SUSTAIN = 64
ALL_SOUND_OFF = 120
ALL_NOTES_OFF = 123


class Kind(IntEnum):
    """What an incoming message does."""

    NOTE_ON = 0
    NOTE_OFF = 1
    CONTROL = 2


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
        return None  # sysex, clock, active sensing, program change, aftertouch
    status, d1, d2 = data[0], data[1], data[2]
    if status < 0x80 or status >= 0xF0 or d1 > 127 or d2 > 127:
        return None
    kind = status & 0xF0
    channel = status & 0x0F
    if kind == 0x90:
        return InMessage(Kind.NOTE_ON if d2 else Kind.NOTE_OFF, channel, d1, d2, time)
    if kind == 0x80:
        return InMessage(Kind.NOTE_OFF, channel, d1, d2, time)
    if kind == 0xB0:
        return InMessage(Kind.CONTROL, channel, d1, d2, time)
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
