"""What the live engine, ``generate`` and the benchmarks ask of a per-note model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from improviser.music.encoding import Distribution, Token

__all__ = ["Prepares", "ProbsStepModel", "StepModel"]


@runtime_checkable
class StepModel(Protocol):
    """A model stepped one note at a time.

    Anything with these four methods is one: the engines of this package, and the tiny
    deterministic fakes the tests inject.
    """

    def reset(self) -> None:
        """Forget every note seen."""

    def step(self, token: Token) -> Distribution:
        """Take one note; return the distribution of the next."""

    def snapshot(self) -> object:
        """An opaque copy of the state, for :meth:`restore`."""

    def restore(self, state: object) -> None:
        """Return to a state from :meth:`snapshot`."""


@runtime_checkable
class ProbsStepModel(StepModel, Protocol):
    """A :class:`StepModel` that also hands out its prediction as one padded array.

    ``step_probs`` returns a new ``(4, 128)`` float64 array: one row per field (pitch, IOI,
    duration, velocity), each row that field's probabilities followed by zeros. That is
    the layout :meth:`improviser.music.sampling.Sampler.sample_padded` draws from, with no copy
    into a :class:`~improviser.music.encoding.Distribution` first: the live engine's fast path.
    """

    def step_probs(self, token: Sequence[int]) -> npt.NDArray[np.float64]:
        """Take one note; return the next note's probabilities, padded (see above)."""


@runtime_checkable
class Prepares(Protocol):
    """A model that can do part of its next step ahead, while the caller is idle."""

    def prepare(self) -> None:
        """Do now what the next step can do without its note (the result is unchanged)."""
