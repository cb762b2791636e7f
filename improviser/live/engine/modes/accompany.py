"""Accompany: the player plays a melody; the improviser plays the lower voices under it.

At each note of the player's top line the harmony model hears the melody note (its
metre in the bar and its IOI) and draws the lower voices at once: bass, tenor and alto,
none above the melody. The voices sound on the output channel until they move: a voice
that keeps its pitch is held (tied), one that moves is released and struck anew. With
``accompany_rhythm = "beat"`` the voices are struck again on each beat the melody holds;
with ``"bar"`` they move only on the first melody note of each bar (held between,
unless the melody falls below one of them: never above the melody). They are released
``accompany_release`` seconds after the player's last key (and the pedal) came up, and
at once when muted, panicked or a port is lost.

The decision is causal: the voices at a melody note depend on the notes up to it only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from improviser.live.engine.modes.melody_metre import MelodyMetre
from improviser.live.engine.voice import Voice
from improviser.music.voicing import VOICES_PLAYED

__all__ = ["ACCOMPANY", "Accompany"]

ACCOMPANY = "accompany"
"""The scheduler tag of the accompaniment's notes."""


class Accompany:
    """Lower voices under the player's melody, moved at each melody note."""

    name: ClassVar[str] = "accompany"
    plays_first: ClassVar[bool] = True

    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self.sounding: list[int] = [0, 0, 0]
        """The pitch each voice (bass, tenor, alto) sounds now; 0: silent."""
        self._velocity = 64
        self._metre = MelodyMetre(voice)
        self._bar: int | None = None
        self._struck_at: float | None = None
        self._kept: tuple[int, ...] = (0, 0, 0)
        """The voices the model heard under the last melody note it drew none for."""

    @property
    def playing(self) -> bool:
        """Whether any voice sounds."""
        self._still_sounding()
        return any(self.sounding)

    def _still_sounding(self) -> None:
        """Forget the voices the scheduler has released on its own (a voice held past
        ``max_note_seconds`` is cut there), so they are struck again when wanted."""
        table, channel = self.voice.scheduler.sounding, self.voice.out_channel
        for i, pitch in enumerate(self.sounding):
            if pitch and ((s := table.get((channel, pitch))) is None or s.tag != ACCOMPANY):
                self.sounding[i] = 0

    def note_struck(self, at: float) -> None:
        """Phrases mean nothing here: the call never accumulates."""
        self.voice.player.take_call()

    def note_heard(self, at: float) -> None:
        """A melody note: move the voices under it."""
        voice = self.voice
        melody = voice.player.melody
        if voice.harmony is None or melody is None:
            return
        pitch, velocity, _ = melody
        metre, ioi = self._metre.onset(at)
        self._voice(pitch, velocity, metre, ioi, self._metre.bar(at), at)
        # The beat tracker hears the onset in the next pause: its tempo search (up to a
        # millisecond) then delays neither the voices nor the melody model's step.
        voice.timing.onset(at, velocity, later=True)

    def note_revised(self, at: float) -> None:
        """The melody note over the chord tone heard last (the same onset, no new beat):
        the voices drawn under that tone are drawn again under it, and those that move
        are struck again now (or the model hears it over the voices kept)."""
        voice = self.voice
        melody = voice.player.melody
        if voice.harmony is None or melody is None:
            return
        pitch, velocity, _ = melody
        voices = voice.harmony.revise_voice(pitch)
        if voices is None:
            voice.harmony.revise_hold(pitch, self._kept)
        elif voice.can_play_harmony():
            self._set_velocity(velocity)
            self._move(voices, at)

    def _set_velocity(self, melody_velocity: int) -> None:
        """The voices' velocity: the melody note's, scaled by ``accompany_velocity``."""
        scaled = round(melody_velocity * self.voice.config.accompany_velocity)
        self._velocity = max(1, min(127, scaled))

    def _voice(self, pitch: int, velocity: int, metre: int, ioi: int, bar: int, at: float) -> None:
        """Move the voices under a melody note (or keep them, and let the model hear it)."""
        voice, cfg = self.voice, self.voice.config
        assert voice.harmony is not None
        keep = (
            cfg.accompany_rhythm == "bar"
            and bar == self._bar
            and self.playing
            and max(self.sounding) <= pitch
        )
        if keep or not voice.can_play_harmony():
            # the model hears the melody over what is kept (or silence), drawing nothing
            self._kept = tuple(self.sounding) if keep else (0, 0, 0)
            voice.harmony.hold(pitch, metre, ioi, self._kept)
            return
        self._bar = bar
        self._set_velocity(velocity)
        self._move(voice.harmony.voice(pitch, metre, ioi), at)

    def _move(self, voices: Sequence[int], at: float) -> None:
        """Sound ``voices``: a voice that keeps its pitch is held, one that moves is struck."""
        scheduler, channel = self.voice.scheduler, self.voice.out_channel
        self._still_sounding()
        played = VOICES_PLAYED[self.voice.config.accompany_voices]
        wanted = [0, 0, 0]
        for i in played:
            pitch = int(voices[i])
            if pitch and pitch not in wanted:  # a unison sounds once on one channel
                wanted[i] = pitch
        for old in self.sounding:
            if old and old not in wanted:
                scheduler.release(channel, old, ACCOMPANY)
        cue: float | None = at  # the first voice struck answers the melody note
        for new in wanted:
            if new and new not in self.sounding:
                # planned from the melody note (so it leaves at once, timed from it), and
                # capped like every improviser note: a voice never sounds past
                # max_note_seconds, whatever happens to the player's keys
                scheduler.note(
                    channel, new, self._velocity, at=at, duration=scheduler.max_note_seconds,
                    tag=ACCOMPANY, cue=cue,
                )  # fmt: skip
                cue = None
        self.sounding = wanted
        self._struck_at = at

    def _restrike(self, at: float) -> None:
        """Strike the voices again (``accompany_rhythm = "beat"``)."""
        voices = list(self.sounding)
        self.silence(at)
        self._move(voices, at)

    def next_deadline(self) -> float | None:
        """The voices' release once the player stopped, or their next beat."""
        if not self.playing:
            return None
        player = self.voice.player
        cfg = self.voice.config
        if player.keys_up() and not player.pedal:
            return (player.last_release or 0.0) + cfg.accompany_release
        if cfg.accompany_rhythm == "beat" and self._struck_at is not None:
            return self._struck_at + self.voice.timing.seconds_per_beat
        return None

    def tick(self, now: float) -> None:
        """Release the voices when the player has stopped; strike them again on the beat."""
        due = self.next_deadline()
        if due is None or now < due:
            return
        player = self.voice.player
        if player.keys_up() and not player.pedal:
            self.silence(now)
        else:
            self._restrike(now)

    def end_call(self, at: float) -> None:
        """There is no call: the voices stop."""
        self.voice.player.take_call()
        self.silence(at)

    def regenerate(self, at: float) -> None:
        """Nothing to regenerate: the voices follow the melody as it is played."""

    def silence(self, at: float) -> None:
        """Release every voice."""
        self.voice.scheduler.cancel(ACCOMPANY)
        self.sounding = [0, 0, 0]
