"""``improviser bench arch``: held-out bits/note of network changes, one at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from improviser.cli.bench_tables import print_variants
from improviser.config import load_config, with_overrides
from improviser.paths import CORPUS_DIR

__all__ = ["add_commands", "arch_cmd"]


def arch_cmd(
    data: Annotated[list[Path] | None, typer.Argument(help="MIDI files or directories.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            help="baseline, wide-first, gru, label-smoothing, weight-average, or a stack "
            "size: size-256-128-64, size-128-64, size-384-192 (repeatable; default: the "
            "first five).",
        ),
    ] = None,
    epochs: Annotated[int, typer.Option(help="Epochs per model (a ceiling with --minutes).")] = 8,
    minutes: Annotated[
        float, typer.Option(help="Minutes of training per model instead (0: epochs decide).")
    ] = 0.0,
    repeats: Annotated[
        int, typer.Option(help="Models per variant, with the next initialization seeds.")
    ] = 1,
    stride: Annotated[int | None, typer.Option(help="Notes between sequence starts.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train the default network and each change to it (same split, seeds and budget);
    score the test split; time each network's step."""
    from improviser.bench.arch import DEFAULT_VARIANTS, bench_arch  # noqa: PLC0415
    from improviser.bench.variants import Budget  # noqa: PLC0415
    from improviser.cli.progress import count_progress  # noqa: PLC0415

    cfg = with_overrides(load_config(config), data={"stride": stride})
    with count_progress("training variants (epochs)") as progress:
        result = bench_arch(
            data or [CORPUS_DIR],
            cfg,
            variants=variant or DEFAULT_VARIANTS,
            budget=Budget(epochs, minutes),
            repeats=repeats,
            progress=progress,
        )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    budget = f"{minutes:g} min" if minutes else f"{epochs} epochs"
    print_variants(result, f"networks: {budget} each", "variant", cost=True)


def add_commands(app: typer.Typer) -> None:
    """Add ``arch`` to the ``bench`` app."""
    app.command("arch")(arch_cmd)
