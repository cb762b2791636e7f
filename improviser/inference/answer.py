"""Drawing an answer: the one path of a live answer and of ``generate``.

A live answer (:mod:`improviser.live.engine.modes.call_response`) and an offline
continuation (:mod:`improviser.inference.generate`) draw their notes through
:class:`AnswerDraw`, so the same call, settings and sampler seed give the same notes:

- each prediction is tilted towards the call's note values
  (:class:`~improviser.music.rhythm.CallRhythm`, ``rhythm_strength``) and drawn through
  the :class:`~improviser.inference.context.ModelContext` (its listener reshapes it:
  short-term model, replay guard, key, register);
- the first note's IOI is where the answer starts (:func:`first_onset`), not a drawn one;
- a note on a strong beat leans on the call's chord (:class:`~improviser.music.
  chord_lean.ChordLean`, ``chord_lean``): a pitch outside it is drawn again, from the same
  prediction, with probability ``1 - 1 / chord_lean``;
- the answer stops before a note that would start at or past ``max_beats`` (its length
  rule: :meth:`AnswerLimits.of`), after ``max_notes`` notes, or on a note that fills
  what is left of its room; a last note takes the call's last note value if that is
  longer (:meth:`CallRhythm.ending`).

The caller steps the model on each note drawn (``context.predict``) and passes the
prediction back for the next; live schedules each note as it is drawn, in between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from improviser.config.answer import AnswerConfig
from improviser.inference.context import ModelContext, Prediction
from improviser.music.chord_lean import ChordLean
from improviser.music.encoding import DURATION_BEATS, IOI_BEATS, Token
from improviser.music.rhythm import CallRhythm
from improviser.music.sampling import Sampler

__all__ = ["AnswerDraw", "AnswerLimits", "Drawn", "draw_answer", "first_onset"]

_EARLY = 1e-6
"""A first note due this close after a beat still falls on it (as live's timing)."""
_SLACK = 1e-6
"""Beats of rounding forgiven at the answer's end: live measures the call's length on its
clock, ``generate`` in the file's beats (11.9 against 11.899999999999999)."""


@dataclass(frozen=True, slots=True)
class AnswerLimits:
    """How long an answer may be: notes, and beats from its first onset."""

    max_notes: int
    max_beats: float = math.inf

    @classmethod
    def of(cls, cfg: AnswerConfig, call_beats: float, notes: int | None = None) -> AnswerLimits:
        """The limits of ``cfg``'s length rule for a call ``call_beats`` long (``notes``:
        exactly that many, whatever the rule)."""
        if notes is not None:
            return cls(notes)
        if cfg.answer_length == "notes":
            return cls(cfg.answer_notes)
        beats = {
            "beats": cfg.answer_beats,
            "bars": float(cfg.answer_bars * cfg.beats_per_bar),
        }.get(cfg.answer_length, call_beats)
        return cls(cfg.max_answer_notes, beats)


def first_onset(how: str, earliest: float, anchor: float = 0.0, beats_per_bar: int = 4) -> float:
    """Where an answer's first note falls, in beats, at ``earliest`` or after: ``now``
    (there), ``beat`` (the next beat of the grid through ``anchor``) or ``bar`` (the next
    downbeat, bars of ``beats_per_bar`` from ``anchor``). Live does the same on its clock
    (:meth:`Timing.answer_start <improviser.live.timebase.timing.Timing.answer_start>`)."""
    if how == "now":
        return earliest
    every = beats_per_bar if how == "bar" else 1
    k = math.floor((earliest - _EARLY - anchor) / every + 1e-9) + 1
    return anchor + k * every


@dataclass(frozen=True, slots=True)
class Drawn:
    """One answer note: its token, its onset in beats from the answer's first, and
    whether it ends the answer."""

    token: Token
    beats: float
    last: bool


class AnswerDraw:
    """Draws one answer, note by note, by the rules both paths share (module docstring).

    ``first_ioi``: the IOI class of the first note (where the answer starts, from the
    call's last onset); ``None``: as drawn.
    """

    def __init__(
        self,
        limits: AnswerLimits,
        rhythm: CallRhythm | None,
        first_ioi: int | None,
        lean: ChordLean | None = None,
    ) -> None:
        self.limits = limits
        self.rhythm = rhythm
        self.first_ioi = first_ioi
        self.lean = lean
        """The call's chord, leant on at the strong beats (``None``: not)."""
        self.pace = None if rhythm is None else rhythm.pace()
        """The answer's rhythm so far, against the call's motifs and pace (``None``: not)."""
        self.count = 0
        self.beats = 0.0
        self.done = False

    def next(
        self,
        context: ModelContext,
        sampler: Sampler,
        rng: np.random.Generator,
        prediction: Prediction | None,
    ) -> Drawn | None:
        """The next note, drawn from ``prediction`` (the model's after the previous note);
        ``None`` when the answer is complete."""
        limits, rhythm = self.limits, self.rhythm
        if self.done or self.count >= limits.max_notes:
            return None
        if rhythm is not None and prediction is not None:
            prediction = rhythm.condition(prediction, self.pace)
        token = context.draw(sampler, rng, prediction)
        if self.count == 0:
            if self.first_ioi is not None:
                token = token._replace(ioi=self.first_ioi)
        else:
            step = IOI_BEATS[token.ioi]
            if self.beats + step >= limits.max_beats - _SLACK:
                self.done = True
                return None
            self.beats += step
        if self.pace is not None:
            self.pace.played(token.ioi)
        lean = self.lean
        if lean is not None and lean.strong(self.beats):
            pitch = lean.pitch(
                token.pitch, lambda: context.draw(sampler, rng, prediction).pitch, rng
            )
            token = token._replace(pitch=pitch)
        self.count += 1
        last = self.count == limits.max_notes or (
            rhythm is not None
            and limits.max_beats - self.beats <= DURATION_BEATS[rhythm.last_duration] + _SLACK
        )
        if last and rhythm is not None:
            token = rhythm.ending(token)
        self.done = last
        return Drawn(token, self.beats, last)


def draw_answer(
    context: ModelContext,
    draw: AnswerDraw,
    sampler: Sampler,
    rng: np.random.Generator,
) -> list[Drawn]:
    """Every note of an answer, the model stepped on each (as a look-ahead: the listener
    takes them as the improviser's own); the context is left after the last."""
    out: list[Drawn] = []
    prediction = context.prediction
    while (drawn := draw.next(context, sampler, rng, prediction)) is not None:
        out.append(drawn)
        if drawn.last:
            break
        prediction = context.predict(drawn.token)
    return out
