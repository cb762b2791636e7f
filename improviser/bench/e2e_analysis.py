"""The figures of ``improviser bench e2e``, from what was sent, heard and traced.

Pure functions over timestamps (seconds, ``CLOCK_MONOTONIC`` in every process): which
heard note answers which sent one, the per-stage breakdown, the scheduler's jitter from
the session's events, stuck notes, a JACK server log's overruns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from improviser.bench.host import LATE_CYCLE, NOT_FINISHED
from improviser.bench.stats import summarize
from improviser.live.events import AnswerNote, Event

__all__ = [
    "ENGINE_STAGE",
    "SentTiming",
    "added",
    "answers",
    "floor",
    "jitter",
    "ms",
    "note_ons",
    "stage_ms",
    "stages",
    "stuck",
    "timing",
    "xruns",
]


ENGINE_STAGE = "engine: step, sample, send"
"""The stage from the engine task taking a note to its answer sent."""


class SentTiming(NamedTuple):
    """When a planned message was meant to leave, and when it did (from the events)."""

    intended: float
    actual: float
    on: bool
    tag: str


def timing(events: Sequence[Event]) -> list[SentTiming]:
    return [
        SentTiming(e.intended, e.at, e.velocity > 0, e.tag)
        for e in events
        if isinstance(e, AnswerNote) and e.intended is not None
    ]


def sent_balance(events: Sequence[Event], tag: str) -> tuple[int, int]:
    """The ``tag`` notes the engine sent, and how many of them it never released (its own
    account, before any MIDI leaves the process: what JACK loses on the way is not in it)."""
    sounding: dict[tuple[int, int], int] = {}
    started = 0
    for e in events:
        if not isinstance(e, AnswerNote) or e.tag != tag:
            continue
        key = (e.channel, e.pitch)
        if e.velocity > 0:
            started += 1
            sounding[key] = sounding.get(key, 0) + 1
        elif sounding.get(key):
            sounding[key] -= 1
    return started, sum(sounding.values())


def answers(sent: Sequence[float], heard: Sequence[float]) -> list[float | None]:
    """For each sent time, the first heard time after it and before the next sent one."""
    out: list[float | None] = []
    j = 0
    for i, t in enumerate(sent):
        end = sent[i + 1] if i + 1 < len(sent) else float("inf")
        while j < len(heard) and heard[j] < t:
            j += 1
        out.append(heard[j] if j < len(heard) and heard[j] < end else None)
    return out


def ms(pairs: Sequence[tuple[float, float]]) -> list[float]:
    return [(b - a) * 1000 for a, b in pairs]


def note_ons(heard: Sequence[Sequence[float]]) -> list[float]:
    return sorted(t for t, status, _, velocity in heard if int(status) & 0xF0 == 0x90 and velocity)


def stuck(heard: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(channel, pitch) of notes the synth was left with (CC 123/120 do not count)."""
    sounding: set[tuple[int, int]] = set()
    for _, status, pitch, velocity in sorted(heard, key=lambda e: e[0]):
        kind, key = int(status) & 0xF0, (int(status) & 0x0F, int(pitch))
        if kind == 0x90 and velocity:
            sounding.add(key)
        elif kind in (0x80, 0x90):
            sounding.discard(key)
    return sorted(sounding)


def floor(sent: Sequence[float], heard: Sequence[float]) -> list[float]:
    return ms([(s, h) for s, h in zip(sent, answers(sent, heard), strict=True) if h is not None])


def stages(
    sent: Sequence[float],
    heard: Sequence[float | None],
    timing: Sequence[SentTiming],
    trace: Sequence[tuple[str, float, float]],
    tag: str = "follow",
) -> dict[str, dict[str, float]]:
    """Per-stage milliseconds of each answered note, summarized (see the module docstring)."""
    rows = stage_ms(sent, heard, timing, trace, tag)
    return {name: summarize(values) for name, values in rows.items()}


def stage_ms(
    sent: Sequence[float],
    heard: Sequence[float | None],
    timing: Sequence[SentTiming],
    trace: Sequence[tuple[str, float, float]],
    tag: str = "follow",
) -> dict[str, list[float]]:
    """Per-stage milliseconds of each answered note, stage by stage (:data:`ENGINE_STAGE`...):
    the notes of ``tag`` planned from a player's note (``intended`` = its callback's time),
    the first sent for each (an accompaniment sends several)."""
    at = {(stage, t): clock for stage, t, clock in trace}
    sends: dict[float, float] = {}
    for intended, actual in sorted((x.intended, x.actual) for x in timing if x.on and x.tag == tag):
        sends.setdefault(intended, actual)
    callbacks = list(sends)
    rows: dict[str, list[float]] = {
        "jack in: player -> our callback": [],
        "callback -> loop (threadsafe)": [],
        "queue -> engine task": [],
        ENGINE_STAGE: [],
        "jack out: our send -> synth": [],
    }
    for s, c, r in zip(sent, answers(sent, callbacks), heard, strict=True):
        if c is None or r is None:
            continue
        enq, deq, send = at.get(("enqueued", c)), at.get(("dequeued", c)), sends[c]
        if enq is None or deq is None:
            continue
        for name, (a, b) in zip(
            rows, [(s, c), (c, enq), (enq, deq), (deq, send), (send, r)], strict=True
        ):
            rows[name].append((b - a) * 1000)
    return rows


def jitter(timing: Sequence[SentTiming]) -> dict[str, dict[str, float]]:
    follow_on = [(x.intended, x.actual) for x in timing if x.tag == "follow" and x.on]
    follow_off = [(x.intended, x.actual) for x in timing if x.tag == "follow" and not x.on]
    # An answer's line: its lower voices (``answer-N/voices``) are not another answer.
    answers = [x for x in timing if x.tag.startswith("answer-") and "/" not in x.tag]
    firsts: dict[str, SentTiming] = {}
    for x in answers:
        if x.on and (x.tag not in firsts or x.intended < firsts[x.tag].intended):
            firsts[x.tag] = x
    first_set = set(map(id, firsts.values()))
    inside = [(x.intended, x.actual) for x in answers if x.on and id(x) not in first_set]
    return {
        "follow on: callback -> sent": summarize(ms(follow_on)),
        "follow off (timed)": summarize(ms(follow_off)),
        "answer on (timed)": summarize(ms(inside)),
        "answer 1st on: phrase end": summarize(
            ms([(x.intended, x.actual) for x in firsts.values()])
        ),
        "answer off (timed)": summarize(ms([(x.intended, x.actual) for x in answers if not x.on])),
    }


def xruns(log: Path) -> dict[str, int]:
    """What a private server's log says went wrong: cycles that started late, and clients
    that had not finished a cycle (JACK may drop that cycle's MIDI for them)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return {"late_cycles": 0, "client_overruns": 0}
    return {
        "late_cycles": text.count(LATE_CYCLE),
        "client_overruns": text.count(NOT_FINISHED),
    }


def added(e2e: dict[str, float], floor: dict[str, float]) -> dict[str, dict[str, float]]:
    keys = ("p50_ms", "p99_ms", "max_ms")
    return {
        "vs_p50": {k: e2e[k] - floor["p50_ms"] for k in keys},
        "per_percentile": {k: e2e[k] - floor[k] for k in keys},
    }
