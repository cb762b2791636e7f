"""What the OSC face sends to ``--osc-out``: messages built from the session, and the sender.

Every message is an address and a list of plain OSC arguments (``i``, ``f``, ``s``,
``T``/``F``, ``N``; a value OSC cannot carry, an object, goes as a JSON string):

- ``/improviser/<i>/status/<field> value``: ``online``, ``state``, ``mode``, ``model``,
  ``engine``, ``recording``, ``key``, ``sync``, ``bpm`` (and ``ports/<which> state``);
- ``/improviser/<i>/set/<control> value``: each control's value in force, on the very
  address a control surface sends it to, so a fader or a toggle follows changes made
  from anywhere (MQTT, the web page, a CC, the surface itself);
- ``/improviser/<i>/note/player`` and ``.../note/improviser``: ``pitch velocity channel``
  (velocity 0: the note's release; channel 1..16);
- ``/improviser/<i>/event kind message``;
- ``/improviser/<i>/ack key value message`` and ``/improviser/<i>/error key message``.

Status and values are sent when they change (:class:`ChangedOnly`): a surface that
echoes what it receives cannot start a loop, and a busy session sends little.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from improviser.telemetry.osc_controls import OscAddresses, Reply

__all__ = [
    "STATUS_FIELDS",
    "ChangedOnly",
    "OscMessageOut",
    "OscSender",
    "event_message",
    "note_message",
    "osc_value",
    "reply_message",
    "status_messages",
]

_log = logging.getLogger("improviser.osc")
OscMessageOut = tuple[str, tuple[object, ...]]
"""An address and its arguments."""
STATUS_FIELDS = ("online", "state", "mode", "model", "engine", "recording", "key", "sync", "bpm")
"""The status fields sent, each at ``status/<field>``."""
INT32 = 2**31


def osc_value(value: object) -> object:
    """``value`` as one OSC argument (an object, a list or a huge int: a JSON string)."""
    if value is None or isinstance(value, bool | float | str):
        return value
    if isinstance(value, int) and -INT32 <= value < INT32:
        return value
    return json.dumps(value, separators=(",", ":"), default=str)


def status_messages(addresses: OscAddresses, status: Mapping[str, Any]) -> list[OscMessageOut]:
    """The status (a ``StatusPayload`` as a dict) as messages: fields, ports, values."""
    out: list[OscMessageOut] = [
        (addresses.status(field), (osc_value(status.get(field)),)) for field in STATUS_FIELDS
    ]
    for which, port in sorted((status.get("ports") or {}).items()):
        out.append((addresses.status(f"ports/{which}"), (osc_value(port.get("state")),)))
    for key, value in (status.get("settings") or {}).items():
        out.append((addresses.set(key), (osc_value(value),)))
    return out


def note_message(
    addresses: OscAddresses, part: str, pitch: int, velocity: int, channel: int
) -> OscMessageOut:
    """One note (``channel`` 1..16; velocity 0: its release)."""
    return addresses.note(part), (pitch, velocity, channel)


def event_message(addresses: OscAddresses, kind: str, message: str) -> OscMessageOut:
    """Something happened (``kind``), with one line for people."""
    return addresses.event, (kind, message)


def reply_message(addresses: OscAddresses, reply: Reply) -> OscMessageOut:
    """An ack (``key value message``) or an error (``key message``)."""
    if reply.ok:
        return addresses.ack, (reply.key, osc_value(reply.value), reply.message)
    return addresses.error, (reply.key, reply.message)


class ChangedOnly:
    """Lets through the messages whose arguments differ from those last let through."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[object, ...]] = {}

    def __call__(self, messages: Iterable[OscMessageOut]) -> list[OscMessageOut]:
        """The messages that say something new (all of them after :meth:`forget`)."""
        fresh = []
        for address, args in messages:
            if self._last.get(address) != args:
                self._last[address] = args
                fresh.append((address, args))
        return fresh

    def forget(self) -> None:
        """Send everything next time (a surface asked with ``get``)."""
        self._last.clear()


def _dgram(address: str, args: tuple[object, ...]) -> bytes:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)  # type: ignore[arg-type]  # osc_value gives builder types
    return builder.build().dgram


class _Quiet(asyncio.DatagramProtocol):
    """The sending side's protocol: nothing comes back but ICMP errors, logged once."""

    def __init__(self) -> None:
        self.last_error: str | None = None

    def error_received(self, exc: Exception) -> None:
        line = f"osc: sending to --osc-out failed ({exc}); nothing is listening there?"
        if line != self.last_error:
            self.last_error = line
            _log.warning("%s", line)


class OscSender:
    """Sends OSC messages to one ``HOST:PORT`` over UDP (never waits)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sent = 0
        self._transport: asyncio.DatagramTransport | None = None

    def __repr__(self) -> str:
        return f"OscSender({self.host}:{self.port})"

    async def open(self) -> None:
        """Resolve the host and open the socket."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            _Quiet, remote_addr=(self.host, self.port)
        )
        self._transport = transport

    def send(self, messages: Iterable[OscMessageOut]) -> None:
        """Send each message as one datagram (dropped when not open)."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        for address, args in messages:
            transport.sendto(_dgram(address, args))
            self.sent += 1

    def close(self) -> None:
        """Close the socket (safe twice)."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
