"""The key of a melody: Krumhansl–Kessler profiles correlated with its pitch classes.

Each note adds its duration (in beats; 1 when none is given) to a 12-bin pitch-class
histogram; the key is the one of the 24 major and minor keys whose Krumhansl–Kessler
probe-tone profile, rotated to its tonic, correlates best with the histogram (Krumhansl
1990, *Cognitive Foundations of Musical Pitch*, the "Krumhansl–Schmuckler" algorithm).

Modal melodies come out as the major or minor key that shares their notes most: a
D Dorian tune is usually D minor or C major, a G Mixolydian tune G or C major. For a
*scale* (which notes belong), minor keys include both the natural minor's seventh and the
raised (harmonic/melodic) seventh, as minor-key tunes use both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAJOR_PROFILE",
    "MINOR_PROFILE",
    "Key",
    "estimate_key",
    "key_of_histogram",
    "parse_key",
    "pitch_class_histogram",
    "running_tonics",
    "scale_mask",
    "scale_weights",
]

MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
"""Krumhansl–Kessler probe-tone ratings in a major context, from the tonic up."""
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
"""Krumhansl–Kessler probe-tone ratings in a minor context, from the tonic up."""
_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10, 11)
_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTALS = {"": 0, "#": 1, "b": -1}

Mode = Literal["major", "minor"]


@dataclass(frozen=True, slots=True)
class Key:
    """A key: tonic pitch class (0 = C), mode, and how well it fitted (correlation)."""

    tonic: int
    mode: Mode
    correlation: float = 1.0

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The pitch classes of its scale (minor: natural minor plus the raised seventh)."""
        steps = _MAJOR_STEPS if self.mode == "major" else _MINOR_STEPS
        return frozenset((self.tonic + s) % 12 for s in steps)

    @property
    def name(self) -> str:
        """E.g. ``"D minor"``."""
        return f"{_NAMES[self.tonic]} {self.mode}"

    def contains(self, pitch: int) -> bool:
        """Whether ``pitch`` (MIDI) belongs to the key's scale."""
        return pitch % 12 in self.pitch_classes


def pitch_class_histogram(
    pitches: Sequence[int], weights: Sequence[float] | None = None
) -> npt.NDArray[np.float64]:
    """Total weight (duration) of each pitch class, 0 = C."""
    hist = np.zeros(12, dtype=np.float64)
    w = np.ones(len(pitches)) if weights is None else np.asarray(weights, dtype=np.float64)
    np.add.at(hist, np.asarray(pitches, dtype=np.int64) % 12, w)
    return hist


def _rotations(profile: Sequence[float]) -> npt.NDArray[np.float64]:
    base = np.asarray(profile, dtype=np.float64)
    return np.stack([np.roll(base, tonic) for tonic in range(12)])


_PROFILES = np.concatenate([_rotations(MAJOR_PROFILE), _rotations(MINOR_PROFILE)])
_CENTERED = _PROFILES - _PROFILES.mean(axis=1, keepdims=True)
_UNIT = _CENTERED / np.linalg.norm(_CENTERED, axis=1, keepdims=True)


def key_of_histogram(hist: npt.NDArray[np.float64]) -> Key:
    """The key whose profile correlates best with a 12-bin pitch-class histogram.

    A flat (or empty) histogram gives C major (every correlation is 0; major is first).
    """
    # The profiles are centred, so centring the histogram changes no score, and its norm
    # scales them all alike: only the winner's correlation needs it.
    scores = _UNIT @ hist
    best = int(scores.argmax())
    total = float(hist.sum())
    norm = math.sqrt(max(float(hist @ hist) - total * total / len(hist), 0.0))
    mode: Mode = "major" if best < 12 else "minor"
    return Key(best % 12, mode, float(scores[best]) / norm if norm > 0 else 0.0)


def estimate_key(pitches: Sequence[int], durations: Sequence[float] | None = None) -> Key:
    """The major or minor key whose profile correlates best with the notes.

    Raises :class:`ValueError` for an empty melody. A single pitch class gives its major
    key (every profile correlates equally with a flat histogram; major is listed first).
    """
    if len(pitches) == 0:
        raise ValueError("cannot estimate the key of no notes")
    return key_of_histogram(pitch_class_histogram(pitches, durations))


def running_tonics(
    pitches: Sequence[int] | npt.NDArray[np.integer[Any]],
    weights: Sequence[float] | npt.NDArray[np.floating[Any]] | None = None,
) -> npt.NDArray[np.int64]:
    """The tonic :func:`key_of_histogram` finds after each note, from that prefix alone.

    Element ``i`` is the tonic of the notes ``0..i`` (weighted by ``weights``, 1 when
    none are given): a causal, running key, all prefixes in one product.
    """
    pcs = np.asarray(pitches, dtype=np.int64) % 12
    w = np.ones(len(pcs)) if weights is None else np.asarray(weights, dtype=np.float64)
    onehot = np.zeros((len(pcs), 12), dtype=np.float64)
    onehot[np.arange(len(pcs)), pcs] = w
    scores: npt.NDArray[np.float64] = np.cumsum(onehot, axis=0) @ _UNIT.T
    tonics: npt.NDArray[np.int64] = (scores.argmax(axis=1) % 12).astype(np.int64)
    return tonics


def parse_key(name: str) -> Key:
    """The key named ``name``: a tonic (``D``, ``F#``, ``Bb``) and ``major`` or ``minor``.

    Case-blind (``"d minor"``); raises :class:`ValueError` naming the text otherwise.
    """
    parts = name.split()
    if len(parts) == 2 and parts[1].lower() in ("major", "minor"):
        tonic, mode = parts[0].lower(), parts[1].lower()
        letter, accidental = tonic[:1], tonic[1:]
        if letter in _LETTERS and accidental in _ACCIDENTALS:
            semis = (_LETTERS[letter] + _ACCIDENTALS[accidental]) % 12
            return Key(semis, "major" if mode == "major" else "minor")
    raise ValueError(f"key must be a tonic and major or minor (e.g. 'D minor'), got {name!r}")


_WEIGHTS: dict[tuple[int, str, float, int], npt.NDArray[np.float64]] = {}


def scale_mask(key: Key, size: int = 128) -> npt.NDArray[np.bool_]:
    """Which of the MIDI pitches 0..size-1 belong to ``key``'s scale."""
    return scale_weights(key, 1.0, size) > 0


def scale_weights(key: Key, strength: float, size: int = 128) -> npt.NDArray[np.float64]:
    """1 for each MIDI pitch in ``key``'s scale, ``1 - strength`` for the others (cached,
    read-only: the live path multiplies a prediction by it)."""
    cache_key = (key.tonic, key.mode, strength, size)
    weights = _WEIGHTS.get(cache_key)
    if weights is None:
        inside = np.isin(np.arange(size) % 12, sorted(key.pitch_classes))
        weights = np.where(inside, 1.0, 1.0 - strength)
        weights.setflags(write=False)
        _WEIGHTS[cache_key] = weights
    return weights
