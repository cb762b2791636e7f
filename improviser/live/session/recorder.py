"""The session recording: both parts, real timestamps, safe against ``kill -9``.

The file is a type-1 MIDI file: track 0 the tempo and the chords the player played (as
markers: ``chord G7/B``), track 1 the player (notes and pedals), track 2 the improviser.
Times are the real arrival and send times (seconds from the session's start) placed on
the tick grid of a fixed recording tempo. The whole file is rewritten every
``flush_seconds`` (write to a temporary file, then rename), in a worker thread so file
writes never stall the loop; notes still sounding at a flush are written as ending there.
A killed process therefore loses at most the last flush interval.

The bytes are encoded as the notes end (:mod:`improviser.live.session.smf`): a flush costs the
notes around its time, not the whole session, so an hour of playing is as cheap to keep
on disk as a minute.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from improviser.errors import MidiFileError
from improviser.live.events import (
    THRU,
    AnswerNote,
    ChordHeard,
    Event,
    PlayerControl,
    PlayerNote,
)
from improviser.live.session.smf import MarkerTrack, TrackEncoder, midi_file
from improviser.music.midi_write import write_atomic
from improviser.music.notes import DEFAULT_TICKS_PER_BEAT

__all__ = ["PARTS", "Recorder", "default_recording_path"]

PARTS = ("player", "improviser")
_log = logging.getLogger("improviser.live")


@dataclass(slots=True)
class _Part:
    ended: int
    """Notes ended so far (their bytes are in ``track``: the notes are not kept)."""
    sounding: dict[tuple[int, int], tuple[float, int]]
    """(channel, pitch) -> (start seconds, velocity)."""
    track: TrackEncoder


class Recorder:
    """Collects the notes of a session and keeps its file up to date."""

    def __init__(
        self,
        path: Path,
        *,
        start: float,
        now: Callable[[], float],
        bpm: float = 120.0,
        flush_seconds: float = 1.0,
    ) -> None:
        self.path = path
        self.start = start
        self.bpm = bpm
        self.flush_seconds = flush_seconds
        self._now = now
        ticks_per_second = DEFAULT_TICKS_PER_BEAT * bpm / 60.0
        self._parts = {name: _Part(0, {}, TrackEncoder(ticks_per_second)) for name in PARTS}
        self._markers = MarkerTrack(ticks_per_second)
        """The chords the player played, as markers in the tempo track."""
        self._dirty = True
        self._lock = asyncio.Lock()
        self.flushes = 0
        self.armed = False
        """Set once the session is running: a session that never started writes no file."""

    # --- collecting ------------------------------------------------------------------------
    def note_on(self, part: str, channel: int, pitch: int, velocity: int, at: float) -> None:
        """A note of ``part`` started at ``at`` (clock time)."""
        p = self._parts[part]
        if (channel, pitch) in p.sounding:
            self.note_off(part, channel, pitch, at)
        p.sounding[(channel, pitch)] = (at - self.start, velocity)
        self._dirty = True

    def note_off(self, part: str, channel: int, pitch: int, at: float) -> None:
        """A note of ``part`` ended at ``at``; a release with no note is ignored."""
        p = self._parts[part]
        begun = p.sounding.pop((channel, pitch), None)
        if begun is None:
            return
        start, velocity = begun
        start = max(start, 0.0)
        p.ended += 1
        p.track.add(pitch, velocity, start, max(at - self.start, start), channel)
        self._dirty = True

    def end_part(self, part: str, at: float) -> None:
        """End every sounding note of ``part`` (its port vanished)."""
        for channel, pitch in list(self._parts[part].sounding):
            self.note_off(part, channel, pitch, at)

    def observe(self, event: Event) -> None:
        """Record a note event of the session (an observer of its event bus).

        The player's notes and pedals (the control changes no control took) as they
        arrived, the improviser's notes as they left (not the player's own notes echoed by
        ``thru``); the chords heard as markers.
        """
        if isinstance(event, ChordHeard):
            self._markers.add(f"chord {event.name or '-'}", event.at - self.start)
            self._dirty = True
            return
        if isinstance(event, PlayerControl):
            track = self._parts["player"].track
            track.control(event.number, event.value, event.at - self.start, event.channel)
            self._dirty = True
            return
        if isinstance(event, PlayerNote):
            part = "player"
        elif isinstance(event, AnswerNote) and event.tag != THRU:
            part = "improviser"
        else:
            return
        if event.velocity:
            self.note_on(part, event.channel, event.pitch, event.velocity, event.at)
        else:
            self.note_off(part, event.channel, event.pitch, event.at)

    def counts(self) -> dict[str, int]:
        """Notes recorded per part so far (sounding ones included)."""
        return {name: p.ended + len(p.sounding) for name, p in self._parts.items()}

    # --- writing -----------------------------------------------------------------------------
    def encode(self, at: float) -> bytes:
        """The file's bytes at clock time ``at`` (sounding notes end there)."""
        now = at - self.start
        tracks = [
            p.track.encode(
                ((ch, pitch, start, vel) for (ch, pitch), (start, vel) in p.sounding.items()),
                now,
                name,
            )
            for name, p in self._parts.items()
        ]
        return midi_file(
            tracks,
            bpm=self.bpm,
            ticks_per_beat=DEFAULT_TICKS_PER_BEAT,
            markers=bytes(self._markers.data),
        )

    def _write(self, data: bytes) -> None:
        try:
            write_atomic(data, self.path)
        except OSError as exc:
            raise MidiFileError(f"{self.path}: cannot write recording ({exc})") from exc

    async def flush(self) -> None:
        """Rewrite the file now (in a worker thread) if anything changed."""
        async with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            data = self.encode(self._now())  # cheap: the notes near now
            try:
                await asyncio.to_thread(self._write, data)
            except MidiFileError:
                self._dirty = True  # the next flush tries again
                raise
            self.flushes += 1

    async def run(self, on_error: Callable[[str | None], None] | None = None) -> None:
        """Flush every ``flush_seconds`` until cancelled.

        A failing write (a full disk) never stops the session: it is logged once, and
        again only when the problem changes; ``on_error`` hears each new message, and
        ``None`` once writing works again.
        """
        failing: str | None = None
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
            except MidiFileError as exc:
                if str(exc) != failing:
                    failing = str(exc)
                    _log.error("%s", exc)
                    if on_error is not None:
                        on_error(failing)
                continue
            if failing is not None:
                failing = None
                _log.warning("%s: recording written again", self.path)
                if on_error is not None:
                    on_error(None)

    async def finish(self) -> None:
        """End what sounds and write the file one last time."""
        if not self.armed:
            return
        now = self._now()
        for name in PARTS:
            self.end_part(name, now)
        self._dirty = True
        await self.flush()


def default_recording_path(sessions_dir: Path, prefix: str = "session") -> Path:
    """A fresh timestamped file name in ``sessions_dir``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return sessions_dir / f"{prefix}-{stamp}.mid"
