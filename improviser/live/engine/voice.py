"""What an answer mode plays with: the model's context, the sampler, the scheduler, time.

:class:`Voice` bundles the parts every mode needs and owns none of the decisions: the
engine keeps it, a mode (:mod:`improviser.live.engine.modes`) decides when and what to play
through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from improviser.config.live import LiveConfig
from improviser.inference.context import ModelContext, Prediction
from improviser.live.engine.player import PlayerState
from improviser.live.events import Event
from improviser.live.timebase.scheduler import Scheduler
from improviser.live.timebase.timing import Timing
from improviser.music.encoding import Token, velocity_value
from improviser.music.sampling import Sampler, SamplingParams

__all__ = ["Harmony", "RevisableHarmony", "Voice"]


class Harmony(Protocol):
    """What the accompaniment asks of the harmony model (the lower voices under a melody:
    :class:`~improviser.inference.harmonizer.Harmonizer`, or a test's fake)."""

    def voice(self, melody: int, metre: int, ioi: int) -> Sequence[int]:
        """Hear a melody onset; draw its lower voices ``(bass, tenor, alto)`` (0 = rest),
        none above ``melody``."""

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        """Hear a melody onset under which ``voices`` (bass, tenor, alto) are kept."""

    def settle(self) -> None:
        """Do now, while idle, what the next onset need not wait for."""

    def snapshot(self) -> Any:
        """An opaque copy of what it has heard, for :meth:`restore`."""

    def restore(self, state: Any) -> None:
        """Return to a state from :meth:`snapshot` (an answer's voices drawn ahead)."""


class RevisableHarmony(Harmony, Protocol):
    """A :class:`Harmony` whose last onset can be heard again with another melody note
    (:class:`~improviser.live.engine.deferred_harmony.DeferredHarmony`): a chord tone
    struck first, then the melody note over it."""

    def revise_hold(self, melody: int, voices: Sequence[int]) -> bool:
        """Hear the last onset (held) again with ``melody`` over ``voices``; whether it could."""

    def revise_voice(self, melody: int) -> Sequence[int] | None:
        """Draw the last onset's voices again under ``melody`` (``None``: it could not)."""


@dataclass(slots=True)
class Voice:
    """The improviser's instrument and ears, shared by the engine and its mode."""

    config: LiveConfig
    context: ModelContext
    scheduler: Scheduler
    timing: Timing
    """Tempo, beat and bar (a MIDI clock, the player's beat or a fixed tempo)."""
    player: PlayerState
    publish: Callable[[Event], None]
    now: Callable[[], float]
    rng: np.random.Generator
    sampler: Sampler = field(init=False)
    muted: bool = False
    looping: bool = False
    harmony: RevisableHarmony | None = None
    """The harmony model, where one is loaded (``accompany`` plays with it)."""
    ports_missing: set[str] = field(default_factory=set)
    """The watched ports lost and not back yet: ``input``, ``output``, ``clock``."""

    def __post_init__(self) -> None:
        self.sampler = Sampler(SamplingParams.from_config(self.config.sampling))

    @property
    def out_channel(self) -> int:
        """The output channel, 0-based."""
        return self.config.out_channel - 1

    @property
    def params(self) -> SamplingParams:
        """How notes are drawn now."""
        return self.sampler.params

    @params.setter
    def params(self, params: SamplingParams) -> None:
        self.sampler = Sampler(params)

    @property
    def waiting_for_port(self) -> bool:
        """The input or the output is lost (a lost clock port only loses the clock's tempo)."""
        return not self.ports_missing.isdisjoint(("input", "output"))

    def can_play(self) -> bool:
        """Not muted, both ports there, and something heard to answer."""
        return not self.muted and not self.waiting_for_port and self.context.prediction is not None

    def can_play_harmony(self) -> bool:
        """Not muted, both ports there, and a harmony model loaded."""
        return not self.muted and not self.waiting_for_port and self.harmony is not None

    def draw(self, prediction: Prediction | None = None) -> Token:
        """Draw a note from ``prediction`` (default: what the model expects next)."""
        return self.context.draw(self.sampler, self.rng, prediction)

    def velocity(self, token: Token) -> int:
        """The MIDI velocity of a drawn note, scaled as configured."""
        velocity = round(velocity_value(token.velocity) * self.config.velocity_scale)
        return min(max(velocity, 1), 127)

    def play(
        self,
        token: Token,
        *,
        at: float,
        seconds: float,
        tag: str,
        velocity: int | None = None,
        cue: float | None = None,
    ) -> None:
        """Plan ``token`` at ``at`` for ``seconds`` (``cue``: the time it answers)."""
        self.scheduler.note(
            self.out_channel,
            token.pitch,
            self.velocity(token) if velocity is None else velocity,
            at=at,
            duration=seconds,
            tag=tag,
            cue=cue,
        )
