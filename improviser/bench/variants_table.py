"""The manual's tables of trained variants: ``bench arch`` and ``bench inputs`` JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["variants_table"]


def _bits(row: Mapping[str, Any], key: str) -> str:
    runs = row["runs"]
    text = f"{row[key]:.3f}"
    if len(runs) > 1:
        text += " (" + " / ".join(f"{r[key]:.3f}" for r in runs) + ")"
    return text


def _gain(row: Mapping[str, Any], key: str, baseline: str, name: str) -> str:
    if name == baseline or f"{key}_gain_bits" not in row:
        return "—"
    by_seed = row.get(f"{key}_gain_by_seed", [])
    text = f"{row[f'{key}_gain_bits']:+.3f}"
    if len(by_seed) > 1:
        text += " (" + " / ".join(f"{g:+.3f}" for g in by_seed) + ")"
    return text


def _step(row: Mapping[str, Any]) -> str:
    step = row.get("step")
    if not step:
        return "– (not timed)"
    return f"{step['p50_ms']:.4f} / {step['p99_ms']:.4f}"


def variants_table(
    result: Mapping[str, Any],
    labels: Mapping[str, str],
    *,
    cost: bool = False,
    first: str = "variant",
) -> str:
    """One row per variant named in ``labels`` (variant -> row label), in that order.

    Bits are the mean over the seeds with each seed's figure in brackets; Δ is the gain
    over the baseline (positive: fewer bits/note), seed by seed in brackets. ``cost``
    adds the network's multiply-adds and its compiled step p50 / p99.
    """
    variants = result["variants"]
    baseline = result.get("baseline") or ""
    head = [first, "pitch bits/note", "Δ pitch", "total bits/note", "Δ total", "top-1"]
    head += ["epochs", "train notes/s"]
    if cost:
        head += ["k multiply-adds / note", "step p50 / p99, ms"]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for name, label in labels.items():
        row = variants[name]
        cells: Sequence[str] = [
            label,
            _bits(row, "pitch_bits"),
            _gain(row, "pitch", baseline, name),
            _bits(row, "total_bits"),
            _gain(row, "total", baseline, name),
            f"{row['accuracy']:.3f}",
            f"{row['epochs']:.1f}",
            f"{row['train_notes_per_s']:,.0f}",
        ]
        if cost:
            cells = [*cells, f"{row['multiply_adds'] / 1000:.0f}", _step(row)]
        lines.append("| " + " | ".join(cells) + " |")
    budget = (
        f"{result['minutes']:g} minutes"
        if result.get("minutes")
        else (f"{result['epochs']} epochs")
    )
    seeds = result["repeats"]
    lines += [
        "",
        f"{budget} of training per model, {seeds} initialization seed{'s' if seeds > 1 else ''} "
        f"from {result['seed']}; {result['files']['test']} held-out files "
        f"({result['test_notes']:,} notes); TensorFlow {result['tensorflow']} on "
        f"{result['cpu_count']} CPUs, load average {result['load_1min_before']:.1f} at the "
        f"start and {result['load_1min_after']:.1f} at the end, {result['seconds'] / 60:.0f} "
        "minutes in all.",
    ]
    return "\n".join(lines)
