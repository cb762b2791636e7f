"""The live engine through a real JACK server (dummy driver), in this process.

An outside client — the demo's virtual player: a keyboard port and a synth port, found
by name as a user would name them — plays phrases in and tracks every note-on and
note-off it hears. Waits are for states, with generous timeouts; nothing asserts on
latency.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rtmidi

from improviser.config.live import LiveConfig
from improviser.config.mqtt import MqttConfig
from improviser.errors import PortError
from improviser.harness.clock_player import ClockSender
from improviser.harness.jackserver import JackServer
from improviser.harness.player import NoteTracker, VirtualPlayer
from improviser.inference import NumpyEngine, random_weights
from improviser.live.events import Notice, SyncChanged
from improviser.live.io.apis import close_client
from improviser.live.io.midi import note_off, note_on
from improviser.live.io.ports import list_ports
from improviser.live.session.session import LiveSession
from improviser.music.midi_read import read_midi
from improviser.music.notes import Note
from improviser.telemetry.messages import Messages

pytestmark = pytest.mark.jack
API = rtmidi.API_UNIX_JACK


def phrase(pitches: list[int], step: float = 0.12) -> list[Note]:
    return [Note(p, 90, i * step, step * 0.8) for i, p in enumerate(pitches)]


def config(tmp_path: Path, **options: Any) -> LiveConfig:
    base: dict[str, Any] = {
        "api": "jack",
        "in_port": "demo-keys",
        "out_port": "demo-synth",
        "bpm": 240.0,
        "phrase_gap": 0.25,
        "answer_length": "notes",
        "answer_notes": 6,
        "port_poll_seconds": 0.1,
        "record_path": tmp_path / "take.mid",
        "sampling": {"seed": 3},
    }
    base.update(options)
    return LiveConfig(**base)


async def wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within the timeout")
        await asyncio.sleep(0.02)


def model() -> NumpyEngine:
    return NumpyEngine(random_weights(seed=5))


async def test_phrase_in_answer_out_and_nothing_left_sounding(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    async with LiveSession(cfg, model=model()) as session:
        engine = session.engine
        assert engine is not None
        await asyncio.sleep(0.1)
        for n in (1, 2):
            await player.play(phrase([60, 62, 64, 65]))
            await wait_for(lambda n=n: session.stats.answers >= n and engine.status == "listening")
        assert session.stats.notes_in == 8 and session.stats.phrases == 2
    await asyncio.sleep(0.1)
    assert len(player.tracker.ons) == 12  # two answers of six notes, heard at the synth
    assert player.tracker.stuck() == []
    score = read_midi(cfg.record_path)  # type: ignore[arg-type]
    tracks = {n.track for n in score.notes}
    assert tracks == {1, 2}
    assert sum(1 for n in score.notes if n.track == 1) == 8


async def test_unknown_port_is_a_one_line_error_listing_ports(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    with pytest.raises(PortError) as info:
        async with LiveSession(config(tmp_path, in_port="no such keyboard"), model=model()):
            pass
    message = str(info.value)
    assert "\n" not in message
    assert "'no such keyboard'" in message and "demo-keys:keys" in message
    names = list_ports(API)
    assert not any("improviser" in n for n in names.inputs + names.outputs)  # none created


async def test_vanished_port_releases_notes_and_reconnects(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    cfg = config(tmp_path, answer_notes=64, bpm=60.0, thru=True)
    async with LiveSession(cfg, model=model()) as session:
        engine = session.engine
        assert engine is not None
        await asyncio.sleep(0.1)
        await player.play(phrase([60, 64, 67]))
        await wait_for(lambda: engine.status == "answering" and len(player.tracker.ons) > 3)
        player.unplug_keys()  # mid-answer
        await wait_for(lambda: engine.status == "waiting for port")
        await asyncio.sleep(0.1)
        assert player.tracker.stuck() == []
        player.plug_keys()
        await wait_for(lambda: engine.status == "listening")
        assert session.stats.reconnects == 1
        heard = len(player.tracker.ons)
        await asyncio.sleep(0.1)
        await player.play(phrase([62, 65]))
        await wait_for(lambda: session.stats.answers == 2 and len(player.tracker.ons) > heard + 2)
        # The ports were watched through the server watch's JACK client: no watcher client
        # of their own, woken every cycle for nothing.
        assert session.input is not None and session.output is not None
        assert session.input._lister is None and session.output._lister is None
    await asyncio.sleep(0.1)
    assert player.tracker.stuck() == []


def port_states(session: LiveSession) -> dict[str, str]:
    """Each port's state as the MQTT status says it (``open``/``lost``)."""
    status = json.loads(Messages(MqttConfig(instance="t"), session).status().payload)
    return {which: port["state"] for which, port in status["ports"].items()}


async def test_a_vanished_clock_port_is_reported_followed_around_and_reopened(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    sender = ClockSender(API)  # a drum machine on its own port (demo-clock:clock)
    cfg = config(tmp_path, sync="clock", clock_port="demo-clock", bpm=240.0)
    try:
        async with LiveSession(cfg, model=model()) as session:
            engine = session.engine
            assert engine is not None
            timing, events = engine.voice.timing, session.bus.subscribe()
            sender.start(120.0)
            await wait_for(lambda: timing.source == "clock")
            sender.close()  # switched off mid-run: its port vanishes, no stop byte sent
            await wait_for(lambda: engine.voice.ports_missing == {"clock"})
            await wait_for(lambda: timing.source == "fixed")  # its ticks stopped: live.bpm
            assert engine.status == "listening"  # the player is still heard and answered
            assert port_states(session) == {"input": "open", "output": "open", "clock": "lost"}
            await player.play(phrase([60, 62, 64]))
            await wait_for(lambda: session.stats.answers == 1 and engine.status == "listening")
            sender = ClockSender(API)  # back under the same name
            sender.start(120.0)
            await wait_for(lambda: not engine.voice.ports_missing)
            await wait_for(lambda: timing.source == "clock")
            await asyncio.sleep(1.0)  # and keeps following it (each tick timed as it came)
            assert port_states(session)["clock"] == "open"
            assert session.stats.reconnects == 1
            seen = events.drain()
    finally:
        sender.close()
    notices = [(e.topic, e.message) for e in seen if isinstance(e, Notice)]
    assert [n for n in notices if n[0].startswith("port_")] == [
        ("port_lost", "clock port lost"), ("port_back", "clock port back")
    ]  # fmt: skip
    assert any(t == "sync" and "dropped out" in m for t, m in notices), notices
    assert [e.source for e in seen if isinstance(e, SyncChanged)] == ["clock", "fixed", "clock"]
    await asyncio.sleep(0.1)
    assert player.tracker.stuck() == []


async def test_follow_mode_answers_every_note(player: VirtualPlayer, tmp_path: Path) -> None:
    cfg = config(tmp_path, mode="follow", follow_delay=0.0)
    async with LiveSession(cfg, model=model()) as session:
        engine = session.engine
        assert engine is not None
        await asyncio.sleep(0.1)
        await player.play(phrase([60, 62, 64, 65, 67]))
        try:
            await wait_for(lambda: len(session.stats.response_times) == 5)
        except AssertionError:
            raise AssertionError(
                f"{session.stats}, heard {player.tracker.ons}, sent {session.scheduler.notes_sent}"  # type: ignore[union-attr]
            ) from None
        assert session.stats.phrases == 0
    await asyncio.sleep(0.1)
    assert len(player.tracker.ons) == 5
    assert player.tracker.stuck() == []


class EchoSynth:
    """A synth whose MIDI thru is wired back to the improviser's input."""

    def __init__(self) -> None:
        self.tracker = NoteTracker()
        self._lock = threading.Lock()
        self.keys = rtmidi.MidiOut(API, "echo-keys")
        self.keys.open_virtual_port("keys")
        self.synth = rtmidi.MidiIn(API, "echo-synth")
        self.synth.set_callback(self._echo)
        self.synth.open_virtual_port("synth")

    def _echo(self, event: tuple[list[int], float], _data: object = None) -> None:
        self.tracker.feed(event[0])
        self.send(event[0])

    def send(self, data: list[int]) -> None:
        with self._lock:
            self.keys.send_message(data)

    def close(self) -> None:
        close_client(self.synth, "echo-synth")
        close_client(self.keys)


async def test_feedback_guard_ignores_echoes_through_a_loop(
    jack_server: JackServer, tmp_path: Path
) -> None:
    echo = EchoSynth()
    try:
        cfg = config(tmp_path, in_port="echo-keys", out_port="echo-synth", feedback_window=0.3)
        async with LiveSession(cfg, model=model()) as session:
            engine = session.engine
            assert engine is not None
            await asyncio.sleep(0.1)
            for p in (60, 62, 64):
                echo.send(note_on(0, p, 90))
                await asyncio.sleep(0.08)
                echo.send(note_off(0, p))
                await asyncio.sleep(0.02)
            await wait_for(lambda: session.stats.answers == 1 and engine.status == "listening")
            await asyncio.sleep(0.5)  # an echo taken for the player would start a new phrase
            assert engine.guard.echoes == 6
            assert session.stats.notes_in == 3 and session.stats.phrases == 1
    finally:
        echo.close()
    assert echo.tracker.stuck() == []
