"""Baselines the model must beat, scored on the same held-out notes.

- :class:`UnigramModel`: pitch frequencies, add-one smoothed.
- :class:`NgramModel`: pitch n-grams with contexts of up to ``order`` notes, blended from
  the longest context down to uniform by interpolated Witten-Bell smoothing, which is what
  PPM method C does when it blends rather than escapes: at each context ``h`` with ``c(h)``
  observations of ``T(h)`` distinct next pitches,
  ``P(x|h) = (c(h, x) + T(h) · P(x|h')) / (c(h) + T(h))``, ``h'`` being ``h`` less its
  oldest note. Order k means k notes of context (PPM's convention).
- the notebook's regression model: a scaled pitch from 30 pitches. Its accuracy is the
  rounded prediction's; its bits/note come from a Gaussian centred on the prediction with
  the spread of its training residuals, discretised to the 128 pitches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.music.encoding import PITCHES

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
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        self.order = order
        self.vocab = vocab
        self._raw: list[dict[tuple[int, ...], dict[int, int]]] = [{} for _ in range(order + 1)]
        self._table: list[dict[tuple[int, ...], tuple[Any, F64, float]]] = []

    def fit(self, sequences: Iterable[Sequence[int] | npt.NDArray[np.int32]]) -> NgramModel:
        """Count every context of length 0..order and what followed it."""
        for seq in sequences:
            s = [int(v) for v in seq]
            for i, x in enumerate(s):
                for k in range(min(self.order, i) + 1):
                    following = self._raw[k].setdefault(tuple(s[i - k : i]), {})
                    following[x] = following.get(x, 0) + 1
        self._table = []
        for level in self._raw:
            table = {}
            for ctx, following in level.items():
                symbols = np.fromiter(following.keys(), dtype=np.int64)
                counts = np.fromiter(following.values(), dtype=np.float64)
                total, types = counts.sum(), float(len(counts))
                # Stored pre-divided: weight of the shorter context, and this level's share.
                table[ctx] = (symbols, counts / (total + types), types / (total + types))
            self._table.append(table)
        return self

    def distribution(self, history: Sequence[int]) -> F64:
        """The next-pitch distribution after ``history`` (most recent note last)."""
        p = np.full(self.vocab, 1.0 / self.vocab)
        n = len(history)
        for k in range(min(self.order, n) + 1):
            entry = self._table[k].get(tuple(history[n - k :]) if k else ())
            if entry is None:
                break  # a longer context containing an unseen one is unseen too
            symbols, share, escape = entry
            p *= escape
            p[symbols] += share
        return p


def regression_predict(model: Any, windows: npt.NDArray[np.int32], lo: float, hi: float) -> F64:
    """The notebook model's predicted pitch (unrounded) for each window of pitches."""
    span = max(hi - lo, 1.0)
    x = ((windows.astype(np.float32) - lo) / span)[..., None]
    scaled = np.asarray(model.predict(x, batch_size=512, verbose=0), dtype=np.float64)[:, 0]
    out: F64 = scaled * span + lo
    return out


def gaussian_pitch_probs(mean: float, std: float, vocab: int = PITCHES) -> F64:
    """A Gaussian over pitch, discretised to integer pitches 0..vocab-1 and normalised."""
    from scipy.special import ndtr  # noqa: PLC0415

    edges = (np.arange(vocab + 1, dtype=np.float64) - 0.5 - mean) / std
    mass = np.diff(ndtr(edges))
    mass = np.maximum(mass, 1e-12)
    out: F64 = mass / mass.sum()
    return out
