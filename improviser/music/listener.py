"""What the improviser hears besides its LSTM: the session's motifs, key and register.

A :class:`Listener` follows a session note by note and reshapes the LSTM's pitch
prediction before a note is drawn (:meth:`Listener.shape`):

1. **short-term model**: the prediction is blended with a
   :class:`~improviser.music.stm.ShortTermModel` of the session (the player's notes, and
   the improviser's as its context), so a motif the player has played is likely again,
   in any key;
2. **key**: pitches outside the key (estimated from the player's recent notes, or set)
   are weighed by ``1 - scale_strength`` (1: a hard lock);
3. **replay guard**: once the notes just played repeat a run of ``replay_notes`` notes
   heard before, in order, the pitches that would carry that run on are weighed down
   (or the short-term model's weight is), so an answer develops the call instead of
   playing it back (:mod:`~improviser.music.replay`);
4. **register**: the LSTM's prediction is first moved by whole octaves so its mean is
   nearest the player's recent mean pitch (its contour kept), then every pitch further
   than ``register_span`` from that mean is moved by octaves towards it
   (:func:`~improviser.music.register.fold`), so a low call gets a low answer.

Player notes go to :meth:`Listener.hear`; notes the improviser draws to
:meth:`Listener.look_ahead` (they never move the key or register estimate).
:meth:`Listener.snapshot` and :meth:`Listener.restore` take back what was looked ahead,
exactly as the LSTM's state is taken back after an answer is drawn.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from improviser.config.listen import (
    DEFAULT_GUARD,
    DEFAULT_PENALTY,
    DEFAULT_REPLAY_NOTES,
    Guard,
    ListenConfig,
)
from improviser.music.encoding import PITCHES
from improviser.music.key import Key, key_of_histogram, parse_key, scale_weights
from improviser.music.register import fold, octave_shift
from improviser.music.replay import HORIZON, LONGEST, replay_match
from improviser.music.stm import ShortTermModel, StmSnapshot

__all__ = ["ListenParams", "Listener", "Shaping"]

F64 = npt.NDArray[np.float64]
MIN_KEY_NOTES = 4
"""The key is estimated once the player has played this many notes (before: no key)."""
_TINY = 1e-300
_MIN_H = 1e-6
"""Floors under a probability before its log, and under a relative entropy (as in blend)."""
_MIN_PENALTY = 1e-9
"""The replay guard leaves the short-term model this much of a pitch: its prediction is
never 0, so the blend takes its log as it is (the C draw too)."""


class Shaping(NamedTuple):
    """What :meth:`Listener.shape` applies to a prediction, in its order."""

    center: float | None
    """Fold around this pitch (the register kept), or ``None``."""
    stm: F64 | None
    """Blend with this short-term prediction, or ``None``."""
    key_weights: F64 | None
    """Weigh each pitch by these after the blend (the key, the replay guard), or ``None``."""
    stm_weight: float = 1.0
    """The short-term model's weight in the blend (``short_term_weight``, guarded)."""


@dataclass(frozen=True, slots=True)
class ListenParams:
    """How a :class:`Listener` reshapes predictions (see :class:`ListenConfig`)."""

    short_term: bool = True
    short_term_weight: float = 1.0
    short_term_bias: float = 0.75
    short_term_notes: int = 2000
    """Notes the short-term model remembers (0: all)."""
    learn_answers: bool = False
    replay_guard: Guard = DEFAULT_GUARD
    replay_notes: int = DEFAULT_REPLAY_NOTES
    replay_penalty: float = DEFAULT_PENALTY
    key: Key | None = None
    """A fixed key; ``None`` with ``auto_key`` estimates it, without: no key."""
    auto_key: bool = True
    scale_strength: float = 0.9
    listen_notes: int = 24
    register: bool = True
    register_span: int = 12

    @classmethod
    def from_config(cls, cfg: ListenConfig) -> ListenParams:
        """The parameters of a section's listening options."""
        word = cfg.key.lower()
        return cls(
            short_term=cfg.short_term,
            short_term_weight=cfg.short_term_weight,
            short_term_bias=cfg.short_term_bias,
            short_term_notes=cfg.short_term_notes,
            learn_answers=cfg.short_term_answers == "learn",
            replay_guard=cfg.replay_guard,
            replay_notes=cfg.replay_notes,
            replay_penalty=cfg.replay_penalty,
            key=None if word in ("auto", "off") else parse_key(cfg.key),
            auto_key=word == "auto",
            scale_strength=cfg.scale_strength,
            listen_notes=cfg.listen_notes,
            register=cfg.keep_register,
            register_span=cfg.register_span,
        )


class Listener:
    """The session's short-term model, running key and register, applied to predictions."""

    def __init__(self, params: ListenParams | None = None) -> None:
        self._stm = ShortTermModel()  # its bound is set with the params, below
        self._pending: list[int] = []
        self._recent: deque[int] = deque()
        self._classes = [0] * 12  # pitch-class counts of the recent notes
        self._key: Key | None = None
        self._key_stale = False
        self._heard = 0
        """Player notes taken in (by :meth:`settle`)."""
        self._next_keys: tuple[int, list[Key | None]] | None = None
        """(notes heard, the key after one more note of each pitch class): :meth:`prepare`."""
        self.params = params or ListenParams()

    @property
    def stm(self) -> ShortTermModel:
        """The short-term model of the session (every note heard taken in)."""
        self.settle()
        return self._stm

    @property
    def params(self) -> ListenParams:
        """How predictions are reshaped now (a control may change it)."""
        return self._params

    @params.setter
    def params(self, params: ListenParams) -> None:
        self.settle()
        self._params = params
        self._stm.max_notes = params.short_term_notes or None
        self._recent = deque(list(self._recent)[-params.listen_notes :], maxlen=params.listen_notes)
        self._classes = [0] * 12
        for pitch in self._recent:
            self._classes[pitch % 12] += 1
        self._key_stale = True
        self._next_keys = None

    # --- hearing ----------------------------------------------------------------------------
    def hear(self, pitch: int) -> None:
        """A player's note: learned, and part of the key and register estimates.

        Cheap: the note is queued and taken in by :meth:`settle`, which everything that
        reads what was heard calls first (a caller on the MIDI path settles while idle).
        """
        if not 0 <= pitch < PITCHES:
            raise ValueError(f"pitch must be in range 0..127, got {pitch}")
        self._pending.append(pitch)

    def revise(self, heard: int, pitch: int) -> None:
        """The player's last note was ``pitch``, not ``heard`` (a chord tone struck just
        before the melody note above it): replaced while still queued, else heard too."""
        if self._pending and self._pending[-1] == heard:
            self._pending[-1] = pitch
        else:
            self.hear(pitch)

    def settle(self) -> None:
        """Take in every note queued by :meth:`hear`, in order."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        recent, classes = self._recent, self._classes
        for pitch in pending:
            self._stm.update(pitch)
            if len(recent) == recent.maxlen:
                classes[recent[0] % 12] -= 1
            recent.append(pitch)
            classes[pitch % 12] += 1
        self._heard += len(pending)
        self._key_stale = True

    def prepare(self) -> None:
        """While idle: find the key that each pitch class would make the next note give,
        so a note drawn on the note it answers (follow mode) does not wait for the key
        estimate (~50 µs cold) nor a new key's scale weights; :attr:`key` is the same
        either way."""
        params = self._params
        if params.key is not None or not params.auto_key or self._pending:
            return
        if self._next_keys is not None and self._next_keys[0] == self._heard:
            return
        recent = self._recent
        size = min(len(recent) + 1, recent.maxlen or 0)
        base = np.asarray(self._classes, dtype=np.float64)
        if len(recent) == recent.maxlen:
            base[recent[0] % 12] -= 1  # the next note pushes the oldest out
        keys: list[Key | None] = []
        for pc in range(12):
            base[pc] += 1
            key = key_of_histogram(base) if size >= MIN_KEY_NOTES else None
            if key is not None and params.scale_strength > 0:
                scale_weights(key, params.scale_strength, PITCHES)  # cached for the note
            keys.append(key)
            base[pc] -= 1
        self._next_keys = (self._heard, keys)

    def look_ahead(self, pitch: int) -> None:
        """A note the improviser drew: the short-term model's context (counted if told)."""
        self.stm.update(pitch, learn=self._params.learn_answers)

    def snapshot(self) -> StmSnapshot:
        """Mark what was heard, to take back what is looked ahead after it."""
        return self.stm.snapshot()

    def restore(self, snapshot: StmSnapshot) -> None:
        """Take back every note since ``snapshot`` (the key and register are the player's)."""
        self.stm.restore(snapshot)

    def reset(self) -> None:
        """Forget the session."""
        self._pending.clear()
        self._stm.reset()
        self._recent.clear()
        self._classes = [0] * 12
        self._key_stale = True
        self._next_keys = None

    # --- what was heard -----------------------------------------------------------------------
    @property
    def key(self) -> Key | None:
        """The key answers keep to now: set, estimated, or ``None``."""
        params = self._params
        if params.key is not None or not params.auto_key:
            return params.key
        self.settle()
        if self._key_stale:
            ahead = self._next_keys
            if ahead is not None and ahead[0] + 1 == self._heard:
                self._key = ahead[1][self._recent[-1] % 12]
            else:
                enough = len(self._recent) >= MIN_KEY_NOTES
                classes = np.asarray(self._classes, dtype=np.float64)
                self._key = key_of_histogram(classes) if enough else None
            self._key_stale = False
        return self._key

    @property
    def center(self) -> float | None:
        """The mean pitch of the player's recent notes (``None`` before the first)."""
        self.settle()
        recent = self._recent
        return sum(recent) / len(recent) if recent else None

    # --- reshaping ----------------------------------------------------------------------------
    def shaping(self, size: int = PITCHES) -> Shaping:
        """What :meth:`shape` applies now to a prediction of ``size`` pitches."""
        params = self._params
        stm = None
        stm_weight = params.short_term_weight
        key = self.key
        weights = None
        if key is not None and params.scale_strength > 0:
            weights = scale_weights(key, params.scale_strength, size)
        if params.short_term and stm_weight > 0 and self.stm.notes:
            stm = self.stm.predict()
            guard = params.replay_guard
            if guard != "off" and params.replay_penalty < 1:
                run, followers = self._replay()
                if guard == "discount" and run:
                    stm_weight *= params.replay_penalty ** (run - params.replay_notes + 1)
                elif guard == "stm" and followers:
                    stm = stm.copy()
                    penalty = max(params.replay_penalty, _MIN_PENALTY)
                    for pitch in set(followers):  # one or two: item by item beats fancy indexing
                        stm[pitch] *= penalty
                    stm /= stm.sum()
                elif guard == "penalty" and followers:
                    weights = np.ones(size) if weights is None else weights.copy()
                    for pitch in set(followers):
                        if pitch < size:
                            weights[pitch] *= params.replay_penalty
        return Shaping(self.center if params.register else None, stm, weights, stm_weight)

    def _replay(self) -> tuple[int, list[int]]:
        """The run of notes just played that repeats earlier ones (see :func:`replay_match`)."""
        params = self._params
        recent = self._stm.recent(HORIZON + LONGEST)
        measure = params.replay_guard == "discount"  # the others need only the followers
        return replay_match(recent, params.replay_notes, HORIZON, measure=measure)

    def shape(self, pitch: F64) -> F64:
        """The LSTM's pitch distribution ``pitch`` (128) reshaped; a new array."""
        span = self._params.register_span
        center, stm, weights, stm_weight = self.shaping(len(pitch))
        p = pitch
        if center is not None:  # the LSTM's own register moved to the player's, contour kept
            p = fold(p, center, span, octave_shift(p, center))
        if stm is not None:
            p = self._blend(p, stm, stm_weight)
        if weights is not None:
            p = p * weights
        if center is not None:
            p = fold(p, center, span)
        return p if p is not pitch else p.copy()

    def shape_padded(self, probs: F64) -> F64:
        """A ``(4, width)`` padded prediction with its pitch row (row 0) reshaped."""
        out = probs.copy()
        size = self.stm.pitch_counts.vocab
        out[0, :size] = self.shape(probs[0, :size])
        return out

    def _blend(self, lstm: F64, stm: F64, weight: float) -> F64:
        """The entropy-weighted arithmetic mean (:mod:`~improviser.music.blend`), the
        short-term model's weight scaled by ``weight``; two entropies inline."""
        bias = self._params.short_term_bias
        w_lstm, w_stm = 1.0, weight
        if bias > 0:
            scale = -1.0 / math.log(len(lstm))
            h_lstm = max(scale * float(lstm @ np.log(np.maximum(lstm, _TINY))), _MIN_H)
            h_stm = max(scale * float(stm @ np.log(stm)), _MIN_H)  # PPM: never 0
            w_lstm, w_stm = h_lstm**-bias, w_stm * h_stm**-bias
        mixed: F64 = (w_lstm * lstm + w_stm * stm) * (1.0 / (w_lstm + w_stm))
        return mixed
