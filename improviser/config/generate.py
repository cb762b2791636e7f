"""The ``[generate]`` section: offline continuation of a seed file."""

from __future__ import annotations

from pydantic import Field

from improviser.config.listen import ListenConfig
from improviser.config.sampling import GENERATE_PITCH_RANGE, SamplingConfig

__all__ = ["GenerateConfig"]


class GenerateConfig(ListenConfig):
    """What ``generate`` writes and how its notes are drawn (listening: :class:`ListenConfig`)."""

    notes: int = Field(64, gt=0, le=100_000)
    include_seed: bool = True
    sampling: SamplingConfig = Field(
        default_factory=lambda: SamplingConfig.for_range(GENERATE_PITCH_RANGE)
    )
