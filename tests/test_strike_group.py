"""A chord struck a few milliseconds before the melody note on top of it, on a fake clock:
the melody model hears the melody note once, in the chord tones' place, not each chord
tone as a note of the line."""

from __future__ import annotations

import pytest

from improviser.live.engine.engine import Improviser
from improviser.live.engine.player import CHORD_SPREAD
from improviser.music.encoding import duration_class
from improviser.music.listener import Listener, ListenParams
from tests.fakes import FakeClock
from tests.test_live_units import make, off, on


def strike(clock: FakeClock, engine: Improviser, pitches: list[int], spread: float) -> None:
    """Strike ``pitches`` in this order, ``spread`` seconds apart."""
    for i, pitch in enumerate(pitches):
        if i:
            clock.advance(spread)
        engine.handle(on(pitch, clock()))


@pytest.mark.parametrize("mode", ["call-response", "accompany", "follow"])
def test_a_chord_struck_just_before_its_melody_note_is_one_step_of_the_melody(
    clock: FakeClock, mode: str
) -> None:
    engine, _, _, model, _ = make(clock, mode=mode, thru=False)
    strike(clock, engine, [48, 52, 55, 72], 0.008)  # C3 E3 G3, then C5 on top, in 24 ms
    assert [t.pitch for t in model.seen] == [72]
    assert [t.pitch for t in engine.context.window] == [72]
    assert engine.context.steps == 1
    assert engine.player.melody is not None and engine.player.melody[0] == 72
    # the melody note's release gives its duration; the chord's releases give none
    clock.advance(0.5)
    engine.handle(off(72, clock()))
    expected = duration_class(0.5 / engine.voice.timing.seconds_per_beat)
    assert engine.context.window[-1].duration == expected
    for pitch in (48, 52, 55):
        engine.handle(off(pitch, clock()))
    assert [t.pitch for t in model.seen] == [72]
    assert engine.context.window[-1].duration == expected
    # the next melody note is a note of its own, timed from the chord's onset
    clock.advance(0.1)
    engine.handle(on(74, clock()))
    assert [t.pitch for t in model.seen] == [72, 74]


def test_every_key_is_a_note_with_melody_line_all(clock: FakeClock) -> None:
    engine, _, _, model, _ = make(clock, thru=False, melody_line="all")
    strike(clock, engine, [48, 52, 55, 72], 0.008)
    assert [t.pitch for t in model.seen] == [48, 52, 55, 72]


def test_a_fast_line_up_is_every_note(clock: FakeClock) -> None:
    """Keys above the held melody note later than the spread are the line's next notes
    (a legato run up), and a key under it is the other hand."""
    engine, _, _, model, _ = make(clock, thru=False)
    strike(clock, engine, [60, 62, 64], CHORD_SPREAD + 0.02)
    clock.advance(0.008)
    engine.handle(on(48, clock()))
    assert [t.pitch for t in model.seen] == [60, 62, 64]


def test_the_spread_counts_from_the_chords_first_key(clock: FakeClock) -> None:
    """A rolled chord slower than the spread: the keys within it are one note, the later
    ones are notes of their own."""
    engine, _, _, model, _ = make(clock, thru=False)
    strike(clock, engine, [48, 55, 64, 72], 0.02)  # 0, 20, 40, 60 ms
    assert [t.pitch for t in model.seen] == [64, 72]


def test_a_chord_tone_released_before_the_melody_note_is_not_replaced(clock: FakeClock) -> None:
    engine, _, _, model, _ = make(clock, thru=False)
    engine.handle(on(60, clock()))
    clock.advance(0.01)
    engine.handle(off(60, clock()))
    clock.advance(0.01)
    engine.handle(on(67, clock()))
    assert [t.pitch for t in model.seen] == [60, 67]


def test_the_listener_hears_the_melody_note_in_the_chord_tones_place() -> None:
    listener = Listener(ListenParams())
    listener.hear(60)
    listener.revise(60, 72)
    listener.settle()
    assert listener.stm.notes == 1  # replaced while queued
    listener.hear(64)
    listener.settle()
    listener.revise(64, 76)  # already taken in: heard as well
    listener.settle()
    assert listener.stm.notes == 3
