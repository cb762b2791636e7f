"""The OSC face of a live session: real UDP sockets on loopback, a real JACK server.

A session runs in this process with the face as its companion, played by the virtual
player through JACK ports; the test is the control surface: it sends OSC datagrams to
the face's port and reads everything the face sends to its ``out`` address from a
socket of its own. Waits are for messages or states, with generous timeouts; nothing
asserts on timing.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from improviser.config.osc import OscConfig
from improviser.harness.player import VirtualPlayer
from improviser.inference import random_weights, write_weights
from improviser.live.session.session import LiveSession
from improviser.telemetry.osc import OscFace
from tests.test_live_jack import config, model, phrase, wait_for
from tests.test_live_process import model_path, start_live, stop, wait_ready  # noqa: F401

pytestmark = pytest.mark.jack
BASE = "/improviser/room-a"


class Inbox(asyncio.DatagramProtocol):
    """Every OSC message received, in order: (address, arguments)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple[Any, ...]]] = []

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        message = OscMessage(data)
        self.messages.append((message.address, tuple(message.params)))

    def last(self, address: str) -> tuple[Any, ...] | None:
        for got, args in reversed(self.messages):
            if got == address:
                return args
        return None

    def count(self, address: str) -> int:
        return sum(1 for got, _ in self.messages if got == address)


@asynccontextmanager
async def inbox_socket() -> AsyncIterator[tuple[Inbox, int]]:
    loop = asyncio.get_running_loop()
    transport, inbox = await loop.create_datagram_endpoint(Inbox, local_addr=("127.0.0.1", 0))
    try:
        yield inbox, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


def f32(value: Any) -> Any:
    """``value`` as it comes back from a 32-bit OSC float."""
    if isinstance(value, float):
        return struct.unpack(">f", struct.pack(">f", value))[0]
    return value


def dgram(address: str, *args: Any) -> bytes:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class Surface:
    """The test's control surface: sends datagrams, waits for the answer to each."""

    def __init__(self, inbox: Inbox, port: int) -> None:
        self.inbox = inbox
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.port = port

    async def ask(self, data: bytes, key: str) -> tuple[str, tuple[Any, ...]]:
        """Send ``data``; the first ack or error after it about ``key``."""
        before = len(self.inbox.messages)

        def reply() -> tuple[str, tuple[Any, ...]] | None:
            for address, args in self.inbox.messages[before:]:
                if address in (f"{BASE}/ack", f"{BASE}/error") and args[0] == key:
                    return address.rsplit("/", 1)[1], args
            return None

        self.sock.sendto(data, ("127.0.0.1", self.port))
        await wait_for(lambda: reply() is not None)
        found = reply()
        assert found is not None
        return found

    def close(self) -> None:
        self.sock.close()


ROUND_TRIPS: list[tuple[str, Any, Any]] = [
    ("temperature", 0.6, 0.6), ("top_p", 0.9, 0.9), ("top_k", 5, 5), ("top_k", 6.0, 6),
    ("mode", "follow", "follow"), ("mode", "call-response", "call-response"),
    ("answer_length", "notes", "notes"), ("answer_notes", 4, 4), ("phrase_gap", 0.3, 0.3),
    ("key", "D minor", "D minor"), ("key", "auto", "auto"), ("mute", True, True),
    ("mute", 0.0, False), ("loop", False, False),
]  # fmt: skip
ACTIONS = ("panic", "end_call", "regenerate")
BAD: list[tuple[bytes, str, str]] = [
    (dgram(f"{BASE}/set/temperature", "0.7"), "temperature", "temperature"),
    (dgram(f"{BASE}/set/temperature", 11.0), "temperature", "temperature"),
    (dgram(f"{BASE}/set/temperature"), "temperature", "expected one argument"),
    (dgram(f"{BASE}/set/temperature", b"\x01"), "temperature", "not taken"),
    (dgram(f"{BASE}/set/top_k", 2.5), "top_k", "top_k"),
    (dgram(f"{BASE}/set/mode", "jazz"), "mode", "mode"),
    (dgram(f"{BASE}/set/mute", 2), "mute", "mute"),
    (dgram(f"{BASE}/set/record", "{oops"), "record", "not JSON"),
    (dgram(f"{BASE}/set/model", "../../etc/passwd"), "model", "plain file name"),
    (dgram(f"{BASE}/set/volume", 3), f"{BASE}/set/volume", "unknown control"),
    (dgram(f"{BASE}/set/*", 1.0), f"{BASE}/set/*", "matches"),
    (dgram("/improviser/room-b/set/mute", True), "/improviser/room-b/set/mute", "room-a"),
    (b"\x00garbage", "", "not an OSC packet"),
]


async def test_controls_status_notes_and_bad_osc_over_udp(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    write_weights(random_weights(seed=9), models / "other.npz")
    cfg = config(tmp_path, models_dir=models, sessions_dir=tmp_path / "takes")
    async with inbox_socket() as (inbox, out_port):
        osc = OscConfig(enabled=True, port=0, out=f"127.0.0.1:{out_port}")
        face = OscFace(osc, instance="room-a")
        surface = Surface(inbox, face.port)
        try:
            async with LiveSession(cfg, model=model(), companions={"improviser.osc": face}) as s:
                engine = s.engine
                assert engine is not None
                await wait_for(face.listening.is_set)
                await wait_for(lambda: inbox.last(f"{BASE}/status/online") == (True,))
                await wait_for(lambda: inbox.last(f"{BASE}/status/state") == ("listening",))
                await wait_for(lambda: inbox.last(f"{BASE}/set/temperature") is not None)

                for key, value, done in ROUND_TRIPS:
                    kind, args = await surface.ask(dgram(f"{BASE}/set/{key}", value), key)
                    assert kind == "ack" and args[1] == f32(done), args  # OSC floats: 32 bits
                    assert engine.controls.values()[key] == done
                    await wait_for(lambda k=key, d=done: inbox.last(f"{BASE}/set/{k}") == (f32(d),))
                for key in ACTIONS:
                    kind, args = await surface.ask(dgram(f"{BASE}/set/{key}"), key)
                    assert kind == "ack", args

                before = (engine.config.model_dump(), engine.controls.values())
                for data, key, message in BAD:
                    kind, args = await surface.ask(data, key)
                    assert kind == "error" and message in args[1], (key, args)
                assert (engine.config.model_dump(), engine.controls.values()) == before

                sent = inbox.count(f"{BASE}/set/temperature")
                surface.sock.sendto(dgram(f"{BASE}/get"), ("127.0.0.1", face.port))
                await wait_for(lambda: inbox.count(f"{BASE}/set/temperature") > sent)

                await player.play(phrase([60, 62, 64, 65]))
                await wait_for(lambda: s.stats.answers >= 1 and engine.status == "listening")
                await wait_for(lambda: inbox.count(f"{BASE}/note/improviser") >= 8)
                await wait_for(lambda: inbox.count(f"{BASE}/note/player") == 8)
                played = [a for m, a in inbox.messages if m == f"{BASE}/note/player"]
                assert [a[0] for a in played if a[1] > 0] == [60, 62, 64, 65]
                assert all(a[2] == 1 for a in played)  # channel 1..16
                assert inbox.last(f"{BASE}/event") is not None
                assert face.errors == len(BAD) and face.acks == len(ROUND_TRIPS) + len(ACTIONS)
        finally:
            surface.close()
        await wait_for(lambda: inbox.last(f"{BASE}/status/online") == (False,))
    assert player.tracker.stuck() == []


async def test_without_out_it_listens_and_strangers_are_dropped(
    player: VirtualPlayer, tmp_path: Path
) -> None:
    """No ``out``: controls still work (acks only logged); a sender outside ``allow`` is
    not read at all."""
    face = OscFace(OscConfig(enabled=True, port=0, allow=["10.9.9.0/24"]), instance="room-a")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        async with LiveSession(config(tmp_path), model=model(), companions={"o": face}) as s:
            engine = s.engine
            assert engine is not None
            await wait_for(face.listening.is_set)
            for _ in range(3):
                sock.sendto(dgram(f"{BASE}/set/temperature", 0.3), ("127.0.0.1", face.port))
            await wait_for(lambda: face.strangers == 3)  # each was read, and dropped
            assert engine.config.sampling.temperature != pytest.approx(0.3)
            assert face.acks == face.errors == 0
        local = OscFace(OscConfig(enabled=True, port=0), instance="room-a")
        async with LiveSession(config(tmp_path), model=model(), companions={"o": local}) as s:
            engine = s.engine
            assert engine is not None
            await wait_for(local.listening.is_set)
            sock.sendto(dgram(f"{BASE}/set/temperature", 0.3), ("127.0.0.1", local.port))
            await wait_for(lambda: local.acks == 1)
            assert engine.config.sampling.temperature == pytest.approx(0.3)
    finally:
        sock.close()


def test_live_command_takes_osc(
    player: VirtualPlayer,
    tmp_path: Path,
    model_path: Path,  # noqa: F811
) -> None:
    """``improviser live --osc PORT --osc-out HOST:PORT`` as a process."""
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind(("127.0.0.1", 0))
    out.settimeout(10)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a free port, for the process to take
    proc = start_live(
        tmp_path, model_path, "--osc", str(port), "--osc-out", f"127.0.0.1:{out.getsockname()[1]}"
    )
    try:
        wait_ready(proc)
        messages: list[tuple[str, list[Any]]] = []

        def until(found: Callable[[], bool]) -> None:
            while not found():
                message = OscMessage(out.recv(65536))
                messages.append((message.address, message.params))

        instance = None

        def online() -> bool:
            nonlocal instance
            for address, args in messages:
                if address.endswith("/status/online") and args == [True]:
                    instance = address.split("/")[2]
                    return True
            return False

        until(online)
        base = f"/improviser/{instance}"
        out.sendto(dgram(f"{base}/set/temperature", 0.45), ("127.0.0.1", port))
        until(lambda: any(a == f"{base}/ack" for a, _ in messages))
        ack = next(args for a, args in messages if a == f"{base}/ack")
        assert ack[:2] == ["temperature", f32(0.45)]
        proc.send_signal(2)
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc)
        out.close()


def test_a_taken_osc_port_is_one_line_and_exit_2(tmp_path: Path, model_path: Path) -> None:  # noqa: F811
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        proc = start_live(tmp_path, model_path, "--osc", str(taken.getsockname()[1]))
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            stop(proc)
            raise
        assert proc.returncode == 2
        assert err.strip().count("\n") == 0 and "cannot listen there" in err, err
    finally:
        taken.close()
