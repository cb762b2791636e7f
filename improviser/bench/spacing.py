"""Timing at a player's spacing: notes 100-500 ms apart, cold or kept warm.

Between a player's notes the weights and the sampler's tables leave the caches; the live
session rehearses a step every ``keep_warm_ms`` to keep them in (``improviser.idle``).
:func:`time_spaced_steps` times any step so; :func:`real_spacing_rows` gives the
``bench latency`` rows of one engine: cold, and kept warm every 5 ms and every 1 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from improviser.inference.context import ModelContext
from improviser.live.session.gcpause import collect_young_if_due
from improviser.music.encoding import Token
from improviser.music.sampling import Sampler

__all__ = [
    "KEEP_WARM_ROWS_MS",
    "REAL_GAP_LABEL",
    "REAL_GAP_S",
    "real_spacing_rows",
    "time_spaced_steps",
]

REAL_GAP_S = (0.1, 0.5)
"""A player's spacing of notes (seconds) for the rows timed at real spacing."""
REAL_GAP_LABEL = "100-500 ms"
KEEP_WARM_ROWS_MS = (5.0, 1.0)
"""Keep-warm periods timed at real spacing: 5 ms, and the live default (``keep_warm_ms``)."""


def time_spaced_steps(
    step: Callable[[Token], object],
    tokens: Sequence[Token],
    gap_s: tuple[float, float],
    keep_warm: Callable[[], object] | None = None,
    keep_warm_s: float = 0.005,
    warmup: int = 2,
) -> list[float]:
    """Milliseconds of each ``step(token)``, notes a random ``gap_s`` apart, as played.

    With ``keep_warm``, it is called every ``keep_warm_s`` during each gap, as the live
    session's ``improviser.idle`` task rehearses a step between notes.
    """
    rng = np.random.default_rng(4)
    clock = time.perf_counter
    times = []
    for i, token in enumerate(tokens):
        due = clock() + rng.uniform(*gap_s)
        while (left := due - clock()) > 0:
            if keep_warm is None:
                time.sleep(left)
            else:
                time.sleep(min(left, keep_warm_s))
                if clock() < due:
                    keep_warm()
        t0 = time.perf_counter_ns()
        step(token)
        if i >= warmup:
            times.append((time.perf_counter_ns() - t0) / 1e6)
    return times


def real_spacing_rows(
    name: str,
    context: ModelContext,
    sampler: Sampler,
    step: Callable[[Token], object],
    tokens: Sequence[Token],
) -> dict[str, list[float]]:
    """Step + sample at a player's spacing: cold, and kept warm as the session does (the
    context that draws rehearses)."""

    def rehearse() -> None:
        collect_young_if_due()
        context.rehearse(sampler)

    rows = {f"{REAL_GAP_LABEL} apart": time_spaced_steps(step, tokens, REAL_GAP_S)}
    for every_ms in KEEP_WARM_ROWS_MS:
        rows[f"{REAL_GAP_LABEL}, warm {every_ms:g} ms"] = time_spaced_steps(
            step, tokens, REAL_GAP_S, rehearse, every_ms / 1000
        )
    return {f"{name}, {row}": times for row, times in rows.items()}
