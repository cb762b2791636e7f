"""The manual's table of ``improviser bench web`` (note in -> the page's piano roll)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["web_table"]

_ROWS = (
    ("note_to_roll", "**note in → drawn on the roll**"),
    ("note_to_server", "note in → page server (JACK, the session, MQTT)"),
    ("server_to_page", "page server → page (the event stream)"),
    ("page_to_frame", "page → the frame that drew it"),
)


def _taken_in(result: Mapping[str, Any]) -> str:
    taken = result.get("session_notes_in")
    if taken is None:
        return ""
    return f" (the session itself took in {taken} of the {result['notes']})"


def web_table(result: Mapping[str, Any]) -> str:
    """The delays of ``improviser bench web --json``, stage by stage, and how they were had."""
    lines = ["| stage | p50, ms | p99, ms | max, ms |", "| --- | ---: | ---: | ---: |"]
    for key, label in _ROWS:
        row = result[key]
        lines.append(
            f"| {label} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} |"
        )
    lines += [
        "",
        f"{result['notes']} notes, one every {result['gap_s']:g} s, {result['lost']} not drawn"
        f"{_taken_in(result)}; "
        f"{result['browser']}; JACK at {result['jack_period']} frames; broker: "
        f"{result['broker']}; the browser's clock set to ours within "
        f"{result['clock_uncertainty_ms']:.1f} ms; load average "
        f"{result['load_average_1min']:.1f} on {result.get('cpu_count') or '?'} cores; target p99 "
        f"{result['target_ms']:.0f} ms.",
    ]
    return "\n".join(lines)
