"""The ``[generate]`` section: offline continuation of a seed file."""

from __future__ import annotations

from pydantic import Field

from improviser.config.answer import AnswerConfig
from improviser.config.sampling import GENERATE_PITCH_RANGE, SamplingConfig

__all__ = ["GenerateConfig"]


class GenerateConfig(AnswerConfig):
    """What ``generate`` writes and how its notes are drawn: as a live answer is
    (:class:`AnswerConfig`, the ``[answer]`` section), the seed being the call."""

    notes: int | None = Field(None, gt=0, le=100_000)
    """Exactly this many notes (as ``answer_length = "notes"``); ``None``: the answer's
    length rule (``answer_length``)."""
    include_seed: bool = True
    sampling: SamplingConfig = Field(
        default_factory=lambda: SamplingConfig.for_range(GENERATE_PITCH_RANGE)
    )
