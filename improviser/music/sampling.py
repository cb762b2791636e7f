"""Drawing a note from a :class:`~improviser.music.encoding.Distribution`.

Temperature reshapes every field; top-k and top-p (nucleus) cut the tail of each; the
pitch is kept inside a range and, optionally, inside a set of pitch classes (a key).
A constraint that would exclude every pitch is relaxed to the range alone, so sampling
always returns a note.

:func:`sample` is the reference, one field at a time. :class:`Sampler` is the live path:
the same rule vectorized over the four fields at once (about 15 NumPy calls instead of
about 60), with the parameters' masks computed once; it draws the same notes from the
same generator (see its docstring).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from improviser.config.sampling import SamplingConfig
from improviser.music.encoding import FIELDS, VOCAB_SIZES, Distribution, Token

__all__ = ["Sampler", "SamplerRule", "SamplingParams", "sample", "sample_field"]


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How adventurous a drawn note may be.

    The defaults are neutral (the model's own distribution over every pitch); the
    configured values come from a :class:`~improviser.config.SamplingConfig` through
    :meth:`from_config`.
    """

    temperature: float = 1.0
    top_k: int = 0
    """Keep the k most likely values (0 = all)."""
    top_p: float = 1.0
    """Keep the most likely values whose probabilities add up to p."""
    min_pitch: int = 0
    max_pitch: int = 127
    pitch_classes: frozenset[int] | None = None
    """Allowed pitch classes (0 = C); ``None`` allows all."""

    @classmethod
    def from_config(
        cls, cfg: SamplingConfig, pitch_classes: frozenset[int] | None = None
    ) -> SamplingParams:
        """The parameters of a ``[*.sampling]`` config section."""
        return cls(
            temperature=cfg.temperature,
            top_k=cfg.top_k,
            top_p=cfg.top_p,
            min_pitch=cfg.min_pitch,
            max_pitch=cfg.max_pitch,
            pitch_classes=pitch_classes,
        )

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
        order = np.argsort(p, kind="stable")[::-1]  # ties in index order, as in Sampler
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


class SamplerRule(NamedTuple):
    """A :class:`Sampler`'s parameters as per-row tables (rows: the four fields)."""

    sizes: npt.NDArray[np.int64]
    """Classes of each field."""
    allowed: npt.NDArray[np.bool_]
    """``(4, width)``: the classes a draw may take (pads and constrained pitches out)."""
    keep: npt.NDArray[np.int64]
    """Most classes a row keeps (top-k of the pitch row; the field's size elsewhere)."""
    cut: npt.NDArray[np.bool_]
    """The rows drawn from their sorted head (top-k or top-p), not their plain CDF."""


class Sampler:
    """:func:`sample` for a stream of notes: one set of parameters, four fields at once.

    ``Sampler(params).sample(dist, rng)`` returns the note ``sample(dist, params, rng)``
    would, and consumes the generator the same way (one ``random()`` per field), so
    either may replace the other in a seeded run. Both sort stably, so equal
    probabilities are ordered alike; the results can differ only where floating-point
    rounding of the two summation orders moves a draw across a boundary (of the order of
    1e-15 of draws). When a
    field needs one of the rule's fallbacks (a constraint that excludes every pitch, an
    all-zero or non-finite distribution) that draw goes through :func:`sample_field`.
    """

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self._sizes = np.asarray([VOCAB_SIZES[f] for f in FIELDS])
        width = int(self._sizes.max())
        self._cols = np.arange(width)
        self._rows = np.arange(len(FIELDS))
        self._valid = self._cols[None, :] < self._sizes[:, None]
        self._pitch_mask = _pitch_mask(params, VOCAB_SIZES["pitch"])
        self._allowed = self._valid.copy()
        if self._pitch_mask is not None:
            self._allowed[0, : VOCAB_SIZES["pitch"]] &= self._pitch_mask
        n = self._sizes
        self._keep_k = n.copy()
        if params.top_k > 0:
            self._keep_k[0] = min(params.top_k, int(n[0]))
        cut = params.top_p < 1.0
        self._cut_rows = np.asarray([cut or params.top_k > 0, cut, cut, cut])
        self._buf = np.zeros((len(FIELDS), width), dtype=np.float64)

    @property
    def rule(self) -> SamplerRule:
        """The per-row tables :meth:`sample_padded` draws with (read them, never write)."""
        return SamplerRule(self._sizes, self._allowed, self._keep_k, self._cut_rows)

    def sample(self, dist: Distribution, rng: np.random.Generator) -> Token:
        """Draw the next note from ``dist``."""
        buf = self._buf
        for i, name in enumerate(FIELDS):
            buf[i, : self._sizes[i]] = dist.field(name)
        return self.sample_padded(buf, rng)

    def sample_padded(self, probs: npt.NDArray[np.float64], rng: np.random.Generator) -> Token:
        """Draw from a ``(4, width)`` array of the four fields' probabilities, zero-padded.

        :meth:`improviser.inference.NumpyEngine.step_probs` returns this layout, which
        saves :meth:`sample` its four copies.
        """
        params = self.params
        p = probs
        if params.temperature != 1.0:
            p = np.exp(np.log(np.maximum(p, 1e-30)) / params.temperature)
        p = p * self._allowed  # also clears the pads that temperature made non-zero
        totals = p.sum(axis=1)
        listed = totals.tolist()
        if not 0.0 < min(listed) <= max(listed) < math.inf:
            return self._fallback(probs, rng)
        u = rng.random(len(FIELDS))
        cut = self._cut_rows
        if cut.any():
            p /= totals[:, None]
            order = np.argsort(p, axis=1, kind="stable")[:, ::-1]
            cum = np.cumsum(np.sort(p, axis=1)[:, ::-1], axis=1)
            keep = self._keep_k
            if params.top_p < 1.0:
                keep = np.minimum(keep, (cum < params.top_p).sum(axis=1) + 1)
            # cum[keep - 1] > u·cum[keep - 1] (u < 1), so the count stays below keep.
            below = (cum < (u * cum[self._rows, keep - 1])[:, None]).sum(axis=1)
            picked = order[self._rows, below]
            if cut.all():
                return Token(*picked.tolist())
        # Unnormalized: u·total on the running sum draws as u on the normalized one. The
        # pads repeat the total, which is never below u·total, so they are never counted.
        cdf = np.cumsum(p, axis=1)
        index = (cdf < (u * cdf[self._rows, self._sizes - 1])[:, None]).sum(axis=1)
        if cut.any():
            index = np.where(cut, picked, index)
        return Token(*index.tolist())

    def _fallback(self, probs: npt.NDArray[np.float64], rng: np.random.Generator) -> Token:
        params = self.params
        return Token(
            *(
                sample_field(
                    probs[i, : self._sizes[i]],
                    rng,
                    temperature=params.temperature,
                    top_k=params.top_k if i == 0 else 0,
                    top_p=params.top_p,
                    allowed=self._pitch_mask if i == 0 else None,
                )
                for i in range(len(FIELDS))
            )
        )
