"""MQTT off beside on, in rounds: what the bridge adds to the player-to-answer latency.

One follow run with the bridge off and one with it on (every note published) differ by
more than the bridge: a 2-core machine's background load drifts over a run of a few
minutes, and whichever run comes first meets colder caches. So the runs alternate in
rounds, the order flipping each round (off, on; on, off; ...), and the latencies of
every ``off`` run are pooled, and of every ``on`` run: the added p50/p99 is that of the
pools, each round's own difference is reported beside it to show the spread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from improviser.bench.stats import summarize

__all__ = ["MQTT_TARGET_MS", "RunLatencies", "ab_rounds"]

MQTT_TARGET_MS = 0.1
"""The most the MQTT bridge may add to the e2e p99 (issue 10)."""

RunLatencies = Callable[[bool], Awaitable[list[float]]]
"""One follow run, MQTT on (``True``) or off: each answered note's latency, ms."""


async def ab_rounds(run: RunLatencies, rounds: int) -> dict[str, Any]:
    """``rounds`` rounds of an off and an on run (the order flipping each round)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    pools: dict[bool, list[float]] = {False: [], True: []}
    per_round = []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        got = {on: await run(on) for on in order}
        for on, ms in got.items():
            pools[on].extend(ms)
        off, on_ = summarize(got[False]), summarize(got[True])
        per_round.append({
            "order": ["on" if o else "off" for o in order],
            "added_p50_ms": on_["p50_ms"] - off["p50_ms"],
            "added_p99_ms": on_["p99_ms"] - off["p99_ms"],
        })  # fmt: skip
    off, on_ = summarize(pools[False]), summarize(pools[True])
    return {
        "rounds": rounds,
        "off": off,
        "on": on_,
        "added_p50_ms": on_["p50_ms"] - off["p50_ms"],
        "added_p99_ms": on_["p99_ms"] - off["p99_ms"],
        "per_round": per_round,
        "target_added_p99_ms": MQTT_TARGET_MS,
    }
