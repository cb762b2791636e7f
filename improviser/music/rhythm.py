"""The call's note values, as a prior on the answer's rhythm.

The model draws an answer in the rhythm of the corpus it learned (dance tunes: runs of
eighths), whatever the call's note values. :class:`CallRhythm` reweights each predicted
IOI and duration distribution of the answer, ``p'(c) ∝ p(c) · w(c) ** strength``:

- **IOIs**: ``w`` is the call's IOI histogram smoothed over neighbouring note values (a
  Gaussian of :data:`SMOOTHING_OCTAVES` on the log of the value in beats, so a call in
  quarters also allows dotted quarters and halves) with a uniform :data:`FLOOR`;
- **durations**: ``w`` is the call's duration histogram (floored, not smoothed) divided
  by what the model *expected* while it heard the call (:class:`Expectation`: the mean
  of its predicted duration distributions over the call's notes). The ratio says which
  note values the player uses more than the model thinks likely: a long note at a phrase
  end, which the corpus' runs of eighths make rare, comes back.

Chosen by measurement (``improviser bench musicality``, model rows with and without in
one run; README): the plain prior on both fields halved the drift but left long notes
as rare as before (the model gives them almost nothing to reweight); the ratio on both
fields broke the grid (the model rarely expects triplet values, so smoothing's small
share of them became a large ratio); smoothing the durations' ratio did too, through
the model's own IOI-after-duration habits. The model still chooses the rhythm, note by
note and in its context, but tilted towards the call's note values.

Phrase ends: the answer's last note takes the call's last note value when that is longer
(:meth:`CallRhythm.ending`), so a call that ends on a long note is answered in kind.

The call's rhythm as it goes: with ``memory`` and ``guard`` (``rhythm_memory``,
``rhythm_guard``), each answer's :class:`~improviser.music.rhythm_memory.Pace` first mixes
the call's rhythmic motifs into the IOI row and weighs down the side of the call's pace
the answer drifts to (:mod:`~improviser.music.rhythm_memory`), before the tilt.

"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from improviser.music.encoding import DURATION_BEATS, IOI_BEATS, Distribution, Token
from improviser.music.rhythm_memory import Pace, PaceGuard, RhythmMemory, median_class

__all__ = ["DEFAULT_STRENGTH", "FLOOR", "SMOOTHING_OCTAVES", "CallRhythm", "Expectation"]

F64 = npt.NDArray[np.float64]

SMOOTHING_OCTAVES = 0.4
"""Width (standard deviation, octaves of note value) of the smoothing of the call's values."""
FLOOR = 0.02
"""Share of the prior spread evenly over every class: no note value is ruled out."""
DEFAULT_STRENGTH = 1.0
"""Exponent of the prior in :meth:`CallRhythm.condition` (0: the model's own rhythm)."""

_LOG_DUR = np.log2(np.asarray(DURATION_BEATS))
_KERNEL: F64 = np.exp(-0.5 * ((_LOG_DUR[:, None] - _LOG_DUR[None, :]) / SMOOTHING_OCTAVES) ** 2)
_IOI = 1
_DUR = 2


def _prior(counts: F64) -> F64:
    """Smoothed, floored and normalized histogram over the duration classes."""
    total = counts.sum()
    if total <= 0:
        return np.full(len(DURATION_BEATS), 1.0 / len(DURATION_BEATS), dtype=np.float64)
    smooth: F64 = _KERNEL @ (counts / total)
    smooth /= smooth.sum()
    return (1.0 - FLOOR) * smooth + FLOOR / len(smooth)


@dataclass(frozen=True, slots=True)
class CallRhythm:
    """A prior over the answer's IOI and duration classes, from the call's tokens."""

    ioi: F64
    """Prior over :data:`~improviser.music.encoding.IOI_BEATS` (class 0, a chord, kept)."""
    duration: F64
    """Prior over :data:`~improviser.music.encoding.DURATION_BEATS`."""
    last_duration: int
    """The duration class of the call's last note."""
    strength: float = DEFAULT_STRENGTH
    memory: RhythmMemory | None = None
    """The call's IOI motifs (``rhythm_memory``; :mod:`~improviser.music.rhythm_memory`)."""
    guard: PaceGuard | None = None
    """The pace guard (``rhythm_guard``), or ``None``."""

    @classmethod
    def from_tokens(
        cls,
        tokens: Iterable[Token] | npt.NDArray[np.int32],
        strength: float = DEFAULT_STRENGTH,
        expected: Expectation | None = None,
        memory: float = 0.0,
        guard: float = 1.0,
    ) -> CallRhythm:
        """The tilt of a call (its first token's IOI, the gap before the call, is skipped)
        against what the model ``expected`` while hearing it (``None``: nothing); with
        the call's IOI motifs mixed in at ``memory`` (0: not) and the pace guard's
        penalty ``guard`` (1: off)."""
        rows = np.asarray([tuple(t) for t in tokens], dtype=np.int64).reshape(-1, 4)
        if len(rows) == 0:
            raise ValueError("a call needs at least one note")
        if strength < 0:
            raise ValueError(f"strength must be >= 0, got {strength}")
        iois = rows[1:, _IOI]
        moving = iois[iois > 0] - 1  # IOI class k > 0 is duration class k - 1
        ioi_counts = np.bincount(moving, minlength=len(DURATION_BEATS)).astype(np.float64)
        dur_counts = np.bincount(rows[:, _DUR], minlength=len(DURATION_BEATS)).astype(np.float64)
        chord = float(np.mean(iois == 0)) if len(iois) else 0.0
        ioi = np.concatenate([[max(chord, FLOOR / len(IOI_BEATS))], _prior(ioi_counts)])
        ioi[1:] *= 1.0 - ioi[0]
        duration = _prior(dur_counts)
        if expected is not None and expected.count:
            duration = _floored(dur_counts) / _floored(expected.duration)
        motifs = RhythmMemory(iois.tolist(), memory) if memory > 0 else None
        median = median_class(np.bincount(iois[iois > 0], minlength=len(IOI_BEATS)))
        pace = PaceGuard(median, guard) if guard < 1 and median is not None else None
        return cls(ioi, duration, int(rows[-1, _DUR]), float(strength), motifs, pace)

    def pace(self) -> Pace | None:
        """A new answer's :class:`~improviser.music.rhythm_memory.Pace` (``None``: neither
        memory nor guard)."""
        if self.memory is None and self.guard is None:
            return None
        return Pace(self.memory, self.guard)

    def condition(
        self, prediction: Distribution | F64, pace: Pace | None = None
    ) -> Distribution | F64:
        """``prediction`` with its IOI and duration rows reweighted by the prior (the IOI
        row first shaped by the answer's ``pace``, see :meth:`pace`).

        Takes a :class:`Distribution` or a padded ``(4, width)`` array (the engines'
        ``step_probs``) and returns the same kind; the input is not changed.
        """
        if self.strength == 0 and pace is None:
            return prediction
        ioi_w, dur_w = self.ioi**self.strength, self.duration**self.strength
        if isinstance(prediction, Distribution):
            ioi = prediction.ioi if pace is None else pace.shape(prediction.ioi)
            return Distribution(
                prediction.pitch,
                _normalized(ioi * ioi_w),
                _normalized(prediction.duration * dur_w),
                prediction.velocity,
            )
        out = prediction.copy()
        ioi = out[_IOI, : len(ioi_w)]
        if pace is not None:
            ioi = pace.shape(ioi)
        out[_IOI, : len(ioi_w)] = _normalized(ioi * ioi_w)
        out[_DUR, : len(dur_w)] = _normalized(out[_DUR, : len(dur_w)] * dur_w)
        return out

    def ending(self, token: Token) -> Token:
        """The answer's last note: as long as the call's last note, if that is longer."""
        if DURATION_BEATS[self.last_duration] > DURATION_BEATS[token.duration]:
            return token._replace(duration=self.last_duration)
        return token


class Expectation:
    """The mean of the model's predicted IOI and duration distributions over a call."""

    def __init__(self) -> None:
        self._ioi = np.zeros(len(IOI_BEATS))
        self._duration = np.zeros(len(DURATION_BEATS))
        self.count = 0

    def add(self, prediction: Distribution | F64) -> None:
        """Add one prediction (a :class:`Distribution` or a padded ``(4, width)`` array)."""
        if isinstance(prediction, Distribution):
            self._ioi += prediction.ioi
            self._duration += prediction.duration
        else:
            self._ioi += prediction[_IOI, : len(self._ioi)]
            self._duration += prediction[_DUR, : len(self._duration)]
        self.count += 1

    def clear(self) -> None:
        """Start a new call."""
        self._ioi[:] = 0.0
        self._duration[:] = 0.0
        self.count = 0

    @property
    def ioi(self) -> F64:
        """Mean predicted IOI distribution."""
        return self._ioi / max(self.count, 1)

    @property
    def duration(self) -> F64:
        """Mean predicted duration distribution."""
        return self._duration / max(self.count, 1)


def _floored(p: F64) -> F64:
    """A distribution mixed with :data:`FLOOR` of uniform, so no ratio explodes."""
    total = float(p.sum())
    p = p / total if total > 0 else np.full(len(p), 1.0 / len(p))
    return (1.0 - FLOOR) * p + FLOOR / len(p)


def _normalized(p: F64) -> F64:
    total = float(p.sum())
    return p / total if total > 0 else p
