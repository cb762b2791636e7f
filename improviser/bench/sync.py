"""Musical time through a private JACK server, at outside clients: ``improviser bench sync``.

A private JACK server (dummy driver, 64 frames a period by default) and outside JACK
clients: a clock master in a process of its own
(:class:`~improviser.harness.clock_process.ClockProcess`, so it does not share the
session's interpreter lock) and, in this process, a virtual player with its synth
(:class:`~improviser.harness.player.VirtualPlayer`) and a clock listener
(:class:`~improviser.harness.clock_player.ClockListener`). A live session
with the bundled model (``--sync clock``, answers on the beat, six notes each) plays:

- ``runs`` times :func:`~improviser.bench.sync_runs.clock_run`: an answer at 120 bpm, then
  stop, continue, 150 bpm, the tempo read two beats later, an answer. Each note-on heard
  at the synth is placed on the master's grid where the answer planned it (whole ticks
  from the beat it started on: :mod:`~improviser.bench.sync_stats`); its error is its
  arrival less the master's tick. p50/p99 of the absolute error per run and pooled, the
  notes sent and heard, the ticks the follower counted lost, and how far the followed
  tempo was from 150 bpm;
- once, a session with ``--clock-out`` at a fixed tempo: each tick at the listener
  against the steady grid fitted through them all (p50/p95/p99), ticks, lost ticks.

A busy machine makes the master late too (its process waits for a core like any other):
how late it sent its ticks is reported beside the errors, which are taken from when each
tick was due. Nothing here asserts on a timing.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rtmidi

from improviser.bench.e2e import jack_info
from improviser.bench.e2e_analysis import xruns
from improviser.bench.models import choose_model
from improviser.bench.rig import LiveBenchOptions
from improviser.bench.stats import summarize
from improviser.bench.sync_runs import ClockRun, clock_run
from improviser.bench.sync_stats import tick_jitter
from improviser.config import Config, with_overrides
from improviser.config.live import LiveConfig
from improviser.harness.clock_player import CLOCK_IN_CLIENT, CLOCK_OUT_CLIENT, ClockListener
from improviser.harness.clock_process import ClockProcess
from improviser.harness.jackserver import JackServer
from improviser.harness.player import KEYS_CLIENT, SYNTH_CLIENT, VirtualPlayer
from improviser.inference import StepModel
from improviser.live.engine.loading import describe_engine
from improviser.live.session.session import LiveSession
from improviser.paths import ROOT

__all__ = ["SyncOptions", "bench_sync", "run_figures"]

_API = rtmidi.API_UNIX_JACK
FIRST_BPM, SECOND_BPM = 120.0, 150.0


@dataclass(frozen=True, slots=True)
class SyncOptions(LiveBenchOptions):
    """What ``bench sync`` plays (the model and JACK server: :class:`LiveBenchOptions`)."""

    runs: int = 8
    engine: str = "auto"
    answer_notes: int = 6
    clock_out_seconds: float = 6.0
    clock_out_bpm: float = 125.0


def _config(options: SyncOptions, path: Path, folder: Path, **live: Any) -> LiveConfig:
    data = {
        "api": "jack",
        "in_port": KEYS_CLIENT,
        "out_port": SYNTH_CLIENT,
        "model": path,
        "engine": options.engine,
        "record_path": folder / "sync.mid",
        "answer_length": "notes",
        "answer_notes": options.answer_notes,
        **live,
    }
    return with_overrides(Config(), live=data).live


def run_figures(run: ClockRun) -> dict[str, Any]:
    """One :func:`clock_run`'s figures: the notes' errors on the master's grid, how late
    they came to the synth after their intended time (what the session and JACK added,
    apart from where the session placed them), the tempo followed, the ticks lost, how
    late the master was."""
    errors = run.errors()
    pooled = [abs(e) * 1000 for answer in errors for e in answer]
    late = (np.asarray(run.sent) - np.asarray(run.ticks)) * 1000
    return {
        "notes_sent": [len(a.planned) for a in run.answers],
        "notes_heard": [len(a.heard) for a in run.answers],
        "repeats_heard": [a.repeats for a in run.answers],
        "error": summarize(pooled),
        "signed_errors_ms": [[round(e * 1000, 3) for e in answer] for answer in errors],
        "answer_bpm": [60.0 / a.seconds_per_beat for a in run.answers],
        "followed_bpm": run.followed_bpm,
        "tempo_off_pct": 100.0 * (run.followed_bpm / run.target_bpm - 1.0),
        "lost_ticks": run.lost_ticks,
        "late_to_plan_ms": [round(e * 1000, 3) for e in run.late()],
        "master_late": summarize(late.tolist()),
    }


async def _clock_runs(
    options: SyncOptions,
    model: StepModel | None,
    path: Path,
    folder: Path,
    progress: Callable[[int, int], None],
) -> tuple[list[dict[str, Any]], str]:
    runs: list[dict[str, Any]] = []
    engine = "?"
    total = options.runs + 1
    player, master = VirtualPlayer(_API), await ClockProcess.open()
    try:
        for i in range(options.runs):
            cfg = _config(options, path, folder, sync="clock", clock_port=CLOCK_OUT_CLIENT,
                          answer_start="beat", bpm=None,
                          **{"sampling.seed": options.seed + i})  # fmt: skip
            async with LiveSession(cfg, model=model) as session:
                if session.model is not None:
                    engine = describe_engine(session.model)
                try:
                    run = await clock_run(session, player, master,
                                          first_bpm=FIRST_BPM, second_bpm=SECOND_BPM)  # fmt: skip
                    runs.append({"run": i, "failed": None, **run_figures(run)})
                except TimeoutError as exc:  # a step not reached: the run counts as failed
                    runs.append({"run": i, "failed": str(exc)})
            await master.stop()
            await asyncio.sleep(0.3)  # the session's ports gone before the next
            progress(i + 1, total)
    finally:
        await master.close()
        player.close()
    return runs, engine


async def _clock_out(
    options: SyncOptions, model: StepModel | None, path: Path, folder: Path
) -> dict[str, Any]:
    listener, player = ClockListener(_API), VirtualPlayer(_API)
    try:
        cfg = _config(options, path, folder, out_port=CLOCK_IN_CLIENT, clock_out=True,
                      bpm=options.clock_out_bpm)  # fmt: skip
        async with LiveSession(cfg, model=model):
            await asyncio.sleep(options.clock_out_seconds)
        await asyncio.sleep(0.1)
        return {
            "bpm": options.clock_out_bpm,
            "seconds": options.clock_out_seconds,
            "starts": len(listener.starts),
            "stops": len(listener.stops),
            **tick_jitter(listener.ticks, options.clock_out_bpm),
        }
    finally:
        player.close()
        listener.close()


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in runs if not r["failed"]]
    signed = [e for r in done for answer in r["signed_errors_ms"] for e in answer]
    tempo = [r["tempo_off_pct"] for r in done]
    return {
        "runs": len(runs),
        "failed": len(runs) - len(done),
        "notes_sent": sum(sum(r["notes_sent"]) for r in done),
        "notes_heard": sum(sum(r["notes_heard"]) for r in done),
        "repeats_heard": sum(sum(r["repeats_heard"]) for r in done),
        "error": summarize([abs(e) for e in signed]),
        "late_to_plan": summarize([e for r in done for e in r["late_to_plan_ms"]]),
        "signed_median_ms": float(np.median(signed)) if signed else float("nan"),
        "run_p50_ms": [r["error"]["p50_ms"] for r in done],
        "run_p99_ms": [r["error"]["p99_ms"] for r in done],
        "lost_ticks": sum(r["lost_ticks"] for r in done),
        "tempo_off_pct": tempo,
        "tempo_max_abs_off_pct": max((abs(t) for t in tempo), default=float("nan")),
        "master_late_p99_ms": max((r["master_late"]["p99_ms"] for r in done), default=0.0),
    }


def bench_sync(
    options: SyncOptions, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Run the benchmark (see the module docstring) on the main thread; a JSON-ready dict.
    ``progress(done, total)`` is called after each run."""
    report = progress or (lambda _done, _total: None)
    model, path, label = choose_model(
        options.model, untrained=options.untrained, seed=options.seed, engine=options.engine
    )
    if model is None and path.resolve().is_relative_to(ROOT):
        label = str(path.resolve().relative_to(ROOT))  # the bundled one, as the docs name it
    load_before = os.getloadavg()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="improviser-sync-") as tmp:
        folder = Path(tmp)
        log = folder / "jackd.log"
        with JackServer(period=options.jack_period, log=log) as server:
            runs, engine = asyncio.run(_clock_runs(options, model, path, folder, report))
            clock_out = asyncio.run(_clock_out(options, model, path, folder))
            report(options.runs + 1, options.runs + 1)
        jack = jack_info(server, xruns(log))
    return {
        "bench": "sync",
        "model": label,
        "engine": engine,
        "answer_notes": options.answer_notes,
        "tempo_change": {"from_bpm": FIRST_BPM, "to_bpm": SECOND_BPM, "read_after_beats": 2},
        "answers": _pooled(runs),
        "per_run": runs,
        "clock_out": clock_out,
        "jack": jack,
        "seconds": time.perf_counter() - began,
        "cpu_count": os.cpu_count(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }
