"""An answer of call and response under way: the notes it planned, the state it was
drawn from and the state after each note (adopted when it ends), its end and its tags."""

from __future__ import annotations

from dataclasses import dataclass

from improviser.inference.context import Heard, Prediction
from improviser.music.chords import Chord
from improviser.music.encoding import Token
from improviser.music.rhythm import CallRhythm

__all__ = ["AnswerPlan", "PlannedNote"]


@dataclass(slots=True)
class PlannedNote:
    """One note of an answer, drawn and planned."""

    token: Token
    at: float
    seconds: float
    velocity: int
    voices: tuple[int, ...] = ()
    """The lower voices sounding with it (a harmonized answer)."""


@dataclass(slots=True)
class AnswerPlan:
    """An answer under way: what it was drawn from, what it planned, when it ends."""

    tag: str
    cue: float
    """The end of the phrase it answers (or the moment a repeat began)."""
    before: Heard
    planned: list[PlannedNote]
    after: list[tuple[object, Prediction]]
    """Model state and prediction after each planned note."""
    end: float
    call_start: float
    """The first onset of the call (bars count from it without a clock)."""
    rhythm: CallRhythm | None
    """The call's note values (``None``: the model's own rhythm)."""
    player_steps: int = 0
    """Player notes heard while it played (then its notes do not enter the context)."""
    lower: int = 0
    """Voices played under its line (0: the line alone)."""
    chord: Chord | None = None
    """The chord under the call, leant on at the strong beats."""

    @property
    def voices(self) -> str:
        """The scheduler tag of the voices under its line (its own tag counts its line)."""
        return f"{self.tag}/voices"

    def beats(self, seconds_per_beat: float) -> float:
        """How many beats it lasts, from its first note to its end (at least one)."""
        if not self.planned:
            return 1.0
        return max((self.end - self.planned[0].at) / seconds_per_beat, 1.0)
