"""What a long session keeps in memory, note by note: ``improviser bench memory``.

The soak (:mod:`improviser.bench.soak`) watches the process from outside (anonymous
memory, RSS) over real minutes, with JACK and a player beside it; here the engine's own
allocations are counted, in-process and on a simulated clock, so hours of playing take
seconds: an :class:`~improviser.live.engine.engine.Improviser` wired as a session (the stats and
the recorder observing its events, the recording encoded as a flush does every
phrase, the pause work done every 50 ms of simulated time and the collector settled and
frozen every 10 s, as the session's chores do) hears phrases of random notes
(8 notes 0.25 s apart, then a rest it answers) and ``tracemalloc`` reads what is alive
after each block of notes, from the very first allocation (so what was freed counts as
freed). After the short-term model holds its ``listen.short_term_notes`` the figure per
note is what a session keeps for ever: the recording's bytes, and nothing else should
grow.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from improviser.config.live import LiveConfig
from improviser.inference.protocol import StepModel
from improviser.live.engine.engine import Improviser
from improviser.live.events import EventBus
from improviser.live.io.midi import InMessage, Kind
from improviser.live.session.gcpause import SETTLE_SECONDS, collect_young_if_due, settle
from improviser.live.session.recorder import Recorder
from improviser.live.session.stats import SessionStats
from improviser.live.timebase.scheduler import Scheduler

__all__ = ["bench_memory"]

PHRASE_NOTES = 8
NOTE_S, HELD_S, REST_S, PAUSE_S = 0.25, 0.15, 3.0, 0.05


def _site(stat: tracemalloc.Statistic) -> dict[str, Any]:
    frame = stat.traceback[0]
    return {
        "where": f"{frame.filename}:{frame.lineno}",
        "kb": stat.size / 1024,
        "blocks": stat.count,
    }


def bench_memory(
    model: StepModel,
    notes: int,
    block: int,
    mode: str = "call-response",
    seed: int = 0,
    top: int = 8,
    short_term_notes: int | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Traced memory after every ``block`` of ``notes`` player notes, and the allocation
    sites holding the most at the end; a JSON-ready dict. ``short_term_notes``: the
    short-term model's bound (default: the configured one)."""
    clock = [0.0]

    def now() -> float:
        return clock[0]

    bound = {} if short_term_notes is None else {"short_term_notes": short_term_notes}
    config = LiveConfig(mode=mode, **bound)
    scheduler = Scheduler(lambda _message: None, now, max_note_seconds=config.max_note_seconds)
    bus = EventBus()
    bus.observe(SessionStats().observe)
    recorder = Recorder(Path("unused.mid"), start=0.0, now=now)
    bus.observe(recorder.observe)
    tracemalloc.start()
    began = time.perf_counter()
    engine = Improviser(config, model, scheduler, now=now, rng=np.random.default_rng(seed), bus=bus)
    engine.start()
    rng = np.random.default_rng(seed + 1)

    settled = [0.0]

    def advance(seconds: float) -> None:
        """The session's chores over ``seconds``: pause work, the collector settled."""
        end = clock[0] + seconds
        while clock[0] < end:
            clock[0] = min(end, clock[0] + PAUSE_S)
            scheduler.process_due(clock[0])
            engine.tick(clock[0])
            collect_young_if_due()
            engine.idle()
            if clock[0] - settled[0] >= SETTLE_SECONDS:
                settle()  # freezes what lives (and any cycle it holds: counted here too)
                settled[0] = clock[0]

    rows = []
    try:
        for i in range(notes):
            pitch = int(rng.integers(55, 80))
            engine.handle(InMessage(Kind.NOTE_ON, 0, pitch, 80, clock[0]))
            advance(HELD_S)
            engine.handle(InMessage(Kind.NOTE_OFF, 0, pitch, 0, clock[0]))
            advance(NOTE_S - HELD_S)
            if (i + 1) % PHRASE_NOTES == 0:
                advance(REST_S)
                recorder.encode(clock[0])  # what a flush keeps of the take
            if (i + 1) % block == 0:
                gc.collect()  # what is garbage now is not kept (frozen cycles stay)
                row = {
                    "notes": i + 1,
                    "traced_mb": tracemalloc.get_traced_memory()[0] / 1e6,
                    "session_minutes": clock[0] / 60,
                }
                rows.append(row)
                if progress is not None:
                    progress(row)
        sites = tracemalloc.take_snapshot().statistics("lineno")[:top]
    finally:
        tracemalloc.stop()
        gc.unfreeze()  # the collector as it was (a bench in a test process)
    half = rows[len(rows) // 2] if len(rows) > 1 else rows[0]
    last = rows[-1]
    grown = last["notes"] - half["notes"]
    return {
        "mode": mode,
        "engine": getattr(model, "name", type(model).__name__),
        "notes": notes,
        "recorded": recorder.counts(),
        "rows": rows,
        "bytes_per_note_second_half": (
            (last["traced_mb"] - half["traced_mb"]) * 1e6 / grown if grown else None
        ),
        "largest": [_site(s) for s in sites],
        "seconds": time.perf_counter() - began,
    }
