"""``improviser demo``: a call-and-response session with no MIDI hardware at all.

If no MIDI API works here, a private JACK server (dummy driver) is started and stopped
again by its PID. A virtual player — a separate MIDI client with ports ``demo-keys`` and
``demo-synth`` — plays a bundled melody phrase by phrase into the live engine and
listens to the answers as a synth would, tracking every ``note_on`` and ``note_off``.
The session is recorded, and a summary says how it went: notes in and out, phrases,
response times from the end of each phrase to the first answer note, stuck notes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rtmidi

from improviser.config.live import LiveConfig
from improviser.errors import MidiFileError, PortError
from improviser.harness.jackserver import JackServer, jack_running
from improviser.harness.player import KEYS_CLIENT, SYNTH_CLIENT, VirtualPlayer
from improviser.inference import StepModel
from improviser.live.engine.loading import describe_engine
from improviser.live.events import AnswerNote, Event, PhraseEnded, PlayerNote, Status
from improviser.live.io.ports import api_label, resolve_api
from improviser.live.session.recorder import default_recording_path
from improviser.live.session.session import Companion, LiveSession
from improviser.live.session.stats import percentile
from improviser.music.midi_read import read_midi
from improviser.music.notes import Note, extract_melody
from improviser.paths import DATA

__all__ = [
    "DEMO_CALL",
    "DemoResult",
    "EventSummary",
    "run_demo",
    "split_phrases",
    "summarize_events",
]

DEMO_CALL = DATA / "samples" / "demo" / "call.mid"


def split_phrases(notes: Sequence[Note], gap_beats: float = 1.0) -> list[list[Note]]:
    """Cut a melody into phrases at rests of at least ``gap_beats``."""
    phrases: list[list[Note]] = []
    for note in notes:
        if phrases and note.start_beats - phrases[-1][-1].end_beats < gap_beats:
            phrases[-1].append(note)
        else:
            phrases.append([note])
    return phrases


@dataclass(slots=True)
class DemoResult:
    """What the demo measured."""

    api: str
    record_path: Path
    notes_in: int
    notes_out: int
    phrases: int
    answers: int
    response_engine: list[float] = field(default_factory=list)
    """End of phrase (as decided) to the first answer note sent, seconds."""
    response_heard: list[float] = field(default_factory=list)
    """Player's last release + phrase gap to the first answer note heard by the synth."""
    stuck_notes: int = 0
    recorded: dict[str, int] = field(default_factory=dict)
    started_jack: bool = False
    seconds: float = 0.0
    engine: str = ""
    """The step engine that played, ``name on device``."""

    def summary(self) -> dict[str, Any]:
        """The result as JSON-ready data (``improviser demo --json``): counts, response
        times in ms (p50/p99 and each phrase's), and the load average when it ended."""

        def ms(values: list[float]) -> dict[str, Any]:
            p50, p99 = percentile(values, 50), percentile(values, 99)
            return {
                "p50_ms": None if p50 is None else p50 * 1000,
                "p99_ms": None if p99 is None else p99 * 1000,
                "each_ms": [round(v * 1000, 3) for v in values],
            }

        return {
            "api": self.api,
            "started_jack": self.started_jack,
            "engine": self.engine,
            "notes_in": self.notes_in,
            "notes_out": self.notes_out,
            "phrases": self.phrases,
            "answers": self.answers,
            "response_sent": ms(self.response_engine),
            "response_heard": ms(self.response_heard),
            "stuck_notes": self.stuck_notes,
            "recorded": dict(self.recorded),
            "seconds": self.seconds,
            "loadavg_after": list(os.getloadavg()),
            "cpu_count": os.cpu_count(),
        }


def _demo_api(name: str) -> tuple[int | None, bool]:
    """The API to use and whether a private JACK server is needed for it."""
    if name in ("auto", "jack"):
        try:
            return resolve_api(name), False
        except PortError:
            if jack_running():  # pragma: no cover - resolve_api would have found it
                return rtmidi.API_UNIX_JACK, False
            return None, True
    return resolve_api(name), False


async def run_demo(
    config: LiveConfig,
    *,
    call: Path = DEMO_CALL,
    record: Path | None = None,
    model: StepModel | None = None,
    max_phrases: int | None = None,
    answer_timeout: float = 15.0,
    companions: Mapping[str, Companion] | None = None,
) -> DemoResult:
    """Play the demo; start (and stop) a private JACK server if no MIDI API works.

    ``companions`` run beside the session (the built-in synth, for ``demo --synth``).
    """
    score = read_midi(call)
    melody = extract_melody(score.notes)
    phrases = split_phrases(melody)[:max_phrases]
    if not phrases:
        raise MidiFileError(f"{call}: no notes to play")
    api, need_jack = _demo_api(config.api)
    server = JackServer() if need_jack else None
    began = time.perf_counter()
    if server is not None:
        server.start()
        api = rtmidi.API_UNIX_JACK
    assert api is not None
    try:
        player = VirtualPlayer(api)
        try:
            result = await _play(
                config,
                api=api,
                player=player,
                phrases=phrases,
                record=record,
                model=model,
                answer_timeout=answer_timeout,
                companions=companions,
            )
            await asyncio.sleep(0.1)  # the last note-offs reach the synth
            result.stuck_notes = len(player.tracker.stuck())
        finally:
            player.close()
    finally:
        if server is not None:
            server.stop()
    result.started_jack = server is not None
    result.seconds = time.perf_counter() - began
    return result


@dataclass(frozen=True, slots=True)
class EventSummary:
    """What a session's events say about it."""

    notes_in: int
    phrases: int
    answers: int
    response_times: list[float]


def summarize_events(events: Sequence[Event]) -> EventSummary:
    """Notes in, phrases, answers and response times of a session, from its events."""
    responses = [e.response for e in events if isinstance(e, AnswerNote) and e.response]
    return EventSummary(
        notes_in=sum(1 for e in events if isinstance(e, PlayerNote) and e.velocity),
        phrases=sum(1 for e in events if isinstance(e, PhraseEnded)),
        answers=len(responses),
        response_times=responses,
    )


async def _play(
    config: LiveConfig,
    *,
    api: int,
    player: VirtualPlayer,
    phrases: Sequence[Sequence[Note]],
    record: Path | None,
    model: StepModel | None,
    answer_timeout: float,
    companions: Mapping[str, Companion] | None = None,
) -> DemoResult:
    cfg = config.model_copy(
        update={
            "api": api_label(api),
            "in_port": KEYS_CLIENT,
            "out_port": SYNTH_CLIENT,
            "virtual": False,
            "record": True,
            "mode": "call-response",
        }
    )
    path = record or default_recording_path(cfg.sessions_dir, "demo")
    heard: list[float] = []
    async with LiveSession(cfg, model=model, record_path=path, companions=companions) as session:
        events = session.bus.subscribe(maxsize=1_000_000)
        engine = session.engine
        assert engine is not None
        await asyncio.sleep(0.2)  # JACK connections settle
        for index, phrase in enumerate(phrases):
            released = await player.play(phrase)
            phrase_end = released + cfg.phrase_gap
            deadline = time.perf_counter() + answer_timeout
            while time.perf_counter() < deadline and not (  # noqa: ASYNC110 - polls the engine
                session.stats.answers > index and engine.status != Status.ANSWERING
            ):
                await asyncio.sleep(0.02)
            first = player.tracker.first_on_after(released)
            if first is not None:
                heard.append(first - phrase_end)
            await asyncio.sleep(0.3)
        notes_out = sum(1 for _ in player.tracker.ons)
    summary = summarize_events(events.drain())
    recorder = session.recorder
    return DemoResult(
        api=api_label(api),
        record_path=path,
        notes_in=summary.notes_in,
        notes_out=notes_out,
        phrases=summary.phrases,
        answers=summary.answers,
        response_engine=summary.response_times,
        response_heard=heard,
        recorded=recorder.counts() if recorder is not None else {},
        engine=describe_engine(session.model) if session.model is not None else "",
    )
