"""What the player's hands and feet are doing: keys held, the sustain pedal, the call.

:class:`PlayerState` is the engine's picture of the player between phrases: which keys
are down (and since when), whether the sustain pedal is down, the onsets of the call
being played and when the last key came up. An answer mode reads it to decide when a
phrase is over; it never steps the model.

A release can be lost (a cable glitch, a cycle JACK dropped while a client was late), so
nothing here waits for one forever: :meth:`PlayerState.stale` names the keys (and the
pedal) held longer than a bound, and the engine takes them as released.
"""

from __future__ import annotations

from collections import deque

from improviser.music.voicing import LEGATO_STEP

__all__ = ["CALL_ONSETS_KEPT", "CHORD_SPREAD", "PlayerState"]

CHORD_SPREAD = 0.05
"""Seconds within which keys struck after a melody note count as struck with it: a chord
played by a hand spreads over a few tens of milliseconds, a legato line's next note comes
later (a 16th note at 180 bpm is 83 ms)."""
CALL_ONSETS_KEPT = 4096
"""Onsets kept of a call that never ends (a flood, a stuck key): the most recent."""


class PlayerState:
    """Keys held, the pedal and the onsets of the current call."""

    def __init__(self, buried_after: int = 0) -> None:
        self.buried_after = buried_after
        """A key held while this many notes were struck after it no longer keeps the keys
        from being up (0: every held key does); see ``LiveConfig.buried_key_notes``."""
        self.held: dict[tuple[int, int], float] = {}
        """(channel, pitch) -> onset, for every key down now."""
        self._struck: dict[tuple[int, int], int] = {}
        """(channel, pitch) -> how many notes had been struck when it went down."""
        self._strikes = 0
        self.pedal = False
        self.pedal_since: float | None = None
        self.call_onsets: deque[float] = deque(maxlen=CALL_ONSETS_KEPT)
        """Onsets of the call being played (cleared when a phrase ends)."""
        self.last_release: float | None = None
        """When the last key came up (or the pedal was lifted with no key down)."""
        self.last_onset: float | None = None
        """When the last key went down."""
        self.melody: tuple[int, int, float] | None = None
        """The top line's latest note: (pitch, velocity, onset)."""
        self.melody_keys: set[tuple[int, int]] = set()
        """(channel, pitch) of the keys held that were heard as the melody (the engine
        keeps it): a melody note still held under the next one (legato) is not the other
        hand."""

    def press(self, channel: int, pitch: int, at: float) -> None:
        """A key went down."""
        self.held[(channel, pitch)] = at
        self._strikes += 1
        self._struck[(channel, pitch)] = self._strikes
        self.call_onsets.append(at)
        self.last_onset = at

    def is_top(self, pitch: int, at: float, forget_after: float) -> bool:
        """Whether a key just struck at ``pitch`` continues the top line: it is at or above
        every key held (keys held over ``forget_after`` seconds do not count, so a lost
        release never hides the melody for long), or it steps down at most
        :data:`LEGATO_STEP` from the melody note still held, lies above every other, and
        comes more than :data:`CHORD_SPREAD` after it (a key struck with the melody note is
        a chord under it, not the next note of a legato line)."""
        melody = self.melody[0] if self.melody is not None else None
        others_top = -1
        melody_held = False
        for (_, held), onset in self.held.items():
            if held == pitch or at - onset > forget_after:
                continue
            if held == melody:
                melody_held = True
            else:
                others_top = max(others_top, held)
        if pitch < others_top:
            return False
        if not melody_held or self.melody is None or melody is None:
            return True
        if pitch >= melody:
            return True
        return melody - pitch <= LEGATO_STEP and at - self.melody[2] > CHORD_SPREAD

    def release(self, channel: int, pitch: int, at: float) -> float | None:
        """A key came up: its onset, or ``None`` if it was not held."""
        onset = self.held.pop((channel, pitch), None)
        self._struck.pop((channel, pitch), None)
        if onset is not None and self.keys_up():
            self.last_release = at
        return onset

    def set_pedal(self, down: bool, at: float) -> bool:
        """The sustain pedal moved; whether it was just lifted."""
        lifted = self.pedal and not down
        if down and not self.pedal:
            self.pedal_since = at
        self.pedal = down
        if not down:
            self.pedal_since = None
            if self.keys_up():
                self.last_release = at
        return lifted

    def keys_up(self) -> bool:
        """No key is down, or (with ``buried_after``) none but keys buried under that many
        notes struck after them."""
        if not self.held:
            return True
        if self.buried_after <= 0:
            return False
        newest_allowed = self._strikes - self.buried_after
        return all(order <= newest_allowed for order in self._struck.values())

    def heard_as_melody(self, channel: int, pitch: int) -> None:
        """The key just struck is the melody's: keys held from the melody more than
        :data:`LEGATO_STEP` below it are the other hand's now (a chord held, then a
        melody played over it)."""
        self.melody_keys = {k for k in self.melody_keys if k[1] >= pitch - LEGATO_STEP}
        self.melody_keys.add((channel, pitch))

    def other_hand(self) -> list[int]:
        """The pitches held that were not heard as the melody (the other hand's keys)."""
        keys = self.held.keys() - self.melody_keys
        return [pitch for _, pitch in keys]

    def take_call(self) -> tuple[list[float], float | None]:
        """The call's onsets and last release; the next call starts empty."""
        onsets = list(self.call_onsets)
        self.call_onsets.clear()
        release, self.last_release = self.last_release, None
        return onsets, release

    def release_all(self, at: float) -> None:
        """Every key held comes up at ``at`` (the player's all-notes-off, a lost port)."""
        self.melody_keys.clear()
        if self.held:
            self.held.clear()
            self._struck.clear()
            self.last_release = at

    def forget(self) -> None:
        """Forget everything: keys, pedal and the half-played call."""
        self.held.clear()
        self._struck.clear()
        self.melody_keys.clear()
        self.pedal = False
        self.pedal_since = None
        self.call_onsets.clear()
        self.last_release = None
        self.melody = None

    # --- lost releases -------------------------------------------------------------------------
    def oldest_hold(self) -> float | None:
        """When the longest-held key or the pedal went down (``None``: nothing is down)."""
        times = list(self.held.values())
        if self.pedal_since is not None:
            times.append(self.pedal_since)
        return min(times, default=None)

    def stale(self, now: float, bound: float) -> tuple[list[tuple[int, int]], bool]:
        """Keys held, and whether the pedal is down, for ``bound`` seconds or more."""
        keys = [key for key, onset in self.held.items() if now - onset >= bound]
        pedal = self.pedal_since is not None and now - self.pedal_since >= bound
        return keys, pedal
