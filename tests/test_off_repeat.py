"""Each note-off sent twice more, a moment and a while later: never cutting a new note,
bounded."""

from __future__ import annotations

import pytest

from improviser.live.timebase.off_repeat import LATER, REPEATS_KEPT, OffRepeat
from improviser.live.timebase.scheduler import Scheduler
from tests.fakes import FakeClock
from tests.test_live_units import Wire


def repeating(clock: FakeClock, delay: float = 0.02) -> tuple[Scheduler, Wire, OffRepeat]:
    wire = Wire(clock)
    scheduler = Scheduler(wire, clock)
    repeat = OffRepeat(scheduler, delay)
    scheduler.listeners.append(repeat)
    scheduler.add_timer(repeat)
    return scheduler, wire, repeat


def offs(wire: Wire, pitch: int) -> list[float]:
    return [
        t
        for t, m in wire.sent
        if m[1] == pitch and (m[0] & 0xF0 == 0x80 or (m[0] & 0xF0 == 0x90 and m[2] == 0))
    ]


def test_a_note_off_is_sent_again_after_the_delay(clock: FakeClock) -> None:
    scheduler, wire, repeat = repeating(clock)
    start = clock()
    scheduler.note(0, 60, 90, at=start, duration=0.5, tag="a")
    scheduler.process_due(clock.advance(0.5))
    assert offs(wire, 60) == [pytest.approx(start + 0.5)]
    assert scheduler.next_due() == pytest.approx(start + 0.52)
    scheduler.process_due(clock.advance(0.01))
    assert len(offs(wire, 60)) == 1
    scheduler.process_due(clock.advance(0.01))
    assert offs(wire, 60) == [pytest.approx(start + 0.5), pytest.approx(start + 0.52)]
    assert repeat.repeated == 1 and scheduler.next_due() == pytest.approx(
        start + 0.5 + LATER * 0.02
    )
    scheduler.process_due(clock.advance(LATER * 0.02))
    assert len(offs(wire, 60)) == 3
    assert repeat.repeated == 2 and scheduler.next_due() is None


def test_a_pitch_struck_again_is_not_cut_by_the_repeat(clock: FakeClock) -> None:
    scheduler, wire, repeat = repeating(clock)
    scheduler.play_now(0, 60, 90, "a")
    scheduler.release(0, 60, "a")
    clock.advance(0.01)
    scheduler.play_now(0, 60, 90, "a")  # struck again before the repeat is due
    scheduler.process_due(clock.advance(0.02))
    assert len(offs(wire, 60)) == 1
    assert (0, 60) in wire.sounding and repeat.repeated == 0
    scheduler.release(0, 60, "a")
    scheduler.process_due(clock.advance(0.03))
    assert len(offs(wire, 60)) == 3 and not wire.sounding
    scheduler.play_now(0, 60, 90, "a")  # sounding when the first release's later repeat
    scheduler.process_due(clock.advance(LATER * 0.02))  # is due: it is not sent
    assert (0, 60) in wire.sounding and len(offs(wire, 60)) == 3


def test_a_cancel_is_repeated_too_and_a_flood_stays_bounded(clock: FakeClock) -> None:
    scheduler, wire, repeat = repeating(clock)
    for pitch in (48, 52, 55):
        scheduler.play_now(1, pitch, 80, "voices")
    scheduler.cancel("voices")
    scheduler.process_due(clock.advance(0.05))
    assert repeat.repeated == 3 and all(len(offs(wire, p)) == 2 for p in (48, 52, 55))
    scheduler.process_due(clock.advance(LATER * 0.02))
    assert repeat.repeated == 6 and all(len(offs(wire, p)) == 3 for p in (48, 52, 55))
    for i in range(3 * REPEATS_KEPT):
        scheduler.play_now(2, i % 128, 80, "flood")
        scheduler.release(2, i % 128, "flood")
    assert [len(r) for r in repeat._rounds] == [REPEATS_KEPT, REPEATS_KEPT]
    scheduler.process_due(clock.advance(LATER * 0.05))
    assert scheduler.next_due() is None


def test_a_delay_must_be_positive(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="delay must be positive"):
        OffRepeat(Scheduler(Wire(clock), clock), 0.0)
