"""A long session through JACK, measured minute by minute: ``improviser bench soak``.

A call-and-response :class:`LiveSession` runs here, recording as ``live`` does, on a JACK
server (a private dummy-driver one if none is reachable); an outside client in its own
process (:mod:`improviser.harness.soak_player`) plays :func:`soak_script` into it for
the whole run — phrases with rests, pedal, chords, bursts, some note-offs left out — and
listens to its answers as a synth would, tracking every note strictly.

Every interval (a minute by default) one row: resident and own anonymous memory, asyncio
tasks, the engine queue's and the event subscription's deepest backlog, dropped messages
and events, stuck notes at the synth, phrases (the player's, the engine's ends, the
answers, the unanswered), answer latency (an answer's first note, from when it was
planned to leave to the synth hearing it) p50/p99 and the engine's cost per note-on
(dequeued to handled, from the session's trace) p50/p99. The summary checks the
issue's goals (:data:`GOALS`), counts what JACK lost on the way in (the player's
messages sent against those our input was given) and says when each unanswered phrase
was and what it had, so it can be traced; each row also has the CPU time the hypervisor
took (steal) and the JACK server's late cycles and client overruns (by client in the
summary): :mod:`improviser.bench.host`.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from improviser.bench.host import HostWatch
from improviser.bench.models import choose_model
from improviser.bench.rig import LiveBenchOptions, outside_player, take_trace
from improviser.bench.soak_ledger import SoakLedger, memory_mb
from improviser.bench.soak_rows import Interval, summary
from improviser.config import Config, with_overrides
from improviser.harness.e2e_player import PlayerProcess
from improviser.harness.soak_player import KEYS_CLIENT, SYNTH_CLIENT
from improviser.harness.soak_script import ScriptRules
from improviser.inference import StepModel
from improviser.live.session.session import LiveSession

__all__ = ["SoakOptions", "bench_soak", "run_soak"]

SAMPLE_SECONDS = 0.25
"""How often queues are sampled and the trace and events drained."""


@dataclass(frozen=True, slots=True)
class SoakOptions(LiveBenchOptions):
    """What ``bench soak`` plays."""

    seconds: float = 600.0
    interval: float = 60.0
    """Seconds per row."""
    record: bool = True
    mode: str = "call-response"
    """``call-response`` (answers) or ``accompany`` (voices under the melody)."""


class _Run:
    """One soak: the session, the player, and the rows as they are measured."""

    def __init__(
        self, session: LiveSession, child: PlayerProcess, options: SoakOptions, host: HostWatch
    ) -> None:
        self.session = session
        self.child = child
        self.options = options
        self.host = host
        self.events = session.bus.subscribe(100_000)
        self.ledger = SoakLedger(session.config.max_note_seconds)
        self.ledger.held_key_seconds = session.config.held_key_seconds
        self.rows: list[dict[str, Any]] = []
        self.sent = 0
        """Messages the player sent (its last report)."""
        self.received = 0
        """Messages our input callback was given, when the session closed."""

    async def play(self, progress: Callable[[dict[str, Any]], None] | None) -> None:
        cfg = self.session.config
        rules = ScriptRules(
            phrase_gap=cfg.phrase_gap,
            held_phrase_gap=cfg.held_phrase_gap,
            held_key_seconds=cfg.held_key_seconds,
        )
        seconds = self.options.seconds
        began = await self.child.ask(
            cmd="play", seconds=seconds, seed=self.options.seed, rules=asdict(rules)
        )
        start = self.ledger.origin = float(began["started"])
        intervals = math.ceil(seconds / self.options.interval - 1e-9)
        for k in range(1, intervals + 1):
            until = start + min(seconds, k * self.options.interval)
            row = await self._interval(until, start)
            self.rows.append(row)
            if progress is not None:
                progress(row)

    async def _interval(self, until: float, start: float) -> dict[str, Any]:
        session, interval = self.session, Interval()
        while time.perf_counter() < until:
            await asyncio.sleep(min(SAMPLE_SECONDS, max(until - time.perf_counter(), 0.0)))
            interval.sample(session.queue_depth, len(self.events))
            self._drain(interval)
        self._take(await self.child.ask(cmd="report"))
        self.ledger.judge(time.perf_counter())
        return interval.row(
            at=time.perf_counter() - start,
            memory=memory_mb(),
            tasks=len(asyncio.all_tasks()),
            stats=session.stats_values(),
            ledger=self.ledger.take_interval(),
            host=self.host.take(),
        )

    def _drain(self, interval: Interval) -> None:
        note_ons = self.ledger.events(self.events.drain())
        interval.costs(take_trace(self.session), note_ons)

    async def finish(self) -> None:
        """After the session closed: the last of what the synth heard, judged."""
        await asyncio.sleep(0.1)
        self._take(await self.child.ask(cmd="report"))
        self.ledger.judge(time.perf_counter(), final=True)

    def _take(self, report: dict[str, Any]) -> None:
        """What the player reports: messages sent, what its synth heard, phrases played."""
        self.sent = int(report["sent"])
        self.ledger.heard(report["heard"])
        self.ledger.phrases(report["phrases"])


def _config(options: SoakOptions, path: Path, record_dir: Path) -> Any:
    data = {
        "api": "jack",
        "in_port": KEYS_CLIENT,
        "out_port": SYNTH_CLIENT,
        "model": path,
        "mode": options.mode,
        "record": options.record,
        "record_path": record_dir / "soak.mid",
        "sampling.seed": options.seed,
    }
    return with_overrides(Config(), live=data).live


async def run_soak(
    options: SoakOptions, progress: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Run the soak (see the module docstring); ``progress`` gets each row as it is made."""
    model, path, label = choose_model(options.model, untrained=options.untrained, seed=options.seed)
    load_before = os.getloadavg()
    async with outside_player(options.jack_period, "improviser-soak-") as rig:
        run = await _session(options, model, path, rig.folder, rig.player, progress)
    return {
        "model": label,
        "jack": rig.jack,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "rows": run.rows,
        "summary": {
            **summary(run.rows, run.ledger),
            # What JACK lost on the way in (a client late for a cycle): a lost release
            # holds a phrase open until held_phrase_gap, so two phrases can become one.
            "input_sent": run.sent,
            "input_received": run.received,
            "input_lost": run.sent - run.received,
            "unanswered_phrases": run.ledger.unanswered,
            "unanswered_after_lost_release": sum(
                1 for u in run.ledger.unanswered if u["releases_lost_before"]
            ),
            "overruns_by_client": dict(run.host.by_client.most_common()),
        },
        "cpu_count": os.cpu_count(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }


async def _session(
    options: SoakOptions,
    model: StepModel | None,
    path: Path,
    record_dir: Path,
    child: PlayerProcess,
    progress: Callable[[dict[str, Any]], None] | None,
) -> _Run:
    cfg = _config(options, path, record_dir)
    async with LiveSession(cfg, model=model, trace=True) as session:
        log = record_dir / "jackd.log"  # the rig's private server writes it there
        run = _Run(session, child, options, HostWatch(log if log.exists() else None))
        await asyncio.sleep(0.3)  # JACK connections settle
        await run.play(progress)
        await asyncio.sleep(cfg.phrase_gap + 1.0)  # the last phrase's answer begins
        run.received = session.input.received if session.input is not None else 0
    await run.finish()
    return run


def bench_soak(
    options: SoakOptions, progress: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """:func:`run_soak` in a fresh event loop."""
    return asyncio.run(run_soak(options, progress))
