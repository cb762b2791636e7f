"""Companions run so that none can hold up the end of a session.

A companion (the MQTT bridge, the OSC server, the built-in synth...) is a coroutine of
someone else's making, and a library under it can lose a cancellation (before Python
3.12, ``asyncio.wait_for`` drops one that races its result). The session's task group
waits for every task it cancels, so one such companion would keep the session from ever
closing: no final recording, no release of the notes still sounding. :func:`guarded`
runs the companion as a task of its own; when the session ends it cancels it and waits
at most :data:`STOP_GRACE_SECONDS`, then leaves it behind with one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["STOP_GRACE_SECONDS", "guarded"]

_log = logging.getLogger("improviser.live")
STOP_GRACE_SECONDS = 3.0
"""How long the session's end waits for a companion to stop (the MQTT bridge's goodbye
takes at most 1 s)."""


async def guarded(
    name: str, work: Coroutine[Any, Any, None], grace: float = STOP_GRACE_SECONDS
) -> None:
    """Run ``work`` until it ends (its exception, if any, is raised here); cancelled,
    cancel it and wait at most ``grace`` seconds for it before giving up on it."""
    inner = asyncio.create_task(work, name=f"{name}.work")
    try:
        await asyncio.shield(inner)
    except asyncio.CancelledError:
        inner.cancel()
        done, _ = await asyncio.wait({inner}, timeout=grace)
        if done:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                inner.result()  # retrieved: what it raised on its way out is not ours
        else:
            _log.error("%s did not stop within %g s of the session's end: left behind", name, grace)
        raise
