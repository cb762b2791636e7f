"""The built-in synth off beside on, in rounds: what it costs a session (``bench e2e --synth``).

The follow run is played again with the synth off and with it on (FluidSynth on the
benchmark's JACK server, every note of both parts sounding), in alternating order round
by round, as :mod:`~improviser.bench.e2e_mqtt` does for MQTT. Reported, pooled over the
rounds, for each arm:

- the engine stage (the engine task taking a note to its answer sent; the synth must
  not lengthen it) and the whole player-to-answer latency;
- the process's CPU time (every thread: the loop, the input, FluidSynth's audio thread)
  per minute of playing, and the synth's share: CPU seconds per minute on less off;
- the CPU time of the threads FluidSynth started (those that appeared as it opened: its
  audio driver's JACK client renders there), read per thread from ``/proc``: the
  synth's own cost, which the difference of two whole-process figures leaves to the
  machine's load (the other threads' CPU moves with it by more than the synth's).

Each round's own difference is reported beside the pooled one, to show the noise.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from improviser.audio.companion import SynthCompanion
from improviser.bench.stats import summarize
from improviser.config.synth import SynthConfig
from improviser.live.session.session import Companion

__all__ = ["SYNTH_TASK", "RunFigures", "synth_rounds", "thread_cpu"]

SYNTH_TASK = "improviser.synth"
RunFigures = Callable[[dict[str, Companion]], Awaitable[tuple[list[float], list[float]]]]
"""One follow run with these companions: each answered note's latency and engine stage, ms."""


def thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by thread id (empty
    where there is no ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return seconds
    for task in tasks:
        try:
            fields = (task / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return seconds


async def _one(run: RunFigures, on: bool) -> dict[str, Any]:
    companions: dict[str, Companion] = {}
    synth: SynthCompanion | None = None
    synth_threads: set[int] = set()
    if on:
        synth = SynthCompanion(SynthConfig(enabled=True), jack_session=True)
        before = set(thread_cpu())
        synth.open()  # loading the SoundFont is start-up, not playing: outside the clock
        synth_threads = set(thread_cpu()) - before
        companions[SYNTH_TASK] = synth
    try:
        threads = thread_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        latencies, engine = await run(companions)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = thread_cpu()
    finally:
        if synth is not None:
            synth.close()
    own = sum(after.get(t, threads.get(t, 0.0)) - threads.get(t, 0.0) for t in synth_threads)
    return {
        "latencies": latencies,
        "engine": engine,
        "cpu_s_per_min": 60 * cpu / wall,
        "synth_threads": len(synth_threads),
        "synth_threads_cpu_s_per_min": 60 * own / wall,
        "minutes": wall / 60,
        "played": synth.played if synth is not None else 0,
        "dropped": synth.dropped if synth is not None else 0,
    }


def _arm(runs: list[dict[str, Any]]) -> dict[str, Any]:
    minutes = sum(r["minutes"] for r in runs)
    return {
        "engine": summarize([ms for r in runs for ms in r["engine"]]),
        "e2e": summarize([ms for r in runs for ms in r["latencies"]]),
        "cpu_s_per_min": sum(r["cpu_s_per_min"] * r["minutes"] for r in runs) / minutes,
        "synth_threads_cpu_s_per_min": sum(
            r["synth_threads_cpu_s_per_min"] * r["minutes"] for r in runs
        )
        / minutes,
        "minutes": minutes,
    }


async def synth_rounds(run: RunFigures, rounds: int) -> dict[str, Any]:
    """``rounds`` rounds of a synth-off and a synth-on run (the order flipping each round)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    arms: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    per_round = []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        got = {on: await _one(run, on) for on in order}
        for on, figures in got.items():
            arms[on].append(figures)
        off, on_ = got[False], got[True]
        per_round.append({
            "order": ["on" if o else "off" for o in order],
            "engine_added_p50_ms": summarize(on_["engine"])["p50_ms"]
            - summarize(off["engine"])["p50_ms"],
            "engine_added_p99_ms": summarize(on_["engine"])["p99_ms"]
            - summarize(off["engine"])["p99_ms"],
            "cpu_added_s_per_min": on_["cpu_s_per_min"] - off["cpu_s_per_min"],
            "synth_threads_cpu_s_per_min": on_["synth_threads_cpu_s_per_min"],
        })  # fmt: skip
    off_arm, on_arm = _arm(arms[False]), _arm(arms[True])
    return {
        "rounds": rounds,
        "off": off_arm,
        "on": on_arm,
        "engine_added_p50_ms": on_arm["engine"]["p50_ms"] - off_arm["engine"]["p50_ms"],
        "engine_added_p99_ms": on_arm["engine"]["p99_ms"] - off_arm["engine"]["p99_ms"],
        "e2e_added_p99_ms": on_arm["e2e"]["p99_ms"] - off_arm["e2e"]["p99_ms"],
        "cpu_added_s_per_min": on_arm["cpu_s_per_min"] - off_arm["cpu_s_per_min"],
        "synth_threads": max(r["synth_threads"] for r in arms[True]),
        "synth_threads_cpu_s_per_min": on_arm["synth_threads_cpu_s_per_min"],
        "synth_notes_played": sum(r["played"] for r in arms[True]),
        "synth_events_dropped": sum(r["dropped"] for r in arms[True]),
        "per_round": per_round,
    }
