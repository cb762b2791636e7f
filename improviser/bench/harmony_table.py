"""The manual's tables of ``bench harmony``: from its JSON, never typed by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LABELS", "harmony_evaluate_table", "harmony_table"]

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


def _baseline_label(name: str) -> str:
    kind, order = name.removeprefix("ngram_")[:-1], name[-1]
    return f"{'per-voice' if kind.startswith('role') else 'flat'} n-gram, order {order}"


def harmony_evaluate_table(models: Mapping[str, Mapping[str, Any]]) -> str:
    """``improviser evaluate --kind harmony --json`` results (a label in the table ->
    the JSON): each model, then the first one's n-gram baselines, best first."""
    rows = list(models.items())
    first = next(iter(models.values()))
    baselines = sorted(first.get("baselines", {}).items(), key=lambda kv: kv[1]["bits_per_event"])
    rows += [(_baseline_label(name), scores) for name, scores in baselines]
    best = min(scores["bits_per_event"] for _, scores in rows)
    lines = [
        "| model | bits / event | bass bits / top-1 | tenor bits / top-1 | alto bits / top-1 |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, scores in rows:
        bits = f"{scores['bits_per_event']:.3f}"
        voices = " | ".join(
            f"{scores['voices'][v]['bits']:.3f} / {scores['voices'][v]['accuracy']:.3f}"
            for v in ("bass", "tenor", "alto")
        )
        bits = f"**{bits}**" if scores["bits_per_event"] == best else bits
        lines.append(f"| {label} | {bits} | {voices} |")
    lines += [
        "",
        f"{first['files']} held-out chorales, {first['events']:,} melody onsets "
        f"({first['excluded_files']} files left out as trained or validated on; the n-grams "
        f"fit on the {first['train_files']} training chorales).",
    ]
    return "\n".join(lines)
