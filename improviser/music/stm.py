"""A short-term model of the piece being heard (IDyOM's STM).

The long-term model (the LSTM) knows the style; it does not know this piece. A short-term
model is trained only on the piece so far, note by note, so a motif the player has played
once becomes likely the next time it starts (Pearce 2005: IDyOM's short-term model gains
0.3–0.4 bits/note over its long-term model alone).

:class:`ShortTermModel` predicts the next pitch from two viewpoints, each a PPM-C blend of
variable-order contexts (:mod:`improviser.music.ppm`):

- pitch: contexts of the last 0..``max_order`` pitches;
- interval (optional): contexts of the last intervals, predicting the next interval, so a
  motif heard once is predicted again when it comes back in another key.

The two are combined into one distribution over the 128 MIDI pitches by an
entropy-weighted arithmetic mean (:mod:`improviser.music.blend`): the geometric mean,
IDyOM's rule, scored 0.005 bits/note better on the validation split but lets the pitch
viewpoint, which has never heard the transposed notes, veto a motif come back in
another key.

The counts are kept in C where the package was built with a compiler
(:mod:`improviser.music.ppm_native`: preallocated for ``max_notes``, a few microseconds a
note, no memory taken while a session plays), else in Python; both give the same model.

Learning is exactly reversible: :meth:`ShortTermModel.snapshot` marks a point,
:meth:`ShortTermModel.restore` takes back every note learned since, at a cost
proportional to those notes (the live engine tries an answer out on the model and takes
it back).

Typical use, for each note heard, with the LSTM's distribution ``dist``::

    stm = ShortTermModel()
    for pitch in piece:
        probs = blend((dist.pitch, stm.predict()))  # music.blend: the next pitch, 128 probs
        stm.update(pitch)                           # then learn the note that came
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from improviser.music.blend import arithmetic_blend
from improviser.music.encoding import PITCHES
from improviser.music.ppm import ContextCounts
from improviser.music.ppm_native import (
    NativeCounts,
    native_counts_available,
    native_counts_fit,
    predict_pair,
)

__all__ = [
    "DEFAULT_MAX_ORDER",
    "DEFAULT_VIEWPOINT_BIAS",
    "ShortTermModel",
    "StmSnapshot",
]

F64 = npt.NDArray[np.float64]
DEFAULT_MAX_ORDER = 8
"""Longest context, in notes (intervals: in intervals).

Blended with the LSTM on the bundled model's validation split (viewpoints combined
geometrically), order 3 scored 1.560 bits/note, 5 1.456, 6 1.437, 8 1.421, 10 1.409,
16 1.411: folk tunes repeat whole phrases, so long contexts pay; 8 keeps most of that at a
few microseconds less per note than 10.
"""
DEFAULT_VIEWPOINT_BIAS = 0.0
"""Entropy bias of the pitch/interval combination (see :mod:`improviser.music.blend`).

0 (equal weights) scored best on the validation split: 1.426 bits/note against 1.432 at 1
and 1.442 at 2, blended with the LSTM; the interval viewpoint itself gains 0.02–0.03."""
_TRIM_CHUNK = 1024
"""Notes no longer needed are dropped from the history this many at a time."""
_SPAN = PITCHES - 1
"""Largest interval magnitude: intervals -127..127 are symbols 0..254."""
_RESERVE_CAP = 1 << 20
"""Most contexts made room for up front (~32 MB a viewpoint); a larger bound grows."""
_UNBOUNDED_RESERVE = 1 << 14
"""Contexts made room for up front in a model that remembers everything."""

Counts = ContextCounts | NativeCounts


def _tail(seq: list[int], order: int) -> list[int]:
    """The last ``order`` symbols of ``seq`` (all of it when shorter)."""
    return seq[max(0, len(seq) - order) :]


@dataclass(frozen=True, slots=True, eq=False)
class StmSnapshot:
    """A point in a :class:`ShortTermModel`'s learning, to go back to with ``restore``."""

    notes: int
    """How many notes the model had learned when the snapshot was taken."""


class ShortTermModel:
    """A model of the next pitch trained only on the pitches heard so far.

    ``max_order`` is the longest context in notes; ``intervals`` adds the
    transposition-invariant interval viewpoint; ``viewpoint_bias`` is the entropy bias
    of their combination. Each :meth:`update` and :meth:`predict` costs a few
    microseconds, whatever the length of the piece.

    ``max_notes`` bounds what is remembered: once more notes than that were learned, the
    oldest one's counts are taken back (exactly as :meth:`restore` does), so the model is
    always that of the last ``max_notes`` learned notes and its tables stop growing
    (about 4 KB a note at order 8). A note forgotten after a :meth:`snapshot` stays
    forgotten when that snapshot is restored. ``None``: remember everything.

    ``native``: count in C (``True``; an error if it was not built), in Python
    (``False``), or in C where built and the contexts fit its keys (``None``).
    """

    def __init__(
        self,
        max_order: int = DEFAULT_MAX_ORDER,
        *,
        intervals: bool = True,
        viewpoint_bias: float = DEFAULT_VIEWPOINT_BIAS,
        max_notes: int | None = None,
        native: bool | None = None,
    ) -> None:
        if max_notes is not None and max_notes < 1:
            raise ValueError(f"max_notes must be >= 1 or None, got {max_notes}")
        self._max_notes = max_notes
        self._forgotten = 0
        """Notes ``[0, _forgotten)`` are forgotten: their counts were taken back."""
        self._remembered = 0
        """Learned notes in ``[_forgotten, notes)``."""
        if max_order < 0:
            raise ValueError(f"max_order must be >= 0, got {max_order}")
        if viewpoint_bias < 0:
            raise ValueError(f"viewpoint_bias must be >= 0, got {viewpoint_bias}")
        self.max_order = max_order
        self.intervals = intervals
        self.viewpoint_bias = viewpoint_bias
        fits = native_counts_fit(max_order, 2 * _SPAN + 1)
        if native and not (native_counts_available() and fits):
            raise ValueError(
                "the C context counts were not built here"
                if fits
                else f"contexts of {max_order} notes do not fit the C counts (at most 8)"
            )
        self.native = native_counts_available() and fits if native is None else native
        """Whether the counts are kept in C."""
        self._pitch, self._interval = self._new_counts()
        # The notes heard since note ``_base`` (earlier ones, long forgotten, are dropped:
        # see _trim): pitches[i] is note _base + i.
        self._base = 0
        self._pitches: list[int] = []
        self._steps: list[int] = []  # interval symbols: steps[i] leads to pitches[i + 1]
        self._learned: list[bool] = []  # whether pitches[i] was counted (or only heard)
        self._open: list[StmSnapshot] = []

    def _reserve(self) -> int:
        """Contexts (and pairs) a viewpoint can hold at most, capped: room made up front."""
        if self._max_notes is None:
            return _UNBOUNDED_RESERVE
        return min((self.max_order + 1) * self._max_notes, _RESERVE_CAP)

    def _new_counts(self) -> tuple[Counts, Counts]:
        """Empty counts for the pitch and the interval viewpoints."""
        if self.native:
            reserve = self._reserve()
            return (
                NativeCounts(self.max_order, PITCHES, reserve),
                NativeCounts(self.max_order, 2 * _SPAN + 1, reserve),
            )
        return ContextCounts(self.max_order, PITCHES), ContextCounts(self.max_order, 2 * _SPAN + 1)

    @property
    def max_notes(self) -> int | None:
        """Notes remembered at most (``None``: all); a larger bound makes room now."""
        return self._max_notes

    @max_notes.setter
    def max_notes(self, max_notes: int | None) -> None:
        if max_notes is not None and max_notes < 1:
            raise ValueError(f"max_notes must be >= 1 or None, got {max_notes}")
        self._max_notes = max_notes
        if isinstance(self._pitch, NativeCounts) and isinstance(self._interval, NativeCounts):
            self._pitch.reserve(self._reserve())
            self._interval.reserve(self._reserve())

    @property
    def notes(self) -> int:
        """How many notes the model has learned since it was created or reset."""
        return self._base + len(self._pitches)

    def recent(self, count: int) -> list[int]:
        """The last ``count`` pitches followed (learned or context only), oldest first."""
        pitches = self._pitches
        return pitches[max(0, len(pitches) - count) :]

    @property
    def pitch_counts(self) -> Counts:
        """The pitch viewpoint's counts (read-only use: inspection and tests)."""
        return self._pitch

    @property
    def interval_counts(self) -> Counts:
        """The interval viewpoint's counts, interval ``i`` being symbol ``i + 127``."""
        return self._interval

    def update(
        self, note: int | Sequence[int] | npt.NDArray[np.integer], *, learn: bool = True
    ) -> None:
        """Learn one note: a MIDI pitch, or a token whose first field is the pitch.

        With ``learn=False`` the note only becomes context (the next prediction follows
        it) and is not counted: what the model expects is unchanged by it.
        """
        pitch = int(note) if isinstance(note, int | np.integer) else int(note[0])
        if not 0 <= pitch < PITCHES:
            raise ValueError(f"pitch must be in range 0..127, got {pitch}")
        order = self.max_order
        if learn:
            self._pitch.add(_tail(self._pitches, order), pitch)
        if self._pitches:
            step = pitch - self._pitches[-1] + _SPAN
            if learn:
                self._interval.add(_tail(self._steps, order), step)
            self._steps.append(step)
        self._pitches.append(pitch)
        self._learned.append(learn)
        if learn:
            self._remembered += 1
            while self._max_notes is not None and self._remembered > self._max_notes:
                self._forget(self._forgotten)
                self._forgotten += 1
            self._trim()

    def _forget(self, note: int) -> None:
        """Take back the counts note ``note`` added when it was learned (if it was)."""
        i = note - self._base
        if not self._learned[i]:
            return
        order = self.max_order
        self._pitch.remove(self._pitches[max(0, i - order) : i], self._pitches[i])
        if i > 0:
            self._interval.remove(self._steps[max(0, i - 1 - order) : i - 1], self._steps[i - 1])
        self._remembered -= 1

    def _trim(self) -> None:
        """Drop the notes no count or context needs any more (forgotten, and more than
        ``max_order`` before the oldest remembered), a chunk at a time, so a bounded model
        stays bounded however long the session; snapshots taken before them can no
        longer be restored and are dropped too."""
        keep_from = self._forgotten - self.max_order - 1
        cut = keep_from - self._base
        if cut < _TRIM_CHUNK:
            return
        del self._pitches[:cut], self._steps[:cut], self._learned[:cut]
        self._base = keep_from
        self._open = [s for s in self._open if s.notes >= keep_from + self.max_order]

    def predict(self) -> F64:
        """The distribution of the next pitch: 128 probabilities summing to 1."""
        order = self.max_order
        pitch, interval = self._pitch, self._interval
        if (
            self._pitches
            and self.intervals
            and self.viewpoint_bias == 0
            and isinstance(pitch, NativeCounts)
            and isinstance(interval, NativeCounts)
        ):  # the live default: one C call
            context = _tail(self._pitches, order), _tail(self._steps, order)
            return predict_pair(pitch, interval, *context, self._pitches[-1], _SPAN)
        by_pitch = self._pitch.distribution(_tail(self._pitches, order))
        if not self.intervals or not self._pitches:
            return by_pitch
        last = self._pitches[-1]
        steps = self._interval.distribution(_tail(self._steps, order))
        by_interval = steps[_SPAN - last : _SPAN - last + PITCHES]
        by_interval = by_interval / by_interval.sum()
        if self.viewpoint_bias == 0:  # equal weights: the mean (arithmetic_blend's result)
            mean: F64 = (by_pitch + by_interval) * 0.5
            return mean
        return arithmetic_blend((by_pitch, by_interval), self.viewpoint_bias)

    def reset(self) -> None:
        """Forget everything heard (a new piece); every snapshot becomes invalid."""
        self._pitch, self._interval = self._new_counts()
        self._pitches.clear()
        self._steps.clear()
        self._learned.clear()
        self._open.clear()
        self._forgotten = self._remembered = self._base = 0

    def snapshot(self) -> StmSnapshot:
        """Mark the current state, to :meth:`restore` later; costs nothing."""
        snap = StmSnapshot(self.notes)
        self._open.append(snap)
        return snap

    def restore(self, snapshot: StmSnapshot) -> None:
        """Take back every note learned since ``snapshot``, exactly.

        ``snapshot`` stays valid (restore it again after more notes); snapshots taken
        after it become invalid. A snapshot of another model, or one invalidated by
        :meth:`reset` or an earlier restore, or taken more than ``max_notes`` notes ago
        (what it would restore is forgotten and dropped), raises ``ValueError``.
        """
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i] is snapshot:
                del self._open[i + 1 :]
                break
        else:
            raise ValueError("snapshot is not valid for this model (reset or restored past)")
        order = self.max_order
        while self.notes > snapshot.notes:
            pitch = self._pitches.pop()
            learned = self._learned.pop() and self.notes >= self._forgotten
            if learned:
                self._pitch.remove(_tail(self._pitches, order), pitch)
                self._remembered -= 1
            if self._steps:
                step = self._steps.pop()
                if learned:
                    self._interval.remove(_tail(self._steps, order), step)
        self._forgotten = min(self._forgotten, self.notes)
