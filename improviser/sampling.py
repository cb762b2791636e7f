"""Drawing a note from a :class:`~improviser.encoding.Distribution`.

Temperature reshapes every field; top-k and top-p (nucleus) cut the tail of each; the
pitch is kept inside a range and, optionally, inside a set of pitch classes (a key).
A constraint that would exclude every pitch is relaxed to the range alone, so sampling
always returns a note.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from improviser.encoding import FIELDS, Distribution, Token

__all__ = ["SamplingParams", "sample", "sample_field"]


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How adventurous a drawn note may be."""

    temperature: float = 1.0
    top_k: int = 0
    """Keep the k most likely values (0 = all)."""
    top_p: float = 1.0
    """Keep the most likely values whose probabilities add up to p."""
    min_pitch: int = 0
    max_pitch: int = 127
    pitch_classes: frozenset[int] | None = None
    """Allowed pitch classes (0 = C); ``None`` allows all."""

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in range (0, 1], got {self.top_p}")
        if not 0 <= self.min_pitch <= self.max_pitch <= 127:
            raise ValueError(
                f"pitch range must satisfy 0 <= min <= max <= 127, got "
                f"{self.min_pitch}..{self.max_pitch}"
            )


def _pitch_mask(params: SamplingParams, size: int) -> npt.NDArray[np.bool_] | None:
    if params.min_pitch == 0 and params.max_pitch >= size - 1 and params.pitch_classes is None:
        return None
    pitches = np.arange(size)
    mask = (pitches >= params.min_pitch) & (pitches <= params.max_pitch)
    if params.pitch_classes is not None:
        keyed = mask & np.isin(pitches % 12, list(params.pitch_classes))
        if keyed.any():
            mask = keyed
    return mask


def sample_field(
    probs: npt.NDArray[np.float64],
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    allowed: npt.NDArray[np.bool_] | Collection[int] | None = None,
) -> int:
    """Draw one index from ``probs`` after temperature, top-k, top-p and a mask."""
    p = np.asarray(probs, dtype=np.float64)
    if temperature != 1.0:
        p = np.exp(np.log(np.maximum(p, 1e-30)) / temperature)
    if allowed is not None:
        mask = np.zeros(p.shape, dtype=bool)
        if isinstance(allowed, np.ndarray):
            mask = allowed
        else:
            mask[list(allowed)] = True
        if (p * mask).sum() > 0:
            p = p * mask
    total = p.sum()
    if not np.isfinite(total) or total <= 0:
        return int(np.argmax(probs))
    p = p / total
    if top_k > 0 or top_p < 1.0:
        order = np.argsort(p)[::-1]
        keep = len(order) if top_k <= 0 else min(top_k, len(order))
        if top_p < 1.0:
            cumulative = np.cumsum(p[order])
            keep = min(keep, int(np.searchsorted(cumulative, top_p)) + 1)
        kept = order[:keep]
        q = p[kept] / p[kept].sum()
        return int(kept[min(int(np.searchsorted(np.cumsum(q), rng.random())), keep - 1)])
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1]), len(p) - 1))


def sample(dist: Distribution, params: SamplingParams, rng: np.random.Generator) -> Token:
    """Draw the next note from ``dist`` under ``params``."""
    values = []
    for name in FIELDS:
        probs = dist.field(name)
        allowed = _pitch_mask(params, len(probs)) if name == "pitch" else None
        values.append(
            sample_field(
                probs,
                rng,
                temperature=params.temperature,
                top_k=params.top_k if name == "pitch" else 0,
                top_p=params.top_p,
                allowed=allowed,
            )
        )
    return Token(*values)
