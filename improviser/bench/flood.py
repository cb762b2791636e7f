"""How much input reaches the engine intact through JACK, and who drops the rest:
``improviser bench flood``.

An outside client (:mod:`improviser.harness.soak_player`) sends ``rate`` messages a
second for ``seconds`` into a call-and-response :class:`LiveSession`:
:func:`~improviser.harness.soak_script.flood_messages`, notes and controls mixed with
garbage (clock, active sensing, sysex, pitch bend, unknown status bytes, stray data bytes,
notes on another channel). Counted at each stage:

- ``sent``: by the client, per kind; ``parsed kinds`` are those the live input hands on;
- ``arrived``: messages our input callback was given (:attr:`MidiInput.received`; RtMidi
  filters clock, active sensing and sysex before it), and ``parsed``: those it handed to
  the loop (the trace's ``enqueued``);
- ``handled``: by the engine (the trace's ``handled``); ``dropped``: by the engine's
  bounded queue (oldest first, :attr:`LiveSession.dropped`).

The session's own anonymous memory is sampled through the flood (it must stay bounded),
and after it a normal phrase must be answered: the instrument is not deaf.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from improviser.bench.e2e_analysis import note_ons
from improviser.bench.models import choose_model
from improviser.bench.rig import LiveBenchOptions, outside_player, take_trace
from improviser.bench.soak_ledger import memory_mb
from improviser.config import Config, with_overrides
from improviser.harness.e2e_player import PlayerProcess
from improviser.harness.soak_player import KEYS_CLIENT, SYNTH_CLIENT
from improviser.harness.soak_script import PARSED_KINDS
from improviser.live.session.session import LiveSession

__all__ = ["FloodOptions", "bench_flood", "run_flood"]

AFTER_PHRASE = (60, 64, 67, 72, 71, 67)


@dataclass(frozen=True, slots=True)
class FloodOptions(LiveBenchOptions):
    """What ``bench flood`` sends."""

    rate: float = 10_000.0
    seconds: float = 5.0


class _Watch:
    """Samples memory and drains the trace while the flood runs."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self.stages: Counter[str] = Counter()
        self.anon_peak = 0.0

    def drain(self) -> None:
        self.stages.update(stage for stage, _, _ in take_trace(self.session))
        self.anon_peak = max(self.anon_peak, memory_mb()["anon_mb"])

    async def run(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            self.drain()


async def _settle(session: LiveSession, seconds: float) -> None:
    """Wait until the engine's queue is empty and the session listens (or ``seconds``)."""
    engine = session.engine
    assert engine is not None
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and (  # noqa: ASYNC110 - polls the engine
        session.queue_depth or engine.status != "listening"
    ):
        await asyncio.sleep(0.05)


async def _answered_after(session: LiveSession, child: PlayerProcess) -> dict[str, Any]:
    """Play one normal phrase; whether it was answered (at the synth) and how fast."""
    cfg = session.config
    await child.ask(cmd="report")  # forget what was heard so far
    answers = session.stats.answers
    end = (await child.ask(cmd="phrase", pitches=list(AFTER_PHRASE), step=0.2))["end"]
    deadline = end + cfg.held_phrase_gap + 3.0
    while time.perf_counter() < deadline and session.stats.answers <= answers:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    engine = session.engine
    assert engine is not None
    # The answer's first note waits for the next beat (live.answer_start): up to one beat.
    await asyncio.sleep(60.0 / engine.voice.timing.bpm + 0.3)
    heard = [t for t in note_ons((await child.ask(cmd="report"))["heard"]) if t > end]
    return {
        "answered": session.stats.answers > answers and bool(heard),
        "first_answer_note_s": heard[0] - end if heard else None,
    }


async def _flood(
    session: LiveSession, child: PlayerProcess, options: FloodOptions
) -> dict[str, Any]:
    assert session.input is not None
    watch = _Watch(session)
    watch.drain()
    anon_before = memory_mb()["anon_mb"]
    received, dropped = session.input.received, session.dropped
    stages_before = Counter(watch.stages)
    task = asyncio.create_task(watch.run(), name="improviser.bench.flood-watch")
    try:
        limit = options.seconds * 3 + 30
        sent = await child.ask(cmd="flood", rate=options.rate, seconds=options.seconds,
                               seed=options.seed, limit=limit)  # fmt: skip
        await _settle(session, 10.0)
    finally:
        task.cancel()
    watch.drain()
    stages = watch.stages - stages_before
    kinds: dict[str, int] = sent["sent"]
    parsed_sent = sum(kinds.get(k, 0) for k in PARSED_KINDS) + sent["released"]
    return {
        "sent": kinds,
        "sent_total": sum(kinds.values()) + sent["released"],
        "sent_parsed_kinds": parsed_sent,
        "released_after": sent["released"],
        "flood_seconds": sent["seconds"],
        "arrived": session.input.received - received,
        "parsed": stages["enqueued"],
        "handled": stages["handled"],
        "queue_dropped": session.dropped - dropped,
        "anon_mb_before": anon_before,
        "anon_mb_peak": watch.anon_peak,
        "anon_mb_after": memory_mb()["anon_mb"],
    }


async def run_flood(options: FloodOptions) -> dict[str, Any]:
    """Run the flood (see the module docstring); a JSON-ready dict."""
    model, path, label = choose_model(options.model, untrained=options.untrained, seed=options.seed)
    load_before = os.getloadavg()
    async with outside_player(options.jack_period, "improviser-flood-") as rig:
        child = rig.player
        cfg = with_overrides(
            Config(),
            live={"api": "jack", "in_port": KEYS_CLIENT, "out_port": SYNTH_CLIENT,
                  "model": path, "mode": "call-response",
                  "record_path": rig.folder / "flood.mid"},
        ).live  # fmt: skip
        async with LiveSession(cfg, model=model, trace=True) as session:
            await asyncio.sleep(0.3)
            flood = await _flood(session, child, options)
            await asyncio.sleep(cfg.held_phrase_gap + 1.0)  # the flood's phrase ends
            await _settle(session, 30.0)
            after = await _answered_after(session, child)
    return {
        "model": label,
        "jack": rig.jack,
        "rate": options.rate,
        **flood,
        "after": after,
        "cpu_count": os.cpu_count(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }


def bench_flood(options: FloodOptions) -> dict[str, Any]:
    """:func:`run_flood` in a fresh event loop."""
    return asyncio.run(run_flood(options))
