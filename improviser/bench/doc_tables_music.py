"""Tables of the manual about how the answers sound, from the JSON that ``improviser bench
musicality --json`` leaves in ``samples/musicality/`` (``python -m improviser.cli.docs``
puts them in the pages)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MUSICALITY_GOALS",
    "MUSICALITY_ROWS",
    "musicality_goals_table",
    "musicality_octaves_table",
    "musicality_table",
]

MUSICALITY_ROWS: dict[str, tuple[str, str, str]] = {
    "replay": ("replay", "mean", "replays (>= 8 notes of the call in order)"),
    "transposed_replay": ("transposed_replay", "mean", "transposed replays (apart)"),
    "motif_reuse": ("motif_reuse", "mean", "4-note shapes of the call reused"),
    "grid": ("grid", "mean", "onsets on the call's grid"),
    "drift": ("drift", "mean", "note values off by 2x (median IOI)"),
    "key": ("key", "mean", "in the call's key"),
    "long_notes": ("long_notes", "mean", "notes >= 1.5 beats"),
    "rests": ("rests", "mean", "rests >= 1.5 beats"),
    "register_p50": ("register", "p50", "register shift p50 (semitones)"),
    "register_p99": ("register", "p99", "register shift p99"),
    "leaps": ("leaps", "mean", "leaps > 7 semitones"),
    "degenerate": ("degenerate", "mean", "degenerate answers"),
}
"""Each row the tables can show: (metric, statistic, label), by name."""

MUSICALITY_GOALS: tuple[tuple[str, str, str, float], ...] = (
    ("replays", "replay", "<=", 0.02),
    ("shapes reused", "motif_reuse", ">= x real", 0.5),
    ("grid", "grid", ">= x real", 0.95),
    ("drift", "drift", "<= x real", 2.0),
)
"""The goals set for the answers (issue 19): (label, metric, rule, bound); ``x real``: the
bound is that multiple of the real continuations' (``truth``) share."""


def _cell(metrics: Mapping[str, Any], name: str, row: str, digits: int) -> str:
    metric, stat, _ = MUSICALITY_ROWS[row]
    value = metrics[name][metric][stat]
    return "-" if value is None else f"{value:.{digits}f}"


def musicality_table(
    result: Mapping[str, Any],
    columns: Sequence[str] | Mapping[str, str],
    rows: Sequence[str],
    *,
    digits: int = 3,
    octave: int | None = None,
) -> str:
    """Answerers side by side: ``columns`` names the result's answerers (or maps each to
    its heading), ``rows`` picks :data:`MUSICALITY_ROWS`; ``octave``: the calls moved by
    that many octaves only (a run with ``--octave``)."""
    metrics = result["metrics"] if octave is None else result["by_octave"][str(octave)]
    heads = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    lines = [
        "| share of answers / notes | " + " | ".join(f"`{h}`" for h in heads.values()) + " |",
        "| --- |" + " ---: |" * len(heads),
    ]
    for row in rows:
        cells = " | ".join(_cell(metrics, name, row, digits) for name in heads)
        lines.append(f"| {MUSICALITY_ROWS[row][2]} | {cells} |")
    lines += ["", _footer(result, octave)]
    return "\n".join(lines)


def _footer(result: Mapping[str, Any], octave: int | None = None) -> str:
    load = result.get("loadavg_1min")
    part = ""
    if octave is not None:
        part = (
            f"The calls at octave {octave:+d}: {result['answers'] // len(result['octaves']):,} "
            "answers of the run's "
        )
    return part + (
        f"{result['answers']:,} answers: {result['calls']} held-out calls × "
        f"{len(result['keys'])} keys × {len(result['octaves'])} octave(s), "
        f"{result['call_notes']}-note calls, {result['answer_notes']}-note answers; "
        f"{result['seconds']:.0f} s"
        + (f", load average {load:.2f}" if load is not None else "")
        + "."
    )


def musicality_goals_table(result: Mapping[str, Any], columns: Sequence[str]) -> str:
    """Each of :data:`MUSICALITY_GOALS` for the answerers in ``columns``: met or not."""
    truth = result["metrics"]["truth"]
    lines = [
        "| goal | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for label, metric, rule, bound in MUSICALITY_GOALS:
        limit = bound * truth[metric]["mean"] if "real" in rule else bound
        head = (
            f"{label} {rule.split()[0]} {bound:g} x real ({limit:.3f})"
            if "real" in rule
            else f"{label} {rule} {bound:g}"
        )
        cells = []
        for name in columns:
            value = result["metrics"][name][metric]["mean"]
            met = value <= limit if rule.startswith("<=") else value >= limit
            cells.append(f"{value:.3f} {'met' if met else '**not met**'}")
        lines.append(f"| {head} | {' | '.join(cells)} |")
    return "\n".join(lines)


def musicality_octaves_table(
    result: Mapping[str, Any],
    columns: Sequence[str],
    before: Mapping[str, Any] | None = None,
) -> str:
    """The calls moved by octaves (``--octave``), one row per octave and answerer; in
    brackets the same answerer of ``before`` (another model's run), where given."""
    lines = [
        "| call octave | answerer | in key | motifs reused | register shift p50 / p99 | leaps |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]

    def cells(metrics: Mapping[str, Any]) -> list[str]:
        reg = metrics["register"]
        return [
            f"{metrics['key']['mean']:.3f}",
            f"{metrics['motif_reuse']['mean']:.3f}",
            f"{reg['p50']:.2f} / {reg['p99']:.2f}",
            f"{metrics['leaps']['mean']:.3f}",
        ]

    for octave, metrics in sorted(result["by_octave"].items(), key=lambda kv: int(kv[0])):
        old = before["by_octave"].get(octave) if before else None
        for name in columns:
            now = cells(metrics[name])
            if old is not None and name in old and name != "truth":
                now = [f"{a} ({b})" for a, b in zip(now, cells(old[name]), strict=True)]
            lines.append(f"| {int(octave):+d} | `{name}` | {' | '.join(now)} |")
    return "\n".join(lines)
