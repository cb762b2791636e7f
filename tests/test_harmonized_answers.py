"""Call and response with two hands, on a fake clock: a two-hand call gets a two-hand
answer (its line with lower voices from the harmony model), a one-hand call a line."""

from __future__ import annotations

from collections.abc import Sequence

from improviser.live.engine.deferred_harmony import DeferredHarmony
from improviser.live.engine.engine import Improviser
from improviser.live.events import AnswerEnded, AnswerNote, Event
from improviser.live.timebase.scheduler import Scheduler
from tests.fakes import FakeClock
from tests.test_accompany import FakeHarmony
from tests.test_live_units import Wire, make, off, on, play, run_until


class StatefulHarmony(FakeHarmony):
    """Counts what it heard, so taking back an answer's voices shows."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def voice(self, melody: int, metre: int, ioi: int) -> tuple[int, int, int]:
        self.steps += 1
        return super().voice(melody, metre, ioi)

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        self.steps += 1
        self.held_voices = tuple(voices)
        super().hold(melody, metre, ioi, voices)

    def snapshot(self) -> object:
        return self.steps

    def restore(self, state: object) -> None:
        assert isinstance(state, int)
        self.steps = state


def caller(
    clock: FakeClock, **options: object
) -> tuple[Improviser, Scheduler, Wire, StatefulHarmony, list[Event]]:
    engine, scheduler, wire, _, _ = make(clock, thru=False, **options)
    harmony = StatefulHarmony()
    engine.voice.harmony = DeferredHarmony(harmony)  # as the engine wraps a harmony model
    events: list[Event] = []
    engine.bus.observe(events.append)
    return engine, scheduler, wire, harmony, events


def answer_notes(events: list[Event]) -> dict[str, list[int]]:
    by_tag: dict[str, list[int]] = {}
    for e in events:
        if isinstance(e, AnswerNote) and e.velocity:
            by_tag.setdefault(e.tag, []).append(e.pitch)
    return by_tag


def test_a_one_hand_call_gets_a_line(clock: FakeClock) -> None:
    engine, scheduler, wire, harmony, events = caller(clock)
    play(engine, clock, [72, 74, 76, 77])
    engine.settle()  # as the session does after a note: the model hears the holds waiting
    assert harmony.steps == 4  # the harmony model heard the call
    assert harmony.held_voices == (0, 0, 0)
    run_until(engine, scheduler, clock, clock() + 6.0)
    tags = answer_notes(events)
    assert "answer-1" in tags and not any(t.endswith("/voices") for t in tags)
    assert not wire.sounding


def test_a_legato_line_is_one_hand(clock: FakeClock) -> None:
    """Each note struck before the last is let go: the one still held under the new top
    note is the melody's, not a left hand (no voices, no chord to lean on)."""
    engine, scheduler, _, harmony, events = caller(clock)
    pitches = [72, 74, 76, 77]
    for i, pitch in enumerate(pitches):
        engine.handle(on(pitch, clock()))
        clock.advance(0.1)
        if i:
            engine.handle(off(pitches[i - 1], clock()))
        clock.advance(0.15)
    engine.handle(off(pitches[-1], clock()))
    engine.settle()
    assert harmony.held_voices == (0, 0, 0)
    assert engine.mode._call_keys is None  # type: ignore[attr-defined]
    run_until(engine, scheduler, clock, clock() + 6.0)
    assert not any(t.endswith("/voices") for t in answer_notes(events))


def test_a_two_hand_call_gets_a_two_hand_answer(clock: FakeClock) -> None:
    engine, scheduler, wire, harmony, events = caller(clock)
    engine.handle(on(48, clock()))  # the left hand holds C3 and G3
    engine.handle(on(55, clock()))
    play(engine, clock, [72, 74, 76, 77])
    engine.settle()
    assert harmony.held_voices == (48, 0, 55)
    engine.handle(off(48, clock()))
    engine.handle(off(55, clock()))
    steps_before = harmony.steps
    run_until(engine, scheduler, clock, clock() + 6.0)
    tags = answer_notes(events)
    line, voices = tags["answer-1"], tags["answer-1/voices"]
    assert len(voices) == 2 * len(line)  # bass and alto under every note of the line
    for pitch, (bass, alto) in zip(line, zip(voices[::2], voices[1::2], strict=True), strict=True):
        assert bass == pitch - 17 and alto == pitch - 5
    assert harmony.steps == steps_before  # the answer's voices were taken back
    ended = [e for e in events if isinstance(e, AnswerEnded)]
    assert ended[-1].played == len(line)  # the voices are not counted as the line's notes
    assert not wire.sounding and not wire.problems


def test_four_voices_asked_for_and_an_interrupted_answer_releases_them(clock: FakeClock) -> None:
    engine, scheduler, wire, _, events = caller(clock, answer_voices=4, answer_start="now")
    play(engine, clock, [72, 74, 76, 77])
    run_until(engine, scheduler, clock, clock() + 0.6)
    voices = answer_notes(events)["answer-1/voices"]
    assert len(voices) >= 3
    assert any(p for _, p in wire.sounding)
    engine.handle(on(79, clock()))  # the player comes in: the answer stops
    assert {p for _, p in wire.sounding} == set()
    engine.handle(off(79, clock()))
    run_until(engine, scheduler, clock, clock() + 6.0)
    assert not wire.sounding and not wire.problems


def test_one_voice_is_the_line_alone_even_under_a_two_hand_call(clock: FakeClock) -> None:
    engine, scheduler, _, _, events = caller(clock, answer_voices=1)
    engine.handle(on(48, clock()))
    play(engine, clock, [72, 74, 76])
    engine.handle(off(48, clock()))
    run_until(engine, scheduler, clock, clock() + 6.0)
    assert not any(t.endswith("/voices") for t in answer_notes(events))
