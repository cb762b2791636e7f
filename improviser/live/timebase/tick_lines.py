"""Lines through MIDI clock ticks: tick number against arrival time.

What :class:`~improviser.live.timebase.clock.ClockFollower` fits: the least-squares line of the
beat (tempo and phase), Theil and Sen's line a gap is judged by (a late tick or two do
not tilt it), and the numbering of the first ticks after a start, when no tempo tells a
lost tick yet.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Collection, Sequence

__all__ = ["least_delay_numbers", "least_squares", "median_slope", "robust_line"]


def least_squares(ticks: Collection[tuple[int, float]]) -> tuple[float, float] | None:
    """(time of tick 0, seconds per tick) of the least-squares line through ``ticks``
    (``None``: fewer than two, or no positive tempo)."""
    n = len(ticks)
    if n < 2:
        return None
    mean_k = sum(k for k, _ in ticks) / n
    mean_t = sum(t for _, t in ticks) / n
    sxx = sum((k - mean_k) ** 2 for k, _ in ticks)
    sxy = sum((k - mean_k) * (t - mean_t) for k, t in ticks)
    per_tick = sxy / sxx
    return (mean_t - per_tick * mean_k, per_tick) if per_tick > 0 else None


def robust_line(ticks: Sequence[tuple[int, float]]) -> tuple[float, float] | None:
    """Theil and Sen's line through ``ticks``: a late tick or two do not tilt it."""
    if len(ticks) < 3:
        return None
    numbers, times = zip(*ticks, strict=True)
    per_tick = median_slope(numbers, times)
    if not per_tick > 0:
        return None
    return statistics.median(t - k * per_tick for k, t in ticks), per_tick


def least_delay_numbers(times: Sequence[float], spacing: float) -> tuple[float, list[int]]:
    """The numbers (from 0) of ticks at ``times`` that leave the least delay at
    ``spacing``, a lost tick costing half a tick's delay; and that cost, in ticks."""

    def cost(steps: tuple[int, ...]) -> float:
        ks = itertools.accumulate(steps, initial=0)
        delays = [t - k * spacing for k, t in zip(ks, times, strict=True)]
        least = min(delays)
        return (sum(d - least for d in delays) / spacing) + (sum(steps) - len(steps)) / 2

    best = min(itertools.product((1, 2), repeat=len(times) - 1), key=cost)
    return cost(best), list(itertools.accumulate(best, initial=0))


def median_slope(numbers: Sequence[int], times: Sequence[float]) -> float:
    """The median of the slopes between every pair of points (Theil and Sen's line)."""
    pairs = itertools.combinations(zip(numbers, times, strict=True), 2)
    return statistics.median((tj - ti) / (kj - ki) for (ki, ti), (kj, tj) in pairs)
