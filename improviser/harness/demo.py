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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rtmidi

from improviser.config.live import LiveConfig
from improviser.errors import MidiFileError, PortError
from improviser.harness.jackserver import JackServer, jack_running
from improviser.inference import StepModel
from improviser.live.midi import note_off, note_on
from improviser.live.ports import api_label, resolve_api
from improviser.live.session import LiveSession, default_recording_path, describe_engine
from improviser.music.notes import Note, extract_melody, read_midi
from improviser.paths import ROOT

__all__ = ["DEMO_CALL", "DemoResult", "NoteTracker", "VirtualPlayer", "run_demo", "split_phrases"]

DEMO_CALL = ROOT / "samples" / "demo" / "call.mid"
KEYS_CLIENT = "demo-keys"
SYNTH_CLIENT = "demo-synth"


class NoteTracker:
    """What a synth would hear: every note-on and note-off, from RtMidi's thread.

    Strict on purpose: CC 123/120 do not count as releases, so :meth:`stuck` finds any
    ``note_on`` that never got its own ``note_off``.
    """

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.sounding: dict[tuple[int, int], float] = {}
        self.ons: list[tuple[float, int, int]] = []
        """(time, channel, pitch) of every note-on heard."""
        self.offs = 0
        self.controls: list[tuple[int, int, int]] = []

    def feed(self, data: Sequence[int]) -> None:
        """Take one raw message."""
        if len(data) != 3:
            return
        status, d1, d2 = data
        kind, channel = status & 0xF0, status & 0x0F
        now = self._clock()
        with self._lock:
            if kind == 0x90 and d2 > 0:
                self.sounding[(channel, d1)] = now
                self.ons.append((now, channel, d1))
            elif kind in (0x80, 0x90):
                self.offs += 1
                self.sounding.pop((channel, d1), None)
            elif kind == 0xB0:
                self.controls.append((channel, d1, d2))

    def callback(self, event: tuple[list[int], float], _data: object = None) -> None:
        """An rtmidi input callback."""
        self.feed(event[0])

    def stuck(self) -> list[tuple[int, int]]:
        """(channel, pitch) of notes still sounding."""
        with self._lock:
            return sorted(self.sounding)

    def first_on_after(self, t: float) -> float | None:
        """The time of the first note-on heard after ``t``."""
        with self._lock:
            return next((on for on, _, _ in self.ons if on > t), None)


class VirtualPlayer:
    """A keyboard (port ``demo-keys``) and a synth (port ``demo-synth``) on ``api``."""

    def __init__(self, api: int, keys: str = KEYS_CLIENT, synth: str = SYNTH_CLIENT) -> None:
        self.tracker = NoteTracker()
        self._api = api
        self._keys = keys
        self._out: Any = None
        try:
            self.plug_keys()
            self._in = rtmidi.MidiIn(api, synth)
            self._in.ignore_types(sysex=True, timing=True, active_sense=True)
            self._in.set_callback(self.tracker.callback)
            self._in.open_virtual_port("synth")
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            raise PortError(f"cannot create the demo player's ports ({exc})") from exc
        self._down: set[tuple[int, int]] = set()

    def plug_keys(self) -> None:
        """Create the keyboard's port (again, after :meth:`unplug_keys`)."""
        self._out = rtmidi.MidiOut(self._api, self._keys)
        self._out.open_virtual_port("keys")

    def unplug_keys(self) -> None:
        """Make the keyboard's port vanish, as a USB keyboard pulled out does."""
        out, self._out = self._out, None
        if out is not None:
            out.close_port()
            out.delete()
        self._down.clear()

    def send(self, data: Sequence[int]) -> None:
        """Send one raw message from the keyboard."""
        if self._out is not None:
            self._out.send_message(list(data))

    async def play(self, notes: Sequence[Note], channel: int = 0) -> float:
        """Play notes (their ``start``/``duration`` in seconds); return the last release time."""
        events: list[tuple[float, int, int, int]] = []
        origin = notes[0].start
        for n in notes:
            events.append((n.start - origin, 1, n.pitch, n.velocity))
            events.append((n.start - origin + max(n.duration, 0.02), 0, n.pitch, 0))
        events.sort(key=lambda e: (e[0], e[1]))
        begin = time.perf_counter()
        last = begin
        for at, kind, pitch, velocity in events:
            delay = begin + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind:
                self.send(note_on(channel, pitch, velocity))
                self._down.add((channel, pitch))
            else:
                self.send(note_off(channel, pitch))
                self._down.discard((channel, pitch))
            last = time.perf_counter()
        return last

    def close(self) -> None:
        """Let go of every key, then close both ports."""
        for channel, pitch in list(self._down):
            self.send(note_off(channel, pitch))
        self._down.clear()
        time.sleep(0.05)  # let JACK deliver them before the port goes
        self._in.cancel_callback()
        self.unplug_keys()
        self._in.close_port()
        self._in.delete()


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


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100, nearest rank), ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


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
) -> DemoResult:
    """Play the demo; start (and stop) a private JACK server if no MIDI API works."""
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


async def _play(
    config: LiveConfig,
    *,
    api: int,
    player: VirtualPlayer,
    phrases: Sequence[Sequence[Note]],
    record: Path | None,
    model: StepModel | None,
    answer_timeout: float,
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
    async with LiveSession(cfg, model=model, record_path=path) as session:
        engine = session.engine
        assert engine is not None
        await asyncio.sleep(0.2)  # JACK connections settle
        for index, phrase in enumerate(phrases):
            released = await player.play(phrase)
            phrase_end = released + cfg.phrase_gap
            deadline = time.perf_counter() + answer_timeout
            while time.perf_counter() < deadline and not (  # noqa: ASYNC110 - polls the engine
                engine.stats.answers > index and engine.status != "answering"
            ):
                await asyncio.sleep(0.02)
            first = player.tracker.first_on_after(released)
            if first is not None:
                heard.append(first - phrase_end)
            await asyncio.sleep(0.3)
        stats = engine.stats
        notes_out = sum(1 for _ in player.tracker.ons)
    recorder = session.recorder
    return DemoResult(
        api=api_label(api),
        record_path=path,
        notes_in=stats.notes_in,
        notes_out=notes_out,
        phrases=stats.phrases,
        answers=stats.answers,
        response_engine=list(stats.response_times),
        response_heard=heard,
        recorded=recorder.counts() if recorder is not None else {},
        engine=describe_engine(session.model) if session.model is not None else "",
    )
