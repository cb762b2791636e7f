"""The OSC face: one companion task of a live session, inside its event loop.

:class:`OscFace` listens on a UDP port for OSC controls (``/improviser/<instance>/set/<key>``,
mapped by :func:`~improviser.telemetry.osc_controls.build_dispatcher` to the one control
entry point, :meth:`~improviser.live.engine.controls.Controls.apply`) and, when given an
``out`` address, sends there the session's status, values, notes and events, and an ack
or an error for every message it took or refused (:mod:`improviser.telemetry.osc_out`).

A refused message (unknown address, wrong type, out of range, a malformed packet) changes
nothing and makes one log line (at most ``log_per_second`` of them; the rest are counted
in the next) and, with ``out``, an ``error`` message. A sender outside ``allow`` is
dropped unread, logged once. The socket is bound when the face is made, so a port in use
is a one-line error before the session starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import time

from improviser.config.osc import OscConfig
from improviser.errors import ConfigError
from improviser.live.events import (
    THRU,
    AnswerNote,
    Event,
    PlayerNote,
    StatsReport,
    Subscription,
)
from improviser.live.session.session import LiveSession
from improviser.telemetry.messages import event_payload, offline_status, session_status
from improviser.telemetry.osc_controls import OscAddresses, Reply, build_dispatcher
from improviser.telemetry.osc_out import (
    ChangedOnly,
    OscMessageOut,
    OscSender,
    event_message,
    note_message,
    reply_message,
    status_messages,
)
from improviser.telemetry.osc_receive import OscReceiver, sender_filter

__all__ = ["MAX_STRANGERS", "LogLimit", "OscFace", "bind_udp"]

_log = logging.getLogger("improviser.osc")
MAX_STRANGERS = 1024
"""Senders outside ``allow`` remembered (each logged once); beyond, no more are logged."""


def bind_udp(host: str, port: int) -> socket.socket:
    """A UDP socket bound to ``host:port`` (non-blocking); :class:`ConfigError` if it cannot."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"--osc {where}: cannot resolve {host!r} ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"--osc {where}: cannot listen there ({exc.strerror or exc}); choose another port"
        ) from None
    sock.setblocking(False)
    return sock


class LogLimit:
    """At most ``per_second`` lines a second (a burst of one second's worth); counts the rest."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._allowance = per_second
        self._refilled = time.monotonic()
        self.suppressed = 0

    def __call__(self, level: int, line: str) -> None:
        """Log ``line`` unless over the limit."""
        now = time.monotonic()
        rate = self.per_second
        self._allowance = min(rate, self._allowance + (now - self._refilled) * rate)
        self._refilled = now
        if self._allowance < 1.0:
            self.suppressed += 1
            return
        self._allowance -= 1.0
        if self.suppressed:
            line = f"{line} ({self.suppressed} more not logged)"
            self.suppressed = 0
        _log.log(level, "%s", line)


class OscFace:
    """Takes OSC controls and sends status and notes (a session companion: ``face(session)``)."""

    def __init__(self, config: OscConfig, *, instance: str) -> None:
        self.config = config
        self.addresses = OscAddresses(instance)
        self.socket = bind_udp(config.listen, config.port)
        self.port: int = self.socket.getsockname()[1]
        """The port listened on (the one chosen when ``port`` is 0)."""
        out = config.out_endpoint()
        self.sender = None if out is None else OscSender(*out)
        self.listening = asyncio.Event()
        """Set while the face reads controls (and, with ``out``, has sent the status)."""
        self.acks = 0
        self.errors = 0
        self.dropped = 0
        """Events not sent because ``out`` lagged (the oldest went first)."""
        self.strangers = 0
        """Datagrams dropped unread: their sender is outside ``allow``."""
        self._strangers: set[str] = set()
        self._limit = LogLimit(config.log_per_second)
        self._changed = ChangedOnly()
        self._session: LiveSession | None = None
        self._started = ""

    def __repr__(self) -> str:
        return f"OscFace({self.config.listen}:{self.port}, {self.addresses.base})"

    async def __call__(self, session: LiveSession) -> None:
        """Run beside ``session`` until cancelled."""
        engine = session.engine
        assert engine is not None
        self._session = session
        self._started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        loop = asyncio.get_running_loop()
        dispatcher = build_dispatcher(
            engine.controls,
            self.addresses,
            now=session.now,
            on_reply=self._reply,
            on_get=self._resend,
        )
        receiver = OscReceiver(
            dispatcher,
            allowed=sender_filter(self.config.networks()),
            on_refused=self._reply,
            on_stranger=self._stranger,
        )
        events = None if self.sender is None else session.bus.subscribe(self.config.queue_size)
        transport, _ = await loop.create_datagram_endpoint(lambda: receiver, sock=self.socket)
        try:
            if self.sender is not None:
                await self.sender.open()
                self._send(self._changed(self._status()))
            self.listening.set()
            if events is None:
                await asyncio.Event().wait()  # only listening: nothing to send
            else:
                await self._pump(events)
        finally:
            self.listening.clear()
            transport.close()
            if events is not None:
                events.close()
            if self.sender is not None:
                with contextlib.suppress(OSError):
                    offline = offline_status(self.addresses.instance).model_dump()
                    self.sender.send(self._changed(status_messages(self.addresses, offline)))
                self.sender.close()

    # --- what goes out -------------------------------------------------------------------------
    def _status(self) -> list[OscMessageOut]:
        session = self._session
        assert session is not None
        status = session_status(
            session, self.addresses.instance, started=self._started, notes=self.config.notes
        )
        return status_messages(self.addresses, status.model_dump())

    def _send(self, messages: list[OscMessageOut]) -> None:
        if self.sender is not None and messages:
            self.sender.send(messages)

    async def _pump(self, events: Subscription) -> None:
        delay = self.config.send_delay_ms / 1000
        while True:
            gathered = [await events.get()]
            if delay > 0:
                await asyncio.sleep(delay)  # the answer leaves through the MIDI server first
            gathered += events.drain()
            self.dropped = events.dropped
            out: list[OscMessageOut] = []
            status_due = False
            for event in gathered:
                status_due |= self._of(event, out)
            if status_due:
                out += self._changed(self._status())
            self._send(out)

    def _of(self, event: Event, out: list[OscMessageOut]) -> bool:
        """Add ``event``'s messages to ``out``; whether the status may have changed."""
        session = self._session
        assert session is not None
        if isinstance(event, PlayerNote | AnswerNote):
            if self.config.notes:
                is_answer = isinstance(event, AnswerNote) and event.tag != THRU
                part = "improviser" if is_answer else "player"
                out.append(
                    note_message(
                        self.addresses, part, event.pitch, event.velocity, event.channel + 1
                    )
                )
            return False
        if isinstance(event, StatsReport):
            return False
        payload = event_payload(event, session.started)
        if payload is not None:
            out.append(event_message(self.addresses, payload.kind, payload.message))
        return True

    # --- what comes in -------------------------------------------------------------------------
    def _reply(self, reply: Reply) -> None:
        sender = "?" if reply.sender is None else f"{reply.sender[0]}:{reply.sender[1]}"
        if reply.ok:
            self.acks += 1
            _log.info("osc: control %s = %r (from %s)", reply.key, reply.value, sender)
        else:
            self.errors += 1
            what = reply.key or "a packet"
            self._limit(
                logging.WARNING,
                f"osc: refused {what} from {sender}: {reply.message}; nothing changed",
            )
        if self.sender is None:
            return
        out = [reply_message(self.addresses, reply)]
        if reply.ok:
            out += self._changed(self._status())
        self._send(out)

    def _resend(self) -> None:
        self._changed.forget()
        self._send(self._changed(self._status()))

    def _stranger(self, sender: tuple[str, int]) -> None:
        self.strangers += 1
        host = sender[0]
        if host in self._strangers or len(self._strangers) >= MAX_STRANGERS:
            return
        self._strangers.add(host)
        _log.warning(
            "osc: dropped a datagram from %s, which is not in osc.allow (%s); "
            "its later ones are dropped without a word",
            host,
            ", ".join(self.config.allow),
        )
