"""Fakes for engine unit tests: a clock that moves only when told, a deterministic model."""

from __future__ import annotations

import numpy as np

from improviser.music.encoding import (
    DURATION_BEATS,
    IOI_BEATS,
    PITCHES,
    VELOCITY_BINS,
    Distribution,
    Token,
)

__all__ = ["FakeClock", "StepUpModel"]


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: float = 100.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


def _one_hot(size: int, index: int) -> np.ndarray:
    out = np.full(size, 1e-9)
    out[index] = 1.0
    return out / out.sum()


class StepUpModel:
    """A deterministic StepModel: the next note is a whole tone up, an eighth later.

    Its state is the list of tokens it has seen, so tests can check what it heard.
    """

    def __init__(self, duration_beats: float = 0.5, ioi_beats: float = 0.5) -> None:
        self.seen: list[Token] = []
        self.duration = DURATION_BEATS.index(duration_beats)
        self.ioi = IOI_BEATS.index(ioi_beats)
        self.steps = 0

    def reset(self) -> None:
        self.seen = []

    def step(self, token: Token) -> Distribution:
        self.steps += 1
        self.seen.append(Token(*token))
        pitch = min(int(token[0]) + 2, PITCHES - 1)
        return Distribution(
            _one_hot(PITCHES, pitch),
            _one_hot(len(IOI_BEATS), self.ioi),
            _one_hot(len(DURATION_BEATS), self.duration),
            _one_hot(VELOCITY_BINS, 5),
        )

    def snapshot(self) -> object:
        return list(self.seen)

    def restore(self, state: object) -> None:
        assert isinstance(state, list)
        self.seen = list(state)
