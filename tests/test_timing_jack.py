"""Musical time through a real JACK server: following an outside client's MIDI clock, and
sending ours to an outside client.

Each measure is taken at the outside clients (a clock master that knows when it sent
each tick, a synth that knows when each answer note arrived), so it includes both JACK
hops. The tolerances allow for a dropped JACK cycle (64 frames, 1.3 ms) and a late loop
wake on a busy machine; the figures are printed (``pytest -s``). ``improviser bench
sync`` measures the same runs with the bundled model, for the manual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rtmidi

from improviser.bench.sync_runs import LocalMaster, clock_run
from improviser.bench.sync_stats import tick_jitter
from improviser.harness.clock_player import ClockListener, ClockSender
from improviser.harness.jackserver import JackServer
from improviser.harness.player import VirtualPlayer
from improviser.live.events import AnswerNote, Notice, SyncChanged
from improviser.live.session.session import LiveSession
from tests.fakes import StepUpModel
from tests.jack import private_server
from tests.test_live_jack import config

pytestmark = pytest.mark.jack
API = rtmidi.API_UNIX_JACK


@pytest.fixture(scope="module")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JackServer]:
    """Unlike the other live tests, these measure time: a server at 64 frames (1.3 ms)."""
    yield from private_server(tmp_path_factory, period=64)


@pytest.fixture
def sender(jack_server: JackServer) -> Iterator[ClockSender]:
    s = ClockSender(API)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def listener(jack_server: JackServer) -> Iterator[ClockListener]:
    c = ClockListener(API)
    try:
        yield c
    finally:
        c.close()


async def test_answers_fall_on_the_clocks_beats_through_stop_and_tempo_change(
    player: VirtualPlayer, sender: ClockSender, tmp_path: Path
) -> None:
    # The model's own eighths (no rhythm memory: it would echo the call's triplets), so
    # every answer note has a line of the clock's eighth grid to fall on.
    cfg = config(tmp_path, sync="clock", clock_port="demo-clock", answer_start="beat",
                 bpm=None, answer_notes=6, rhythm_memory=0.0)  # fmt: skip
    async with LiveSession(cfg, model=StepUpModel()) as session:
        # 120 bpm, an answer; stop, continue, 150 bpm; two beats later the tempo read; an
        # answer (improviser.bench.sync_runs, which bench sync measures with).
        run = await clock_run(session, player, LocalMaster(sender), call_step=0.3)
    first, second = (a.heard for a in run.answers)
    # Six notes leave each time. On this 64-frame server (fine enough to time the grid) a
    # busy machine can make JACK drop a cycle of our output (one may not be heard), or
    # deliver one twice within a cycle or two (counted apart: seen once in CI, most
    # likely a late cycle's buffer read again). What is heard must lie on the grid (below).
    for answer in run.answers:
        assert len(answer.planned) == 6, answer.planned  # the session sent each note once
        assert 5 <= len(answer.heard) <= 6 and answer.repeats <= 1, (
            answer.heard, answer.repeats, answer.planned
        )  # fmt: skip
    # A tempo change mid-session: followed within two beats...
    assert run.followed_bpm == pytest.approx(150.0, rel=0.02)
    # ...and the answer on the new tempo's grid (below): a tick the master sent late (its
    # thread shares this busy process) once counted as a lost tick and put it ~6 % fast.
    seen = run.events
    notices = [e.message for e in seen if isinstance(e, Notice) and e.topic == "sync"]
    # The stop byte itself may be lost by JACK under load: then the clock is noticed to
    # have dropped out instead. Either way the improviser falls back and says so.
    assert any("stopped" in m or "dropped out" in m for m in notices), notices
    assert [e.source for e in seen if isinstance(e, SyncChanged)][:3] == [
        "clock", "player", "clock"
    ]  # fmt: skip
    # Each heard note against the master's tick at its planned place (an eighth of the
    # clock's grid for this model), so a beat followed a tick off shows on every note.
    ms = np.abs([e for errors in run.errors() for e in errors]) * 1000
    assert len(ms) == len(first) + len(second)
    p50, p99 = np.percentile(ms, [50, 99])
    lost = run.lost_ticks
    print(f"\nclock alignment: {len(ms)} note-ons, error p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
          f"{lost} ticks lost on the way")  # fmt: skip
    # A beat a tick off puts every note ~21 ms off (the p50 says it); one note may be late
    # once (a late wake on an overloaded machine: 33 ms seen with two CPU burners beside).
    assert p50 < 6.0 and np.sum(ms > 20.0) <= 1, (ms.round(1).tolist(), lost)
    # Every note we sent was released by us (from the session's own events); at the synth,
    # a note-off JACK dropped with a late cycle on this 64-frame server may leave one.
    sounding: set[tuple[int, int]] = set()
    for e in seen:
        if isinstance(e, AnswerNote):
            (sounding.add if e.velocity else sounding.discard)((e.channel, e.pitch))
    assert sounding == set()
    assert len(player.tracker.stuck()) <= 1


async def test_clock_out_is_steady_at_an_outside_client(
    listener: ClockListener, player: VirtualPlayer, tmp_path: Path
) -> None:
    cfg = config(tmp_path, out_port="demo-clock-in", clock_out=True, bpm=125.0)
    async with LiveSession(cfg, model=StepUpModel()):
        await asyncio.sleep(3.0)
    ended = time.perf_counter()
    await asyncio.sleep(0.1)
    # The stop goes out as the session closes; JACK may drop it with a late cycle on a
    # busy machine (seen here), so what must hold is that the ticks stopped with it.
    # One clean-clone CI run of five saw two starts at the listener from a session that
    # sends one: not explained yet (open on issue 11); a duplicate is tolerated. A missing
    # one is not: it was once lost when sent in the cycle the session's output connected
    # to the listener, and the start now goes out a few cycles later (CONNECT_SETTLE).
    assert 1 <= len(listener.starts) <= 2 and len(listener.stops) <= 1, listener.starts
    assert listener.starts[0] < listener.ticks[0] and listener.ticks[-1] < ended
    jitter = tick_jitter(listener.ticks, 125.0)  # what bench sync reports
    expected = 60.0 / 125.0 / 24
    assert jitter["median_period_ms"] / 1000 == pytest.approx(expected, rel=0.01)
    ticks, lost = jitter["ticks"], jitter["lost"]
    print(
        f"\nclock out: {ticks} ticks ({lost} lost), jitter p50 {jitter['p50_ms']:.2f} ms, "
        f"p95 {jitter['p95_ms']:.2f} ms, p99 {jitter['p99_ms']:.2f} ms"
    )
    assert 24 * 5 <= ticks <= 24 * 7 and lost <= 6
    # A JACK cycle is 1.3 ms; without realtime scheduling this VM's server shows up to
    # ~8 ms at p99 (10.4 ms with two CPU burners beside the suite), while a stalled loop
    # (tens of ms for many ticks, a drum machine audibly off) still fails.
    assert jitter["p95_ms"] < 10.0
