"""Follow: a duet voice that plays the predicted next note after each note played.

Each player note, once heard, triggers one note drawn from the model's prediction
(one for a chord struck with the melody note on top, its tones a few milliseconds apart),
``follow_delay`` seconds later (0: at once), lasting its drawn duration at the player's
tempo. Follow notes never enter the context: the player's notes are the context. One
that falls on a strong beat while the player holds a chord under the melody leans on it
(``chord_lean``, :mod:`improviser.music.chord_lean`), as an answer does.
"""

from __future__ import annotations

from typing import ClassVar

from improviser.live.engine.modes.melody_metre import MelodyMetre
from improviser.live.engine.voice import Voice
from improviser.music.chord_lean import ChordLean, chord_under, strong_beat
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
        self._metre = MelodyMetre(voice)
        """Where the player's melody notes fall in the bar (the strong beats)."""

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
        when = at + voice.config.follow_delay
        lean = self._lean(at, when)
        if lean is not None:
            token = token._replace(
                pitch=lean.pitch(token.pitch, lambda: voice.draw().pitch, voice.rng)
            )
        seconds = DURATION_BEATS[token.duration] * voice.timing.seconds_per_beat
        voice.play(token, at=when, seconds=seconds, tag=FOLLOW, cue=at)

    def note_revised(self, at: float) -> None:
        """One note for each onset: the one played with the chord tone stands."""

    def _lean(self, at: float, when: float) -> ChordLean | None:
        """The chord the player holds under the melody note struck at ``at``, leant on if
        the follow note, at ``when``, falls on a strong beat (``chord_lean``)."""
        voice = self.voice
        self._metre.onset(at)
        melody = voice.player.melody
        if voice.config.chord_lean <= 1.0 or melody is None or len(voice.player.held) < 2:
            return None
        anchor = self._metre.anchor if self._metre.anchor is not None else at
        beat = voice.timing.beat_in_bar(when, anchor)
        bar = voice.config.beats_per_bar
        if not strong_beat(beat, bar):
            return None  # no chord to name off the strong beats
        chord = chord_under(melody[0], voice.player.other_hand())
        return ChordLean.of(chord, voice.config.chord_lean, beat, bar)

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
