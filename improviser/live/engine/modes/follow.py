"""Follow: a duet voice that plays the predicted next note after each note played.

Each player note, once heard, triggers one note drawn from the model's prediction,
``follow_delay`` seconds later (0: at once), lasting its drawn duration at the player's
tempo. Follow notes never enter the context: the player's notes are the context.
"""

from __future__ import annotations

from typing import ClassVar

from improviser.live.engine.voice import Voice
from improviser.music.encoding import DURATION_BEATS

__all__ = ["FOLLOW", "Follow"]

FOLLOW = "follow"
"""The scheduler tag of follow notes."""


class Follow:
    """One predicted note for each note played."""

    name: ClassVar[str] = "follow"
    plays_first: ClassVar[bool] = False

    def __init__(self, voice: Voice) -> None:
        self.voice = voice

    @property
    def playing(self) -> bool:
        """Follow has no answer under way: it is always listening."""
        return False

    def note_struck(self, at: float) -> None:
        """Phrases mean nothing here: the call never accumulates."""
        self.voice.player.take_call()

    def note_heard(self, at: float) -> None:
        """Play the predicted next note."""
        voice = self.voice
        if not voice.can_play():
            return
        token = voice.draw()
        seconds = DURATION_BEATS[token.duration] * voice.timing.seconds_per_beat
        voice.play(token, at=at + voice.config.follow_delay, seconds=seconds, tag=FOLLOW, cue=at)

    def next_deadline(self) -> float | None:
        """Follow needs no timer."""
        return None

    def tick(self, now: float) -> None:
        """Nothing is timed here (the scheduler plays the notes)."""

    def end_call(self, at: float) -> None:
        """There is no call to end."""
        self.voice.player.take_call()

    def regenerate(self, at: float) -> None:
        """Nothing to regenerate: each note is drawn once."""

    def silence(self, at: float) -> None:
        """Release the follow notes and drop those planned."""
        self.voice.scheduler.cancel(FOLLOW)
