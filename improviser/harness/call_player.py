"""A call played into the live engine on a simulated clock, and the answer it planned.

:func:`answer_call` plays a melody (notes in beats) into an
:class:`~improviser.live.engine.engine.Improviser` as a player would, key by key at a
fixed tempo, with no ports and no sleeps: the clock jumps from one message or deadline to
the next and the engine's ``tick`` runs exactly at the times it asks for. It returns the
notes the engine planned for its answer, in beats from the call's start, so a live
answer can be set beside ``generate``'s continuation of the same melody (the bench's
``live`` row, and the test that the two paths are one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from improviser.config.live import LiveConfig
from improviser.inference.protocol import StepModel
from improviser.live.engine.engine import Improviser
from improviser.live.io.midi import InMessage, Kind
from improviser.live.timebase.scheduler import Scheduler
from improviser.music.notes import Note

__all__ = ["answer_call"]

_START = 10.0
"""Clock time of the call's beat 0 (any; not 0, as a real clock is not)."""
_SETTLE_BEATS = 64.0
"""An answer is taken as over when nothing is due for this long after the call."""
_STUCK = 1000
"""Deadlines in a row at the same time that mean the engine does not move on (a bug)."""


class _Clock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


class _Planner(Scheduler):
    """A scheduler that also keeps every note planned: (tag, pitch, velocity, at, seconds)."""

    def __init__(self, clock: _Clock, max_note_seconds: float) -> None:
        super().__init__(lambda _: None, clock, max_note_seconds=max_note_seconds)
        self.planned: list[tuple[str, int, int, float, float]] = []

    def note(
        self,
        channel: int,
        pitch: int,
        velocity: int,
        *,
        at: float,
        duration: float,
        tag: str,
        capped: bool = True,
        cue: float | None = None,
    ) -> None:
        seconds = min(duration, self.max_note_seconds) if capped else duration
        self.planned.append((tag, pitch, velocity, at, seconds))
        super().note(
            channel, pitch, velocity, at=at, duration=duration, tag=tag, capped=capped, cue=cue
        )


def answer_call(
    model: StepModel,
    call: Sequence[Note],
    config: LiveConfig,
    rng: np.random.Generator | None = None,
    *,
    hands: int = 1,
) -> list[Note]:
    """Play ``call`` (times in beats) into a live engine at ``config.bpm``; its first answer.

    ``config`` needs a fixed tempo (``bpm``, sync ``fixed`` or ``player``): the call is
    played at it. With one hand a note is released before the next is struck if they
    overlap (a melody); with two (``hands=2``) every note sounds its full length.
    Returns the answer's notes in beats from the call's beat 0 (empty: no answer).
    """
    if config.bpm is None:
        raise ValueError("answer_call needs a fixed tempo: set config.bpm")
    spb = 60.0 / config.bpm
    clock = _Clock(_START)
    planner = _Planner(clock, config.max_note_seconds)
    engine = Improviser(config, model, planner, now=clock, rng=rng)
    engine.start()
    messages = _messages(call, spb, legato=hands == 1)
    for at, message in messages:
        _advance(engine, planner, clock, at)
        engine.handle(message)
        engine.settle()
    _advance(engine, planner, clock, messages[-1][0] + _SETTLE_BEATS * spb if messages else _START)
    first = next((tag for tag, *_ in planner.planned), None)
    return [
        Note(pitch, velocity, at - _START, seconds, 0, 1, (at - _START) / spb, seconds / spb)
        for tag, pitch, velocity, at, seconds in planner.planned
        if tag == first
    ]


def _messages(call: Sequence[Note], spb: float, *, legato: bool) -> list[tuple[float, InMessage]]:
    """Note-ons and offs in time order; ``legato``: a note ends before the next starts."""
    out: list[tuple[float, InMessage]] = []
    ordered = sorted(call, key=lambda n: n.start_beats)
    for i, note in enumerate(ordered):
        start = _START + note.start_beats * spb
        end = _START + note.end_beats * spb
        if legato and i + 1 < len(ordered):
            end = min(end, _START + ordered[i + 1].start_beats * spb)
        out.append((start, InMessage(Kind.NOTE_ON, 0, note.pitch, note.velocity, start)))
        out.append((end, InMessage(Kind.NOTE_OFF, 0, note.pitch, 0, end)))
    # At one time: releases first, then the keys struck, the highest first (a melody note
    # struck with a chord under it is the top line from its first moment).
    out.sort(key=lambda m: (m[0], m[1].kind != Kind.NOTE_OFF, -m[1].data1))
    return out


def _advance(engine: Improviser, planner: _Planner, clock: _Clock, until: float) -> None:
    """Run the engine's deadlines and the scheduler's events up to ``until``, each at its time."""
    stuck = 0
    while True:
        due = [d for d in (engine.next_deadline(), planner.next_due()) if d is not None]
        at = min(due, default=None)
        if at is None or at > until:
            break
        stuck = stuck + 1 if at <= clock.t else 0
        if stuck > _STUCK:
            raise RuntimeError(f"the engine asks for {at} again and again (now {clock.t})")
        clock.t = max(clock.t, at)
        planner.process_due(clock.t)
        engine.tick(clock.t)
    clock.t = max(clock.t, until)
