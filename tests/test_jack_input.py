"""The C JACK input (``live/_jackin.c``): messages in order with JACK's times, read on the
loop, sysex dropped and counted, and closed safely under a flood — through a real server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import rtmidi

from improviser.harness.jackserver import JackServer
from improviser.live.io.apis import close_client
from improviser.live.io.jack_input import JackMidiIn, jack_input_available

pytestmark = [
    pytest.mark.jack,
    pytest.mark.skipif(not jack_input_available(), reason="the C JACK input was not built"),
]
API = rtmidi.API_UNIX_JACK


@pytest.fixture
def source(jack_server: JackServer) -> Iterator[Any]:
    out = rtmidi.MidiOut(API, "jin-source")
    out.open_virtual_port("out")
    try:
        yield out
    finally:
        close_client(out)


def connect(port: JackMidiIn) -> None:
    ports = port.get_ports()
    port.open_port(next(i for i, n in enumerate(ports) if n.startswith("jin-source:")))


async def wait_until(predicate: Any, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def test_messages_arrive_on_the_loop_in_order_with_jack_times(source: Any) -> None:
    got: list[tuple[list[int], float, int]] = []
    port = JackMidiIn("jin-reader", "in")
    try:
        port.set_callback(lambda event, _: got.append((*event, threading.get_ident())))
        connect(port)
        await asyncio.sleep(0.1)  # the connection is made at a cycle's edge
        for pitch in range(60, 72):
            source.send_message([0x90, pitch, 100])
            await asyncio.sleep(0.02)
        source.send_message([0xF0, 1, 2, 3, 4, 0xF7])  # sysex: dropped in C, counted
        source.send_message([0xFE])  # active sensing: ignored by default
        source.send_message([0x80, 71, 0])
        await wait_until(lambda: len(got) == 13)
        await asyncio.sleep(0.1)
        assert [m for m, _, _ in got] == [[0x90, p, 100] for p in range(60, 72)] + [[0x80, 71, 0]]
        assert {thread for _, _, thread in got} == {threading.get_ident()}  # the loop's own
        deltas = [d for _, d, _ in got[1:12]]
        # JACK's times of messages sent 20 ms apart (a cycle is 21 ms in tests: each is
        # stamped at its cycle's frame, so within a cycle of 20 ms)
        assert all(0.0 <= d <= 0.045 for d in deltas), deltas
        assert sum(deltas) == pytest.approx(11 * 0.02, abs=0.03)
        assert port.dropped == 1
    finally:
        port.delete()
        port.delete()  # twice is fine


async def test_closing_while_a_flood_comes_in_neither_crashes_nor_hangs(source: Any) -> None:
    stop = threading.Event()

    def flood() -> None:
        while not stop.is_set():
            source.send_message([0x90, 60, 100])
            source.send_message([0x80, 60, 0])
            time.sleep(0.0001)

    sender = threading.Thread(target=flood)
    sender.start()
    taken = 0
    try:
        for _ in range(30):
            port = JackMidiIn("jin-closer", "in")

            def count(_event: object, _data: object) -> None:
                nonlocal taken
                taken += 1

            port.set_callback(count)
            connect(port)
            await asyncio.sleep(0.03)
            port.delete()
    finally:
        stop.set()
        sender.join()
    assert taken > 100
