"""Notes: what a MIDI file holds, as the package sees it, and one melodic line of them.

A :class:`Note` has a pitch, a velocity, a channel and a track, and its start and
duration both in seconds (through the file's tempo map) and in beats (ticks divided by
the file's resolution). Reading follows the MIDI rules a player relies on:

- a ``note_on`` with velocity 0 is a note-off;
- a pitch struck again while it sounds on the same channel ends the sounding note there
  (counted in :attr:`ReadReport.overlaps`);
- a note never released ends with its track (counted in :attr:`ReadReport.unreleased`);
- tempo changes anywhere in a type-1 file apply to every track.

Reading is :mod:`improviser.music.midi_read`; writing (always a type-1 file: track 0
the tempo and meta events, one track per part, every ``note_on`` with its ``note_off``)
is :mod:`improviser.music.midi_write`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "DEFAULT_BPM",
    "DEFAULT_TICKS_PER_BEAT",
    "DRUM_CHANNEL",
    "MAX_BPM",
    "MAX_FILE_BYTES",
    "MAX_NOTES",
    "Note",
    "ReadReport",
    "Score",
    "extract_melody",
    "skyline",
]

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Larger files are refused: no melody corpus file comes near this."""
MAX_NOTES = 1_000_000
"""A file with more notes than this is refused rather than exhausting memory."""
DRUM_CHANNEL = 9
"""General MIDI percussion (channel 10 as musicians count)."""
DEFAULT_BPM = 120.0
MAX_BPM = 1000.0
"""The fastest tempo written: faster is a broken file, not music."""
DEFAULT_TICKS_PER_BEAT = 480


@dataclass(frozen=True, slots=True)
class Note:
    """One note: what sounded, how loud, when and for how long."""

    pitch: int
    velocity: int
    start: float
    """Onset in seconds from the start of the file."""
    duration: float
    """Length in seconds."""
    channel: int = 0
    track: int = 0
    start_beats: float = 0.0
    duration_beats: float = 0.0

    @property
    def end(self) -> float:
        """Release time in seconds."""
        return self.start + self.duration

    @property
    def end_beats(self) -> float:
        """Release time in beats."""
        return self.start_beats + self.duration_beats


@dataclass(slots=True)
class ReadReport:
    """What reading a file had to resolve, so nothing is dropped silently."""

    overlaps: int = 0
    """Same-pitch notes struck again while sounding: the earlier one was ended there."""
    unreleased: int = 0
    """Notes with no note-off: ended at the end of their track."""
    orphan_offs: int = 0
    """Note-offs with no sounding note: ignored."""
    duplicates: int = 0
    """Same pitch struck twice at the same tick: merged into one note."""


@dataclass(frozen=True, slots=True)
class Score:
    """The notes of a MIDI file and what is needed to place them in time."""

    notes: tuple[Note, ...]
    ticks_per_beat: int
    bpm: float
    """The first tempo of the file (120 if it has none)."""
    report: ReadReport = field(default_factory=ReadReport)
    tracks: int = 1
    track_names: tuple[str, ...] = ()
    """Each track's first ``track_name`` (``""`` where it has none)."""


def skyline(notes: Iterable[Note], onset_tolerance_beats: float = 1 / 32) -> list[Note]:
    """Reduce polyphony to one voice: the highest note of each onset.

    Notes whose onsets lie within ``onset_tolerance_beats`` of each other count as one
    chord; its highest pitch is kept. Each kept note is cut where the next one starts, so
    the result never overlaps itself.
    """
    ordered = sorted(notes, key=lambda n: (n.start_beats, -n.pitch))
    kept: list[Note] = []
    group_start = float("-inf")
    for note in ordered:
        if note.start_beats - group_start > onset_tolerance_beats:
            kept.append(note)
            group_start = note.start_beats
    result: list[Note] = []
    for i, note in enumerate(kept):
        if i + 1 < len(kept) and kept[i + 1].start_beats < note.end_beats:
            nxt = kept[i + 1]
            result.append(
                replace(
                    note,
                    duration=max(nxt.start - note.start, 0.0),
                    duration_beats=nxt.start_beats - note.start_beats,
                )
            )
        else:
            result.append(note)
    return result


def extract_melody(
    notes: Iterable[Note],
    *,
    channel: int | None = None,
    track: int | None = None,
    mode: Literal["skyline", "all"] = "skyline",
) -> list[Note]:
    """Pick the melody of a (possibly polyphonic) file.

    ``channel`` and ``track`` select notes first (``None``: all; percussion on channel 10
    is left out unless chosen explicitly). ``mode="skyline"`` then keeps the highest note
    of each onset; ``mode="all"`` keeps every selected note.
    """
    chosen = [
        n
        for n in notes
        if ((channel is None and n.channel != DRUM_CHANNEL) or n.channel == channel)
        and (track is None or n.track == track)
    ]
    if mode == "skyline":
        return skyline(chosen)
    return sorted(chosen, key=lambda n: (n.start_beats, n.pitch))
