"""Keeping a pitch distribution in a register: octave folding around a centre pitch.

:func:`fold` moves the probability of every pitch further than ``span`` semitones from a
centre by whole octaves into ``[centre - span, centre + span]``: each pitch class keeps its
probability, only its octave changes. With ``span >= 6`` the window holds every pitch
class, so nothing is lost; the window is kept inside the MIDI range.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["fold", "register_window"]

F64 = npt.NDArray[np.float64]
_OCTAVE = 12


def register_window(center: float, span: int, size: int = 128) -> tuple[int, int]:
    """The lowest and highest pitch within ``span`` of ``center``, inside 0..size-1."""
    if span < _OCTAVE // 2:
        raise ValueError(f"span must be at least 6 semitones, got {span}")
    lo = round(center) - span
    lo = min(max(lo, 0), size - 1 - 2 * span)
    return lo, lo + 2 * span


_TARGETS: dict[tuple[int, int, int], npt.NDArray[np.int64]] = {}


def _targets(lo: int, hi: int, size: int) -> npt.NDArray[np.int64]:
    """Where each pitch goes: itself inside ``lo..hi``, else moved by octaves into it."""
    found = _TARGETS.get((lo, hi, size))
    if found is None:
        pitches = np.arange(size)
        up = -((pitches - lo) // _OCTAVE)  # octaves to raise a pitch below lo
        down = np.maximum((pitches - hi + _OCTAVE - 1) // _OCTAVE, 0)  # to lower one above hi
        found = pitches + _OCTAVE * (np.where(pitches < lo, up, 0) - down)
        _TARGETS[(lo, hi, size)] = found
    return found


def fold(probs: F64, center: float, span: int) -> F64:
    """``probs`` (one per MIDI pitch) with every pitch moved by octaves to within ``span``
    semitones of ``center``; a new array of the same total."""
    size = len(probs)
    lo, hi = register_window(center, span, size)
    folded: F64 = np.bincount(_targets(lo, hi, size), weights=probs, minlength=size).astype(
        np.float64, copy=False
    )
    return folded
