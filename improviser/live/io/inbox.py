"""The input hand-off: from RtMidi's thread to the engine task, never waiting.

The input callback (RtMidi's thread) only hands each parsed message to the loop with
``call_soon_threadsafe``; on the loop a bounded queue takes it, dropping the oldest (and
counting) when full, so the callback never waits and a flood never grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from improviser.live.io.midi import InMessage

__all__ = ["Inbox", "Trace"]

Trace = list[tuple[str, float, float]]
"""``(stage, message time, clock)``: ``enqueued``, ``dequeued``, ``handled``."""


class Inbox:
    """A bounded queue of incoming messages, filled from any thread."""

    def __init__(
        self,
        size: int,
        now: Callable[[], float],
        on_drop: Callable[[], None],
        trace: Trace | None = None,
    ) -> None:
        self._queue: asyncio.Queue[InMessage] = asyncio.Queue(size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._now = now
        self._on_drop = on_drop
        self.trace = trace

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop messages go to (``None``: drop them, the session is closing); called
        on that loop's thread."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    @property
    def depth(self) -> int:
        """Messages waiting now."""
        return self._queue.qsize()

    def from_callback(self, message: InMessage) -> None:
        """Called on RtMidi's thread (hand over and return), or on the loop's own (the C
        JACK input, read there: straight in)."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._put(message)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: InMessage) -> None:
        if self.trace is not None:
            self.trace.append(("enqueued", message.time, self._now()))
        if self._queue.full():
            self._queue.get_nowait()
            self._on_drop()
        self._queue.put_nowait(message)

    async def next(self, deadline: float | None) -> InMessage | None:
        """The next message, or ``None`` once ``deadline`` (clock time) has come."""
        if deadline is None:
            message = await self._queue.get()
        else:
            try:
                async with asyncio.timeout(max(deadline - self._now(), 0.0)):
                    message = await self._queue.get()
            except TimeoutError:
                return None
        if self.trace is not None:
            self.trace.append(("dequeued", message.time, self._now()))
        return message
