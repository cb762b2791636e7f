"""How a note is drawn from the model: one section model for ``generate`` and ``live``.

``[generate.sampling]`` and ``[live.sampling]`` share :class:`SamplingConfig`; they differ
only in their pitch range, whose defaults are the named constants below.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from improviser.config.base import Section

__all__ = [
    "DEFAULT_TEMPERATURE",
    "DEFAULT_TOP_K",
    "DEFAULT_TOP_P",
    "GENERATE_PITCH_RANGE",
    "LIVE_PITCH_RANGE",
    "SamplingConfig",
]

DEFAULT_TEMPERATURE = 1.0
"""1 = the model's own distribution; lower is safer, higher more adventurous."""
DEFAULT_TOP_K = 0
"""Keep the k likeliest pitches (0 = all)."""
DEFAULT_TOP_P = 0.95
"""Nucleus sampling: keep the likeliest values whose probabilities add up to this."""
GENERATE_PITCH_RANGE = (21, 108)
"""The piano's range: offline continuations may go anywhere a score can."""
LIVE_PITCH_RANGE = (36, 96)
"""C2..C7: a live answer stays where a keyboard player's answers sound natural."""


class SamplingConfig(Section):
    """Temperature, top-k, top-p, pitch range and the sampler's seed."""

    temperature: float = Field(DEFAULT_TEMPERATURE, gt=0.0, le=10.0)
    top_k: int = Field(DEFAULT_TOP_K, ge=0, le=128)
    top_p: float = Field(DEFAULT_TOP_P, gt=0.0, le=1.0)
    min_pitch: int = Field(GENERATE_PITCH_RANGE[0], ge=0, le=127)
    max_pitch: int = Field(GENERATE_PITCH_RANGE[1], ge=0, le=127)
    seed: int | None = None
    """Seed of the sampler (``None``: a fresh one every run)."""

    @model_validator(mode="after")
    def _range(self) -> SamplingConfig:
        if self.min_pitch > self.max_pitch:
            raise ValueError(
                f"min_pitch must not exceed max_pitch, got {self.min_pitch} > {self.max_pitch}"
            )
        return self

    @classmethod
    def for_range(cls, pitch_range: tuple[int, int]) -> SamplingConfig:
        """The defaults with another pitch range (each section's own)."""
        return cls(min_pitch=pitch_range[0], max_pitch=pitch_range[1])
