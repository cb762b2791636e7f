"""A session's counters, kept from its events (an observer of the event bus).

Counters only ever grow; the timing samples are bounded (the last
:data:`SAMPLES_KEPT`), so an hours-long session keeps a fixed amount of them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from improviser.live.events import (
    THRU,
    AnswerEnded,
    AnswerNote,
    AnswerStarted,
    Event,
    Notice,
    PhraseEnded,
    PlayerNote,
)

__all__ = ["SAMPLES_KEPT", "SessionStats", "percentile"]

SAMPLES_KEPT = 10_000
"""Response times kept for percentiles (the most recent)."""


def percentile(values: list[float] | deque[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100, nearest rank), ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(slots=True)
class SessionStats:
    """What a session has done so far."""

    notes_in: int = 0
    notes_out: int = 0
    phrases: int = 0
    answers: int = 0
    interrupted: int = 0
    reconnects: int = 0
    dropped: int = 0
    """Incoming messages dropped because the engine's queue was full (set by the session)."""
    response_times: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))
    """Seconds from a cue (end of phrase, followed note) to the first note answering it."""
    jitter: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))
    """Seconds a planned note left after its time."""
    engine_times: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))
    """Seconds the engine took over a player's ``note_on`` (model step, draw, send)."""
    guard_releases: int = 0
    """Keys and pedals held past ``held_key_seconds``, taken as released (lost releases)."""

    def observe(self, event: Event) -> None:
        """Count one event."""
        if isinstance(event, PlayerNote):
            if event.velocity:
                self.notes_in += 1
        elif isinstance(event, AnswerNote):
            if event.velocity and event.tag != THRU:
                self.notes_out += 1
            if event.response is not None:
                self.response_times.append(event.response)
            if event.intended is not None:
                self.jitter.append(event.at - event.intended)
        elif isinstance(event, PhraseEnded):
            self.phrases += 1
        elif isinstance(event, AnswerStarted):
            self.answers += 1
        elif isinstance(event, AnswerEnded):
            self.interrupted += event.interrupted
        elif isinstance(event, Notice) and event.topic == "port_back":
            self.reconnects += 1
        elif isinstance(event, Notice) and event.topic == "stale_keys":
            self.guard_releases += event.count

    def summary(self) -> dict[str, float | int | None]:
        """The counters and p50/p99 of the timings in milliseconds, JSON-ready."""

        def ms(values: deque[float], q: float) -> float | None:
            value = percentile(values, q)
            return None if value is None else round(value * 1000, 3)

        return {
            "notes_in": self.notes_in,
            "notes_out": self.notes_out,
            "phrases": self.phrases,
            "answers": self.answers,
            "interrupted": self.interrupted,
            "reconnects": self.reconnects,
            "dropped": self.dropped,
            "response_p50_ms": ms(self.response_times, 50),
            "response_p99_ms": ms(self.response_times, 99),
            "jitter_p50_ms": ms(self.jitter, 50),
            "jitter_p99_ms": ms(self.jitter, 99),
            "engine_p50_ms": ms(self.engine_times, 50),
            "engine_p99_ms": ms(self.engine_times, 99),
            "guard_releases": self.guard_releases,
        }
