"""Baselines the model must beat, scored on the same held-out notes.

- :class:`UnigramModel`: pitch frequencies, add-one smoothed.
- :class:`NgramModel`: pitch n-grams with contexts of up to ``order`` notes, blended from
  the longest context down to uniform by interpolated Witten-Bell smoothing (PPM-C
  blending; see :mod:`improviser.music.ppm`, which the short-term model shares).
- the notebook's regression model: a scaled pitch from 30 pitches. Its accuracy is the
  rounded prediction's; its bits/note come from a Gaussian centred on the prediction with
  the spread of its training residuals, discretised to the 128 pitches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.errors import missing_extra
from improviser.music.encoding import PITCHES
from improviser.music.ppm import ContextCounts

__all__ = ["NgramModel", "UnigramModel", "gaussian_pitch_probs", "regression_predict"]

F64 = npt.NDArray[np.float64]


class UnigramModel:
    """Pitch frequencies with add-one smoothing."""

    def __init__(self, vocab: int = PITCHES) -> None:
        self.counts = np.zeros(vocab, dtype=np.float64)

    def fit(self, sequences: Iterable[Sequence[int] | npt.NDArray[np.int32]]) -> UnigramModel:
        """Count every pitch of every sequence."""
        for seq in sequences:
            self.counts += np.bincount(np.asarray(seq, dtype=np.int64), minlength=len(self.counts))
        return self

    def distribution(self, history: Sequence[int]) -> F64:
        """The next-pitch distribution (the same whatever came before)."""
        p: F64 = (self.counts + 1.0) / (self.counts.sum() + len(self.counts))
        return p


class NgramModel:
    """Interpolated Witten-Bell (PPM-C blending) pitch model with contexts up to ``order``."""

    def __init__(self, order: int, vocab: int = PITCHES) -> None:
        self.counts = ContextCounts(order, vocab)

    @property
    def order(self) -> int:
        """The longest context, in notes."""
        return self.counts.order

    def fit(self, sequences: Iterable[Sequence[int] | npt.NDArray[np.int32]]) -> NgramModel:
        """Count every context of length 0..order and what followed it."""
        for seq in sequences:
            self.counts.add_sequence(seq)
        return self

    def distribution(self, history: Sequence[int]) -> F64:
        """The next-pitch distribution after ``history`` (most recent note last)."""
        return self.counts.distribution(history)


def regression_predict(model: Any, windows: npt.NDArray[np.int32], lo: float, hi: float) -> F64:
    """The notebook model's predicted pitch (unrounded) for each window of pitches."""
    span = max(hi - lo, 1.0)
    x = ((windows.astype(np.float32) - lo) / span)[..., None]
    scaled = np.asarray(model.predict(x, batch_size=512, verbose=0), dtype=np.float64)[:, 0]
    out: F64 = scaled * span + lo
    return out


def gaussian_pitch_probs(mean: float, std: float, vocab: int = PITCHES) -> F64:
    """A Gaussian over pitch, discretised to integer pitches 0..vocab-1 and normalised."""
    try:
        from scipy.special import ndtr  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra(exc, "train", "the regression baseline") from None

    edges = (np.arange(vocab + 1, dtype=np.float64) - 0.5 - mean) / std
    mass = np.diff(ndtr(edges))
    mass = np.maximum(mass, 1e-12)
    out: F64 = mass / mass.sum()
    return out
