"""The sessions folder as the page lists it: recordings, their rolls, their audio.

A recording is named by its file name alone; :func:`find` takes nothing else (no
folders, no ``..``, no hidden files), so a request can only reach a ``.mid`` in the
folder, or the audio file of the same stem beside it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from improviser.music.midi_read import read_midi
from improviser.music.roll import roll_of

__all__ = ["AUDIO_TYPES", "MAX_LISTED", "audio_of", "find", "listing", "roll"]

AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg"}
"""Rendered audio beside a recording (same stem), and how it is served."""
MAX_LISTED = 500
"""The newest recordings listed; older ones stay on disk, unlisted."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+ -]{0,200}\.mid$")


def find(folder: Path, name: str) -> Path | None:
    """The recording ``name`` in ``folder`` (``None``: no such file, or not a plain name)."""
    if not _NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None


def audio_of(recording: Path) -> Path | None:
    """The rendered audio beside ``recording`` (``take.mid`` -> ``take.wav``), if any."""
    for suffix in AUDIO_TYPES:
        path = recording.with_suffix(suffix)
        if path.is_file():
            return path
    return None


def listing(folder: Path) -> list[dict[str, Any]]:
    """The recordings in ``folder``, newest first (an absent folder: none)."""
    try:
        paths = [p for p in folder.iterdir() if p.suffix == ".mid" and _NAME.match(p.name)]
    except OSError:
        return []
    rows = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue  # removed while listing
        audio = audio_of(path)
        modified = dt.datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds")
        rows.append({
            "name": path.name,
            "bytes": stat.st_size,
            "modified": modified,
            "audio": audio.suffix[1:] if audio is not None else None,
        })  # fmt: skip
    rows.sort(key=lambda r: (r["modified"], r["name"]), reverse=True)
    return rows[:MAX_LISTED]


def roll(path: Path) -> dict[str, Any]:
    """The notes of a recording as the page's piano roll draws them.

    :class:`~improviser.errors.MidiFileError` if the file cannot be read.
    """
    return {"name": path.name, **roll_of(read_midi(path))}
