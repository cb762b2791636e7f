"""The arithmetic of ``bench sync`` and ``tests/test_timing_jack.py``: where an answer's notes
should have fallen on an outside clock master's grid, and how far a listener's ticks lie
from a steady grid. Pure functions of times in seconds (one clock: ``time.perf_counter``).

An answer starts on a beat and its onsets are whole note values from there
(:mod:`improviser.music.encoding`: every IOI is a whole number of the clock's 24 ticks a
beat), planned at the tempo the session followed when it drew them. So each note's place
is a tick count from the answer's first beat; its error is its arrival at the synth less
the time the master sent that tick. A beat followed a tick off shows as ~21 ms at 120 bpm
on every note, which the distance to the nearest line of a fine grid would hide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "PPQN",
    "answer_errors",
    "late_to_plan",
    "master_time",
    "matched",
    "nearest_beat",
    "planned_ticks",
    "tick_jitter",
]

PPQN = 24
"""MIDI clock ticks per beat."""
_SEARCH = 3
"""Ticks either side of the farthest onset's nearest tick searched for the drawn tempo."""
_WHOLE = 1e-6
"""How near a whole tick an onset of the drawn tempo lies (float error only)."""


def planned_ticks(
    start: float, intended: Sequence[float], seconds_per_beat: float, ppqn: int = PPQN
) -> list[int]:
    """Each planned onset's place, in ticks after the answer's first beat ``start``.

    ``seconds_per_beat`` need only be near the tempo the answer was drawn at (it was read
    a moment later): each onset is ``start`` plus a whole number of that tempo's ticks, so
    of the tick lengths near it that put the farthest onset on a whole tick, the one
    that puts every onset on one is taken (the nearest such; else the one given).
    """
    offsets = [t - start for t in intended]
    tick = seconds_per_beat / ppqn
    far = max(offsets, key=abs, default=0.0)
    nearest = round(far / tick)
    fits = [
        far / k
        for k in range(max(1, nearest - _SEARCH), nearest + _SEARCH + 1)
        if all(abs(x * k / far - round(x * k / far)) < _WHOLE for x in offsets)
    ] if nearest >= 1 else []  # fmt: skip
    if fits:
        tick = min(fits, key=lambda u: abs(u - tick))
    return [round(x / tick) for x in offsets]


def master_time(ticks: Sequence[float], index: int) -> float:
    """When the master sent tick ``index`` (counted from its ``start``; past its last
    tick, extrapolated at the last tick's spacing)."""
    if index < len(ticks):
        return ticks[index]
    period = ticks[-1] - ticks[-2] if len(ticks) > 1 else 0.0
    return ticks[-1] + (index - len(ticks) + 1) * period


def nearest_beat(ticks: Sequence[float], at: float, ppqn: int = PPQN) -> int:
    """The index of the master's beat tick (a multiple of ``ppqn``) nearest to ``at``."""
    beats = np.asarray(ticks[::ppqn])
    if beats.size == 0:
        raise ValueError("the master sent no tick")
    return int(np.argmin(np.abs(beats - at))) * ppqn


def matched(
    heard: Sequence[tuple[float, int]], planned: Sequence[tuple[float, int]]
) -> list[tuple[float, int]]:
    """(arrival, index in ``planned``) of each heard note: the planned note of its pitch
    nearest in time (a note JACK dropped leaves no gap in the others); a heard note no
    planned note explains is left out."""
    out: list[tuple[float, int]] = []
    for arrival, pitch in heard:
        same = [(abs(arrival - t), i) for i, (t, p) in enumerate(planned) if p == pitch]
        if same:
            out.append((arrival, min(same)[1]))
    return out


def answer_errors(
    heard: Sequence[tuple[float, int]],
    planned: Sequence[tuple[float, int]],
    start: float,
    seconds_per_beat: float,
    ticks: Sequence[float],
) -> list[float]:
    """Seconds from the master's tick of each heard note's planned place to its arrival.

    ``heard``: (arrival, pitch) at the synth; ``planned``: (intended send time, pitch) of
    the answer's note-ons; ``start``: the answer's first beat as the session placed it;
    ``seconds_per_beat``: about the tempo it drew them at; ``ticks``: the master's tick
    times. Heard notes are :func:`matched` to planned ones.
    """
    if not planned:
        return []
    first = nearest_beat(ticks, start)
    places = planned_ticks(start, [t for t, _ in planned], seconds_per_beat)
    return [
        arrival - master_time(ticks, first + places[i]) for arrival, i in matched(heard, planned)
    ]


def late_to_plan(
    heard: Sequence[tuple[float, int]], planned: Sequence[tuple[float, int]]
) -> list[float]:
    """Seconds from each heard note's intended send time to its arrival: what the session
    and JACK added, apart from where the session placed the note."""
    return [arrival - planned[i][0] for arrival, i in matched(heard, planned)]


def tick_jitter(ticks: Sequence[float], bpm: float) -> dict[str, Any]:
    """A listener's ticks against the steady grid fitted through them all.

    Each tick's place on the grid comes from its time (a tick JACK dropped leaves a gap,
    not jitter, and counts as lost); its jitter is its distance from the fitted line.
    """
    t = np.asarray(ticks, dtype=np.float64)
    expected = 60.0 / bpm / PPQN
    if t.size < 2:
        nan = float("nan")
        return {"ticks": int(t.size), "lost": 0, "median_period_ms": nan, "p50_ms": nan,
                "p95_ms": nan, "p99_ms": nan, "max_ms": nan}  # fmt: skip
    index = np.rint((t - t[0]) / expected)
    slope, origin = np.polyfit(index, t, 1)
    jitter = np.abs(t - (origin + slope * index)) * 1000
    p50, p95, p99 = np.percentile(jitter, [50, 95, 99])
    return {
        "ticks": int(t.size),
        "lost": int(index[-1]) + 1 - int(t.size),
        "median_period_ms": float(np.median(np.diff(t)) * 1000),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "max_ms": float(jitter.max()),
    }
