"""A chord struck a few milliseconds before the melody note on top of it, on a fake clock:
the melody model hears the melody note once, in the chord tones' place, not each chord
tone as a note of the line."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from improviser.live.engine.deferred_harmony import DeferredHarmony
from improviser.live.engine.engine import Improviser
from improviser.live.engine.player import CHORD_SPREAD
from improviser.music.encoding import duration_class
from improviser.music.listener import Listener, ListenParams
from tests.fakes import FakeClock
from tests.test_accompany import FakeHarmony
from tests.test_live_units import Wire, make, off, on


def strike(
    clock: FakeClock, engine: Improviser, pitches: list[int], spread: float, pauses: bool = False
) -> None:
    """Strike ``pitches`` in this order, ``spread`` seconds apart; ``pauses``: the engine
    settles after each key, as the session does when no message waits."""
    for i, pitch in enumerate(pitches):
        if i:
            clock.advance(spread)
        engine.handle(on(pitch, clock()))
        if pauses:
            engine.settle()


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


# --- the answer modes: one onset for the chord and its melody note -----------------------------
class VoicedHarmony(FakeHarmony):
    """Remembers the voices under each melody note it held, too."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[int, tuple[int, ...]]] = []

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        super().hold(melody, metre, ioi, voices)
        self.held.append((melody, tuple(voices)))

    def restore(self, state: object) -> None:
        super().restore(state)
        holds = sum(1 for h in self.heard if h[0] == "hold")
        del self.held[holds:]


def with_harmony(
    clock: FakeClock, mode: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Improviser, Wire, VoicedHarmony, list[float]]:
    """An engine whose harmony model is recorded (wrapped as the engine wraps one) and
    whose beat tracker's onsets are counted."""
    engine, _, wire, _, _ = make(clock, mode=mode, thru=False)
    harmony = VoicedHarmony()
    engine.voice.harmony = DeferredHarmony(harmony)
    onsets: list[float] = []
    monkeypatch.setattr(engine.voice.timing, "onset", lambda at, *_, **__: onsets.append(at))
    return engine, wire, harmony, onsets


@pytest.mark.parametrize("pauses", [False, True])
def test_call_response_hears_the_chord_and_its_melody_note_as_one_onset(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, pauses: bool
) -> None:
    """The harmony model hears the melody note over the chord tones, once; the beat one
    onset. ``pauses``: the session settles between the keys (a pause of 8 ms is one), so
    the chord tone's hold was heard already and is taken back."""
    engine, _, harmony, onsets = with_harmony(clock, "call-response", monkeypatch)
    strike(clock, engine, [48, 55, 72], 0.008, pauses)
    engine.settle()
    assert harmony.held == [(72, (48, 0, 55))]
    assert len(onsets) <= 1  # the first onset has no IOI to hear: nothing, or one
    clock.advance(0.4)
    engine.handle(on(74, clock()))
    engine.settle()
    assert [m for m, _ in harmony.held] == [72, 74]
    assert onsets[-1] == clock()  # the next melody note is an onset of its own


@pytest.mark.parametrize("pauses", [False, True])
def test_accompany_voices_the_melody_note_not_the_chord_tone_struck_before_it(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, pauses: bool
) -> None:
    engine, wire, harmony, onsets = with_harmony(clock, "accompany", monkeypatch)
    strike(clock, engine, [48, 60, 72], 0.008, pauses)
    # the model drew the voices under 72 once (those under 48 and 60 taken back)
    assert harmony.heard == [("voice", 72, harmony.heard[0][2], harmony.heard[0][3])]
    assert {p for (_, p) in wire.sounding} == {55, 60, 67}  # 72 less 17, 12 and 5
    assert len(onsets) == 1  # the beat heard the chord's onset once


def test_follow_plays_one_note_for_the_chord_and_its_melody_note(clock: FakeClock) -> None:
    engine, _, wire, _, _ = make(clock, mode="follow", thru=False)
    strike(clock, engine, [48, 55, 72], 0.008)
    assert len(wire.ons()) == 1
    clock.advance(0.5)
    engine.handle(on(74, clock()))
    assert len(wire.ons()) == 2
