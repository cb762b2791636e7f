"""The live engine's seams: the event bus, the one control entry point, the mode registry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from improviser.config.live import MODES as CONFIG_MODES
from improviser.config.live import LiveConfig
from improviser.errors import ControlError, ImproviserError
from improviser.live.engine.controls import CONTROLS
from improviser.live.engine.modes import MODES, make_mode
from improviser.live.engine.player import CALL_ONSETS_KEPT
from improviser.live.events import (
    AnswerEnded,
    AnswerStarted,
    Event,
    EventBus,
    Notice,
    PhraseEnded,
    PlayerNote,
    StatusChanged,
)
from improviser.live.session import chores
from improviser.live.timebase.scheduler import Scheduler
from tests.fakes import FakeClock, StepUpModel
from tests.test_live_units import Wire, cc, make, off, on, play, run_until, wire_up


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- events ---------------------------------------------------------------------------------
def test_a_full_subscription_drops_its_oldest_and_counts() -> None:
    bus = EventBus()
    seen: list[Event] = []
    bus.observe(seen.append)
    slow = bus.subscribe(maxsize=3)
    fast = bus.subscribe(maxsize=100)
    for i in range(5):
        bus.publish(PhraseEnded(float(i), i))
    assert [e.at for e in slow.drain()] == [2.0, 3.0, 4.0]
    assert slow.dropped == 2 and fast.dropped == 0 and bus.dropped == 2
    assert len(fast) == 5 and len(seen) == 5  # observers miss nothing
    slow.close()
    slow.close()  # a second close does nothing
    bus.publish(PhraseEnded(9.0, 1))
    assert len(slow) == 0 and len(fast) == 6


async def test_a_subscriber_waits_for_the_next_event() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    reader = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not reader.done()
    bus.publish(Notice(1.0, "port_lost", "input port lost"))
    event = await asyncio.wait_for(reader, 1.0)
    assert isinstance(event, Notice) and event.topic == "port_lost"


def test_the_engine_publishes_the_dialogue(clock: FakeClock) -> None:
    engine, scheduler, _, _, _ = make(clock, answer_length="notes", answer_notes=3)
    events = engine.bus.subscribe()
    play(engine, clock, [60, 62])
    run_until(engine, scheduler, clock, clock() + 4.0)
    kinds = [type(e) for e in events.drain() if not hasattr(e, "pitch")]
    assert kinds == [PhraseEnded, AnswerStarted, StatusChanged, AnswerEnded, StatusChanged]


# --- controls -------------------------------------------------------------------------------
def test_every_mode_in_the_config_has_a_class_and_back() -> None:
    assert set(MODES) == set(CONFIG_MODES)
    with pytest.raises(ValueError, match="mode must be one of"):
        make_mode("nonsense", None)  # type: ignore[arg-type]


def test_controls_apply_validates_and_changes_nothing_on_a_bad_value(clock: FakeClock) -> None:
    engine, _, _, _, _ = make(clock)
    controls = engine.controls
    assert controls.apply("temperature", 0.6, clock()) == 0.6
    assert engine.params.temperature == 0.6 and engine.config.sampling.temperature == 0.6
    before = engine.config.model_dump()
    bad: list[tuple[str, object]] = [
        ("temperature", -1.0),
        ("temperature", "hot"),
        ("top_p", 1.5),
        ("mode", "jazz"),
        ("phrase_gap", 1000),
        ("mute", "yes"),
        ("volume", 3),
    ]
    for key, value in bad:
        with pytest.raises(ControlError) as info:
            controls.apply(key, value, clock())
        message = str(info.value)
        assert repr(key) in message and "\n" not in message
        if key != "volume":
            assert repr(value) in message
        assert isinstance(info.value, ImproviserError | ValueError)
    assert engine.config.model_dump() == before
    assert engine.params.temperature == 0.6


def test_controls_switch_mode_mute_and_panic(clock: FakeClock) -> None:
    engine, scheduler, wire, _, _ = make(clock, answer_length="notes", answer_notes=8)
    play(engine, clock, [60, 62])
    run_until(engine, scheduler, clock, clock() + 0.6)
    assert engine.status == "answering" and wire.sounding
    engine.controls.apply("mode", "follow", clock())
    assert engine.mode.name == "follow" and engine.status == "listening"
    assert wire.sounding == set()  # the answer was released
    engine.handle(on(64, clock()))
    assert wire.sounding  # follow answers at once
    engine.controls.apply("mute", True, clock())
    assert engine.status == "muted" and wire.sounding == set()
    assert engine.controls.values()["mute"] is True
    engine.handle(off(64, clock()))
    engine.controls.apply("panic", {}, clock())
    assert [0xB0, 123, 0] in wire.controls()


def test_every_control_has_a_schema_from_the_config() -> None:
    engine, _, _, _, _ = make(FakeClock())
    schema = engine.controls.schema()
    assert list(schema) == [spec.key for spec in CONTROLS]
    assert schema["temperature"]["exclusiveMinimum"] == 0.0
    assert schema["temperature"]["maximum"] == 10.0
    assert schema["mode"]["enum"] == list(CONFIG_MODES)
    assert schema["phrase_gap"]["minimum"] == LiveConfig.model_fields["phrase_gap"].metadata[0].ge
    assert schema["mute"] == {"title": "mute", "description": schema["mute"]["description"],
                              "type": "boolean"}  # fmt: skip


def test_cc_controls_reach_the_same_entry_point(clock: FakeClock) -> None:
    engine, _, _, _, _ = make(clock, cc_temperature=22, cc_mute=21)
    engine.handle(cc(22, 0, clock()))
    assert engine.params.temperature == pytest.approx(engine.config.temperature_min)
    engine.handle(cc(21, 100, clock()))
    assert engine.status == "muted"
    engine.handle(cc(21, 10, clock()))
    assert engine.status == "listening"


# --- a lost note-off ------------------------------------------------------------------------
def test_the_player_s_all_notes_off_clears_keys_whose_release_was_lost(clock: FakeClock) -> None:
    engine, scheduler, _, _, stats = make(clock, answer_length="notes", answer_notes=2)
    engine.handle(on(60, clock()))
    clock.advance(0.2)
    engine.handle(on(62, clock()))  # 60's note-off never arrives
    clock.advance(0.2)
    engine.handle(off(62, clock()))
    run_until(engine, scheduler, clock, clock() + 2.0)
    assert stats.phrases == 0  # a key still counts as held
    engine.handle(cc(123, 0, clock()))
    run_until(engine, scheduler, clock, clock() + 1.0)
    assert stats.phrases == 1 and stats.answers == 1


def test_follow_never_accumulates_a_call(clock: FakeClock) -> None:
    config = LiveConfig(mode="follow", bpm=120.0)
    scheduler = Scheduler(Wire(clock), clock)
    engine, _ = wire_up(config, StepUpModel(), scheduler, clock)
    for i in range(50):
        engine.handle(on(60 + i % 5, clock()))
        clock.advance(0.1)
        engine.handle(off(60 + i % 5, clock()))
    assert len(engine.player.call_onsets) <= 1  # bounded however long it plays


def test_a_lost_note_off_ends_the_phrase_after_held_phrase_gap(clock: FakeClock) -> None:
    engine, scheduler, _, _, stats = make(
        clock, answer_length="notes", answer_notes=2, held_phrase_gap=3.0
    )
    engine.handle(on(60, clock()))  # its note-off is never seen
    clock.advance(0.2)
    engine.handle(on(62, clock()))
    struck = clock()
    clock.advance(0.2)
    engine.handle(off(62, clock()))
    assert engine.next_deadline() == pytest.approx(struck + 3.0)
    run_until(engine, scheduler, clock, struck + 2.9)
    assert stats.phrases == 0
    run_until(engine, scheduler, clock, struck + 3.5)
    assert stats.phrases == 1 and stats.answers == 1


@pytest.mark.parametrize("buried", [4, 0])
def test_a_key_buried_under_later_notes_no_longer_holds_the_phrase(
    clock: FakeClock, buried: int
) -> None:
    """A note-off JACK lost in one phrase must not join the next phrases for 30 s: once
    ``buried_key_notes`` notes were struck after the key, the phrase ends ``phrase_gap``
    after the last release (0: only ``held_phrase_gap`` after the last note)."""
    engine, scheduler, _, _, stats = make(
        clock, answer_length="notes", answer_notes=2, held_phrase_gap=3.0,
        buried_key_notes=buried, phrase_gap=0.3,
    )  # fmt: skip
    engine.handle(on(60, clock()))  # its note-off is lost
    for pitch in (62, 64, 65, 67):
        clock.advance(0.2)
        engine.handle(on(pitch, clock()))
        last_on = clock()
        clock.advance(0.1)
        engine.handle(off(pitch, clock()))
    released = clock()
    assert engine.player.held  # the lost key is still down as far as the engine knows
    expected = released + 0.3 if buried else last_on + 3.0
    assert engine.next_deadline() == pytest.approx(expected)
    run_until(engine, scheduler, clock, expected + 0.05)
    assert stats.phrases == 1


def test_a_long_last_note_still_holds_the_phrase(clock: FakeClock) -> None:
    """Only keys struck before the notes that bury them: the phrase's last note held long
    (struck after every other) keeps the phrase open, whatever was released before it."""
    engine, scheduler, _, _, stats = make(clock, buried_key_notes=2, phrase_gap=0.3)
    for pitch in (60, 62, 64):
        engine.handle(on(pitch, clock()))
        clock.advance(0.2)
    engine.handle(off(60, clock()))
    engine.handle(off(62, clock()))  # 64 still held: legato into a long last note
    run_until(engine, scheduler, clock, clock() + 1.0)
    assert stats.phrases == 0
    engine.handle(off(64, clock()))
    run_until(engine, scheduler, clock, clock() + 0.4)
    assert stats.phrases == 1


def test_a_key_held_past_the_bound_is_released_and_reported(clock: FakeClock) -> None:
    engine, scheduler, _, _, stats = make(clock, held_key_seconds=10.0, held_phrase_gap=0.0)
    events = engine.bus.subscribe()
    engine.handle(on(60, clock()))
    engine.handle(cc(64, 127, clock()))  # and the pedal's release is lost too
    began = clock()
    assert engine.next_deadline() == pytest.approx(began + 10.0)
    run_until(engine, scheduler, clock, began + 9.9)
    assert engine.player.held and engine.player.pedal
    run_until(engine, scheduler, clock, began + 10.1)
    assert not engine.player.held and not engine.player.pedal
    got = events.drain()
    releases = [e for e in got if isinstance(e, PlayerNote) and e.velocity == 0]
    assert [(e.pitch, round(e.at - began, 1)) for e in releases] == [(60, 10.0)]
    notices = [e for e in got if isinstance(e, Notice)]
    assert [n.topic for n in notices] == ["stale_keys"]
    assert "sustain pedal" in notices[0].message
    assert stats.guard_releases == 2  # the key and the pedal
    assert stats.phrases == 0
    run_until(engine, scheduler, clock, clock() + 1.0)  # the phrase then ends as usual
    assert stats.phrases == 1 and engine.status == "answering"


def test_a_flood_keeps_the_call_bounded(clock: FakeClock) -> None:
    engine, _, _, _, _ = make(clock, held_phrase_gap=0.0)
    for i in range(CALL_ONSETS_KEPT + 500):
        engine.handle(on(40 + i % 40, clock()))  # note-offs all lost
        clock.advance(0.0001)
    assert len(engine.player.call_onsets) == CALL_ONSETS_KEPT
    assert len(engine.player.held) == 40


async def test_idle_work_runs_often_while_playing_and_rarely_once_resting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(0.0)
    slept: list[float] = []
    actions: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        if clock() > 1.0:
            raise asyncio.CancelledError

    monkeypatch.setattr(chores.asyncio, "sleep", fake_sleep)
    last_note = 0.0
    with pytest.raises(asyncio.CancelledError):
        await chores.in_pauses(
            0.001, 0.05, 0.1, lambda: last_note, clock, lambda: actions.append(clock())
        )
    # 0.1 s of 1 ms periods while the player may come back, then 50 ms periods
    assert slept[:99] == [0.001] * 99 and set(slept[101:]) == {0.05}
    assert len(actions) == len(slept) - 1  # every wake-up after the first pause acted


def test_a_half_due_young_collection_runs_in_a_pause_not_on_a_note() -> None:
    import gc

    from improviser.live.session.gcpause import collect_young_if_due

    old = gc.get_threshold()
    try:
        gc.set_threshold(1000, 10, 10)
        gc.collect()
        assert collect_young_if_due() is None  # nothing due right after a collection
        junk = [[] for _ in range(600)]  # tracked containers: the young count grows
        assert collect_young_if_due() == 0
        assert gc.get_count()[0] < 100 and len(junk) == 600
        gc.set_threshold(0)
        assert collect_young_if_due() is None  # the collector off: nothing to do
        gc.set_threshold(1000, 2, 3)
        gc.collect()
        done, kept = [], []
        for _ in range(12):
            kept.append([[] for _ in range(600)])  # survivors: counted, never freed here
            done.append(collect_young_if_due())
            # what would make the interpreter's next automatic collection a full one
            assert gc.get_count()[2] <= 3
        assert done == [0, 1, 0, 1, 0, 2] * 2  # the full one in a pause, when due
    finally:
        gc.set_threshold(*old)


async def test_a_damaged_model_asked_for_is_told_and_the_playing_one_stays(
    tmp_path: Path,
) -> None:
    import shutil

    from improviser.live.engine.loading import load_step_model
    from improviser.live.engine.model_swap import ModelControl
    from improviser.paths import DEFAULT_MODEL

    models = tmp_path / "models"
    models.mkdir()
    npz = DEFAULT_MODEL.with_suffix(".npz")
    (models / "cut.npz").write_bytes(npz.read_bytes()[:5000])  # a copy cut short
    (models / "cut.json").write_bytes(DEFAULT_MODEL.with_suffix(".json").read_bytes())
    shutil.copy(npz, models / "good.npz")
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), models / "good.json")
    clock = FakeClock()
    engine = make(clock, models_dir=models)[0]
    notices: list[Notice] = []
    engine.bus.observe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    swapped: list[object] = []
    control = ModelControl(
        engine.config,
        engine,
        load=lambda path: load_step_model(path, "numpy", "cpu"),
        now=clock,
        on_swap=swapped.append,
    )
    playing = engine.context.model
    assert control.apply("cut", 1.0) == "cut.keras"
    assert control._task is not None
    await control._task
    failed = [n for n in notices if n.topic == "model_failed"]
    assert len(failed) == 1 and "cut" in failed[0].message and "\n" not in failed[0].message
    assert engine.context.model is playing and not swapped and control.value() != "cut.keras"
    assert control.apply("good", 2.0) == "good.keras"  # a good one after it still loads
    await control._task
    assert swapped and control.value() == "good.keras"
    assert [n.topic for n in notices][-1] == "model_loaded"


# --- the session's loop ---------------------------------------------------------------------
async def test_the_session_takes_a_note_in_right_after_it_when_nothing_waits(
    clock: FakeClock,
) -> None:
    """The beat tracker's work for a note (a few hundred µs) is done once the notes
    waiting are handled, not on the next note (which may come before any pause work), and
    not at once either: SETTLE_AFTER_SECONDS later, when what the note sent has left."""
    from improviser.live.session.session import SETTLE_AFTER_SECONDS, LiveSession

    engine, *_ = make(clock, mode="call-response", bpm=None)
    session = LiveSession(engine.config, model=StepUpModel(), now=clock)
    session.inbox.bind(asyncio.get_running_loop())
    tracker = engine.voice.timing.tracker
    waiting: list[int] = []
    settle = engine.settle

    def spy() -> None:
        waiting.append(tracker.pending)
        settle()

    engine.settle = spy  # type: ignore[method-assign]
    loop = asyncio.create_task(session._engine_loop(engine))
    try:
        for i, pitch in enumerate((60, 62, 64, 65)):  # spread: a beat to track
            session.inbox.from_callback(on(pitch, clock()))
            clock.advance(0.1 + 0.07 * i)
        await asyncio.sleep(0.02)  # four notes waiting at once: handled, nothing settled yet
        assert waiting == []
        clock.advance(SETTLE_AFTER_SECONDS)
        await asyncio.sleep(0.02)  # one settle, after the last
        assert waiting == [1] and tracker.pending == 0  # (each note took in the one before)
        session.inbox.from_callback(off(65, clock()))
        session.inbox.from_callback(on(67, clock()))
        await asyncio.sleep(0.02)
        clock.advance(SETTLE_AFTER_SECONDS)
        await asyncio.sleep(0.02)
        assert waiting == [1, 1] and tracker.pending == 0  # after the note-on only
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
