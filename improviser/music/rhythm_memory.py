"""The call's rhythmic motifs, remembered while the answer is drawn.

The LSTM, once an answer to a call of mixed eighths and quarters has played a few
quarters, settles in quarters: its own IOI prediction after a run of quarters is another
quarter, and a tilt of every prediction towards the call's histogram of note values
(:class:`~improviser.music.rhythm.CallRhythm`) cannot undo a run it is itself part of.
Two things pull the answer back to the call's pace, each set in ``[answer]``:

- :class:`RhythmMemory` (``rhythm_memory``): a short-term model of the call's IOI
  classes, as IDyOM's short-term model of the piece (Pearce 2005) with the IOI
  viewpoint: a PPM-C blend (:class:`~improviser.music.ppm.ContextCounts`) of the IOIs
  that followed each context of up to :data:`ORDER` IOIs in the call, mixed with the
  LSTM's IOI row: ``p = (1 - w) · p_lstm + w · p_call``, where PPM's escape to a
  uniform distribution goes to the LSTM instead (the memory never makes likely a value
  the call did not play and the model does not expect). The answer's own IOIs are its
  context (never learned), so a rhythmic motif of the call (eighth, eighth, quarter)
  becomes likely again, with new pitches: the classic answer that echoes the call's
  rhythm.
- :class:`PaceGuard` (``rhythm_guard``): once ``0.5 - GUARD_MARGIN`` (40 %) of the
  answer's IOIs are :data:`GUARD_FACTOR` times the call's median IOI or more (or as much
  shorter), so its median is about to be off, the IOI classes on that side of the
  call's median are weighed by ``rhythm_guard`` (0: not drawn, 1: off) until it is back.

Both act on the IOI row only, before the tilt (:meth:`CallRhythm.condition
<improviser.music.rhythm.CallRhythm.condition>`, through the answer's :class:`Pace`),
and never leave it empty: the mixture keeps the LSTM's share, and where the guard's
weights would leave nothing the row is left as it was. Chosen by measurement
(``improviser bench musicality``; docs/musicality.md, "Note values").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from improviser.music.encoding import IOI_BEATS
from improviser.music.ppm import ContextCounts

__all__ = [
    "GUARD_FACTOR",
    "ORDER",
    "Pace",
    "PaceGuard",
    "RhythmMemory",
    "median_class",
]

F64 = npt.NDArray[np.float64]
ORDER = 3
"""Longest context, in IOIs, of the call's rhythm model."""
GUARD_FACTOR = 1.5
"""An IOI this many times the call's median (or 1/that) is off the call's pace."""
GUARD_MARGIN = 0.1
"""The guard wakes once ``0.5 - margin`` of the answer's IOIs are off the pace on one side
(its ``0.5 + margin`` quantile is long, or its ``0.5 - margin`` quantile short): before
its median is. At 0 (the median itself) it woke too late to change the drift measured."""
MIN_GUARDED = 3
"""The guard waits for this many of the answer's IOIs before it judges its pace."""
_VOCAB = len(IOI_BEATS)
_BEATS = np.asarray(IOI_BEATS)


def median_class(counts: Sequence[int] | npt.NDArray[np.int64]) -> int | None:
    """The IOI class at the (lower) median of a histogram of IOI classes; ``None`` if empty."""
    total = int(np.sum(counts))
    if total == 0:
        return None
    seen = 0
    for cls, count in enumerate(counts):
        seen += int(count)
        if 2 * seen >= total:
            return cls
    return len(counts) - 1  # pragma: no cover - the loop always reaches half


class RhythmMemory:
    """A PPM model of the call's IOI classes, mixed into each IOI prediction at ``weight``.

    ``iois``: the call's IOI classes in order (its first, the gap before the call, left
    out by the caller). The counts are fixed once built; :meth:`mix` takes the IOIs
    played since (the call's last, then the answer's) as context. Each context's
    distribution is computed once and cached: an answer meets few of them.
    """

    def __init__(self, iois: Sequence[int], weight: float, order: int = ORDER) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"rhythm memory weight must be in range 0..1, got {weight}")
        self.weight = weight
        self.order = order
        self.history = [int(v) for v in iois][-order:] if order else []
        counts = ContextCounts(order, _VOCAB)
        counts.add_sequence(int(v) for v in iois)
        self._counts = counts
        self._cache: dict[tuple[int, ...], tuple[float, F64]] = {}

    def predict(self, history: Sequence[int]) -> tuple[F64, float]:
        """The call model's next-IOI prediction after ``history`` (its last IOIs): the
        PPM-C blend of the contexts seen, and the weight it leaves for what the call never
        played after them (PPM's escape to a uniform distribution; :meth:`mix` gives it
        to the LSTM instead, so the memory never makes likely a note value the call did
        not play and the model does not expect)."""
        p = np.zeros(_VOCAB, dtype=np.float64)
        weight = 1.0
        key = tuple(history[-self.order :]) if self.order else ()
        for _, followers, total in reversed(self._counts.contexts(key)):
            denom = total + len(followers)
            for symbol, count in followers.items():
                p[symbol] += weight * count / denom
            weight *= len(followers) / denom
        return p, weight

    def mix(self, ioi: F64, history: Sequence[int]) -> F64:
        """``ioi`` (the LSTM's IOI row) mixed with :meth:`predict`; a new array."""
        key = tuple(history[-self.order :]) if self.order else ()
        found = self._cache.get(key)
        if found is None:
            seen, escape = self.predict(key)
            w = self.weight
            found = self._cache[key] = (1.0 - w + w * escape, w * seen)
        keep, add = found
        mixed: F64 = keep * ioi + add[: len(ioi)]
        return mixed


class PaceGuard:
    """Weighs the IOI classes that keep an answer off the call's pace (module docstring).

    ``call_median``: the call's median IOI class; ``penalty``: the weight of a class
    that would keep the answer's median where it drifted (1: off).
    """

    def __init__(self, call_median: int, penalty: float, factor: float = GUARD_FACTOR) -> None:
        if not 0.0 <= penalty <= 1.0:
            raise ValueError(f"rhythm guard penalty must be in range 0..1, got {penalty}")
        beats = _BEATS[call_median]
        self.penalty = penalty
        self.is_long = [bool(b >= beats * factor) for b in IOI_BEATS]
        """Which IOI classes are off the call's pace, long (``factor`` times its median)."""
        self.is_short = [bool(0 < b <= beats / factor) for b in IOI_BEATS]
        """Which are off it, short."""
        long, short = np.ones(_VOCAB), np.ones(_VOCAB)
        long[beats < _BEATS] = penalty
        short[(beats > _BEATS) & (_BEATS > 0)] = penalty
        self._long, self._short = long, short

    def weights(self, long: int, short: int, total: int) -> F64 | None:
        """The weights for the next IOI, ``long`` and ``short`` of the answer's ``total``
        IOIs so far being off the pace (``None``: on pace, leave it).

        It acts a little before the median itself is off: once more than ``0.5 -
        margin`` of the answer's IOIs are long (its ``0.5 + margin`` quantile is), or at
        least as many short (its ``0.5 - margin`` quantile is). Counted as the answer
        goes (:class:`Pace`): a few additions a note, not a histogram's quantiles.
        """
        if total < MIN_GUARDED:
            return None
        if total - long < (0.5 + GUARD_MARGIN) * total:
            return self._long
        if short >= (0.5 - GUARD_MARGIN) * total:
            return self._short
        return None


class Pace:
    """One answer's rhythm so far, and the call's memory and guard applied to it.

    :meth:`shape` reshapes the next IOI prediction; :meth:`played` takes the IOI class
    each answer note got (the first's, the gap from the call, is context, not pace).
    """

    def __init__(self, memory: RhythmMemory | None, guard: PaceGuard | None) -> None:
        self.memory = memory
        self.guard = guard
        self.history: list[int] = [] if memory is None else list(memory.history)
        self.long = self.short = self.total = 0
        """The answer's IOIs so far (chords and the first note's left out): off the call's
        pace long, short, and all."""
        self._notes = 0

    def shape(self, ioi: F64) -> F64:
        """The IOI row ``ioi`` mixed with the call's memory and weighed by the guard;
        ``ioi`` itself where the guard would leave nothing."""
        p = ioi
        if self.memory is not None:
            p = self.memory.mix(p, self.history)
        guard = self.guard
        weights = None if guard is None else guard.weights(self.long, self.short, self.total)
        if weights is not None:
            weighed = p * weights[: len(p)]
            if weighed.sum() > 0:
                return weighed
        return p

    def played(self, ioi: int) -> None:
        """An answer note was drawn with IOI class ``ioi``."""
        memory = self.memory
        if memory is not None and memory.order:
            history = self.history
            history.append(ioi)
            if len(history) > memory.order:
                del history[0]
        guard = self.guard
        if guard is not None and self._notes and ioi > 0:
            self.total += 1
            self.long += guard.is_long[ioi]
            self.short += guard.is_short[ioi]
        self._notes += 1
