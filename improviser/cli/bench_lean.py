"""``improviser bench lean``: answers to two-hand calls with and without the chord lean."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from improviser.cli.bench_tables import ms_text
from improviser.cli.report import report
from improviser.errors import ConfigError

__all__ = ["add_commands", "bench_lean", "print_lean"]


def bench_lean(
    lean: Annotated[
        list[float] | None,
        typer.Option(help="chord_lean weights to compare (default: 1, 3 and 10)."),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Sampler seeds per call.")] = 4,
    call_beats: Annotated[
        float, typer.Option(help="Beats of each chorale taken as the call.")
    ] = 8.0,
    engine: Annotated[str, typer.Option(help="CPU engine: auto, numpy or native.")] = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Answer the held-out chorales' two-hand calls with each chord_lean weight: strong-beat
    notes on the call's chord tones, the other notes, the key, and what a draw costs."""
    from improviser.bench.chord_lean import LEANS, run_lean_bench  # noqa: PLC0415

    weights = tuple(lean) if lean else LEANS
    if any(w < 1.0 for w in weights):
        raise ConfigError("--lean: a chord_lean weight is 1 (no lean) or more")
    if seeds < 1 or call_beats <= 0:
        raise ConfigError("--seeds must be at least 1 and --call-beats above 0")
    if engine not in ("auto", "numpy", "native"):
        raise ConfigError(f"--engine must be auto, numpy or native, got {engine!r}")
    result = run_lean_bench(leans=weights, seeds=seeds, call_beats=call_beats, engine=engine)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_lean(result)


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f} %"


def print_lean(result: dict[str, Any]) -> None:
    """The table of ``bench lean``."""
    table = Table(
        title=f"answers to {result['calls']} two-hand calls of held-out chorales "
        f"({result['call_beats']:g} beats each), {result['seeds']} seeds, {result['engine']}"
    )
    for col in ("", "notes", "strong beats: chord tones", "other: chord tones", "in key",
                "draw p50 ms", "draw p99 ms"):  # fmt: skip
        table.add_column(col, justify="left" if not col else "right")
    for name, row in result["systems"].items():
        draw = row.get("draw")
        table.add_row(
            name,
            str(row["notes"]),
            _pct(row["strong_chord_tones"]),
            _pct(row["other_chord_tones"]),
            _pct(row["in_key"]),
            "-" if draw is None else ms_text(draw["p50_ms"]),
            "-" if draw is None else ms_text(draw["p99_ms"]),
        )
    report().print(table)


def add_commands(bench_app: typer.Typer) -> None:
    """Add ``lean`` to the ``bench`` group."""
    bench_app.command("lean")(bench_lean)
