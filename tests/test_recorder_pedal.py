"""The recording keeps the player's pedals: each control change at its time in the
player's track, however often the file is flushed (``improviser render`` plays them)."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest

from improviser.live.events import PlayerControl, PlayerNote
from improviser.live.session.recorder import Recorder
from tests.fakes import FakeClock

SUSTAIN = 64


def _player_track(data: bytes) -> list[tuple[float, str, int, int]]:
    """(seconds, type, note or control number, velocity or value) of track 1, in order."""
    mid = mido.MidiFile(file=io.BytesIO(data))
    seconds_per_tick = 0.5 / mid.ticks_per_beat  # the recording's 120 bpm
    tick, out = 0, []
    for msg in mid.tracks[1]:
        tick += msg.time
        if msg.type in ("note_on", "note_off"):
            out.append((round(tick * seconds_per_tick, 3), msg.type, msg.note, msg.velocity))
        elif msg.type == "control_change":
            out.append((round(tick * seconds_per_tick, 3), "cc", msg.control, msg.value))
    return out


@pytest.mark.parametrize("flush_every", [0, 1, 3])
def test_the_pedal_is_recorded_where_it_was_pressed_and_lifted(
    clock: FakeClock, tmp_path: Path, flush_every: int
) -> None:
    start = clock()
    rec = Recorder(tmp_path / "take.mid", start=start, now=clock, bpm=120.0)
    script = [
        (0.5, PlayerNote(start + 0.5, 0, 60, 90)),
        (0.5, PlayerControl(start + 0.5, 0, SUSTAIN, 127)),  # with the note: before it
        (0.9, PlayerNote(start + 0.9, 0, 60, 0)),  # released under the pedal
        (1.0, PlayerControl(start + 1.0, 0, 1, 40)),  # the modulation wheel
        (2.5, PlayerControl(start + 2.5, 0, SUSTAIN, 0)),
        (4.0, PlayerNote(start + 4.0, 0, 62, 80)),
        (4.5, PlayerNote(start + 4.5, 0, 62, 0)),
    ]
    for i, (at, event) in enumerate(script):
        clock.t = start + at
        rec.observe(event)
        if flush_every and i % flush_every == 0:
            rec.encode(clock())  # writes out what lies behind its horizon
    clock.t = start + 6.0
    assert _player_track(rec.encode(clock())) == [
        (0.5, "cc", SUSTAIN, 127),
        (0.5, "note_on", 60, 90),
        (0.9, "note_off", 60, 0),
        (1.0, "cc", 1, 40),
        (2.5, "cc", SUSTAIN, 0),
        (4.0, "note_on", 62, 80),
        (4.5, "note_off", 62, 0),
    ]
