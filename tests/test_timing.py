"""Musical time on a fake clock: the MIDI clock follower, sync fallback, answer start,
clock out, and the call's note values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.config.live import LiveConfig
from improviser.live.events import Event, Notice, SyncChanged
from improviser.live.io.midi import InMessage, Kind
from improviser.live.timebase.clock import (
    CLOCK,
    CONTINUE,
    PPQN,
    START,
    STOP,
    ClockFollower,
    ClockOut,
)
from improviser.live.timebase.scheduler import Scheduler
from improviser.live.timebase.timing import Timing, next_on_grid
from improviser.music.encoding import DURATION_BEATS, IOI_BEATS, Distribution, Token, ioi_class
from improviser.music.rhythm import CallRhythm, Expectation
from tests.fakes import FakeClock, StepUpModel
from tests.test_live_units import Wire, play, run_until, wire_up

HALF, EIGHTH = DURATION_BEATS.index(2.0), DURATION_BEATS.index(0.5)


def ticks(follower: ClockFollower, start: float, bpm: float, count: int, jitter: float = 0.0,
          seed: int = 0) -> float:  # fmt: skip
    """Feed ``count`` ticks at ``bpm`` from ``start`` (± ``jitter`` s); the next tick's time."""
    rng = np.random.default_rng(seed)
    per_tick = 60.0 / bpm / PPQN
    for i in range(count):
        follower.tick(start + i * per_tick + rng.uniform(-jitter, jitter))
    return start + count * per_tick


# --- the clock follower ---------------------------------------------------------------------
def test_steady_clock_gives_tempo_and_beats_despite_jitter() -> None:
    f = ClockFollower()
    f.start(10.0)
    ticks(f, 10.0, 120.0, 4 * PPQN, jitter=0.0015)
    assert f.bpm == pytest.approx(120.0, rel=0.005)
    # beat 4 is due at 12.0 (tick 0 at 10.0, 0.5 s a beat)
    assert f.next_beat(11.9) == pytest.approx(12.0, abs=0.002)
    assert f.next_beat(11.9, every=4) == pytest.approx(12.0, abs=0.002)
    assert f.next_beat(12.1, every=4) == pytest.approx(14.0, abs=0.004)


def test_tempo_change_is_followed_within_a_beat() -> None:
    f = ClockFollower()
    f.start(0.0)
    t = ticks(f, 0.0, 120.0, 4 * PPQN)
    f.position = 4 * PPQN
    t = ticks(f, t, 150.0, PPQN, jitter=0.001)
    assert f.bpm == pytest.approx(150.0, rel=0.01)
    assert f.next_beat(t - 0.01) == pytest.approx(t, abs=0.003)


def test_stop_continue_and_song_position() -> None:
    f = ClockFollower(timeout=0.3)
    f.start(0.0)
    t = ticks(f, 0.0, 120.0, 2 * PPQN)
    assert f.alive(t)
    f.stop(t)
    assert not f.alive(t)
    f.song_position(16)  # bar 2 (16 sixteenths = 4 beats)
    f.resume(t + 1.0)
    ticks(f, t + 1.0, 120.0, PPQN)
    assert f.alive(t + 1.5)
    assert f.beat_at(t + 1.0) == pytest.approx(4.0, abs=0.01)
    assert not f.alive(t + 1.5 + 0.31)  # no tick for the timeout: dropped out


def test_a_clock_already_running_is_joined_without_its_start() -> None:
    f = ClockFollower()
    t = ticks(f, 5.0, 100.0, PPQN)  # the master was playing before we came (or its start
    assert f.running and f.alive(t)  # was lost): its tempo is followed all the same
    assert f.bpm == pytest.approx(100.0, rel=0.005)
    f.stop(t)
    ticks(f, t, 100.0, PPQN)  # a stopped master that keeps sending ticks stays stopped
    assert not f.running


def feed(follower: ClockFollower, times: list[float]) -> None:
    for t in times:
        follower.tick(t)


def bunched(times: list[float], seed: int, held: float = 0.3) -> list[float]:
    """``times`` as a busy JACK graph delivers them: a share ``held`` of the ticks held
    back, each then let go with the next, microseconds apart."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    hold: list[float] = []
    for t in times:
        hold.append(t)
        if rng.random() >= held:
            let_go = t + rng.uniform(0.0, 0.004)
            out += [let_go + 1e-5 * j for j in range(len(hold))]
            hold = []
    return out


@pytest.mark.parametrize("seed", range(12))
def test_ticks_bunched_after_continue_never_read_as_an_absurd_tempo(seed: int) -> None:
    f = ClockFollower()
    f.start(0.0)
    t = ticks(f, 0.0, 120.0, 4 * PPQN)
    f.stop(t)
    f.resume(t + 1.0)
    per_tick = 60.0 / 150.0 / PPQN
    read = []
    for tick in bunched([t + 1.0 + i * per_tick for i in range(3 * PPQN)], seed):
        f.tick(tick)
        read.append(f.bpm)
    # Bunched ticks once read as 250,000 bpm: their times say nothing of the tempo.
    assert all(bpm is not None and 60.0 < bpm < 400.0 for bpm in read), max(read)


def test_a_burst_of_held_ticks_after_a_dropout_keeps_the_tempo() -> None:
    f = ClockFollower()
    f.start(0.0)
    t = ticks(f, 0.0, 120.0, 4 * PPQN)
    t += 2 * f.timeout  # a dropout, then every tick it held at once
    for i in range(30):
        f.tick(t + i * 1e-5)
    assert f.bpm == pytest.approx(120.0)
    ticks(f, t + 0.02, 120.0, 2 * PPQN)
    assert f.bpm == pytest.approx(120.0, rel=0.01)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0, 200.0])
def test_a_lost_tick_is_counted_so_the_beat_does_not_slip(bpm: float) -> None:
    per_tick = 60.0 / bpm / PPQN
    f = ClockFollower()
    f.start(0.0)
    feed(f, [i * per_tick for i in range(3 * PPQN) if i not in (40, 55, 56)])
    assert f.bpm == pytest.approx(bpm, rel=0.005)
    assert f.position == 3 * PPQN
    assert f.next_beat(3 * PPQN * per_tick - 0.01) == pytest.approx(3 * PPQN * per_tick, abs=1e-4)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0, 200.0])
@pytest.mark.parametrize("late", [0.6, 0.75, 0.9, 1.4, 2.5, 4.0])
def test_a_late_tick_or_a_stall_is_not_taken_for_lost_ticks(bpm: float, late: float) -> None:
    """A clock sent from a busy machine's thread: a stall of ``late`` ticks holds back the
    ticks due in it, which then come at once; the next ones come on time. Counting the
    stall's gap as lost ticks would put the beat ticks late and the tempo ~6 % fast for
    a beat (the answers then drift off the grid)."""
    per_tick = 60.0 / bpm / PPQN
    f = ClockFollower()
    f.start(0.0)
    due = [i * per_tick for i in range(3 * PPQN)]
    stall_end = due[40] + late * per_tick
    feed(f, [t if t < due[40] else max(t, stall_end) for t in due])
    assert f.position == 3 * PPQN
    for i in range(3 * PPQN, 4 * PPQN):  # a beat on: the stall has left the fit
        f.tick(i * per_tick)
        assert f.bpm == pytest.approx(bpm, rel=0.03)
    assert f.bpm == pytest.approx(bpm, rel=0.002)
    assert f.next_beat(4 * PPQN * per_tick - 0.01) == pytest.approx(4 * PPQN * per_tick, abs=1e-4)


def test_a_tempo_change_down_or_up_counts_no_lost_tick() -> None:
    f = ClockFollower()
    f.start(0.0)
    t = ticks(f, 0.0, 200.0, 2 * PPQN)
    t = ticks(f, t, 80.0, 2 * PPQN)  # 2.5 times slower at once
    assert f.position == 4 * PPQN and f.bpm == pytest.approx(80.0, rel=0.001)
    ticks(f, t, 240.0, 2 * PPQN)
    assert f.position == 6 * PPQN and f.bpm == pytest.approx(240.0, rel=0.001)


# --- sync and fallback -------------------------------------------------------------------------
def test_clock_dropout_and_stop_fall_back_to_the_player_and_say_so() -> None:
    events: list[Event] = []
    timing = Timing(LiveConfig(sync="clock", clock_timeout=0.2), events.append)
    assert timing.source == "player"
    timing.clock_message(START, 0, 0.0)
    per_tick = 0.5 / PPQN
    for i in range(PPQN):
        timing.clock_message(CLOCK, 0, i * per_tick)
    assert timing.source == "clock"
    assert timing.bpm == pytest.approx(120.0)
    last = (PPQN - 1) * per_tick
    assert timing.next_deadline() == pytest.approx(last + 0.2)
    timing.check(last + 0.21)  # dropout
    assert timing.source == "player"
    assert isinstance(events[-1], SyncChanged) and events[-1].source == "player"
    assert any(isinstance(e, Notice) and "dropped out" in e.message for e in events)
    timing.clock_message(CONTINUE, 0, 1.0)
    for i in range(3):
        timing.clock_message(CLOCK, 0, 1.0 + i * per_tick)
    assert timing.source == "clock"
    timing.clock_message(STOP, 0, 1.2)
    assert timing.source == "player"
    assert isinstance(events[-2], Notice) and "stopped" in events[-2].message


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(0.05, 1.2), min_size=0, max_size=12),
    seconds=st.floats(0.0, 0.5),
    fastest=st.sampled_from([120.0, 180.0, 400.0]),
)
def test_a_chords_next_note_is_classed_without_waiting_for_the_tracker(
    gaps: list[float], seconds: float, fastest: float
) -> None:
    timing = Timing(LiveConfig(min_bpm=fastest / 3, max_bpm=fastest), lambda e: None)
    t = 0.0
    for gap in gaps:
        t += gap
        timing.onset(t, 90)
    waiting = timing.tracker.pending
    got = timing.ioi_class(seconds)
    if timing.tracker.pending == waiting and waiting:  # answered without the tracker...
        assert got == 0 and seconds < 60.0 / fastest / 16  # ...only a chord's next note
    assert got == ioi_class(seconds / timing.seconds_per_beat)  # the same class either way


def test_the_ioi_of_a_note_struck_with_the_last_does_not_settle_the_tracker() -> None:
    timing = Timing(LiveConfig(max_bpm=180.0), lambda e: None)
    for i in range(8):
        timing.onset(0.5 * i, 90)
    assert timing.ioi_class(0.01) == 0 and timing.tracker.pending == 8  # 10 ms: a chord
    assert timing.ioi_class(0.5) == ioi_class(1.0) and timing.tracker.pending == 0
    clocked = Timing(LiveConfig(sync="clock", max_bpm=180.0), lambda e: None)
    clocked.clock_message(START, 0, 0.0)
    for i in range(2 * PPQN):  # a clock at 600 bpm, past what the tracker can hold
        clocked.clock_message(CLOCK, 0, i * 0.1 / PPQN)
    assert clocked.source == "clock" and clocked.ioi_class(0.01) == ioi_class(0.1)


def test_grid_helper_and_player_beat() -> None:
    assert next_on_grid(1.0, 0.5, 1.0) == 1.5
    assert next_on_grid(1.0, 0.5, 1.2, every=4) == 3.0
    timing = Timing(LiveConfig(answer_start="bar", beats_per_bar=3), lambda e: None)
    for i in range(12):
        timing.onset(5.0 + 0.4 * i, 90)
    assert timing.bpm == pytest.approx(150.0, rel=0.02)
    # bars of 3 beats from the call's first note at 5.0: downbeats at 5.0, 6.2, 7.4, 8.6...
    assert timing.answer_start(9.0, call_start=5.0) == pytest.approx(9.8, abs=0.01)


# --- answers in time, through the engine ------------------------------------------------------
def make(clock: FakeClock, **options: object) -> tuple[Scheduler, Wire, object]:
    base = {"phrase_gap": 0.3, "sampling": {"seed": 1}, "answer_length": "notes"}
    config = LiveConfig(**{**base, "answer_notes": 4, **options})  # type: ignore[arg-type]
    wire = Wire(clock)
    scheduler = Scheduler(wire, clock, max_note_seconds=config.max_note_seconds)
    engine, _ = wire_up(config, StepUpModel(), scheduler, clock)
    return scheduler, wire, engine


@pytest.mark.parametrize(("start", "every"), [("beat", 1), ("bar", 4)])
def test_answer_starts_on_the_next_beat_or_bar(start: str, every: int) -> None:
    clock = FakeClock(100.0)
    scheduler, wire, engine = make(clock, sync="fixed", bpm=120.0, answer_start=start)
    play(engine, clock, [60, 62, 64], step=0.5)  # from 100.0, on the beat
    run_until(engine, scheduler, clock, 105.0, dt=0.001)  # type: ignore[arg-type]
    first = wire.ons()[0][0]
    assert first > 101.5 + 0.3 - 0.01  # not before the phrase ended
    assert (first - 100.0) / 0.5 % every == pytest.approx(0.0, abs=0.01)
    assert first - 101.8 <= every * 0.5 + 0.01  # the first such beat
    for t, _ in wire.ons():  # every onset on the eighth grid from there
        assert (t - 100.0) / 0.25 == pytest.approx(round((t - 100.0) / 0.25), abs=0.01)


def test_answer_on_the_clocks_beats() -> None:
    clock = FakeClock(50.0)
    scheduler, wire, engine = make(clock, sync="clock", answer_start="bar")
    per_tick = 60.0 / 90.0 / PPQN
    engine.handle(InMessage(Kind.SYNC, 0, START, 0, clock()))  # type: ignore[attr-defined]
    origin = clock()
    n = 0

    def advance_to(t: float) -> None:
        nonlocal n
        while clock() < t:
            clock.advance(0.0005)
            if origin + n * per_tick <= clock():
                engine.handle(InMessage(Kind.SYNC, 0, CLOCK, 0, clock()))  # type: ignore[attr-defined]
                n += 1
            scheduler.process_due(clock())
            engine.tick(clock())  # type: ignore[attr-defined]

    advance_to(origin + 1.0)
    for pitch in (60, 62, 64):
        engine.handle(InMessage(Kind.NOTE_ON, 0, pitch, 90, clock()))  # type: ignore[attr-defined]
        advance_to(clock() + 0.3)
        engine.handle(InMessage(Kind.NOTE_OFF, 0, pitch, 0, clock()))  # type: ignore[attr-defined]
    advance_to(clock() + 6.0)
    assert engine.voice.timing.bpm == pytest.approx(90.0, rel=1e-3)  # type: ignore[attr-defined]
    first = wire.ons()[0][0]
    bar = 4 * 60.0 / 90.0
    # on a downbeat, within the fake clock's 0.5 ms step
    assert (first - origin) / bar == pytest.approx(round((first - origin) / bar), abs=0.0015 / bar)


# --- clock out ---------------------------------------------------------------------------------
def clock_out_at(start: float) -> tuple[FakeClock, Wire, Scheduler, ClockOut]:
    """A clock out at 125 bpm through a scheduler on a fake clock, started at ``start``."""
    clock = FakeClock(0.0)
    wire = Wire(clock)
    scheduler = Scheduler(wire, clock)
    out = ClockOut(wire, lambda: 125.0)
    scheduler.add_timer(out)
    out.start(start)
    return clock, wire, scheduler, out


def run_to(clock: FakeClock, scheduler: Scheduler, end: float) -> None:
    while clock() < end:
        clock.advance(0.0005)
        scheduler.process_due(clock())


def test_clock_out_ticks_through_the_scheduler_then_stops() -> None:
    clock, wire, scheduler, out = clock_out_at(0.0)
    run_to(clock, scheduler, 0.97)
    out.stop()
    times = [t for t, m in wire.sent if m == [CLOCK]]
    assert wire.sent[0][1] == [START] and wire.sent[-1][1] == [STOP]
    assert len(times) == 2 * PPQN  # 125 bpm: 0.48 s a beat
    assert np.diff(times) == pytest.approx(0.02, abs=0.0006)


def test_clock_out_sends_start_when_planned_and_the_first_tick_a_tick_later() -> None:
    # the session plans the start a little ahead, for its output's connection to be live
    # in JACK's graph before it goes out
    clock, wire, scheduler, _ = clock_out_at(0.05)
    run_to(clock, scheduler, 0.049)
    assert wire.sent == []
    run_to(clock, scheduler, 0.065)
    assert [m for _, m in wire.sent] == [[START]]
    assert wire.sent[0][0] == pytest.approx(0.05, abs=0.001)
    run_to(clock, scheduler, 0.071)  # the first tick a tick (20 ms at 125 bpm) after the start
    assert [m for _, m in wire.sent] == [[START], [CLOCK]]
    assert wire.sent[1][0] == pytest.approx(0.07, abs=0.001)


def test_clock_out_stopped_before_its_start_sends_nothing() -> None:
    _, wire, _, out = clock_out_at(0.05)
    out.stop()
    assert wire.sent == []


# --- the call's note values -------------------------------------------------------------------
def test_call_rhythm_tilts_the_answer_towards_the_calls_note_values() -> None:
    call = [Token(60 + i, IOI_BEATS.index(2.0), HALF, 4) for i in range(6)]
    call[-1] = call[-1]._replace(duration=DURATION_BEATS.index(4.0))
    expected = Expectation()
    eighths = Distribution(
        np.full(128, 1 / 128),
        np.eye(len(IOI_BEATS))[IOI_BEATS.index(0.5)] * 0.9 + 0.1 / len(IOI_BEATS),
        np.eye(len(DURATION_BEATS))[EIGHTH] * 0.9 + 0.1 / len(DURATION_BEATS),
        np.full(8, 1 / 8),
    )
    for _ in call:
        expected.add(eighths)
    rhythm = CallRhythm.from_tokens(call, 1.0, expected)
    tilted = rhythm.condition(eighths)
    assert isinstance(tilted, Distribution)
    assert int(np.argmax(tilted.duration)) == HALF
    assert tilted.ioi[IOI_BEATS.index(2.0)] > eighths.ioi[IOI_BEATS.index(2.0)] * 5
    assert tilted.duration.sum() == pytest.approx(1.0)
    padded = np.zeros((4, 128))
    for row, name in enumerate(("pitch", "ioi", "duration", "velocity")):
        field = eighths.field(name)
        padded[row, : len(field)] = field
    assert rhythm.condition(padded)[2, : len(DURATION_BEATS)] == pytest.approx(tilted.duration)
    assert rhythm.ending(Token(60, 1, EIGHTH, 4)).duration == DURATION_BEATS.index(4.0)
    assert CallRhythm.from_tokens(call, 0.0).condition(eighths) is eighths


def beat_is_exact(f: ClockFollower, per_tick: float, count: int) -> None:
    """After ``count`` ticks due ``per_tick`` apart from 0: every one counted, the beat on."""
    assert f.position == count
    assert f.bpm == pytest.approx(60.0 / per_tick / PPQN, rel=0.002)
    assert f.next_beat(count * per_tick - 0.01) == pytest.approx(count * per_tick, abs=2e-4)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 200.0])
@pytest.mark.parametrize("lost", [1, 3, 5, 6])
def test_a_tick_lost_before_the_tempo_is_known_is_counted(bpm: float, lost: int) -> None:
    """Right after ``start`` no tempo tells a lost tick by its gap yet: the first ticks
    are numbered together (lost before the very first, one cannot tell)."""
    per_tick = 60.0 / bpm / PPQN
    f = ClockFollower()
    f.start(0.0)
    feed(f, [i * per_tick for i in range(2 * PPQN) if i != lost])
    beat_is_exact(f, per_tick, 2 * PPQN)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 200.0])
@pytest.mark.parametrize("at", [3, 5, 40])
def test_a_late_tick_bunched_with_the_next_is_not_a_lost_one(bpm: float, at: int) -> None:
    per_tick = 60.0 / bpm / PPQN
    f = ClockFollower()
    f.start(0.0)
    due = [i * per_tick for i in range(3 * PPQN)]
    due[at] += 1.45 * per_tick  # comes after the next one's due time, with it
    due[at + 1] += 0.46 * per_tick
    feed(f, due)
    beat_is_exact(f, per_tick, 3 * PPQN)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 200.0])
@pytest.mark.parametrize("late", [0.55, 0.65, 0.9])
def test_a_lost_tick_then_a_late_one_bunched_with_the_next_is_still_lost(
    bpm: float, late: float
) -> None:
    """JACK drops a cycle's tick and the next cycle is late: the tick after the gap comes
    with the one after it. Taking the loss back put the beat a tick early for good."""
    per_tick = 60.0 / bpm / PPQN
    f = ClockFollower()
    f.start(0.0)
    due = [i * per_tick for i in range(3 * PPQN)]
    due[41] += late * per_tick
    feed(f, [t for i, t in enumerate(due) if i != 40])
    beat_is_exact(f, per_tick, 3 * PPQN)


def test_two_ticks_lost_close_together_are_not_a_slower_tempo() -> None:
    per_tick = 60.0 / 120.0 / PPQN
    f = ClockFollower()
    f.start(0.0)
    feed(f, [i * per_tick for i in range(3 * PPQN) if i not in (40, 42)])
    beat_is_exact(f, per_tick, 3 * PPQN)


@pytest.mark.parametrize(("before", "after", "ramp"), [(120.0, 60.0, 0), (120.0, 60.0, 2 * PPQN),
                         (90.0, 180.0, 2 * PPQN), (200.0, 80.0, 0)])  # fmt: skip
def test_a_tempo_jump_or_ramp_counts_no_lost_tick(before: float, after: float, ramp: int) -> None:
    """Halving the tempo at once makes every gap two ticks long, as a lost tick does; a
    ramp leaves the beat's line behind. Neither is a lost tick."""
    f = ClockFollower()
    f.start(0.0)
    t, times = 0.0, []
    for i in range(8 * PPQN):
        times.append(t)
        share = 1.0 if i >= 4 * PPQN + ramp else max(i - 4 * PPQN, 0) / max(ramp, 1)
        t += 60.0 / (before + (after - before) * share) / PPQN
    feed(f, times)
    assert f.position == 8 * PPQN and f.bpm == pytest.approx(after, rel=0.002)
    assert f.next_beat(t - 0.01) == pytest.approx(t, abs=2e-4)


def jack_delivery(seed: int, bpm: float, count: int, lost: float, stalls: float) -> list[float]:
    """Arrival times of ``count`` ticks through a busy JACK graph: a little jitter, now and
    then a late cycle (0.3 to 1.5 ticks) that holds back the ticks behind it, and a share
    ``lost`` of them dropped (never the first or the last: no follower can tell those)."""
    rng = np.random.default_rng(seed)
    per_tick = 60.0 / bpm / PPQN
    times: list[float] = []
    for i in range(count):
        late = rng.exponential(0.0005)
        if rng.random() < stalls:
            late += rng.uniform(0.3, 1.5) * per_tick
        arrival = max(i * per_tick + late, times[-1] + 1e-5 if times else 0.0)
        if i in (0, count - 1) or rng.random() >= lost:
            times.append(arrival)
    return times


@pytest.mark.parametrize("bpm", [100.0, 150.0])
def test_the_beat_holds_through_a_busy_jack_graph(bpm: float) -> None:
    """Seeded runs of 8 beats with a tick in 100 lost and one in 100 held back by a late
    cycle (far more than the JACK tests see): every tick is counted, so the beat is not a
    tick off (a late tick in the last beat still leans the line a little)."""
    per_tick = 60.0 / bpm / PPQN
    wrong = []
    for seed in range(40):
        f = ClockFollower()
        f.start(0.0)
        feed(f, jack_delivery(seed, bpm, 8 * PPQN, lost=0.01, stalls=0.01))
        if f.position != 8 * PPQN or abs(f.beat_at(8 * PPQN * per_tick) - 8) > 0.5 / PPQN:
            wrong.append((seed, f.position - 8 * PPQN))
    assert wrong == []


def test_an_onset_heard_later_reaches_the_tracker_at_the_next_settle() -> None:
    timing = Timing(LiveConfig(sync="player"), lambda _: None)
    for i in range(8):
        timing.onset(10.0 + 0.5 * i, 90, later=True)
    assert timing.tracker.pending == 0  # nothing on the note's path yet
    period = timing.seconds_per_beat  # reading the tempo does not take them either
    assert timing.tracker.pending == 0 and timing.seconds_per_beat == period
    timing.settle()
    assert abs(timing.seconds_per_beat - 0.5) < 0.05  # heard: 120 bpm
