"""Two hands, on a fake clock: the top line heard as melody, the chord heard from both
hands, and the accompaniment under the melody (held, moved, released, never above it)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import mido

from improviser.live.engine.deferred_harmony import DeferredHarmony
from improviser.live.engine.engine import Improviser
from improviser.live.engine.modes.accompany import ACCOMPANY
from improviser.live.events import ChordHeard, Event
from improviser.live.session.recorder import Recorder
from improviser.live.timebase.scheduler import Scheduler
from tests.fakes import FakeClock
from tests.test_live_units import Wire, cc, make, off, on, run_until


class FakeHarmony:
    """Lower voices a fixed distance under the melody; remembers what it heard."""

    def __init__(self, offsets: tuple[int, int, int] = (17, 12, 5)) -> None:
        self.offsets = offsets
        self.heard: list[tuple[str, int, int, int]] = []
        self.settled = 0

    def voice(self, melody: int, metre: int, ioi: int) -> tuple[int, int, int]:
        self.heard.append(("voice", melody, metre, ioi))
        b, t, a = self.offsets
        return (melody - b, melody - t, melody - a)

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        self.heard.append(("hold", melody, metre, ioi))

    def settle(self) -> None:
        self.settled += 1

    def snapshot(self) -> int:
        return len(self.heard)

    def restore(self, state: object) -> None:
        assert isinstance(state, int)
        del self.heard[state:]  # what it heard since is taken back


def accompanist(
    clock: FakeClock, harmony: FakeHarmony | None = None, **options: object
) -> tuple[Improviser, Scheduler, Wire, FakeHarmony, list[Event]]:
    engine, scheduler, wire, _, _ = make(clock, mode="accompany", **options)
    harmony = harmony or FakeHarmony()
    engine.voice.harmony = DeferredHarmony(harmony)  # as the engine wraps a harmony model
    events: list[Event] = []
    engine.bus.observe(events.append)
    return engine, scheduler, wire, harmony, events


def ours(wire: Wire) -> set[int]:
    """Pitches sounding on the improviser's channel (the out channel, 1 -> 0)."""
    return {p for ch, p in wire.sounding if ch == 0}


def test_voices_sound_under_each_melody_note_and_stop_when_the_player_stops(
    clock: FakeClock,
) -> None:
    engine, scheduler, wire, harmony, _ = accompanist(clock, thru=False)
    for pitch in (72, 74, 76):
        engine.handle(on(pitch, clock()))
        scheduler.process_due(clock())
        assert ours(wire) == {pitch - 17, pitch - 12, pitch - 5}
        assert max(ours(wire)) < pitch  # never above the melody
        clock.advance(0.4)
        engine.handle(off(pitch, clock()))
        clock.advance(0.1)  # a detached melody: the voices sustain through the gap
        engine.tick(clock())
        assert ours(wire), "the voices stopped between two melody notes"
    assert [h[0] for h in harmony.heard] == ["voice"] * 3
    run_until(engine, scheduler, clock, clock() + 1.0)
    assert not wire.sounding and not wire.problems
    assert engine.status == "listening"


def test_a_voice_that_keeps_its_pitch_is_held_not_struck_again(clock: FakeClock) -> None:
    engine, _, wire, harmony, _ = accompanist(clock, thru=False)
    harmony.offsets = (12, 7, 3)
    engine.handle(on(72, clock()))
    clock.advance(0.5)
    harmony.offsets = (14, 9, 2)  # bass 60 again under 74: held
    engine.handle(on(74, clock()))
    struck_60 = [t for t, p in wire.ons() if p == 60]
    assert len(struck_60) == 1
    assert ours(wire) == {60, 65, 72}


def test_one_voice_is_the_bass_and_two_are_the_outer_voices(clock: FakeClock) -> None:
    engine, _, wire, _, _ = accompanist(clock, thru=False, accompany_voices=1)
    engine.handle(on(72, clock()))
    assert ours(wire) == {55}
    engine2, _, wire2, _, _ = accompanist(FakeClock(), thru=False, accompany_voices=2)
    engine2.handle(on(72, engine2.now()))
    assert ours(wire2) == {55, 67}


def test_the_left_hand_is_harmony_not_melody(clock: FakeClock) -> None:
    engine, scheduler, wire, harmony, events = accompanist(clock, thru=False)
    engine.handle(on(76, clock()))  # right hand holds E5
    for pitch in (48, 52, 55):  # left hand: C major under it
        clock.advance(0.01)
        engine.handle(on(pitch, clock()))
    engine.settle()
    assert [h[1] for h in harmony.heard] == [76]  # the model heard the top line only
    chords = [e for e in events if isinstance(e, ChordHeard)]
    assert chords and chords[-1].name == "C"
    # a legato step down while the E5 is still held continues the melody
    clock.advance(0.3)
    engine.handle(on(74, clock()))
    assert [h[1] for h in harmony.heard] == [76, 74]
    # the melody released, a key struck inside the held left-hand chord is not melody
    engine.handle(off(76, clock()))
    engine.handle(off(74, clock()))
    engine.handle(on(50, clock()))
    assert [h[1] for h in harmony.heard] == [76, 74]
    for pitch in (76, 48, 50, 52, 55, 74):
        engine.handle(off(pitch, clock()))
    run_until(engine, scheduler, clock, clock() + 1.0)
    assert not wire.sounding


def test_a_chord_struck_with_the_melody_note_is_not_a_legato_step(clock: FakeClock) -> None:
    engine, _, _, harmony, _ = accompanist(clock, thru=False)
    engine.handle(on(76, clock()))  # E5, and within a few ms a C major close under it:
    for pitch in (72, 67, 69):  # each within LEGATO_STEP of the E5, none a melody note
        clock.advance(0.008)
        engine.handle(on(pitch, clock()))
    engine.settle()
    assert [h[1] for h in harmony.heard] == [76]
    clock.advance(0.3)
    engine.handle(off(76, clock()))
    engine.handle(on(77, clock()))  # the melody goes on above the held chord
    assert [h[1] for h in harmony.heard] == [76, 77]


def test_with_melody_line_all_every_note_is_heard(clock: FakeClock) -> None:
    engine, _, _, harmony, _ = accompanist(clock, thru=False, melody_line="all")
    engine.handle(on(76, clock()))
    engine.handle(on(48, clock()))
    assert [h[1] for h in harmony.heard] == [76, 48]


def test_a_lost_release_above_does_not_hide_the_melody_for_long(clock: FakeClock) -> None:
    engine, _, _, harmony, _ = accompanist(clock, thru=False, held_phrase_gap=2.0)
    engine.handle(on(96, clock()))  # its release will be lost
    clock.advance(0.5)
    engine.handle(on(72, clock()))
    assert [h[1] for h in harmony.heard] == [96]
    clock.advance(2.0)
    engine.handle(on(74, clock()))
    assert [h[1] for h in harmony.heard] == [96, 74]


def test_beat_rhythm_strikes_the_voices_again_while_the_melody_holds(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _ = accompanist(
        clock, thru=False, accompany_rhythm="beat", bpm=120.0
    )
    engine.handle(on(72, clock()))
    run_until(engine, scheduler, clock, clock() + 1.6)  # three beats of 0.5 s held
    struck_55 = [t for t, p in wire.ons() if p == 55]
    assert len(struck_55) == 4
    assert not wire.problems


def test_bar_rhythm_holds_the_voices_within_a_bar(clock: FakeClock) -> None:
    engine, _, wire, harmony, _ = accompanist(clock, thru=False, accompany_rhythm="bar")
    for pitch in (72, 74, 76, 77):  # four quarter notes at 120 bpm: one bar
        engine.handle(on(pitch, clock()))
        clock.advance(0.5)
    engine.settle()  # the holds wait for the pause after a note, as in a session
    assert [h[0] for h in harmony.heard] == ["voice", "hold", "hold", "hold"]
    assert ours(wire) == {55, 60, 67}
    engine.handle(on(79, clock()))  # the next bar moves them
    assert harmony.heard[-1][0] == "voice"
    assert ours(wire) == {62, 67, 74}


def test_bar_rhythm_moves_a_voice_the_melody_falls_below(clock: FakeClock) -> None:
    engine, _, wire, harmony, _ = accompanist(clock, thru=False, accompany_rhythm="bar")
    engine.handle(on(79, clock()))
    clock.advance(0.5)
    engine.handle(on(70, clock()))  # below the alto (74) kept from 79: they move
    assert harmony.heard[-1][0] == "voice"
    assert max(ours(wire)) < 70


def test_mute_and_panic_silence_the_voices_and_the_model_keeps_listening(
    clock: FakeClock,
) -> None:
    engine, _, wire, harmony, _ = accompanist(clock, thru=False)
    engine.handle(on(72, clock()))
    engine.controls.apply("mute", True, clock())
    assert not ours(wire)
    clock.advance(0.5)
    engine.handle(on(74, clock()))
    assert not ours(wire)
    engine.settle()
    assert harmony.heard[-1][0:2] == ("hold", 74)
    engine.controls.apply("mute", False, clock())
    clock.advance(0.5)
    engine.handle(on(76, clock()))
    assert ours(wire)
    engine.controls.apply("panic", None, clock())
    assert not wire.sounding


def test_a_cluster_both_hands_crossing_and_a_flood_leave_nothing_sounding(
    clock: FakeClock,
) -> None:
    engine, scheduler, wire, _, _ = accompanist(clock, thru=False)
    for pitch in range(60, 70):  # a 10-note cluster
        engine.handle(on(pitch, clock()))
    for pitch in range(60, 70):
        engine.handle(off(pitch, clock()))
    for i in range(2000):  # a flood of chords, hands crossing
        t = clock.advance(0.002)
        chord = (40 + i % 30, 64 + (i * 7) % 20, 50 + (i * 5) % 30)
        for p in chord:
            engine.handle(on(p, t))
        for p in chord:
            engine.handle(off(p, t + 0.001))
    engine.settle()
    assert len(engine.ear.pitches(clock(), 0.5)) <= 40
    run_until(engine, scheduler, clock, clock() + 5.0)  # past max_note_seconds
    assert not wire.sounding and not wire.problems
    assert scheduler.pending(ACCOMPANY) == 0
    # and it answers after
    engine.handle(on(72, clock()))
    assert ours(wire)
    # what waits is the sounding voices' capped releases, none left from the flood
    assert scheduler.pending(ACCOMPANY) == len(ours(wire))


def test_the_chords_heard_are_markers_in_the_recording(clock: FakeClock, tmp_path: Path) -> None:
    engine, _, _, _, _ = accompanist(clock, thru=False)
    recorder = Recorder(tmp_path / "take.mid", start=clock(), now=clock)
    engine.bus.observe(recorder.observe)
    clock.advance(1.0)
    for pitch in (48, 52, 55, 76):
        engine.handle(on(pitch, clock()))
    engine.settle()
    clock.advance(1.0)
    for pitch in (48, 52, 55, 76):
        engine.handle(off(pitch, clock()))
    for pitch in (50, 53, 57, 74):
        engine.handle(on(pitch, clock()))
    engine.settle()
    assert engine.chord == "Dm"
    data = recorder.encode(clock.advance(1.0))
    midi = mido.MidiFile(file=io.BytesIO(data))
    markers, t = [], 0
    for msg in midi.tracks[0]:
        t += msg.time
        if msg.type == "marker":
            markers.append((msg.text, round(t / midi.ticks_per_beat * 0.5, 2)))
    assert markers == [("chord C", 1.0), ("chord Dm", 2.0)]
    assert len(midi.tracks) == 3 and sum(m.type == "note_on" for m in midi.tracks[1]) == 8


def test_voices_and_rhythm_are_controls_and_mode_switches_to_accompany(clock: FakeClock) -> None:
    engine, _, wire, _, _ = accompanist(clock, thru=False)
    engine.handle(on(72, clock()))
    assert len(ours(wire)) == 3
    engine.controls.apply("accompany_voices", 1, clock())
    clock.advance(0.5)
    engine.handle(on(74, clock()))
    assert ours(wire) == {57}
    engine.controls.apply("mode", "call-response", clock())
    assert not wire.sounding  # leaving the mode releases its voices
    engine.controls.apply("mode", "accompany", clock())
    clock.advance(0.5)
    engine.handle(on(76, clock()))
    assert ours(wire) == {59}


def test_a_held_pedal_under_a_run_keeps_the_voices_until_it_is_lifted(clock: FakeClock) -> None:
    engine, scheduler, wire, harmony, _ = accompanist(clock, thru=False, accompany_release=0.3)
    engine.handle(cc(64, 127, clock()))  # sustain down
    for pitch in (72, 74, 76, 77, 79, 81, 83, 84):  # a run, each key let go at once
        engine.handle(on(pitch, clock()))
        clock.advance(0.05)
        engine.handle(off(pitch, clock()))
        clock.advance(0.05)
    assert len(harmony.heard) == 8
    run_until(engine, scheduler, clock, clock() + 1.0)
    assert ours(wire) == {84 - 17, 84 - 12, 84 - 5}  # the pedal holds them
    engine.handle(cc(64, 0, clock()))  # pedal up: released accompany_release later
    run_until(engine, scheduler, clock, clock() + 0.2)
    assert ours(wire)
    run_until(engine, scheduler, clock, clock() + 0.3)
    assert not wire.sounding and not wire.problems


def test_no_voice_sounds_past_max_note_seconds(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _ = accompanist(clock, thru=False, max_note_seconds=1.0)
    engine.handle(on(72, clock()))  # held, its release never comes
    run_until(engine, scheduler, clock, clock() + 0.9)
    assert len(ours(wire)) == 3
    run_until(engine, scheduler, clock, clock() + 0.2)
    assert not ours(wire) and not wire.problems
    assert engine.status == "listening"  # the mode knows its voices were cut
    engine.handle(off(72, clock()))
    clock.advance(0.1)
    engine.handle(on(72, clock()))  # the same voices as before the cut: struck again
    assert ours(wire) == {55, 60, 67}
