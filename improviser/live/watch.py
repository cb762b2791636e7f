"""Watching the ports: a vanished port releases the notes and waits; a returning one is
reopened (the ``improviser.ports`` task of a session)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

from improviser.live.ports import MidiInput, MidiOutput

__all__ = ["PortUser", "watch_ports"]

_log = logging.getLogger("improviser.live")


class PortUser(Protocol):
    """What is told of a port lost or back (the engine)."""

    def port_lost(self, which: str, at: float) -> None:
        """``which`` (``input``/``output``) vanished at ``at``."""

    def port_back(self, which: str) -> None:
        """``which`` is back."""

    def now(self) -> float:
        """The clock."""


async def watch_ports(
    user: PortUser, ports: Mapping[str, MidiInput | MidiOutput], poll_seconds: float
) -> None:
    """Check each port every ``poll_seconds``; tell ``user`` when one goes or comes back."""
    missing: set[str] = set()
    while True:
        await asyncio.sleep(poll_seconds)
        for which, port in ports.items():
            if which not in missing:
                # Listing ports is a round trip to the MIDI server (0.3 ms, at times over
                # 1 ms, on JACK): a worker thread waits for it, not the loop.
                if not await asyncio.to_thread(port.present):
                    _log.warning(
                        "%s port %r vanished: notes released, waiting for %r to come back",
                        which,
                        port.name,
                        port.pattern,
                    )
                    missing.add(which)
                    user.port_lost(which, user.now())
            elif port.reconnect():
                _log.warning("%s port back: reconnected to %r", which, port.name)
                missing.discard(which)
                user.port_back(which)
