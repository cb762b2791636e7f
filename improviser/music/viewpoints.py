"""Extra model inputs after IDyOM's viewpoints, computed causally from a piece's tokens.

Each viewpoint turns a piece's ``(n, 4)`` token array (see
:mod:`improviser.music.encoding`) into one class per note, from that note and the notes
before it only, so the value at note ``i`` is known when note ``i`` has been heard:

- ``interval``: pitch minus the previous pitch, clipped to ±24 semitones (classes
  0..48, 24 = a repeated note), and :data:`NO_INTERVAL` (49) for a piece's first note;
- ``degree``: ``(pitch - tonic) mod 12`` against the running key of the notes so far
  (:func:`~improviser.music.key.running_tonics`, weighted by duration in beats), and
  :data:`NO_DEGREE` (12) until :data:`KEY_MIN_NOTES` notes have been heard;
- ``bar``: where the onset falls in a 4-beat bar, in sixteenth notes (0..15), from the
  cumulative IOI in beats since the piece's first note (which is position 0).

``interval`` and ``degree`` do not change when a piece is transposed, so they are
computed once per piece and survive the training set's transposition augmentation.
``bar`` counts from the first note: a pickup or a 3-beat metre shifts it, and the
quantized IOIs it sums are those the model sees (a triplet lands on the nearest
sixteenth).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from improviser.config.training import EXTRA_INPUTS
from improviser.music.encoding import DURATION_BEATS, IOI_BEATS
from improviser.music.key import running_tonics

__all__ = [
    "BAR_BEATS",
    "BAR_POSITIONS",
    "KEY_MIN_NOTES",
    "MAX_INTERVAL",
    "NO_DEGREE",
    "NO_INTERVAL",
    "VIEWPOINTS",
    "VIEWPOINT_SIZES",
    "bar_classes",
    "degree_classes",
    "interval_classes",
    "ordered",
    "viewpoint_classes",
]

VIEWPOINTS: tuple[str, ...] = EXTRA_INPUTS
"""Every extra input, in the order the model concatenates them (``model.extra_inputs``)."""
MAX_INTERVAL = 24
"""Intervals are clipped to this many semitones up or down."""
NO_INTERVAL = 2 * MAX_INTERVAL + 1
"""The interval class of a piece's first note (it has no previous note)."""
KEY_MIN_NOTES = 8
"""Notes heard before the running key is trusted; before that, :data:`NO_DEGREE`."""
NO_DEGREE = 12
"""The degree class while the key is not yet known."""
BAR_BEATS = 4
"""Beats in the bar that ``bar`` counts positions in."""
BAR_POSITIONS = 16
"""Positions in the bar: sixteenth notes of a 4-beat bar."""
VIEWPOINT_SIZES: dict[str, int] = {
    "interval": NO_INTERVAL + 1,
    "degree": NO_DEGREE + 1,
    "bar": BAR_POSITIONS,
}
"""Classes of each viewpoint, its "none" class included."""

_IOI = np.asarray(IOI_BEATS, dtype=np.float64)
_DURATION = np.asarray(DURATION_BEATS, dtype=np.float64)


def ordered(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` in :data:`VIEWPOINTS` order, each once; :class:`ValueError` for others."""
    wanted = set(names)
    unknown = wanted - set(VIEWPOINTS)
    if unknown:
        raise ValueError(f"unknown extra input(s) {sorted(unknown)}; known: {list(VIEWPOINTS)}")
    return tuple(v for v in VIEWPOINTS if v in wanted)


def interval_classes(tokens: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Each note's interval from the previous one, clipped: class ``interval + 24``."""
    out = np.full(len(tokens), NO_INTERVAL, dtype=np.int32)
    pitch = tokens[:, 0].astype(np.int32)
    out[1:] = np.clip(np.diff(pitch), -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    return out


def degree_classes(tokens: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Each note's pitch class above the tonic of the notes up to it (12: key unknown)."""
    pitch = tokens[:, 0].astype(np.int64)
    tonics = running_tonics(pitch, _DURATION[tokens[:, 2]])
    out = ((pitch - tonics) % 12).astype(np.int32)
    out[: KEY_MIN_NOTES - 1] = NO_DEGREE
    return out


def bar_classes(tokens: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Each onset's position in a 4-beat bar, in sixteenths, counted from the first note."""
    onsets = np.cumsum(_IOI[tokens[:, 1]])
    onsets -= onsets[0] if len(onsets) else 0.0
    sixteenths = np.rint(onsets * (BAR_POSITIONS / BAR_BEATS)).astype(np.int64)
    return (sixteenths % BAR_POSITIONS).astype(np.int32)


_FUNCTIONS = {"interval": interval_classes, "degree": degree_classes, "bar": bar_classes}


def viewpoint_classes(tokens: npt.NDArray[np.int32], names: Sequence[str]) -> npt.NDArray[np.int32]:
    """The ``names`` viewpoints of a piece as an ``(n, len(names))`` array, in that order."""
    out = np.zeros((len(tokens), len(names)), dtype=np.int32)
    for j, name in enumerate(names):
        if name not in _FUNCTIONS:
            raise ValueError(f"unknown extra input {name!r}; known: {list(VIEWPOINTS)}")
        out[:, j] = _FUNCTIONS[name](tokens)
    return out
