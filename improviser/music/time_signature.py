"""A MIDI file's bar length: what the metre of an onset is measured against.

:func:`improviser.music.voicing.metre_class` needs the bar length in beats (quarter
notes, as MIDI counts them). Files carry it as a ``time_signature`` meta event; a file
without one is in 4/4 (the MIDI default). Only the first one counts: bars are taken to
start at beat 0 and keep their length, as in the corpora built here (a pickup is padded
to a full bar).
"""

from __future__ import annotations

import os
from pathlib import Path

import mido

from improviser.music.midi_read import _open

__all__ = ["DEFAULT_BEATS_PER_BAR", "beats_per_bar", "beats_per_bar_of"]

DEFAULT_BEATS_PER_BAR = 4.0
"""4/4, the bar length of a file with no time signature."""


def beats_per_bar_of(numerator: int, denominator: int) -> float:
    """Quarter-note beats in a bar of ``numerator``/``denominator`` (6/8 -> 3.0)."""
    if numerator <= 0 or denominator <= 0:
        raise ValueError(f"time signature must be positive, got {numerator}/{denominator}")
    return numerator * 4.0 / denominator


def beats_per_bar(path: str | os.PathLike[str]) -> float:
    """The bar length in beats of the MIDI file at ``path``: its first time signature.

    Raises :class:`improviser.errors.MidiFileError` for a file that cannot be read.
    """
    mid = _open(Path(path))  # the reader's checks and errors (size, malformed)
    firsts = [
        (tick, msg)
        for track in mid.tracks
        for tick, msg in _timed(track)
        if msg.type == "time_signature"
    ]
    if not firsts:
        return DEFAULT_BEATS_PER_BAR
    _, first = min(firsts, key=lambda item: item[0])
    return beats_per_bar_of(int(first.numerator), int(first.denominator))


def _timed(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    tick = 0
    out = []
    for msg in track:
        tick += msg.time
        out.append((tick, msg))
    return out
