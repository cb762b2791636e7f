"""Keeping a pitch distribution in a register: octave moves and folding around a centre.

:func:`fold` moves a distribution by whole octaves (:func:`octave_shift`: its mean
nearest the centre), then moves the probability of every pitch further than ``span``
semitones from the centre by whole octaves into ``[centre - span, centre + span]``: each
pitch class keeps its probability, only its octave changes. With ``span >= 6`` the
window holds every pitch class, so nothing is lost; the window is kept inside the MIDI
range.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SHIFT_SLACK", "fold", "octave_shift", "register_window"]

F64 = npt.NDArray[np.float64]
_OCTAVE = 12


def register_window(center: float, span: int, size: int = 128) -> tuple[int, int]:
    """The lowest and highest pitch within ``span`` of ``center``, inside 0..size-1."""
    if span < _OCTAVE // 2:
        raise ValueError(f"span must be at least 6 semitones, got {span}")
    lo = round(center) - span
    lo = min(max(lo, 0), size - 1 - 2 * span)
    return lo, lo + 2 * span


_TARGETS: dict[tuple[int, int, int, int], npt.NDArray[np.int64]] = {}


def _targets(lo: int, hi: int, size: int, shift: int) -> npt.NDArray[np.int64]:
    """Where each pitch goes: moved by ``shift`` octaves, then by octaves into ``lo..hi``."""
    found = _TARGETS.get((lo, hi, size, shift))
    if found is None:
        pitches = np.arange(size) + _OCTAVE * shift
        up = -((pitches - lo) // _OCTAVE)  # octaves to raise a pitch below lo
        down = np.maximum((pitches - hi + _OCTAVE - 1) // _OCTAVE, 0)  # to lower one above hi
        found = pitches + _OCTAVE * (np.where(pitches < lo, up, 0) - down)
        _TARGETS[(lo, hi, size, shift)] = found
    return found


SHIFT_SLACK = 2
"""An octave move is made only when the mean is at least ``12 - SHIFT_SLACK`` semitones
from the centre: a prediction a fifth above the player's register stays there."""


_PITCHES: dict[int, F64] = {}


def _pitches(size: int) -> F64:
    found = _PITCHES.get(size)
    if found is None:
        found = _PITCHES[size] = np.arange(size, dtype=np.float64)
    return found


def octave_shift(probs: F64, center: float) -> int:
    """The whole octaves that bring the mean pitch of ``probs`` near ``center``.

    Towards the centre, and only once it is at least 10 semitones away (see
    :data:`SHIFT_SLACK`), so a melodic step away from the centre is kept.
    """
    distance = center - float(probs @ _pitches(len(probs))) / float(probs.sum())
    octaves = int((abs(distance) + SHIFT_SLACK) // _OCTAVE)
    return octaves if distance >= 0 else -octaves


def fold(probs: F64, center: float, span: int, shift: int = 0) -> F64:
    """``probs`` (one per MIDI pitch) moved by ``shift`` octaves, then every pitch moved by
    octaves to within ``span`` semitones of ``center``; a new array of the same total."""
    size = len(probs)
    lo, hi = register_window(center, span, size)
    folded: F64 = np.bincount(_targets(lo, hi, size, shift), weights=probs, minlength=size).astype(
        np.float64, copy=False
    )
    return folded
