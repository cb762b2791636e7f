"""What the live engine, ``generate`` and the benchmarks ask of a per-note model."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from improviser.encoding import Distribution, Token

__all__ = ["StepModel"]


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
