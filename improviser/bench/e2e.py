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
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from improviser.bench import e2e_analysis
from improviser.bench.e2e_mqtt import ab_rounds
from improviser.bench.models import choose_harmony, choose_model
from improviser.bench.stats import summarize
from improviser.config import Config, with_overrides
from improviser.config.live import LiveConfig
from improviser.harness.e2e_player import KEYS_CLIENT, REPLY_TIMEOUT, SYNTH_CLIENT, PlayerProcess
from improviser.harness.jackserver import JackServer, some_jack_server
from improviser.inference import StepModel
from improviser.live.engine.loading import describe_engine
from improviser.live.engine.modes.accompany import ACCOMPANY
from improviser.live.engine.modes.follow import FOLLOW
from improviser.live.session.session import Companion, LiveSession

__all__ = ["TARGETS", "E2eOptions", "bench_e2e", "jack_info", "run_e2e"]

TARGETS = {"added_p99_ms": 1.0, "jitter_p99_ms": 1.0}
"""The issue's targets: added latency p99 within 1 ms of the JACK floor; jitter p99 1 ms."""
_EVENTS_KEPT = 1_000_000


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
    jack_input: str = "auto"
    """``live.jack_input``: the C input (``auto``) or RtMidi's callback (``rtmidi``)."""
    mqtt: str | None = None
    """A broker ``HOST:PORT``: the follow run is played again in rounds with the MQTT
    bridge off and on (every note published), reported side by side."""
    mqtt_delay_ms: float = 10.0
    """The bridge's ``publish_delay_ms`` in that run."""
    mqtt_rounds: int = 2
    """Rounds of an MQTT-off and an MQTT-on follow run (:mod:`~improviser.bench.e2e_mqtt`)."""
    synth: bool = False
    """Play the follow run again in rounds with the built-in synth off and on
    (:mod:`~improviser.bench.e2e_synth`): its CPU, and the engine stage beside each other."""
    synth_rounds: int = 2
    mode: str = "follow"
    """The mode of the measured run: ``follow`` (a predicted note after each note) or
    ``accompany`` (the lower voices under each note, from the harmony model)."""


def _config(options: E2eOptions, path: Path, record_dir: Path, **mode: Any) -> LiveConfig:
    data = {
        "api": "jack",
        "in_port": KEYS_CLIENT,
        "out_port": SYNTH_CLIENT,
        "model": path,
        "engine": options.engine,
        "device": options.device,
        "record": options.record,
        "jack_input": options.jack_input,
        "record_path": record_dir / f"e2e-{mode['mode']}.mid",
        "sampling.seed": options.seed,
        **mode,
    }
    return with_overrides(Config(), live=data).live


async def _follow_run(
    child: PlayerProcess,
    options: E2eOptions,
    model: StepModel | None,
    path: Path,
    record_dir: Path,
    companions: dict[str, Companion] | None = None,
) -> dict[str, Any]:
    cfg = _config(options, path, record_dir, mode=options.mode, follow_delay=0.0)
    harmony = None
    if options.mode == "accompany":
        harmony, _ = choose_harmony(options.untrained, options.seed, options.engine)
    session = LiveSession(cfg, model=model, trace=True, companions=companions, harmony=harmony)
    async with session:
        events = session.bus.subscribe(_EVENTS_KEPT)
        assert session.scheduler is not None and session.engine is not None
        engine_name = describe_engine(session.model) if session.model is not None else "?"
        await asyncio.sleep(0.3)  # JACK connections settle
        played = await child.ask(
            cmd="follow",
            notes=options.notes,
            min_gap=options.min_gap,
            max_gap=options.max_gap,
            seed=options.seed,
            limit=options.notes * options.max_gap + REPLY_TIMEOUT,
        )
        await asyncio.sleep(0.1)
        trace = list(session.trace or [])
        dropped = session.dropped
        heard_in = session.stats.notes_in
        echoes = session.engine.guard.echoes
    drained = events.drain()  # after the session's close: its last releases are in
    timing = e2e_analysis.timing(drained)
    tag = ACCOMPANY if options.mode == "accompany" else FOLLOW
    sent, unreleased = e2e_analysis.sent_balance(drained, tag)
    return {
        "tag": tag,
        "heard_in": heard_in,
        "follow_sent": sent,
        "follow_unreleased": unreleased,
        "echoes": echoes,
        "played": played,
        "timing": timing,
        "trace": trace,
        "engine": engine_name,
        "dropped": dropped,
    }


async def _call_response_run(
    child: PlayerProcess, options: E2eOptions, model: StepModel | None, path: Path, record_dir: Path
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
        events = session.bus.subscribe(_EVENTS_KEPT)
        engine, stats = session.engine, session.stats
        assert session.scheduler is not None and engine is not None
        await asyncio.sleep(0.3)
        for i in range(options.phrases):
            await child.ask(cmd="phrase", pitches=calls[i % len(calls)], step=0.15)
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline and not (  # noqa: ASYNC110 - polls the engine
                stats.answers > i and engine.status == "listening"
            ):
                await asyncio.sleep(0.02)
            if stats.answers <= i:
                unanswered += 1
        timing = e2e_analysis.timing(events.drain())
        answers = stats.answers
    return {"timing": timing, "answers": answers, "unanswered": unanswered}


async def run_e2e(options: E2eOptions) -> dict[str, Any]:
    """Run the benchmark (see the module docstring); a JSON-ready dict."""
    model, path, model_label = choose_model(
        options.model, untrained=options.untrained, seed=options.seed, engine=options.engine
    )
    load_before = os.getloadavg()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="improviser-e2e-") as tmp:
        jack_log = Path(tmp) / "jackd.log"
        with some_jack_server(options.jack_period, jack_log) as server:
            child = await PlayerProcess.start()
            try:
                follow = await _follow_run(child, options, model, path, Path(tmp))
                heard_follow = (await child.ask(cmd="heard"))["heard"]
                mqtt: dict[str, Any] | None = None
                if options.mqtt is not None:
                    mqtt = await _mqtt_ab(child, options, model, path, Path(tmp))
                synth: dict[str, Any] | None = None
                if options.synth:
                    synth = await _synth_ab(child, options, model, path, Path(tmp))
                cr: dict[str, Any] | None = None
                if options.phrases > 0:
                    cr = await _call_response_run(child, options, model, path, Path(tmp))
                await asyncio.sleep(0.1)  # the last note-offs reach the synth
                heard = heard_follow + (await child.ask(cmd="heard"))["heard"]
            finally:
                await child.close()
        xruns = e2e_analysis.xruns(jack_log) if server is not None else None
    result = _figures(options, follow, cr, heard_follow, heard)
    if mqtt is not None:
        result["mqtt"] = mqtt
    if synth is not None:
        result["synth"] = synth
    return {
        "api": "jack",
        "jack": jack_info(server, xruns),
        "model": model_label,
        **result,
        "targets": TARGETS,
        "cpu_count": os.cpu_count(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
        "seconds": time.perf_counter() - began,
    }


def jack_info(server: JackServer | None, xruns: dict[str, int] | None) -> dict[str, Any]:
    """The JACK server a benchmark ran on: private or not, its period, its overruns."""
    return {
        "private_server": server is not None,
        "rate": server.rate if server else None,
        "period_frames": server.period if server else None,
        "period_ms": 1000 * server.period / server.rate if server else None,
        **(xruns or {"late_cycles": None, "client_overruns": None}),
    }


def _figures(
    options: E2eOptions,
    follow: dict[str, Any],
    cr: dict[str, Any] | None,
    heard_follow: list[list[float]],
    heard: list[list[float]],
) -> dict[str, Any]:
    """The measured part of the result, from what the runs sent, heard and traced."""
    played = follow["played"]
    sent: list[float] = played["sent"]
    e2e, follow_heard = _e2e(sent, heard_follow)
    floor = summarize(e2e_analysis.floor(played["floor_sent"], played["floor_heard"]))
    relay = summarize(e2e_analysis.floor(played["relay_sent"], played["relay_heard"]))
    timing: list[e2e_analysis.SentTiming] = follow["timing"] + (cr["timing"] if cr else [])
    return {
        "engine": follow["engine"],
        "mode": options.mode,
        "notes": options.notes,
        "gap_s": [options.min_gap, options.max_gap],
        "answered": sum(1 for r in follow_heard if r is not None),
        "unanswered": sum(1 for r in follow_heard if r is None),
        "dropped": follow["dropped"],
        "notes_in": follow["heard_in"],
        "follow_sent": follow["follow_sent"],
        "follow_unreleased": follow["follow_unreleased"],
        "echoes_ignored": follow["echoes"],
        "stuck_notes": len(e2e_analysis.stuck(heard)),
        "floor": floor,
        "relay_floor": relay,
        "e2e": e2e,
        "added": e2e_analysis.added(e2e, floor),
        "added_vs_relay": e2e_analysis.added(e2e, relay),
        "stages": e2e_analysis.stages(
            sent, follow_heard, follow["timing"], follow["trace"], follow["tag"]
        ),
        "jitter": e2e_analysis.jitter(timing),
        "call_response": (
            {"phrases": options.phrases, "answers": cr["answers"], "unanswered": cr["unanswered"]}
            if cr
            else None
        ),
    }


def _latencies(
    sent: list[float], heard: list[list[float]]
) -> tuple[list[float], list[float | None]]:
    """The player's note to the answer heard: each answered note's ms, each answer's time."""
    answered = e2e_analysis.answers(sent, e2e_analysis.note_ons(heard))
    pairs = [(s, r) for s, r in zip(sent, answered, strict=True) if r]
    return e2e_analysis.ms(pairs), answered


def _e2e(
    sent: list[float], heard: list[list[float]]
) -> tuple[dict[str, float], list[float | None]]:
    """The player's note to the answer heard: its summary, and each answer's time."""
    ms, answered = _latencies(sent, heard)
    return summarize(ms), answered


async def _mqtt_ab(
    child: PlayerProcess, options: E2eOptions, model: StepModel | None, path: Path, tmp: Path
) -> dict[str, Any]:
    """The follow run again in rounds, MQTT off and on (every note published)."""
    from improviser.config.mqtt import MqttConfig, parse_broker  # noqa: PLC0415
    from improviser.telemetry.bridge import MqttBridge  # noqa: PLC0415

    assert options.mqtt is not None
    host, port = parse_broker(options.mqtt)
    config = MqttConfig(enabled=True, host=host, port=port, instance="bench-e2e", notes=True,
                        notes_per_second=100_000.0, queue_size=100_000,
                        publish_delay_ms=options.mqtt_delay_ms)  # fmt: skip
    bridges: list[MqttBridge] = []

    async def run(on: bool) -> list[float]:
        companions: dict[str, Companion] = {}
        if on:
            bridges.append(MqttBridge(config))
            companions["improviser.mqtt"] = bridges[-1]
        played = (await _follow_run(child, options, model, path, tmp, companions))["played"]
        heard = (await child.ask(cmd="heard"))["heard"]
        return _latencies(played["sent"], heard)[0]

    result = await ab_rounds(run, options.mqtt_rounds)
    counts = [b.messages for b in bridges]
    return {
        "broker": options.mqtt,
        **result,
        "connected": all(m is not None and m.connects > 0 for m in counts),
        "notes_skipped": sum(m.notes_skipped for m in counts if m is not None),
        "mqtt_dropped": sum(m.mqtt_dropped for m in counts if m is not None),
        "notes": options.notes,
    }


async def _synth_ab(
    child: PlayerProcess, options: E2eOptions, model: StepModel | None, path: Path, tmp: Path
) -> dict[str, Any]:
    """The follow run again in rounds, the built-in synth off and on."""
    from improviser.bench.e2e_synth import synth_rounds  # noqa: PLC0415

    async def run(companions: dict[str, Companion]) -> tuple[list[float], list[float]]:
        follow = await _follow_run(child, options, model, path, tmp, companions)
        heard = (await child.ask(cmd="heard"))["heard"]
        sent = follow["played"]["sent"]
        latencies, answered = _latencies(sent, heard)
        rows = e2e_analysis.stage_ms(sent, answered, follow["timing"], follow["trace"])
        return latencies, rows[e2e_analysis.ENGINE_STAGE]

    return await synth_rounds(run, options.synth_rounds)


def bench_e2e(options: E2eOptions) -> dict[str, Any]:
    """:func:`run_e2e` in a fresh event loop."""
    return asyncio.run(run_e2e(options))
