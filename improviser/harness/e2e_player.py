"""The outside client of ``improviser bench e2e``: a keyboard and a synth in their own process.

A musician's keyboard and synth are other programs, so the benchmark's are too: this
module runs as ``python -m improviser.harness.e2e_player`` on the JACK server that
``JACK_DEFAULT_SERVER`` names. It reads one JSON command per line on stdin and answers
each with one JSON line on stdout; every time in its answers is ``time.perf_counter()``,
which on Linux is ``CLOCK_MONOTONIC``, the same clock in every process, so the parent
can put its own timestamps between them.

Its JACK clients:

- ``e2e-keys`` (output port ``keys``): the keyboard the improviser's input opens;
- ``e2e-synth`` (input port ``synth``): the synth the improviser's output opens; it
  stamps every message it hears;
- ``e2e-loop`` → ``e2e-loop-back``: a direct connection from one of our outputs to one
  of our inputs, the JACK floor (one hop);
- ``e2e-relay-src`` → ``e2e-relay`` → ``e2e-relay-sink``: a client that sends each
  message on from its input callback, the least any MIDI-through process can do (two
  hops: the message arrives in one JACK cycle and can leave in the next at the earliest).

Commands: ``{"cmd": "follow", ...}`` plays notes into the improviser with floor and relay
notes between them; ``{"cmd": "phrase", ...}`` plays one phrase; ``{"cmd": "heard"}``
returns what the synth heard (and forgets it); ``{"cmd": "quit"}`` releases every key and
closes. The first line out is ``{"ready": true}`` once every port is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import rtmidi

from improviser.errors import PortError
from improviser.live.io.apis import close_client
from improviser.paths import ROOT

__all__ = [
    "KEYS_CLIENT",
    "SYNTH_CLIENT",
    "Player",
    "PlayerProcess",
    "Stamps",
    "answer",
    "main",
    "open_by_name",
    "serve",
    "wait_until",
]

API = rtmidi.API_UNIX_JACK
KEYS_CLIENT = "e2e-keys"
SYNTH_CLIENT = "e2e-synth"
FLOOR_OFFSET = 0.025
"""Seconds after each keyboard note that the floor note is sent (the answer is in by then)."""
RELAY_OFFSET = 0.035
OFFS_OFFSET = 0.045

clock = time.perf_counter
REPLY_TIMEOUT = 30.0
"""Seconds the parent waits for a reply line."""
REPLY_BYTES = 1 << 26
"""The longest reply line the parent reads (asyncio's default, 64 KiB, is less than a
soak's ten-minute report of every note heard)."""


class PlayerProcess:
    """This module run as a child process, seen from the parent: its line protocol."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, module: str = "improviser.harness.e2e_player") -> PlayerProcess:
        """Run ``module`` (a player serving :func:`serve`'s protocol); wait for its ready line."""
        paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            limit=REPLY_BYTES,
        )
        child = cls(proc)
        ready = await child.read()
        if not ready.get("ready"):
            raise PortError(f"bench: the player did not start ({ready})")
        return child

    async def read(
        self, limit: float = REPLY_TIMEOUT, waiting_for: str = "ready"
    ) -> dict[str, Any]:
        """The next reply line; a :class:`PortError` naming why when none comes."""
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), limit)
        except TimeoutError:
            raise PortError(
                f"bench: the player did not answer {waiting_for!r} within {limit:.0f} s"
            ) from None
        if not line:
            await self.proc.wait()
            err = b""
            if self.proc.stderr is not None:
                err = await self.proc.stderr.read()
            tail = err.decode(errors="replace").strip()[-500:] or "nothing on stderr"
            raise PortError(
                f"bench: the player exited (status {self.proc.returncode}) while asked "
                f"{waiting_for!r}: {tail}"
            )
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def ask(self, limit: float = REPLY_TIMEOUT, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()
        return await self.read(limit, str(command.get("cmd", "")))

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(PortError, BrokenPipeError, ConnectionResetError):
                await self.ask(cmd="quit", limit=5.0)
            try:
                await asyncio.wait_for(self.proc.wait(), 5.0)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class Stamps:
    """Messages heard on one input, stamped on arrival (RtMidi's thread)."""

    def __init__(self) -> None:
        self.heard: list[tuple[float, int, int, int]] = []
        self._lock = threading.Lock()

    def callback(self, event: tuple[list[int], float], _data: object = None) -> None:
        now = clock()
        data = event[0]
        if len(data) == 3:
            with self._lock:
                self.heard.append((now, data[0], data[1], data[2]))

    def take(self) -> list[tuple[float, int, int, int]]:
        with self._lock:
            out, self.heard = self.heard, []
        return out

    def note_on_times(self) -> list[float]:
        return [t for t, status, _, velocity in self.take() if status & 0xF0 == 0x90 and velocity]


def open_by_name(port: Any, name: str) -> None:
    """Connect ``port`` to the first port whose name starts with ``name``."""
    names: list[str] = port.get_ports()
    index = next((i for i, n in enumerate(names) if n.startswith(name)), None)
    if index is None:
        raise RuntimeError(f"no JACK port {name!r} among {names}")
    port.open_port(index)


class Player:
    """The keyboard, the synth, the loopback and the relay (see the module docstring)."""

    def __init__(self) -> None:
        self._ports: list[Any] = []
        self._names: dict[int, str] = {}
        """The JACK client name of each input, by its id: cut off before it closes."""
        self.keys = self._out(KEYS_CLIENT, virtual="keys")
        self.synth = Stamps()
        self._in(SYNTH_CLIENT, self.synth.callback, virtual="synth")
        self.loop = self._out("e2e-loop", virtual="out")
        self.loop_back = Stamps()
        self._in("e2e-loop-back", self.loop_back.callback, connect="e2e-loop:out")
        self.relay_src = self._out("e2e-relay-src", virtual="out")
        self.relay_sink = Stamps()
        self._in("e2e-relay-sink", self.relay_sink.callback, virtual="in")
        relay_out = self._out("e2e-relay-out", connect="e2e-relay-sink:in")
        send = relay_out.send_message

        def relay(event: tuple[list[int], float], _data: object = None) -> None:
            send(event[0])

        self._in("e2e-relay", relay, connect="e2e-relay-src:out")
        self._down: set[int] = set()

    def _out(self, client: str, *, virtual: str = "", connect: str = "") -> Any:
        port = rtmidi.MidiOut(API, client)
        self._ports.append(port)
        if virtual:
            port.open_virtual_port(virtual)
        else:
            open_by_name(port, connect)
        return port

    def _in(
        self,
        client: str,
        callback: Callable[..., None],
        *,
        virtual: str = "",
        connect: str = "",
    ) -> None:
        port = rtmidi.MidiIn(API, client)
        self._ports.append(port)
        self._names[id(port)] = client
        port.ignore_types(sysex=True, timing=True, active_sense=True)
        port.set_callback(callback)
        if virtual:
            port.open_virtual_port(virtual)
        else:
            open_by_name(port, connect)

    def key(self, pitch: int, velocity: int) -> float:
        """Press (``velocity`` > 0) or release a key; the time it was sent."""
        message = [0x90, pitch, velocity] if velocity else [0x80, pitch, 0]
        t = clock()
        self.keys.send_message(message)
        if velocity:
            self._down.add(pitch)
        else:
            self._down.discard(pitch)
        return t

    def follow(
        self, notes: int, min_gap: float, max_gap: float, seed: int = 0
    ) -> dict[str, list[float]]:
        """Play ``notes`` notes; between them, one floor note and one relay note each."""
        rng = random.Random(seed)
        sent: list[float] = []
        floor_sent: list[float] = []
        relay_sent: list[float] = []
        pitch = 64
        self.loop_back.take()
        self.relay_sink.take()
        start = clock() + 0.05
        for i in range(notes):
            gap = rng.uniform(min_gap, max_gap)
            pitch = min(max(pitch + rng.choice((-4, -2, -1, 1, 2, 3, 5)), 48), 84)
            floor_pitch = 60 + i % 12
            wait_until(start)
            sent.append(self.key(pitch, 90))
            wait_until(start + FLOOR_OFFSET)
            floor_sent.append(clock())
            self.loop.send_message([0x90, floor_pitch, 90])
            wait_until(start + RELAY_OFFSET)
            relay_sent.append(clock())
            self.relay_src.send_message([0x90, floor_pitch, 90])
            wait_until(start + OFFS_OFFSET)
            self.loop.send_message([0x80, floor_pitch, 0])
            self.relay_src.send_message([0x80, floor_pitch, 0])
            wait_until(start + max(gap / 2, OFFS_OFFSET + 0.005))
            self.key(pitch, 0)
            start += gap
        wait_until(start)
        return {
            "sent": sent,
            "floor_sent": floor_sent,
            "floor_heard": self.loop_back.note_on_times(),
            "relay_sent": relay_sent,
            "relay_heard": self.relay_sink.note_on_times(),
        }

    def phrase(self, pitches: Sequence[int], step: float) -> dict[str, list[float]]:
        """Play a legato phrase, ``step`` seconds per note."""
        start = clock()
        sent = []
        for i, pitch in enumerate(pitches):
            wait_until(start + i * step)
            sent.append(self.key(pitch, 90))
            wait_until(start + (i + 0.8) * step)
            self.key(pitch, 0)
        return {"sent": sent}

    def close(self) -> None:
        """Release every key, give JACK a few cycles to deliver, close every port."""
        for pitch in list(self._down):
            self.key(pitch, 0)
        time.sleep(0.05)
        for port in reversed(self._ports):
            close_client(port, self._names.get(id(port)))


def wait_until(t: float) -> None:
    """Sleep until ``t``; the last stretch in short sleeps (the player's timing is stamped,
    so it need not be exact, only musical)."""
    while (remaining := t - clock()) > 0:
        time.sleep(remaining / 2 if remaining > 0.001 else 0.0002)


def answer(payload: dict[str, Any]) -> None:
    """Write one reply line."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def serve(handlers: dict[str, Callable[..., dict[str, Any]]], close: Callable[[], None]) -> None:
    """Answer one JSON command a line on stdin with ``handlers[cmd](**args)`` until ``quit``."""
    try:
        answer({"ready": True, "clock": time.get_clock_info("perf_counter").implementation})
        for line in sys.stdin:
            command = json.loads(line)
            cmd = command.pop("cmd")
            if cmd == "quit":
                break
            handler = handlers.get(cmd)
            answer(handler(**command) if handler else {"error": f"unknown command {cmd!r}"})
    finally:
        close()
    answer({"closed": True})


def main() -> None:
    """Serve commands on stdin until ``quit`` or end of input."""
    player = Player()
    serve(
        {
            "follow": player.follow,
            "phrase": player.phrase,
            "heard": lambda: {"heard": player.synth.take()},
        },
        player.close,
    )


if __name__ == "__main__":
    main()
