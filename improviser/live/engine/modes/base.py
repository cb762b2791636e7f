"""The protocol of an answer mode: the engine dispatches, a mode decides.

A mode is told of each player note and of the passing time; it decides when and what the
improviser plays, through the :class:`~improviser.live.engine.voice.Voice` it was built with,
and reports what it did as events. Adding a mode is one new module in this package, its
class in :data:`improviser.live.engine.modes.MODES` and its name in ``live.mode``'s choices
(:data:`improviser.config.live.MODES`).
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from improviser.live.engine.voice import Voice

__all__ = ["AnswerMode"]


class AnswerMode(Protocol):
    """How the improviser answers the player."""

    name: ClassVar[str]
    plays_first: ClassVar[bool]
    """The mode plays on a melody note before the melody model hears it (it does not draw
    from that model, so its notes need not wait for the model's step)."""

    def __init__(self, voice: Voice) -> None: ...

    @property
    def playing(self) -> bool:
        """Whether an answer of this mode is under way."""

    def note_struck(self, at: float) -> None:
        """The player struck a note at ``at``; the model has not heard it yet."""

    def note_heard(self, at: float) -> None:
        """The note struck at ``at`` is the melody's; the model has heard it (unless
        :attr:`plays_first`: it hears it right after)."""

    def note_revised(self, at: float) -> None:
        """The key struck at ``at`` is the melody note of the onset last heard: a chord
        struck a few milliseconds before it, its tone heard as the melody first. The
        model has heard this note in that one's place (unless :attr:`plays_first`: right
        after); the beat has no new onset."""

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next be called (``None``: only on input)."""

    def tick(self, now: float) -> None:
        """Time has passed: end a phrase, finish an answer."""

    def end_call(self, at: float) -> None:
        """The player's call is over now (a control said so)."""

    def regenerate(self, at: float) -> None:
        """Answer the last call again, differently."""

    def silence(self, at: float) -> None:
        """Stop playing at once (mute, panic, a port lost); keep what was heard."""
