"""``improviser bench``: the benchmark commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from improviser.config import load_config, with_overrides
from improviser.paths import CORPUS_DIR

__all__ = ["bench_app", "register"]

bench_app = typer.Typer(help="Benchmarks: each prints a table, or JSON with --json.")


@bench_app.command("train")
def train_cmd(
    data: Annotated[list[Path] | None, typer.Argument(help="MIDI files or directories.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    steps: Annotated[int, typer.Option(help="Timed batch steps per model.")] = 30,
    batch_size: Annotated[int | None, typer.Option(help="Sequences per batch.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Training throughput (notes/s) of the model against the notebook's, same run."""
    from improviser.bench.training import bench_training  # noqa: PLC0415

    cfg = with_overrides(load_config(config), train={"batch_size": batch_size})
    result = bench_training(data or [CORPUS_DIR], cfg, steps=steps)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table(
        title=f"training throughput, batch {result['batch_size']}, TF {result['tensorflow']}"
    )
    for col in ("model", "step p50 ms", "step p99 ms", "notes/s", "targets/s"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for name in ("improviser", "notebook_regression"):
        r = result[name]
        table.add_row(
            name,
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['notes_per_s']:,.0f}",
            f"{r['targets_per_s']:,.0f}",
        )
    Console().print(table)
    Console().print(f"targets/s ratio improviser / notebook: {result['ratio_targets_per_s']:.1f}×")


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the main app."""
    app.add_typer(bench_app, name="bench")
