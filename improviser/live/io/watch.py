"""Watching the ports and their server (the ``improviser.ports`` task of a session).

A vanished port releases the notes and waits; a returning one is reopened. The port a
MIDI clock comes from (``clock_port``) is watched too: its loss releases nothing and
waits for nothing (its ticks stop, so :class:`~improviser.live.timebase.timing.Timing` follows
the player's or the fixed tempo), and it is reopened when it is back. When the JACK
server itself goes (:class:`~improviser.live.io.server.ServerWatch`), every port is lost at
once; when a server answers again our clients are made anew (virtual ports reappear under
their names, others are looked for by name), or, with ``on_server_loss = "exit"``, the
session ends with one line so a service manager can restart it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

from improviser.errors import PortError
from improviser.live.io.ports import MidiInput, MidiOutput
from improviser.live.io.server import ServerWatch

__all__ = ["PortUser", "watch_ports"]

_log = logging.getLogger("improviser.live")
Ports = Mapping[str, MidiInput | MidiOutput]
_LOSS = {"clock": "the tempo falls back as its ticks stop"}
"""What a lost port costs, where it is not ``notes released``."""


class PortUser(Protocol):
    """What is told of a port lost or back (the engine)."""

    def port_lost(self, which: str, at: float) -> None:
        """``which`` (``input``, ``output``, ``clock``) vanished at ``at``."""

    def port_back(self, which: str) -> None:
        """``which`` is back."""

    def now(self) -> float:
        """The clock."""


async def watch_ports(
    user: PortUser,
    ports: Ports,
    poll_seconds: float,
    server: ServerWatch | None = None,
    *,
    exit_on_server_loss: bool = False,
) -> None:
    """Check each port every ``poll_seconds``; tell ``user`` when one goes or comes back."""
    missing: set[str] = set()
    server_down = False
    while True:
        await asyncio.sleep(poll_seconds)
        if server is not None and server.lost and not server_down:
            for port in ports.values():
                port.abandon()
            if exit_on_server_loss:
                raise PortError("the JACK server went away (on_server_loss = exit)")
            _log.warning("the JACK server went away: notes released, waiting for it")
            server_down = True
            for which in ports:
                if which not in missing:
                    missing.add(which)
                    user.port_lost(which, user.now())
        if server_down:
            assert server is not None
            if not await asyncio.to_thread(server.back):
                continue
            _log.warning("a JACK server is back: reopening our ports")
            server_down = False
        await _check(user, ports, missing)


async def _check(user: PortUser, ports: Ports, missing: set[str]) -> None:
    for which, port in ports.items():
        if which not in missing:
            # Listing ports is a round trip to the MIDI server (0.3 ms, at times over 1 ms,
            # on JACK): a worker thread waits for it, not the loop.
            if not await asyncio.to_thread(port.present):
                _log.warning(
                    "%s port %r vanished: %s, waiting for %r to come back",
                    which,
                    port.name,
                    _LOSS.get(which, "notes released"),
                    port.pattern,
                )
                missing.add(which)
                user.port_lost(which, user.now())
        elif port.reconnect():
            _log.warning("%s port back: reconnected to %r", which, port.name)
            missing.discard(which)
            user.port_back(which)
