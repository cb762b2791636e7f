"""Reading a MIDI file into notes, by the rules a player relies on.

A ``note_on`` with velocity 0 is a note-off; a pitch struck again while it sounds on the
same channel ends the sounding note there; a note never released ends with its track;
tempo changes anywhere in a type-1 file apply to every track. Every oddity is counted
in the :class:`~improviser.music.notes.ReadReport`; a damaged, missing, type-2,
SMPTE-timed or oversized file is a one-line :class:`~improviser.errors.MidiFileError`.
"""

from __future__ import annotations

import bisect
import os
import struct
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import NamedTuple

import mido

from improviser.errors import MidiFileError, reason
from improviser.music.notes import MAX_FILE_BYTES, MAX_NOTES, Note, ReadReport, Score

__all__ = ["ControlChange", "part_track", "read_controls", "read_midi"]

# What mido raises for a damaged file besides OSError with no errno ("MThd not found",
# "undefined status byte"): EOFError when cut short, ValueError and the rest for a field
# out of range, KeySignatureError for a key signature meta event with no such key.
_PARSE_ERRORS = (
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    struct.error,
    mido.KeySignatureError,
)


class _TempoMap:
    """Converts absolute ticks to seconds under a list of tempo changes."""

    def __init__(self, changes: Iterable[tuple[int, int]], ticks_per_beat: int) -> None:
        points: dict[int, int] = {0: 500_000}
        for tick, tempo in sorted(changes):
            points[tick] = tempo
        self._ticks = sorted(points)
        self._tempos = [points[t] for t in self._ticks]
        self._seconds = [0.0]
        for i in range(1, len(self._ticks)):
            span = self._ticks[i] - self._ticks[i - 1]
            self._seconds.append(
                self._seconds[-1] + span * self._tempos[i - 1] / 1e6 / ticks_per_beat
            )
        self._tpb = ticks_per_beat

    def seconds(self, tick: int) -> float:
        i = bisect.bisect_right(self._ticks, tick) - 1
        return self._seconds[i] + (tick - self._ticks[i]) * self._tempos[i] / 1e6 / self._tpb

    @property
    def first_bpm(self) -> float:
        tempo = self._tempos[1] if len(self._ticks) > 1 and self._ticks[1] == 0 else self._tempos[0]
        return float(mido.tempo2bpm(tempo))


def _open(path: Path) -> mido.MidiFile:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MidiFileError(f"{path}: cannot read ({exc.strerror or reason(exc)})") from exc
    if size > MAX_FILE_BYTES:
        raise MidiFileError(
            f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES} bytes a MIDI file may have"
        )
    try:
        return mido.MidiFile(path, clip=True)
    except (OSError, *_PARSE_ERRORS) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise MidiFileError(f"{path}: cannot read ({exc.strerror})") from exc
        detail = "it ends too early" if isinstance(exc, EOFError) else reason(exc)
        raise MidiFileError(f"{path}: not a readable MIDI file ({detail})") from exc


def read_midi(path: str | os.PathLike[str]) -> Score:
    """Read every note of a type-0 or type-1 MIDI file.

    Raises :class:`MidiFileError` for a missing, malformed, type-2, SMPTE-timed or oversized
    file, or one with a tempo of zero.
    """
    path = Path(path)
    mid = _open(path)
    tpb = _ticks_per_beat(path, mid)
    tempo = _TempoMap(_tempo_changes(path, mid), tpb)
    report = ReadReport()
    notes = [
        _note(start, end, pitch, vel, channel, index, tempo, tpb)
        for start, end, pitch, vel, channel, index in _spans(path, mid, report)
    ]
    notes.sort(key=lambda n: (n.start_beats, n.pitch, n.track, n.channel))
    return Score(
        notes=tuple(notes),
        ticks_per_beat=tpb,
        bpm=tempo.first_bpm,
        report=report,
        tracks=len(mid.tracks),
        track_names=tuple(_track_name(track) for track in mid.tracks),
    )


class ControlChange(NamedTuple):
    """One control change of a file, at its time in seconds (the file's tempo map)."""

    at: float
    track: int
    channel: int
    number: int
    value: int


def read_controls(path: str | os.PathLike[str], numbers: Collection[int]) -> list[ControlChange]:
    """The control changes numbered ``numbers`` (e.g. 64, the sustain pedal) in every
    track, in file order; the file is checked as :func:`read_midi` checks it."""
    path = Path(path)
    mid = _open(path)
    tempo = _TempoMap(_tempo_changes(path, mid), _ticks_per_beat(path, mid))
    found: list[ControlChange] = []
    for index, track in enumerate(mid.tracks):
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "control_change" and msg.control in numbers:
                at = tempo.seconds(tick)
                found.append(ControlChange(at, index, msg.channel, msg.control, msg.value))
    return found


def _track_name(track: mido.MidiTrack) -> str:
    """The first ``track_name`` of ``track`` (``""`` if none)."""
    return next((str(m.name) for m in track if m.type == "track_name"), "")


def part_track(score: Score, part: str) -> int | None:
    """The index of the track named ``part`` (case-blind), ``None`` if none is."""
    wanted = part.casefold()
    return next((i for i, n in enumerate(score.track_names) if n.casefold() == wanted), None)


def _ticks_per_beat(path: Path, mid: mido.MidiFile) -> int:
    if mid.type == 2:
        raise MidiFileError(f"{path}: type-2 MIDI files (independent sequences) are not supported")
    tpb = int(mid.ticks_per_beat)
    if tpb & 0x8000:
        # The top bit of the division word means SMPTE frames, not ticks per beat: mido
        # does not decode it, and reading it as ticks per beat would misplace every note.
        raise MidiFileError(f"{path}: SMPTE time division is not supported")
    if tpb <= 0:
        raise MidiFileError(f"{path}: ticks per beat must be positive, got {tpb}")
    return tpb


def _tempo_changes(path: Path, mid: mido.MidiFile) -> list[tuple[int, int]]:
    changes: list[tuple[int, int]] = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                if msg.tempo <= 0:
                    raise MidiFileError(f"{path}: tempo of 0 microseconds per beat at tick {tick}")
                changes.append((tick, msg.tempo))
    return changes


Span = tuple[int, int, int, int, int, int]
"""start tick, end tick, pitch, velocity, channel, track"""


def _spans(path: Path, mid: mido.MidiFile, report: ReadReport) -> list[Span]:
    """Every note of every track as ticks, by the rules in the module docstring."""
    raw: list[Span] = []
    for index, track in enumerate(mid.tracks):
        tick = 0
        sounding: dict[tuple[int, int], tuple[int, int]] = {}  # (ch, pitch) -> (start, vel)
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                key = (msg.channel, msg.note)
                if key in sounding:
                    start, vel = sounding.pop(key)
                    if start == tick:
                        report.duplicates += 1
                    else:
                        report.overlaps += 1
                        raw.append((start, tick, msg.note, vel, msg.channel, index))
                sounding[key] = (tick, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                key = (msg.channel, msg.note)
                if key in sounding:
                    start, vel = sounding.pop(key)
                    raw.append((start, tick, msg.note, vel, msg.channel, index))
                else:
                    report.orphan_offs += 1
            if len(raw) > MAX_NOTES:
                raise MidiFileError(f"{path}: more than {MAX_NOTES} notes; refusing to read it")
        for (channel, pitch), (start, vel) in sounding.items():
            report.unreleased += 1
            end = tick if tick > start else start + mid.ticks_per_beat
            raw.append((start, end, pitch, vel, channel, index))
    return raw


def _note(
    start: int, end: int, pitch: int, vel: int, channel: int, index: int, tempo: _TempoMap, tpb: int
) -> Note:
    t0 = tempo.seconds(start)
    return Note(
        pitch=pitch,
        velocity=vel,
        start=t0,
        duration=tempo.seconds(end) - t0,
        channel=channel,
        track=index,
        start_beats=start / tpb,
        duration_beats=(end - start) / tpb,
    )
