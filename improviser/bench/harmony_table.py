"""The manual's tables of ``bench harmony``: from its JSON, never typed by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LABELS", "harmony_table"]

LABELS = {
    "note_in_chord": "melody notes in the chord",
    "dissonance_per_onset": "m2/M7/tritone with the melody, per onset",
    "parallels_per_100_moves": "parallel 5ths/8ves per 100 voice moves",
    "motion": "mean voice motion, semitones",
    "crossings": "voice crossings (onsets)",
    "in_key": "voice notes in key",
    "on_beat": "voice attacks on the beat",
    "chords_per_8_beats": "distinct chords per 8 beats",
}
"""Each measure's label in a table."""
_SHARES = ("note_in_chord", "in_key", "on_beat")


def value_text(measure: str, value: float | None) -> str:
    """A measure's value as a table shows it."""
    if value is None:
        return "-"
    if measure in _SHARES:
        return f"{value:.1%}"
    if measure == "crossings":
        return f"{value:.0f}"
    return f"{value:.2f}"


def harmony_table(result: Mapping[str, Any]) -> str:
    """The measures of every system and the latency rows, as Markdown."""
    systems = result["systems"]
    names = list(systems)
    lines = [
        "| measure | " + " | ".join(names) + " | model / truth |",
        "| --- |" + " ---: |" * (len(names) + 1),
    ]
    for m in result["measures"]:
        ratio = result["model_over_truth"][m]
        cells = [value_text(m, systems[s][m]) for s in names]
        ratio_text = "-" if ratio is None else f"{ratio:.2f}"
        lines.append(f"| {LABELS.get(m, m)} | " + " | ".join(cells) + f" | {ratio_text} |")
    lines += [
        "",
        f"{result['files']} held-out chorales, {result['onsets']:,} melody onsets; the model "
        f"at temperature {result['temperature']:g}, top-p {result['top_p']:g}, seed "
        f"{result['seed']} (reset per piece), on the {result['engine']}.",
    ]
    latency = result.get("latency") or {}
    if latency:
        lines += [
            "",
            "| one melody onset (3 steps + 3 draws, hot) | onsets | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, r in latency.items():
            lines.append(f"| {name} | {r['n']:,} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} |")
        if "loadavg_1min" in result:
            lines += [
                "",
                f"Timed on {result['cpu_count']} CPUs at a load average of "
                f"{result['loadavg_1min']:.1f} (1 min, at the end of the run).",
            ]
    return "\n".join(lines)
