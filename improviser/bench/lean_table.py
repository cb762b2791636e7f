"""The manual's table of ``improviser bench lean`` (answers leaning on the call's chord)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["lean_table"]


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.1f} %"


def lean_table(result: Mapping[str, Any]) -> str:
    """One row per chord_lean weight of a ``bench lean --json`` result, and the truth."""
    lines = [
        "| answers | notes (on strong beats) | strong beats on the call's chord tones "
        "| other notes on them | in the call's key | one note drawn p50 / p99, ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in result["systems"].items():
        draw = row.get("draw")
        timing = "–" if draw is None else f"{draw['p50_ms']:.3f} / {draw['p99_ms']:.3f}"
        label = "the chorale's own soprano (truth)" if name == "truth" else f"`{name}`"
        lines.append(
            f"| {label} | {row['notes']} ({row['strong_notes']}) "
            f"| {_pct(row['strong_chord_tones'])} | {_pct(row['other_chord_tones'])} "
            f"| {_pct(row['in_key'])} | {timing} |"
        )
    load = result["load"][0]
    lines += [
        "",
        f"{result['calls']} calls ({result['call_beats']:g} beats of each held-out chorale "
        f"with a chord under its melody, of {result['pieces']}), {result['seeds']} sampler "
        f"seeds each, the bundled melody model on the {result['engine']}; load average "
        f"{load:.1f} when the run began.",
    ]
    return "\n".join(lines)
