"""What ``bench soak`` and ``bench flood`` share: a JACK server, the outside player, the
session's trace drained as it goes."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from improviser.bench.e2e import jack_info
from improviser.bench.e2e_analysis import xruns
from improviser.harness.e2e_player import PlayerProcess
from improviser.harness.jackserver import some_jack_server
from improviser.harness.soak_player import MODULE
from improviser.live.session.session import LiveSession

__all__ = ["LiveBenchOptions", "Rig", "outside_player", "take_trace"]


@dataclass(frozen=True, slots=True)
class LiveBenchOptions:
    """The model and the JACK server of a benchmark through a live session."""

    model: Path | None = None
    """``None``: the bundled model if present, else random weights."""
    untrained: bool = False
    jack_period: int = 64
    """Frames per period of a private JACK server (48 kHz)."""
    seed: int = 0


@dataclass(slots=True)
class Rig:
    """A scratch folder, the player process, and (once closed) the JACK server's figures."""

    folder: Path
    child: PlayerProcess | None = None
    jack: dict[str, Any] = field(default_factory=dict)

    @property
    def player(self) -> PlayerProcess:
        """The running player process."""
        assert self.child is not None
        return self.child


@contextlib.asynccontextmanager
async def outside_player(period: int, prefix: str) -> AsyncIterator[Rig]:
    """A JACK server (a private one if none runs) and the soak player on it."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        rig = Rig(Path(tmp))
        log = rig.folder / "jackd.log"
        with some_jack_server(period, log) as server:
            rig.child = await PlayerProcess.start(MODULE)
            try:
                yield rig
            finally:
                await rig.child.close()
        rig.jack = jack_info(server, xruns(log) if server is not None else None)


def take_trace(session: LiveSession) -> list[tuple[str, float, float]]:
    """Everything in the session's trace now, removed from it (so it stays small)."""
    trace = session.trace
    assert trace is not None
    taken = trace[:]
    del trace[: len(taken)]  # appended on the loop's thread: nothing comes in between
    return taken
