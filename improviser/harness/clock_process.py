"""The MIDI clock master of :mod:`~improviser.harness.clock_player` in a process of its own.

A hardware drum machine sends its ticks on time whatever the studio computer is doing;
a :class:`~improviser.harness.clock_player.ClockSender` on a thread of the process that
runs the session shares its interpreter lock, and on a busy machine sends late (tens of
ms seen) what the session is then blamed for following. ``bench sync`` runs it here
instead: ``python -m improviser.harness.clock_process`` serves one JSON command a line
(:func:`~improviser.harness.e2e_player.serve`): ``start`` / ``resume`` (``bpm``),
``stop``, ``tempo`` (``bpm``), ``times`` (when each tick was due and sent: ``perf_counter``,
which on Linux is ``CLOCK_MONOTONIC``, the same clock in the parent), ``quit``.
:class:`ClockProcess` is the parent's side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rtmidi

from improviser.harness.clock_player import ClockSender
from improviser.harness.e2e_player import PlayerProcess, serve

__all__ = ["ClockProcess", "main"]

MODULE = "improviser.harness.clock_process"


class ClockProcess:
    """The clock master's process, seen from the parent (start it with :meth:`open`)."""

    def __init__(self, child: PlayerProcess) -> None:
        self._child = child

    @classmethod
    async def open(cls) -> ClockProcess:
        """Start the process; its port ``demo-clock:clock`` exists when this returns."""
        return cls(await PlayerProcess.start(MODULE))

    async def start(self, bpm: float) -> None:
        """Send ``start`` and tick from the top at ``bpm``."""
        await self._child.ask(cmd="start", bpm=bpm)

    async def stop(self) -> None:
        """Stop ticking and send ``stop``."""
        await self._child.ask(cmd="stop")

    async def resume(self) -> None:
        """Send ``continue`` and tick on."""
        await self._child.ask(cmd="resume")

    async def tempo(self, bpm: float) -> None:
        """Tick at ``bpm`` from the next tick on."""
        await self._child.ask(cmd="tempo", bpm=bpm)

    async def times(self) -> tuple[list[float], list[float]]:
        """When each tick since ``start`` was due, and when it was sent."""
        reply = await self._child.ask(cmd="times")
        return reply["ticks"], reply["sent"]

    async def close(self) -> None:
        """Stop ticking, close the port, end the process."""
        await self._child.close()


def main() -> None:
    """Serve commands on stdin until ``quit`` or end of input."""
    sender = ClockSender(rtmidi.API_UNIX_JACK)

    def start(bpm: float) -> dict[str, Any]:
        sender.start(bpm)
        return {}

    def stop() -> dict[str, Any]:
        sender.stop()
        return {}

    def resume() -> dict[str, Any]:
        sender.resume()
        return {}

    def tempo(bpm: float) -> dict[str, Any]:
        sender.bpm = bpm
        return {}

    def times() -> dict[str, Any]:
        ticks, sent = sender.times()
        return {"ticks": ticks, "sent": sent}

    handlers: dict[str, Callable[..., dict[str, Any]]] = {
        "start": start,
        "stop": stop,
        "resume": resume,
        "tempo": tempo,
        "times": times,
    }
    serve(handlers, sender.close)


if __name__ == "__main__":
    main()
