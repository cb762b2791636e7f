"""Writing notes to a MIDI file: always type 1, always atomically.

Track 0 holds the tempo and meta events, each part gets its own track, every
``note_on`` has its ``note_off``; the file is written beside its target and renamed into
place, so a reader never sees it half written.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import mido

from improviser.errors import MidiFileError
from improviser.music.notes import DEFAULT_BPM, DEFAULT_TICKS_PER_BEAT, MAX_BPM, Note

__all__ = ["save_atomic", "to_midifile", "write_atomic", "write_midi"]


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
