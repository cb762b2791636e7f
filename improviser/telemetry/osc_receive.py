"""The OSC transport: UDP datagrams -> OSC messages -> the dispatcher's handlers.

It knows nothing of what the handlers do. python-osc's own asyncio server is not used
because of what it does with what it cannot use: it drops a malformed packet without a
word, and a bundle stamped for later makes it *sleep* (``time.sleep``) inside the event
loop, which here is the live session's. This one reads every message at once (a bundle's
time tag is not waited for), hands a refusal (a malformed packet, a pattern that matches
several addresses) to ``on_refused``, and reads only senders that ``allowed`` admits.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Sequence

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_packet import OscPacket, ParseError

from improviser.telemetry.osc_controls import Reply

__all__ = ["OscReceiver", "sender_filter"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def sender_filter(networks: Sequence[Network]) -> Callable[[str], bool]:
    """Whether a sender's address lies in one of ``networks`` (IPv4-mapped IPv6 too)."""

    def allowed(host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in networks)

    return allowed


class OscReceiver(asyncio.DatagramProtocol):
    """Reads OSC packets from a datagram endpoint and calls the dispatcher's handlers."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        allowed: Callable[[str], bool],
        on_refused: Callable[[Reply], None],
        on_stranger: Callable[[tuple[str, int]], None],
    ) -> None:
        self.dispatcher = dispatcher
        self.allowed = allowed
        self.on_refused = on_refused
        self.on_stranger = on_stranger
        self.packets = 0
        """Datagrams read (from allowed senders)."""

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """One datagram: check its sender, parse it, dispatch each message in it."""
        sender = (str(addr[0]), int(addr[1]))
        if not self.allowed(sender[0]):
            self.on_stranger(sender)
            return
        self.packets += 1
        try:
            packet = OscPacket(data)
        except ParseError:
            message = f"not an OSC packet ({len(data)} bytes)"
            self.on_refused(Reply(False, "", None, message, sender))
            return
        for timed in packet.messages:
            address = timed.message.address
            handlers = list(self.dispatcher.handlers_for_address(address))
            if len(handlers) > 1:
                message = f"pattern {address!r} matches {len(handlers)} addresses; send to one"
                self.on_refused(Reply(False, address, None, message, sender))
                continue
            for handler in handlers:
                handler.invoke(sender, timed.message)
