"""End-to-end latency and jitter through real MIDI ports: ``improviser bench e2e``.

A live session runs here, in ``follow`` mode with ``follow_delay = 0``, on a JACK server (a
private one with the dummy driver is started if none is reachable). An outside client in
its own process (:mod:`improviser.harness.e2e_player`) plays notes into the session's input
at musical spacing and stamps the answering ``note_on`` at the session's output. Between
those notes, in the same run, it measures the JACK floor: a note sent on one of its
outputs and heard on one of its inputs through a direct JACK connection (one hop), and
through a client that sends each message on from its input callback (two hops, the least
any MIDI-through process can do; a note that arrives in one JACK cycle can leave in the
next at the earliest).

Reported, each as p50/p99/max in ms:

- ``floor``: the direct loopback; ``relay_floor``: the two-hop relay;
- ``e2e``: the player's ``note_on`` to the answering ``note_on`` at the synth;
- ``added``: ``e2e`` less the floor's p50, and per percentile (``e2e`` p99 less the
  floor's p99...), against the direct floor and against the relay;
- ``stages``: where the time goes: JACK in (player → our input callback), callback →
  loop (``call_soon_threadsafe``), queue → engine task, engine (step, sample, schedule,
  send), JACK out (our send → synth); the clock is ``CLOCK_MONOTONIC`` in both processes;
- ``jitter``: actual send time less intended time from :attr:`Scheduler.timing`: the
  follow notes (intended = the input callback's time, so this is our whole share of the
  latency), their timed ``note_off``\\ s, and, in a short call-and-response run, the
  notes inside each answer (timed by the scheduler), its first note (due at the end of
  the phrase, so it includes generating the answer) and the answers' ``note_off``\\ s.

It also checks that every note was answered and that the synth was left with no note
sounding. Nothing here asserts on a timing: the figures are reported against
:data:`TARGETS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from improviser.bench.stats import summarize
from improviser.config import Config, ModelConfig, with_overrides
from improviser.config.live import LiveConfig
from improviser.errors import PortError
from improviser.harness.e2e_player import KEYS_CLIENT, SYNTH_CLIENT
from improviser.harness.jackserver import JackServer, jack_running
from improviser.inference import NumpyEngine, StepModel, random_weights
from improviser.live.scheduler import SentTiming
from improviser.live.session import LiveSession, describe_engine
from improviser.paths import DEFAULT_MODEL, ROOT

__all__ = ["TARGETS", "E2eOptions", "bench_e2e", "run_e2e"]

TARGETS = {"added_p99_ms": 1.0, "jitter_p99_ms": 1.0}
"""The issue's targets: added latency p99 within 1 ms of the JACK floor; jitter p99 1 ms."""
_REPLY_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class E2eOptions:
    """What ``bench e2e`` plays."""

    model: Path | None = None
    """``None``: the bundled model if present, else random weights."""
    untrained: bool = False
    engine: str = "auto"
    device: str = "auto"
    notes: int = 500
    min_gap: float = 0.1
    max_gap: float = 0.25
    phrases: int = 10
    """Call-and-response phrases (0: no call-and-response run)."""
    answer_notes: int = 8
    record: bool = True
    jack_period: int = 64
    """Frames per period of a private JACK server (48 kHz)."""
    seed: int = 0


class _Child:
    """The outside client's process and its line protocol."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> _Child:
        paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "improviser.harness.e2e_player",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        child = cls(proc)
        ready = await child.read()
        if not ready.get("ready"):
            raise PortError(f"bench e2e: the player did not start ({ready})")
        return child

    async def read(self, limit: float = _REPLY_TIMEOUT) -> dict[str, Any]:
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), limit)
        except TimeoutError:
            line = b""
        if not line:
            err = b""
            if self.proc.stderr is not None and self.proc.returncode is not None:
                err = await self.proc.stderr.read()
            raise PortError(
                f"bench e2e: the player stopped answering ({err.decode(errors='replace')[-500:]})"
            )
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def ask(self, limit: float = _REPLY_TIMEOUT, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()
        return await self.read(limit)

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(PortError, BrokenPipeError, ConnectionResetError):
                await self.ask(cmd="quit", limit=5.0)
            try:
                await asyncio.wait_for(self.proc.wait(), 5.0)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def _model(options: E2eOptions) -> tuple[StepModel | None, Path, str]:
    """The injected model (random weights) or ``None`` (the session loads ``path``)."""
    path = options.model or DEFAULT_MODEL
    if options.untrained or (options.model is None and not path.with_suffix(".npz").exists()):
        why = "--untrained" if options.untrained else f"no bundled model at {path}"
        units = tuple(ModelConfig().lstm_units)  # the default model's size, so its cost
        weights = random_weights(units, embedding=16, seed=options.seed)
        label = f"random weights, LSTM {'-'.join(map(str, units))} ({why})"
        return NumpyEngine(weights), path, label
    return None, path, str(path)


def _config(options: E2eOptions, path: Path, record_dir: Path, **mode: Any) -> LiveConfig:
    data = {
        "api": "jack",
        "in_port": KEYS_CLIENT,
        "out_port": SYNTH_CLIENT,
        "model": path,
        "engine": options.engine,
        "device": options.device,
        "record": options.record,
        "record_path": record_dir / f"e2e-{mode['mode']}.mid",
        "sampling.seed": options.seed,
        **mode,
    }
    return with_overrides(Config(), live=data).live


def _answers(sent: Sequence[float], heard: Sequence[float]) -> list[float | None]:
    """For each sent time, the first heard time after it and before the next sent one."""
    out: list[float | None] = []
    j = 0
    for i, t in enumerate(sent):
        end = sent[i + 1] if i + 1 < len(sent) else float("inf")
        while j < len(heard) and heard[j] < t:
            j += 1
        out.append(heard[j] if j < len(heard) and heard[j] < end else None)
    return out


def _ms(pairs: Sequence[tuple[float, float]]) -> list[float]:
    return [(b - a) * 1000 for a, b in pairs]


def _note_ons(heard: Sequence[Sequence[float]]) -> list[float]:
    return sorted(t for t, status, _, velocity in heard if int(status) & 0xF0 == 0x90 and velocity)


def _stuck(heard: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(channel, pitch) of notes the synth was left with (CC 123/120 do not count)."""
    sounding: set[tuple[int, int]] = set()
    for _, status, pitch, velocity in sorted(heard, key=lambda e: e[0]):
        kind, key = int(status) & 0xF0, (int(status) & 0x0F, int(pitch))
        if kind == 0x90 and velocity:
            sounding.add(key)
        elif kind in (0x80, 0x90):
            sounding.discard(key)
    return sorted(sounding)


def _floor(sent: Sequence[float], heard: Sequence[float]) -> list[float]:
    return _ms([(s, h) for s, h in zip(sent, _answers(sent, heard), strict=True) if h is not None])


def _stages(
    sent: Sequence[float],
    heard: Sequence[float | None],
    timing: Sequence[SentTiming],
    trace: Sequence[tuple[str, float, float]],
) -> dict[str, dict[str, float]]:
    """Per-stage milliseconds of each answered note (see the module docstring)."""
    at = {(stage, t): clock for stage, t, clock in trace}
    follow = sorted((x.intended, x.actual) for x in timing if x.on and x.tag == "follow")
    callbacks = [c for c, _ in follow]
    sends = dict(follow)
    rows: dict[str, list[float]] = {
        "jack in: player -> our callback": [],
        "callback -> loop (threadsafe)": [],
        "queue -> engine task": [],
        "engine: step, sample, send": [],
        "jack out: our send -> synth": [],
    }
    for s, c, r in zip(sent, _answers(sent, callbacks), heard, strict=True):
        if c is None or r is None:
            continue
        enq, deq, send = at.get(("enqueued", c)), at.get(("dequeued", c)), sends[c]
        if enq is None or deq is None:
            continue
        for name, (a, b) in zip(
            rows, [(s, c), (c, enq), (enq, deq), (deq, send), (send, r)], strict=True
        ):
            rows[name].append((b - a) * 1000)
    return {name: summarize(values) for name, values in rows.items()}


def _jitter(timing: Sequence[SentTiming]) -> dict[str, dict[str, float]]:
    follow_on = [(x.intended, x.actual) for x in timing if x.tag == "follow" and x.on]
    follow_off = [(x.intended, x.actual) for x in timing if x.tag == "follow" and not x.on]
    answers = [x for x in timing if x.tag.startswith("answer-")]
    firsts: dict[str, SentTiming] = {}
    for x in answers:
        if x.on and (x.tag not in firsts or x.intended < firsts[x.tag].intended):
            firsts[x.tag] = x
    first_set = set(map(id, firsts.values()))
    inside = [(x.intended, x.actual) for x in answers if x.on and id(x) not in first_set]
    return {
        "follow on: callback -> sent": summarize(_ms(follow_on)),
        "follow off (timed)": summarize(_ms(follow_off)),
        "answer on (timed)": summarize(_ms(inside)),
        "answer 1st on: phrase end": summarize(
            _ms([(x.intended, x.actual) for x in firsts.values()])
        ),
        "answer off (timed)": summarize(_ms([(x.intended, x.actual) for x in answers if not x.on])),
    }


async def _follow_run(
    child: _Child, options: E2eOptions, model: StepModel | None, path: Path, record_dir: Path
) -> dict[str, Any]:
    cfg = _config(options, path, record_dir, mode="follow", follow_delay=0.0)
    async with LiveSession(cfg, model=model, trace=True) as session:
        assert session.scheduler is not None and session.engine is not None
        engine_name = describe_engine(session.model) if session.model is not None else "?"
        await asyncio.sleep(0.3)  # JACK connections settle
        played = await child.ask(
            cmd="follow",
            notes=options.notes,
            min_gap=options.min_gap,
            max_gap=options.max_gap,
            seed=options.seed,
            limit=options.notes * options.max_gap + _REPLY_TIMEOUT,
        )
        await asyncio.sleep(0.1)
        timing = list(session.scheduler.timing)
        trace = list(session.trace or [])
        dropped = session.dropped
        heard_in = session.engine.stats.notes_in
        echoes = session.engine.guard.echoes
    return {
        "heard_in": heard_in,
        "echoes": echoes,
        "played": played,
        "timing": timing,
        "trace": trace,
        "engine": engine_name,
        "dropped": dropped,
    }


async def _call_response_run(
    child: _Child, options: E2eOptions, model: StepModel | None, path: Path, record_dir: Path
) -> dict[str, Any]:
    cfg = _config(
        options,
        path,
        record_dir,
        mode="call-response",
        bpm=180.0,
        phrase_gap=0.3,
        answer_length="notes",
        answer_notes=options.answer_notes,
    )
    calls = ([60, 62, 64, 67], [67, 65, 64, 62], [64, 67, 72, 71], [59, 62, 65, 64])
    unanswered = 0
    async with LiveSession(cfg, model=model) as session:
        engine = session.engine
        assert session.scheduler is not None and engine is not None
        await asyncio.sleep(0.3)
        for i in range(options.phrases):
            await child.ask(cmd="phrase", pitches=calls[i % len(calls)], step=0.15)
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline and not (  # noqa: ASYNC110 - polls the engine
                engine.stats.answers > i and engine.status == "listening"
            ):
                await asyncio.sleep(0.02)
            if engine.stats.answers <= i:
                unanswered += 1
        timing = list(session.scheduler.timing)
        answers = engine.stats.answers
    return {"timing": timing, "answers": answers, "unanswered": unanswered}


def _xruns(log: Path) -> dict[str, int]:
    """What a private server's log says went wrong: cycles that started late, and clients
    that had not finished a cycle (JACK may drop that cycle's MIDI for them)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return {"late_cycles": 0, "client_overruns": 0}
    return {
        "late_cycles": text.count("JackTimedDriver::Process XRun"),
        "client_overruns": text.count("was not finished"),
    }


def _added(e2e: dict[str, float], floor: dict[str, float]) -> dict[str, dict[str, float]]:
    keys = ("p50_ms", "p99_ms", "max_ms")
    return {
        "vs_p50": {k: e2e[k] - floor["p50_ms"] for k in keys},
        "per_percentile": {k: e2e[k] - floor[k] for k in keys},
    }


async def run_e2e(options: E2eOptions) -> dict[str, Any]:
    """Run the benchmark (see the module docstring); a JSON-ready dict."""
    model, path, model_label = _model(options)
    server: JackServer | None = None
    load_before = os.getloadavg()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="improviser-e2e-") as tmp:
        jack_log = Path(tmp) / "jackd.log"
        if not jack_running():
            server = JackServer(period=options.jack_period, log=jack_log)
            server.start()
        try:
            child = await _Child.start()
            try:
                follow = await _follow_run(child, options, model, path, Path(tmp))
                heard_follow = (await child.ask(cmd="heard"))["heard"]
                cr: dict[str, Any] | None = None
                if options.phrases > 0:
                    cr = await _call_response_run(child, options, model, path, Path(tmp))
                await asyncio.sleep(0.1)  # the last note-offs reach the synth
                heard = heard_follow + (await child.ask(cmd="heard"))["heard"]
            finally:
                await child.close()
        finally:
            if server is not None:
                server.stop()
        xruns = _xruns(jack_log) if server is not None else None
    played = follow["played"]
    sent: list[float] = played["sent"]
    follow_heard = _answers(sent, _note_ons(heard_follow))
    e2e = summarize(_ms([(s, r) for s, r in zip(sent, follow_heard, strict=True) if r]))
    floor = summarize(_floor(played["floor_sent"], played["floor_heard"]))
    relay = summarize(_floor(played["relay_sent"], played["relay_heard"]))
    timing: list[SentTiming] = follow["timing"] + (cr["timing"] if cr else [])
    return {
        "api": "jack",
        "jack": {
            "private_server": server is not None,
            "rate": server.rate if server else None,
            "period_frames": server.period if server else None,
            "period_ms": 1000 * server.period / server.rate if server else None,
            **(xruns or {"late_cycles": None, "client_overruns": None}),
        },
        "engine": follow["engine"],
        "model": model_label,
        "notes": options.notes,
        "gap_s": [options.min_gap, options.max_gap],
        "answered": sum(1 for r in follow_heard if r is not None),
        "unanswered": sum(1 for r in follow_heard if r is None),
        "dropped": follow["dropped"],
        "notes_in": follow["heard_in"],
        "echoes_ignored": follow["echoes"],
        "stuck_notes": len(_stuck(heard)),
        "floor": floor,
        "relay_floor": relay,
        "e2e": e2e,
        "added": _added(e2e, floor),
        "added_vs_relay": _added(e2e, relay),
        "stages": _stages(sent, follow_heard, follow["timing"], follow["trace"]),
        "jitter": _jitter(timing),
        "call_response": (
            {"phrases": options.phrases, "answers": cr["answers"], "unanswered": cr["unanswered"]}
            if cr
            else None
        ),
        "targets": TARGETS,
        "cpu_count": os.cpu_count(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
        "seconds": time.perf_counter() - began,
    }


def bench_e2e(options: E2eOptions) -> dict[str, Any]:
    """:func:`run_e2e` in a fresh event loop."""
    return asyncio.run(run_e2e(options))
