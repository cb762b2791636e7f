"""The chord the player plays, told to the session: a :class:`ChordHeard` event each time
it changes (the engine asks off the note path, in its settle)."""

from __future__ import annotations

from collections.abc import Callable

from improviser.live.events import ChordHeard, Event
from improviser.music.chord_ear import ChordEar

__all__ = ["ChordWatch"]


class ChordWatch(ChordEar):
    """A :class:`ChordEar` that publishes the chord it hears when it changes."""

    def __init__(self, window_beats: float, publish: Callable[[Event], None]) -> None:
        super().__init__(window_beats)
        self._publish = publish
        self.name: str | None = None
        """The chord last published (``None``: no chord)."""

    def publish_change(self, at: float, seconds_per_beat: float) -> None:
        """Publish the chord heard now if it is not the one last published."""
        chord = self.chord(at, seconds_per_beat)
        name = None if chord is None else chord.name
        if name == self.name:
            return
        self.name = name
        if chord is None:
            self._publish(ChordHeard(at, None))
        else:
            self._publish(ChordHeard(at, name, chord.root, chord.quality, chord.bass))
