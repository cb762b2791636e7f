"""The page's side of the broker: follow every instance, hand each message to the pages.

One :class:`Hub` per server: a named task keeps a connection to the broker subscribed
to ``improviser/+/#``, files each message with the watcher's
:class:`~improviser.telemetry.remote.WatchState` (so it reads exactly what
``improviser watch`` reads) and passes it on to every open page. A broker that is down
or goes away is said to the pages (``broker`` message) and reconnected to after a
capped, jittered backoff. A slow page never holds the hub up: its queue drops the oldest
message and the page is told to start again from a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from improviser.config.mqtt import MqttConfig
from improviser.telemetry.connection import backoff, client_options, describe
from improviser.telemetry.remote import WatchState
from improviser.telemetry.topics import Topics, instance_of

__all__ = ["PAGE_QUEUE", "Hub", "Update"]

PAGE_QUEUE = 2000
"""Messages waiting for one page; beyond it the page starts again from a snapshot."""
EVENTS_KEPT = 100
"""Events kept per instance for a page opened late."""
_log = logging.getLogger("improviser.web")

Update = dict[str, Any]
"""One message for the pages: ``{"type": ..., ...}``."""


@dataclass(slots=True)
class _History:
    notes: deque[dict[str, Any]]
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))


def _epoch_ms() -> float:
    return round(time.time() * 1000.0, 3)


class _Page:
    """One open page: its queue, and whether it missed something."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Update] = asyncio.Queue(PAGE_QUEUE)
        self.stale = False

    def put(self, update: Update) -> None:
        if self.stale:
            return
        try:
            self.queue.put_nowait(update)
        except asyncio.QueueFull:
            self.stale = True  # it gets a fresh snapshot instead of a gap


class Hub:
    """Follows the broker for every page (``async with hub.running(): ...``)."""

    def __init__(self, config: MqttConfig, password: str | None, *, notes_kept: int) -> None:
        self.config = config
        self._password = password
        self._notes_kept = notes_kept
        self.state = WatchState()
        self._history: dict[str, _History] = {}
        self._pages: set[_Page] = set()
        self.closing = asyncio.Event()
        """Set when the server stops: the pages' streams end."""
        self.connected = False
        self.problem: str | None = None
        """Why the broker cannot be reached now (``None``: connected, or not yet tried)."""

    @property
    def broker(self) -> Update:
        """The broker's state, as the pages see it."""
        where = f"{self.config.host}:{self.config.broker_port}"
        return {"type": "broker", "where": where, "connected": self.connected,
                "problem": self.problem}  # fmt: skip

    def snapshot(self) -> Update:
        """Everything known now, for a page that (re)starts."""
        instances = {}
        for name, view in self.state.instances.items():
            history = self._history.get(name)
            instances[name] = {
                "status": view.status,
                "stats": view.stats,
                "notes": list(history.notes) if history else [],
                "events": list(history.events) if history else [],
                "reply": view.last_reply,
            }
        return {"type": "snapshot", "broker": self.broker, "instances": instances}

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        """Follow the broker while inside."""
        task = asyncio.create_task(self._follow(), name="improviser.web.broker")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def updates(self) -> AsyncGenerator[Update, None]:
        """A snapshot, then every update, for one page (until it goes)."""
        page = _Page()
        self._pages.add(page)
        try:
            yield self.snapshot()
            while True:
                if page.stale:
                    page.queue = asyncio.Queue(PAGE_QUEUE)
                    page.stale = False
                    yield self.snapshot()
                yield await page.queue.get()
        finally:
            self._pages.discard(page)

    def _publish(self, update: Update) -> None:
        for page in self._pages:
            page.put(update)

    async def _follow(self) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            try:
                await self._connection()
            except aiomqtt.MqttError as exc:
                line = describe(exc, self.config)
                if line != self.problem:
                    _log.warning("%s; will retry", line)
                self.connected, self.problem = False, line
                self._publish(self.broker)
            if loop.time() - began >= 10.0:
                attempt = 0
            await asyncio.sleep(
                backoff(attempt, self.config.reconnect_min, min(self.config.reconnect_max, 5.0))
            )
            attempt += 1

    async def _connection(self) -> None:
        identifier = f"improviser-web-{os.getpid()}-{os.urandom(3).hex()}"
        options = client_options(self.config, self._password, identifier=identifier)
        async with aiomqtt.Client(**options) as client:
            await client.subscribe(Topics("+").all, 0)
            self.connected, self.problem = True, None
            self._publish(self.broker)
            async for message in client.messages:
                raw = message.payload
                if isinstance(raw, bytes | bytearray):
                    self.take(str(message.topic), bytes(raw))

    def take(self, topic: str, payload: bytes) -> Update | None:
        """File one message and pass it to the pages; the update (``None``: not ours)."""
        if not self.state.take(topic, payload):
            return None
        instance = instance_of(topic)
        assert instance is not None  # take() accepted it
        kind = topic.rsplit("/", 1)[-1]
        view = self.state.instances[instance]
        history = self._history.setdefault(instance, _History(deque(maxlen=self._notes_kept)))
        data: Any
        if kind == "status":
            data = view.status
        elif kind == "stats":
            data = view.stats
        elif kind == "notes":
            data = view.notes[-1]
            history.notes.append(data)
        elif kind == "events":
            data = view.events[-1]
            history.events.append(data)
        else:
            data = view.last_reply
        # When the page server had it (epoch ms): where ``bench web`` splits the delay.
        update = {"type": kind, "instance": instance, "data": data, "received": _epoch_ms()}
        self._publish(update)
        return update
