"""The live engine's whole note at a player's spacing: what a ``note_on`` costs the engine.

The rows of :mod:`improviser.bench.latency` time the model step and the draw; a live note
costs more: the engine's bookkeeping, the listener (short-term model, key, register), the
beat tracker and, in follow mode, the drawn note sent through the scheduler. Here an
:class:`~improviser.live.engine.engine.Improviser` wired as a session wires it (events to the
stats, the scheduler's notes to the feedback guard; the output discards) hears a melody
100-500 ms apart, each note released before the next, and each ``handle(note_on)`` is
timed, for each mode:

- ``idle work on``: the session's policy, :meth:`Improviser.settle` right after each
  note and :meth:`Improviser.idle` called every ``keep_warm_ms`` (5 ms) while no note
  comes: what was heard is taken in, the state re-primed, the model rehearsed and its
  next recurrent product done ahead;
- ``idle work off``: never called (the baseline, in the same run): the listener and the
  beat tracker take their notes in when next asked, on the next note, and nothing is
  kept warm: as the engine was before its idle work.

In follow mode a second row per setting, ``answer out``, times the note's answer: from
the ``handle(note_on)`` to the moment its answer's ``note_on`` is handed to the output
(the note-to-answer latency of the engine; what ``handle`` does after it, the
scheduler's and the events' bookkeeping, delays no note).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from improviser.config.live import LiveConfig
from improviser.inference.protocol import StepModel
from improviser.live.engine.engine import Improviser
from improviser.live.events import EventBus
from improviser.live.io.midi import InMessage, Kind
from improviser.live.session.stats import SessionStats
from improviser.live.timebase.scheduler import Scheduler

__all__ = ["MELODY", "engine_note_rows", "time_engine_notes"]

MELODY = (62, 64, 65, 67, 69, 70, 69, 67, 65, 64, 62, 61, 62, 65, 69, 74, 72, 70, 69, 67)
"""A D minor line the listener can find a key in."""
HELD_SHARE = 0.6
"""Each note is released after this share of the gap to the next."""


NOTE_ON = 0x90


def _wired(
    config: LiveConfig, model: StepModel, sent: list[int] | None = None
) -> tuple[Improviser, Scheduler]:
    """An engine wired as a session; ``sent`` collects when each note-on left (ns)."""
    now = time.monotonic

    def send(message: Sequence[int]) -> None:
        if sent is not None and message[0] & 0xF0 == NOTE_ON and message[2] > 0:
            sent.append(time.perf_counter_ns())

    scheduler = Scheduler(send, now, max_note_seconds=config.max_note_seconds)
    bus = EventBus()
    bus.observe(SessionStats().observe)
    engine = Improviser(config, model, scheduler, now=now, rng=np.random.default_rng(0), bus=bus)
    engine.start()
    return engine, scheduler


def _wait(until: float, idle: Callable[[], None] | None, every: float) -> None:
    """Sleep until ``until``, calling ``idle`` every ``every`` seconds on the way."""
    while (left := until - time.monotonic()) > 0:
        if idle is None:
            time.sleep(left)
            continue
        time.sleep(min(left, every))
        if time.monotonic() < until:
            idle()


def time_engine_notes(
    mode: str,
    model: StepModel,
    notes: int,
    gap_s: tuple[float, float],
    idle_work: bool,
    warmup: int = 3,
    answers: list[float] | None = None,
) -> list[float]:
    """Milliseconds of each ``handle(note_on)`` of ``notes`` notes ``gap_s`` apart;
    ``answers`` collects the milliseconds from each to its answer's note-on sent."""
    config = LiveConfig(mode=mode)
    sent: list[int] = []
    engine, scheduler = _wired(config, model, sent)
    every = config.keep_warm_ms / 1000
    rng = np.random.default_rng(5)

    def idle() -> None:
        scheduler.process_due(time.monotonic())
        engine.tick(time.monotonic())
        if idle_work:
            engine.idle()

    times = []
    for i in range(notes + warmup):
        pitch = MELODY[i % len(MELODY)]
        gap = rng.uniform(*gap_s)
        start = time.monotonic()
        _wait(start + gap * (1 - HELD_SHARE), idle, every)
        before = len(sent)
        t0 = time.perf_counter_ns()
        engine.handle(InMessage(Kind.NOTE_ON, 0, pitch, 80, time.monotonic()))
        if i >= warmup:
            times.append((time.perf_counter_ns() - t0) / 1e6)
            if answers is not None and len(sent) > before:
                answers.append((sent[before] - t0) / 1e6)
        if idle_work:
            engine.settle()  # as the session does right after a note
        _wait(start + gap, idle, every)
        engine.handle(InMessage(Kind.NOTE_OFF, 0, pitch, 0, time.monotonic()))
    scheduler.release_all()
    return times


def engine_note_rows(
    make_model: Callable[[], StepModel],
    notes: int,
    gap_s: tuple[float, float],
    label: str,
    modes: Sequence[str] = ("call-response", "follow"),
) -> dict[str, list[float]]:
    """Each mode's ``handle(note_on)`` at a player's spacing, idle work on and off (a new
    model from ``make_model`` for each row; ``label`` says which and the spacing)."""
    rows = {}
    for mode in modes:
        for idle_work in (False, True):
            name = f"engine note, {mode}, {label}, idle work {'on' if idle_work else 'off'}"
            answers: list[float] = []
            rows[name] = time_engine_notes(
                mode, make_model(), notes, gap_s, idle_work, answers=answers
            )
            if answers:
                rows[f"{name}, answer out"] = answers
    return rows
