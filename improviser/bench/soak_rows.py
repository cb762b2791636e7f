"""One row of ``bench soak`` per interval, and the summary checked against the goals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from improviser.bench.soak_ledger import SoakLedger, engine_costs
from improviser.bench.stats import summarize

__all__ = ["GOALS", "Interval", "summary"]

GOALS = {"anon_growth_pct": 5.0, "stuck_notes": 0, "latency_p99_ratio": 1.5}
"""The issue's goals: own anonymous memory grows < 5 % from the first row to the last; no
stuck note; answer latency p99 flat (the last row's within 1.5× the first's, or 1 ms)."""
FLAT_MS = 1.0


class Interval:
    """What is sampled and collected during one interval."""

    def __init__(self) -> None:
        self.queue_max = 0
        self.backlog_max = 0
        self.messages: list[float] = []
        self.note_ons: list[float] = []

    def sample(self, queue_depth: int, backlog: int) -> None:
        """The engine queue's depth and the event subscription's backlog now."""
        self.queue_max = max(self.queue_max, queue_depth)
        self.backlog_max = max(self.backlog_max, backlog)

    def costs(self, trace: Sequence[tuple[str, float, float]], note_ons: set[float]) -> None:
        """The engine's cost of each message in a drained part of the trace."""
        every, ons = engine_costs(trace, note_ons)
        self.messages += every
        self.note_ons += ons

    def row(
        self,
        *,
        at: float,
        memory: dict[str, float],
        tasks: int,
        stats: dict[str, Any],
        ledger: dict[str, Any],
        host: dict[str, Any],
    ) -> dict[str, Any]:
        """The interval's row (cumulative counters are the session's, as of now; ``host``:
        the interval's steal and JACK complaints, :class:`~improviser.bench.host.HostWatch`)."""
        cost = summarize(self.note_ons)
        return {
            "t_s": round(at, 1),
            **memory,
            "tasks": tasks,
            "queue_max": self.queue_max,
            "backlog_max": self.backlog_max,
            "dropped": stats["dropped"],
            "events_dropped": stats["events_dropped"],
            "notes_in": stats["notes_in"],
            "phrases_engine": stats["phrases"],
            "answers": stats["answers"],
            **ledger,
            "messages": len(self.messages),
            "engine_n": cost["n"],
            "engine_p50_ms": cost["p50_ms"],
            "engine_p99_ms": cost["p99_ms"],
            "engine_max_ms": cost["max_ms"],
            **host,
        }


def _growth(first: float, last: float) -> float:
    return 100 * (last - first) / first if first else math.nan


def summary(rows: Sequence[dict[str, Any]], ledger: SoakLedger) -> dict[str, Any]:
    """Totals over the run (the last judgements after the session closed included) and
    the goal checks."""
    tail = ledger.take_interval()
    total = {k: sum(r[k] for r in rows) + tail[k] for k in ledger.counts}
    final_stuck = len(ledger.sounding)
    out: dict[str, Any] = {**total, "left_sounding": final_stuck}
    if not rows:
        return out
    first, last = rows[0], rows[-1]
    lat = [r for r in rows if r["latency_n"]]
    p99_first = lat[0]["latency_p99_ms"] if lat else math.nan
    p99_last = lat[-1]["latency_p99_ms"] if lat else math.nan
    flat = bool(lat) and (
        p99_last <= GOALS["latency_p99_ratio"] * p99_first or p99_last - p99_first <= FLAT_MS
    )
    out |= {
        "anon_growth_pct": _growth(first["anon_mb"], last["anon_mb"]),
        # The short-term model fills to its bound (listen.short_term_notes) in the first
        # minutes by design; growth over the second half shows whether anything else grows.
        "anon_growth_second_half_pct": _growth(rows[len(rows) // 2]["anon_mb"], last["anon_mb"]),
        "rss_growth_pct": _growth(first["rss_mb"], last["rss_mb"]),
        "tasks_first_last": [first["tasks"], last["tasks"]],
        "latency_p99_first_last_ms": [p99_first, p99_last],
        "dropped": last["dropped"],
        "events_dropped": last["events_dropped"],
        "answers": last["answers"],
    }
    out["goals"] = {
        "anon_growth": out["anon_growth_pct"] < GOALS["anon_growth_pct"],
        "no_stuck_notes": total["stuck"] + final_stuck == GOALS["stuck_notes"],
        "latency_p99_flat": flat,
        "every_phrase_answered": total["unanswered"] == 0,
    }
    return out
