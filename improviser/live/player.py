"""What the player's hands and feet are doing: keys held, the sustain pedal, the call.

:class:`PlayerState` is the engine's picture of the player between phrases: which keys
are down (and since when), whether the sustain pedal is down, the onsets of the call
being played and when the last key came up. An answer mode reads it to decide when a
phrase is over; it never steps the model.
"""

from __future__ import annotations

__all__ = ["PlayerState"]


class PlayerState:
    """Keys held, the pedal and the onsets of the current call."""

    def __init__(self) -> None:
        self.held: dict[tuple[int, int], float] = {}
        """(channel, pitch) -> onset, for every key down now."""
        self.pedal = False
        self.call_onsets: list[float] = []
        """Onsets of the call being played (cleared when a phrase ends)."""
        self.last_release: float | None = None
        """When the last key came up (or the pedal was lifted with no key down)."""

    def press(self, channel: int, pitch: int, at: float) -> None:
        """A key went down."""
        self.held[(channel, pitch)] = at
        self.call_onsets.append(at)

    def release(self, channel: int, pitch: int, at: float) -> float | None:
        """A key came up: its onset, or ``None`` if it was not held."""
        onset = self.held.pop((channel, pitch), None)
        if onset is not None and not self.held:
            self.last_release = at
        return onset

    def set_pedal(self, down: bool, at: float) -> bool:
        """The sustain pedal moved; whether it was just lifted."""
        lifted = self.pedal and not down
        self.pedal = down
        if not down and not self.held:
            self.last_release = at
        return lifted

    def keys_up(self) -> bool:
        """No key is down."""
        return not self.held

    def take_call(self) -> tuple[list[float], float | None]:
        """The call's onsets and last release; the next call starts empty."""
        onsets, self.call_onsets = self.call_onsets, []
        release, self.last_release = self.last_release, None
        return onsets, release

    def release_all(self, at: float | None = None) -> None:
        """Forget every key held (the player's all-notes-off, a lost input port)."""
        had_keys = bool(self.held)
        self.held.clear()
        if had_keys and at is not None:
            self.last_release = at

    def forget(self) -> None:
        """Forget everything: keys, pedal and the half-played call."""
        self.held.clear()
        self.pedal = False
        self.call_onsets = []
        self.last_release = None
