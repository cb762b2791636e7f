"""The session's background chores: periodic, or only when no note is being handled.

Each is a plain coroutine a session runs as a named task: doing what a note need not
wait for and keeping the model warm (``improviser.idle``), freezing the garbage
collector's long-lived objects (``improviser.gc``), publishing the counters
(``improviser.stats``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine

from improviser.config.live import LiveConfig
from improviser.live.engine.engine import Improviser
from improviser.live.session.gcpause import collect_young_if_due

__all__ = ["IDLE_SECONDS", "RESTING_SECONDS", "every", "in_pauses", "pause_work", "when_idle"]

IDLE_SECONDS = 0.005
"""How long without input before the pause work runs, when ``keep_warm_ms`` is 0."""
RESTING_SECONDS = 0.05
"""The pause work's period once the player rests (``keep_warm_seconds``)."""


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


def pause_work(
    engine: Improviser,
    config: LiveConfig,
    last_busy: Callable[[], float],
    now: Callable[[], float],
) -> Coroutine[object, object, None]:
    """The session's ``improviser.idle`` task: in the pauses of the playing, a young GC
    collection that is half due (:func:`~improviser.live.session.gcpause.collect_young_if_due`)
    and the engine's idle work (:meth:`Improviser.idle`: what was heard taken in, the key
    published, the state re-primed, the model rehearsed and its next step prepared, so a
    note on caches gone cold costs only its step), every ``keep_warm_ms`` for
    ``keep_warm_seconds`` after the last message, then every :data:`RESTING_SECONDS`."""
    warm = config.keep_warm_ms > 0
    period = config.keep_warm_ms / 1000 if warm else IDLE_SECONDS

    def work() -> None:
        collect_young_if_due()
        engine.idle(keep_warm=warm)

    return in_pauses(
        period, max(period, RESTING_SECONDS), config.keep_warm_seconds, last_busy, now, work
    )
