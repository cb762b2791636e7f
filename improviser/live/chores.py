"""The session's background chores: periodic, or only when no note is being handled.

Each is a plain coroutine a session runs as a named task: doing what a note need not
wait for and keeping the model warm (``improviser.idle``), freezing the garbage
collector's long-lived objects (``improviser.gc``), publishing the counters
(``improviser.stats``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["every", "in_pauses", "when_idle"]


async def every(period: float, action: Callable[[], None]) -> None:
    """Run ``action`` every ``period`` seconds, until cancelled."""
    while True:
        await asyncio.sleep(period)
        action()


async def when_idle(
    period: float,
    idle: float,
    last_busy: Callable[[], float],
    now: Callable[[], float],
    action: Callable[[], None],
) -> None:
    """Every ``period`` seconds, run ``action`` if nothing was handled for ``idle`` seconds."""
    while True:
        await asyncio.sleep(period)
        if now() - last_busy() >= idle:
            action()


async def in_pauses(
    period: float,
    resting_period: float,
    rest_after: float,
    last_busy: Callable[[], float],
    now: Callable[[], float],
    action: Callable[[], None],
) -> None:
    """Run ``action`` in the pauses of the playing: every ``period`` seconds once nothing
    was handled for ``period``, and only every ``resting_period`` once nothing was
    handled for ``rest_after`` seconds (the player is resting: a silent session costs
    next to nothing)."""
    while True:
        resting = now() - last_busy() >= rest_after
        await asyncio.sleep(resting_period if resting else period)
        if now() - last_busy() >= period:
            action()
