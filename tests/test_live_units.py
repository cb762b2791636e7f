"""Fast unit tests of the live side: fake clock, fake model, no ports, no sleeps."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import mido
import numpy as np
import numpy.typing as npt
import pytest
from pydantic import ValidationError

from improviser.config.live import LiveConfig
from improviser.inference import NumpyEngine, random_weights
from improviser.live.engine.engine import Improviser
from improviser.live.events import AnswerNote, EventBus
from improviser.live.io.midi import InMessage, Kind, parse
from improviser.live.io.ports import MidiInput
from improviser.live.session.recorder import PARTS, Recorder
from improviser.live.session.stats import SessionStats
from improviser.live.timebase.scheduler import Scheduler
from improviser.music.encoding import Distribution, Token
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import to_midifile
from improviser.music.notes import Note
from tests.fakes import FakeClock, StepUpModel


class Wire:
    """An output port that records what was sent and tracks sounding notes strictly."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, list[int]]] = []
        self.sounding: set[tuple[int, int]] = set()
        self.problems: list[str] = []

    def __call__(self, data: Sequence[int]) -> None:
        msg = list(data)
        self.sent.append((self.clock(), msg))
        kind, channel = msg[0] & 0xF0, msg[0] & 0x0F
        if kind == 0x90 and msg[2] > 0:
            if (channel, msg[1]) in self.sounding:
                self.problems.append(f"note_on {msg[1]} while sounding")
            self.sounding.add((channel, msg[1]))
        elif kind in (0x80, 0x90):
            self.sounding.discard((channel, msg[1]))

    def ons(self) -> list[tuple[float, int]]:
        return [(t, m[1]) for t, m in self.sent if m[0] & 0xF0 == 0x90 and m[2] > 0]

    def controls(self) -> list[list[int]]:
        return [m for _, m in self.sent if m[0] & 0xF0 == 0xB0]


def on(pitch: int, t: float, velocity: int = 80, channel: int = 0) -> InMessage:
    return InMessage(Kind.NOTE_ON, channel, pitch, velocity, t)


def off(pitch: int, t: float, channel: int = 0) -> InMessage:
    return InMessage(Kind.NOTE_OFF, channel, pitch, 0, t)


def cc(number: int, value: int, t: float, channel: int = 0) -> InMessage:
    return InMessage(Kind.CONTROL, channel, number, value, t)


def wire_up(
    config: LiveConfig, model: object, scheduler: Scheduler, clock: FakeClock
) -> tuple[Improviser, SessionStats]:
    """An engine wired as a session wires it: events to stats (the engine itself tells the
    guard and the events what the scheduler sent)."""
    bus = EventBus()
    stats = SessionStats()
    bus.observe(stats.observe)
    engine = Improviser(config, model, scheduler, now=clock, bus=bus)  # type: ignore[arg-type]
    return engine, stats


def make(
    clock: FakeClock, model: StepUpModel | None = None, **options: object
) -> tuple[Improviser, Scheduler, Wire, StepUpModel, SessionStats]:
    base = {"bpm": 120.0, "phrase_gap": 0.5, "sampling": {"seed": 1}}
    base |= {"answer_start": "now", "rhythm_strength": 0.0}  # the timing tests change these
    config = LiveConfig(**{**base, **options})  # type: ignore[arg-type]
    wire = Wire(clock)
    scheduler = Scheduler(wire, clock, max_note_seconds=config.max_note_seconds)
    model = model or StepUpModel()
    engine, stats = wire_up(config, model, scheduler, clock)
    return engine, scheduler, wire, model, stats


def play(engine: Improviser, clock: FakeClock, pitches: Sequence[int], step: float = 0.25) -> None:
    """Play a legato phrase: each note held for most of ``step``."""
    for pitch in pitches:
        engine.handle(on(pitch, clock()))
        clock.advance(step * 0.8)
        engine.handle(off(pitch, clock()))
        clock.advance(step * 0.2)


def run_until(
    engine: Improviser, scheduler: Scheduler, clock: FakeClock, end: float, dt: float = 0.01
) -> None:
    while clock() < end:
        clock.advance(dt)
        scheduler.process_due(clock())
        engine.tick(clock())


# --- parsing --------------------------------------------------------------------------------
def test_parse_reads_clock_drops_sensing_and_sysex_and_reads_velocity_zero_as_off() -> None:
    assert parse([0xF8], 1.0) == InMessage(Kind.SYNC, 0, 0xF8, 0, 1.0)
    assert parse([0xF2, 0x10, 0x01], 1.0) == InMessage(Kind.SYNC, 0, 0xF2, 0x90, 1.0)
    assert parse([0xFE], 1.0) is None
    assert parse([0xF0, 1, 2, 0xF7], 1.0) is None
    assert parse([0xC0, 5], 1.0) is None
    assert parse([0x93, 60, 0], 2.0) == InMessage(Kind.NOTE_OFF, 3, 60, 0, 2.0)
    assert parse([0x90, 60, 10], 2.0) == InMessage(Kind.NOTE_ON, 0, 60, 10, 2.0)
    assert parse([0xB1, 64, 127], 2.0) == InMessage(Kind.CONTROL, 1, 64, 127, 2.0)


class StubMidiIn:
    """What :class:`MidiInput` asks of a new RtMidi client before its port opens."""

    def ignore_types(self, **_: bool) -> None:
        pass

    def set_callback(self, _callback: object) -> None:
        pass


def test_a_reopened_input_times_clock_ticks_afresh(clock: FakeClock) -> None:
    got: list[InMessage] = []
    port = MidiInput(0, "t", "drum", False, on_message=got.append, clock=clock, timing=True)
    port._open_on(StubMidiIn())
    port._callback(([0xF8], 0.0))
    clock.advance(0.02)
    port._callback(([0xF8], 0.02))  # RtMidi's delta time since the last message
    clock.advance(5.0)  # the port is gone for 5 s, then opened again by a new client,
    port._open_on(StubMidiIn())  # whose first delta time is 0
    port._callback(([0xF8], 0.0))
    clock.advance(0.02)
    port._callback(([0xF8], 0.02))
    assert [m.time for m in got] == pytest.approx([100.0, 100.02, 105.02, 105.04])


# --- settings -------------------------------------------------------------------------------
def test_config_rejects_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="extra"):
        LiveConfig(nonsense=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="min_pitch"):
        LiveConfig(sampling={"min_pitch": 90, "max_pitch": 80})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="own CC"):
        LiveConfig(cc_panic=20, cc_mute=20)
    with pytest.raises(ValidationError):
        LiveConfig(out_channel=0)
    assert LiveConfig(cc_panic=20).control_map() == {20: "panic"}
    with pytest.raises(ValidationError, match="needs engine 'tf' or 'auto'"):
        LiveConfig(engine="numpy", device="gpu")
    with pytest.raises(ValidationError):
        LiveConfig(engine="onnx")  # type: ignore[arg-type]


# --- scheduler ------------------------------------------------------------------------------
def test_scheduler_pairs_every_note_and_restrikes_cleanly(clock: FakeClock) -> None:
    wire = Wire(clock)
    s = Scheduler(wire, clock, max_note_seconds=1.0)
    t = clock()
    s.note(0, 60, 100, at=t + 0.1, duration=0.5, tag="a")
    s.note(0, 60, 100, at=t + 0.3, duration=0.5, tag="a")  # re-struck while sounding
    s.note(0, 64, 100, at=t + 0.2, duration=30.0, tag="a")  # capped at 1 s
    while s.next_due() is not None:
        clock.t = s.next_due()  # type: ignore[assignment]
        s.process_due(clock())
    assert wire.problems == []
    assert wire.sounding == set()
    offs = {(round(tt - t, 3), m[1]) for tt, m in wire.sent if m[0] & 0xF0 == 0x80}
    assert (0.3, 60) in offs  # released before the re-strike
    assert (0.8, 60) in offs  # the second note's own release; the first's stale one ignored
    assert (1.2, 64) in offs  # capped


def test_cancel_and_panic_release_everything(clock: FakeClock) -> None:
    wire = Wire(clock)
    s = Scheduler(wire, clock)
    s.note(2, 60, 100, at=clock(), duration=1.0, tag="a")
    s.note(2, 62, 100, at=clock() + 0.5, duration=1.0, tag="a")
    s.play_now(0, 40, 90, "thru")
    s.process_due(clock())
    assert wire.sounding == {(2, 60), (0, 40)}
    s.cancel("a")
    assert wire.sounding == {(0, 40)}
    assert s.pending("a") == 0
    s.panic()
    assert wire.sounding == set()
    controls = wire.controls()
    assert [0xB0, 123, 0] in controls and [0xB2, 123, 0] in controls
    assert [0xB0, 120, 0] in controls and [0xB2, 120, 0] in controls


# --- call and response ------------------------------------------------------------------------
def test_phrase_gets_an_answer_and_every_note_is_released(clock: FakeClock) -> None:
    engine, scheduler, wire, _, stats = make(clock, answer_length="notes", answer_notes=4)
    play(engine, clock, [60, 62, 64])
    assert engine.next_deadline() == pytest.approx(clock() - 0.05 + 0.5)
    assert wire.ons() == []
    run_until(engine, scheduler, clock, clock() + 0.6)
    assert engine.status == "answering"
    run_until(engine, scheduler, clock, clock() + 3.0)
    assert engine.status == "listening"
    assert [p for _, p in wire.ons()] == [66, 68, 70, 72]
    assert wire.sounding == set() and wire.problems == []
    assert stats.phrases == 1 and len(stats.response_times) == 1
    ons = [t for t, _ in wire.ons()]
    assert ons[1] - ons[0] == pytest.approx(0.25, abs=0.011)  # an eighth at 120 bpm


def test_generation_does_not_corrupt_the_listening_state(clock: FakeClock) -> None:
    engine, scheduler, _, model, _stats = make(
        clock, answer_length="notes", answer_notes=3, context_includes_answer=False
    )
    play(engine, clock, [60, 62, 64])
    heard = [t.pitch for t in model.seen]
    run_until(engine, scheduler, clock, clock() + 3.0)
    assert model.steps > len(heard)  # it did generate
    assert [t.pitch for t in model.seen] == heard


def test_answer_enters_the_context_up_to_the_note_played(clock: FakeClock) -> None:
    engine, scheduler, wire, model, stats = make(clock, answer_length="notes", answer_notes=4)
    play(engine, clock, [60, 62])
    run_until(engine, scheduler, clock, clock() + 0.5 + 0.3)  # two answer notes sent
    assert [p for _, p in wire.ons()] == [64, 66]
    engine.handle(on(50, clock()))  # the player comes back in: the answer stops
    assert wire.sounding == {(0, 50)} - {(0, 50)}  # thru is off: nothing sounds
    assert stats.interrupted == 1
    assert [t.pitch for t in model.seen] == [60, 62, 64, 66, 50]
    assert scheduler.pending("answer-1") == 0


def test_interrupt_can_be_turned_off(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _stats = make(
        clock, answer_length="notes", answer_notes=4, interrupt=False
    )
    play(engine, clock, [60, 62])
    run_until(engine, scheduler, clock, clock() + 0.8)
    engine.handle(on(50, clock()))
    run_until(engine, scheduler, clock, clock() + 3.0)
    assert len(wire.ons()) == 4 and wire.sounding == set()


def test_sustain_pedal_holds_the_phrase(clock: FakeClock) -> None:
    engine, scheduler, _, _, stats = make(clock)
    engine.handle(cc(64, 127, clock()))
    play(engine, clock, [60, 62])
    run_until(engine, scheduler, clock, clock() + 2.0)
    assert stats.phrases == 0
    engine.handle(cc(64, 0, clock()))
    run_until(engine, scheduler, clock, clock() + 0.6)
    assert stats.phrases == 1


def test_note_length_is_capped(clock: FakeClock) -> None:
    model = StepUpModel(duration_beats=8.0, ioi_beats=8.0)  # 4 s notes at 120 bpm
    engine, scheduler, wire, _, _stats = make(
        clock, model, answer_length="notes", answer_notes=2, max_note_seconds=0.5
    )
    play(engine, clock, [60])
    run_until(engine, scheduler, clock, clock() + 12.0)
    sounding: dict[int, float] = {}
    lengths = []
    for t, m in wire.sent:
        if m[0] & 0xF0 == 0x90:
            sounding[m[1]] = t
        elif m[0] & 0xF0 == 0x80:
            lengths.append(t - sounding.pop(m[1]))
    assert len(lengths) == 2 and max(lengths) <= 0.5 + 1e-9


def test_feedback_guard_ignores_our_own_echoes(clock: FakeClock) -> None:
    engine, scheduler, wire, _, stats = make(clock, answer_length="notes", answer_notes=2)
    play(engine, clock, [60])
    run_until(engine, scheduler, clock, clock() + 0.52)
    (sent_at, pitch), *_ = wire.ons()
    engine.handle(on(pitch, sent_at + 0.003))  # the synth echoed it back
    engine.handle(off(pitch, sent_at + 0.1))
    assert engine.guard.echoes == 1
    assert stats.notes_in == 1 and stats.interrupted == 0
    engine.handle(on(pitch, clock() + 1.0))  # the same pitch much later is the player
    assert stats.notes_in == 2


def test_follow_mode_answers_each_note(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _stats = make(clock, mode="follow", follow_delay=0.0)
    play(engine, clock, [60, 65])
    assert [p for _, p in wire.ons()] == [62, 67]
    run_until(engine, scheduler, clock, clock() + 1.0)
    delayed, s2, wire2, _, stats2 = make(clock, mode="follow", follow_delay=0.1)
    delayed.handle(on(60, clock()))
    assert wire2.ons() == []
    run_until(delayed, s2, clock, clock() + 0.2)
    assert [p for _, p in wire2.ons()] == [62]
    run_until(delayed, s2, clock, clock() + 1.0)
    assert wire.sounding == set() and wire2.sounding == set()
    assert stats2.phrases == 0


class StepOnly:
    """A NumPy engine seen only through :class:`StepModel` (no ``step_probs``)."""

    def __init__(self, engine: NumpyEngine) -> None:
        self.engine = engine

    def reset(self) -> None:
        self.engine.reset()

    def step(self, token: Token) -> Distribution:
        return self.engine.step(token)

    def snapshot(self) -> object:
        return self.engine.snapshot()

    def restore(self, state: object) -> None:
        self.engine.restore(state)


class CountingEngine(NumpyEngine):
    """A NumPy engine that counts which of its step methods the live engine calls."""

    probs_calls = 0
    step_calls = 0

    def step_probs(self, token: Sequence[int]) -> npt.NDArray[np.float64]:
        self.probs_calls += 1
        return super().step_probs(token)

    def step(self, token: Sequence[int]) -> Distribution:
        self.step_calls += 1
        return super().step(token)


@pytest.mark.parametrize("mode", ["follow", "call-response"])
def test_fast_path_plays_the_same_notes_as_the_step_protocol(clock: FakeClock, mode: str) -> None:
    played = []
    fast = CountingEngine(random_weights((16, 8), seed=2))
    for model in (fast, StepOnly(NumpyEngine(random_weights((16, 8), seed=2)))):
        options = {"sampling": {"seed": 1}, "mode": mode, "answer_start": "now"}
        config = LiveConfig(bpm=120.0, phrase_gap=0.5, **options)  # type: ignore[arg-type]
        wire = Wire(clock)
        scheduler = Scheduler(wire, clock)
        engine, _ = wire_up(config, model, scheduler, clock)
        play(engine, clock, [60, 62, 64, 65, 67])
        run_until(engine, scheduler, clock, clock() + 6.0)
        played.append([p for _, p in wire.ons()])
        assert wire.sounding == set()
    assert played[0] == played[1] and len(played[0]) >= 2
    assert fast.probs_calls > 0 and fast.step_calls == 0  # the padded array, no Distribution


def test_controls_panic_mute_temperature_and_end_call(clock: FakeClock) -> None:
    engine, scheduler, wire, _, stats = make(
        clock, cc_panic=20, cc_mute=21, cc_temperature=22, cc_end_call=23, thru=True,
        answer_length="notes", answer_notes=8,
    )  # fmt: skip
    engine.handle(cc(22, 127, clock()))
    assert engine.params.temperature == pytest.approx(2.0)
    engine.handle(on(60, clock()))
    engine.handle(cc(23, 127, clock()))  # end the call now, key still down
    assert engine.status == "answering"
    engine.handle(cc(20, 127, clock()))  # panic
    assert wire.sounding == set()
    assert [0xB0, 123, 0] in wire.controls()
    engine.handle(off(60, clock()))
    engine.handle(cc(21, 127, clock()))  # mute
    play(engine, clock, [62])
    run_until(engine, scheduler, clock, clock() + 2.0)
    assert engine.status == "muted" and stats.answers == 1


def test_input_channel_filter_and_thru(clock: FakeClock) -> None:
    engine, _, wire, _, stats = make(clock, in_channel=2, thru=True)
    engine.handle(on(60, clock(), channel=0))
    assert stats.notes_in == 0
    engine.handle(on(61, clock(), channel=1))
    assert wire.sounding == {(1, 61)}
    engine.handle(off(61, clock(), channel=1))
    assert wire.sounding == set()


def test_port_loss_releases_and_waits(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _stats = make(
        clock, thru=True, answer_length="notes", answer_notes=8
    )
    play(engine, clock, [60])
    run_until(engine, scheduler, clock, clock() + 0.6)
    engine.handle(on(40, clock()))  # interrupts; thru sounds
    engine.port_lost("input", clock())
    assert engine.status == "waiting for port"
    assert wire.sounding == set()
    engine.port_back("input")
    assert engine.status == "listening"


def test_a_lost_clock_port_stops_nothing(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _stats = make(clock, answer_length="notes", answer_notes=8)
    play(engine, clock, [60])
    run_until(engine, scheduler, clock, clock() + 0.6)
    assert engine.status == "answering"
    heard = len(wire.ons())
    engine.port_lost("clock", clock())  # its ticks stop; the tempo falls back on its own
    assert engine.status == "answering" and engine.voice.can_play()
    run_until(engine, scheduler, clock, clock() + 4.0)
    assert len(wire.ons()) == 8 > heard  # the answer played on to its end
    assert engine.status == "listening" and wire.sounding == set() and wire.problems == []
    engine.port_back("clock")
    assert engine.voice.ports_missing == set()


# --- recorder -------------------------------------------------------------------------------
async def test_recorder_writes_both_parts_and_ends_sounding_notes(
    clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "take.mid"
    rec = Recorder(path, start=clock(), now=clock, bpm=120.0)
    rec.note_on("player", 0, 60, 90, clock() + 0.5)
    rec.note_off("player", 0, 60, clock() + 1.0)
    rec.observe(AnswerNote(clock() + 1.5, 1, 67, 80, "answer-1"))
    rec.observe(AnswerNote(clock() + 1.5, 1, 50, 80, "thru"))  # the player's echo: not ours
    clock.advance(2.5)
    await rec.flush()
    score = read_midi(path)
    assert score.tracks == 3
    by_track = {n.track: n for n in score.notes}
    assert set(by_track) == {1, 2}
    assert by_track[1].start == pytest.approx(0.5, abs=0.01)
    assert by_track[1].duration == pytest.approx(0.5, abs=0.01)
    assert by_track[2].pitch == 67 and by_track[2].duration == pytest.approx(1.0, abs=0.01)


def _messages(data: bytes) -> list[list[tuple[int, str, int, int, int]]]:
    """(absolute tick, type, note, velocity, channel) of each track's notes, in order."""
    mid = mido.MidiFile(file=io.BytesIO(data))
    tracks = []
    for track in mid.tracks:
        tick, out = 0, []
        for msg in track:
            tick += msg.time
            if msg.type in ("note_on", "note_off"):
                out.append((tick, msg.type, msg.note, msg.velocity, msg.channel))
        # File order is (tick, releases first, pitch); the channel breaks no tie there.
        assert out == sorted(out, key=lambda m: (m[0], m[1] == "note_on", m[2]))
        tracks.append(sorted(out, key=lambda m: (m[0], m[1] == "note_on", m[2], m[4])))
    return tracks


class _Take:
    """What a recording should hold, kept the plain way (the recorder keeps only bytes):
    a re-strike ends the note sounding, a release with no note is ignored."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.ended: dict[str, list[Note]] = {name: [] for name in PARTS}
        self.sounding: dict[str, dict[tuple[int, int], tuple[float, int]]] = {
            name: {} for name in PARTS
        }

    def on(self, part: str, channel: int, pitch: int, velocity: int, at: float) -> None:
        self.off(part, channel, pitch, at)
        self.sounding[part][(channel, pitch)] = (at - self.start, velocity)

    def off(self, part: str, channel: int, pitch: int, at: float) -> None:
        begun = self.sounding[part].pop((channel, pitch), None)
        if begun is not None:
            self.ended[part].append(self._note(part, channel, pitch, begun, at))

    def _note(
        self, part: str, channel: int, pitch: int, begun: tuple[float, int], at: float
    ) -> Note:
        start = max(begun[0], 0.0)
        return Note(
            pitch=pitch, velocity=begun[1], start=start,
            duration=max(at - self.start - start, 0.0), channel=channel,
            track=PARTS.index(part) + 1,
        )  # fmt: skip

    def parts(self, at: float) -> list[list[Note]]:
        return [
            self.ended[name]
            + [self._note(name, ch, p, b, at) for (ch, p), b in self.sounding[name].items()]
            for name in PARTS
        ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recorder_bytes_are_to_midifile_s_however_often_it_flushes(
    clock: FakeClock, tmp_path: Path, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    rec = Recorder(tmp_path / "take.mid", start=clock(), now=clock, bpm=100.0)
    take = _Take(clock())
    for _ in range(400):
        clock.advance(float(rng.choice([0.0, 0.0004, 0.01, 0.05, 0.2, 1.5])))
        part = "player" if rng.random() < 0.5 else "improviser"
        pitch, channel = int(rng.integers(60, 66)), int(rng.integers(0, 2))
        if rng.random() < 0.55:  # a strike (a re-strike ends the sounding note first)
            velocity = int(rng.integers(0, 128))
            rec.note_on(part, channel, pitch, velocity, clock())
            take.on(part, channel, pitch, velocity, clock())
        else:
            rec.note_off(part, channel, pitch, clock())
            take.off(part, channel, pitch, clock())
        if rng.random() < 0.1:
            rec.encode(clock())  # a flush freezes what is behind its horizon
            expected = to_midifile(take.parts(clock()), bpm=100.0, time_unit="seconds")
            buffer = io.BytesIO()
            expected.save(file=buffer)
            assert _messages(rec.encode(clock())) == _messages(buffer.getvalue())
    data = rec.encode(clock())
    expected = to_midifile(take.parts(clock()), bpm=100.0, time_unit="seconds", names=PARTS)
    assert rec.counts() == {
        name: len(notes) for name, notes in zip(PARTS, take.parts(clock()), strict=True)
    }
    buffer = io.BytesIO()
    expected.save(file=buffer)
    assert _messages(data) == _messages(buffer.getvalue())
    assert mido.MidiFile(file=io.BytesIO(data)).tracks[1].name == "player"
    assert sum(len(t) for t in _messages(data)) > 200
