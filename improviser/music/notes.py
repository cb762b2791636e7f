"""Notes, and MIDI files to and from notes.

A :class:`Note` has a pitch, a velocity, a channel and a track, and its start and
duration both in seconds (through the file's tempo map) and in beats (ticks divided by
the file's resolution). Reading follows the MIDI rules a player relies on:

- a ``note_on`` with velocity 0 is a note-off;
- a pitch struck again while it sounds on the same channel ends the sounding note there
  (counted in :attr:`ReadReport.overlaps`);
- a note never released ends with its track (counted in :attr:`ReadReport.unreleased`);
- tempo changes anywhere in a type-1 file apply to every track.

Writing always produces a type-1 file: track 0 holds the tempo and meta events, each
part gets its own track, every ``note_on`` has its ``note_off``.
"""

from __future__ import annotations

import bisect
import io
import os
import struct
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import mido

from improviser.errors import MidiFileError, reason

__all__ = [
    "DRUM_CHANNEL",
    "MAX_BPM",
    "MAX_FILE_BYTES",
    "Note",
    "ReadReport",
    "Score",
    "extract_melody",
    "part_track",
    "read_midi",
    "skyline",
    "write_midi",
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
    if mid.type == 2:
        raise MidiFileError(f"{path}: type-2 MIDI files (independent sequences) are not supported")
    tpb = mid.ticks_per_beat
    if tpb & 0x8000:
        # The top bit of the division word means SMPTE frames, not ticks per beat: mido
        # does not decode it, and reading it as ticks per beat would misplace every note.
        raise MidiFileError(f"{path}: SMPTE time division is not supported")
    if tpb <= 0:
        raise MidiFileError(f"{path}: ticks per beat must be positive, got {tpb}")

    changes: list[tuple[int, int]] = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                if msg.tempo <= 0:
                    raise MidiFileError(f"{path}: tempo of 0 microseconds per beat at tick {tick}")
                changes.append((tick, msg.tempo))
    tempo = _TempoMap(changes, tpb)

    report = ReadReport()
    raw: list[tuple[int, int, int, int, int, int]] = []  # start, end, pitch, vel, ch, track
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
            end = tick if tick > start else start + tpb
            raw.append((start, end, pitch, vel, channel, index))

    notes = []
    for start, end, pitch, vel, channel, index in raw:
        t0 = tempo.seconds(start)
        notes.append(
            Note(
                pitch=pitch,
                velocity=vel,
                start=t0,
                duration=tempo.seconds(end) - t0,
                channel=channel,
                track=index,
                start_beats=start / tpb,
                duration_beats=(end - start) / tpb,
            )
        )
    notes.sort(key=lambda n: (n.start_beats, n.pitch, n.track, n.channel))
    return Score(
        notes=tuple(notes),
        ticks_per_beat=tpb,
        bpm=tempo.first_bpm,
        report=report,
        tracks=len(mid.tracks),
        track_names=tuple(_track_name(track) for track in mid.tracks),
    )


def _track_name(track: mido.MidiTrack) -> str:
    """The first ``track_name`` of ``track`` (``""`` if none)."""
    return next((str(m.name) for m in track if m.type == "track_name"), "")


def part_track(score: Score, part: str) -> int | None:
    """The index of the track named ``part`` (case-blind), ``None`` if none is."""
    wanted = part.casefold()
    return next((i for i, n in enumerate(score.track_names) if n.casefold() == wanted), None)


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


def write_midi(
    path: str | os.PathLike[str],
    parts: Sequence[Sequence[Note]],
    *,
    bpm: float = DEFAULT_BPM,
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
    time_unit: Literal["beats", "seconds"] = "beats",
    names: Sequence[str] | None = None,
) -> None:
    """Write parts (lists of notes) to a type-1 MIDI file, atomically.

    Each part becomes a track named from ``names``; track 0 holds the tempo. Times are
    taken from the notes' beat fields (``time_unit="beats"``) or their seconds at the
    given tempo (``"seconds"``). Same-pitch notes that overlap on a channel are cut where
    the next one starts, and every note lasts at least one tick, so each ``note_on`` has a
    ``note_off`` that a synthesizer will honour. The file is written next to ``path`` and
    renamed into place, so a reader never sees it half written.
    """
    if not 0 < bpm <= MAX_BPM:
        raise MidiFileError(f"bpm must be in range 0..{MAX_BPM:.0f}, got {bpm}")
    mid = to_midifile(
        parts, bpm=bpm, ticks_per_beat=ticks_per_beat, time_unit=time_unit, names=names
    )
    save_atomic(mid, path)


def to_midifile(
    parts: Sequence[Sequence[Note]],
    *,
    bpm: float = DEFAULT_BPM,
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
    time_unit: Literal["beats", "seconds"] = "beats",
    names: Sequence[str] | None = None,
) -> mido.MidiFile:
    """Build the :class:`mido.MidiFile` that :func:`write_midi` writes."""
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    mid.tracks.append(meta)
    scale = ticks_per_beat * (bpm / 60.0 if time_unit == "seconds" else 1.0)
    for index, part in enumerate(parts):
        track = mido.MidiTrack()
        if names is not None and index < len(names):
            track.append(mido.MetaMessage("track_name", name=names[index], time=0))
        track.extend(_part_messages(part, scale, time_unit))
        mid.tracks.append(track)
    return mid


def _part_messages(
    part: Sequence[Note], scale: float, time_unit: Literal["beats", "seconds"]
) -> list[mido.Message]:
    spans: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for note in part:
        if not 0 <= note.pitch <= 127 or not 0 <= note.channel <= 15:
            raise MidiFileError(
                f"note pitch must be in range 0..127 and channel in 0..15, got {note.pitch}, "
                f"{note.channel}"
            )
        begin = note.start_beats if time_unit == "beats" else note.start
        length = note.duration_beats if time_unit == "beats" else note.duration
        on = max(round(begin * scale), 0)
        off = max(round((begin + length) * scale), on + 1)
        velocity = min(max(note.velocity, 1), 127)
        spans.setdefault((note.channel, note.pitch), []).append((on, off, velocity))
    events: list[tuple[int, int, mido.Message]] = []
    for (channel, pitch), items in spans.items():
        items.sort()
        merged: list[tuple[int, int, int]] = []
        for on, off, velocity in items:
            if merged and merged[-1][0] == on:
                continue  # the same pitch struck twice at once sounds as one note
            if merged and merged[-1][1] > on:
                prev_on, _, prev_vel = merged[-1]
                merged[-1] = (prev_on, on, prev_vel)
            merged.append((on, off, velocity))
        for on, off, velocity in merged:
            events.append(
                (on, 1, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel))
            )
            events.append(
                (off, 0, mido.Message("note_off", note=pitch, velocity=0, channel=channel))
            )
    # At one tick, releases go first so a re-struck pitch is not cut by its own release.
    events.sort(key=lambda e: (e[0], e[1], e[2].note))
    messages: list[mido.Message] = []
    now = 0
    for tick, _, msg in events:
        messages.append(msg.copy(time=tick - now))
        now = tick
    messages.append(mido.MetaMessage("end_of_track", time=0))
    return messages


def save_atomic(mid: mido.MidiFile, path: str | os.PathLike[str]) -> None:
    """Save ``mid`` to a temporary file beside ``path`` and rename it into place."""
    buffer = io.BytesIO()
    mid.save(file=buffer)
    write_atomic(buffer.getvalue(), path)


def write_atomic(data: bytes, path: str | os.PathLike[str]) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a take must be readable by the DAW user
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
