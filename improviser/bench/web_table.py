"""The manual's table of ``improviser bench web`` (note in -> the page's piano roll)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["web_table"]


def _ms(row: Mapping[str, Any], pct: str) -> str:
    return f"{row[f'{pct}_ms']:.1f}"


def web_table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    """One row per run of ``improviser bench web --json`` (by file name), quietest first."""
    lines = [
        "| run | load average | notes played / taken in by the session / drawn "
        "| **note in → roll** p50 / p99, ms | note in → page server p50 / p99 "
        "| page server → page p50 / p99 | page → frame p50 / p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ordered = sorted(runs.items(), key=lambda item: item[1]["load_average_1min"])
    for name, r in ordered:
        roll, server, page, frame = (
            r[k] for k in ("note_to_roll", "note_to_server", "server_to_page", "page_to_frame")
        )
        lines.append(
            f"| `{name}` | {r['load_average_1min']:.1f} on {r.get('cpu_count') or '?'} cores "
            f"| {r['notes']} / {r.get('session_notes_in', '?')} / {roll['n']} "
            f"| **{_ms(roll, 'p50')} / {_ms(roll, 'p99')}** "
            f"| {_ms(server, 'p50')} / {_ms(server, 'p99')} "
            f"| {_ms(page, 'p50')} / {_ms(page, 'p99')} "
            f"| {_ms(frame, 'p50')} / {_ms(frame, 'p99')} |"
        )
    first = ordered[0][1]
    lines += [
        "",
        f"Each run: {first['notes']} notes, one every {first['gap_s']:g} s; "
        f"{first['browser']}; JACK at {first['jack_period']} frames; broker: "
        f"{first['broker']}; the browser's clock set to ours within "
        f"{max(r['clock_uncertainty_ms'] for r in runs.values()):.1f} ms; target: p99 under "
        f"{first['target_ms']:.0f} ms.",
    ]
    return "\n".join(lines)
