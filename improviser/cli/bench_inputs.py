"""``improviser bench inputs``: held-out bits/note with and without each extra input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from improviser.cli.bench_tables import print_inputs
from improviser.config import load_config, with_overrides
from improviser.paths import CORPUS_DIR

__all__ = ["add_commands", "inputs_cmd"]


def inputs_cmd(
    data: Annotated[list[Path] | None, typer.Argument(help="MIDI files or directories.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant", help="none, interval, degree, bar or all (repeatable; default: each)."
        ),
    ] = None,
    epochs: Annotated[int, typer.Option(help="Epochs per variant (the same for each).")] = 5,
    repeats: Annotated[
        int, typer.Option(help="Models per variant, with the next initialization seeds.")
    ] = 1,
    batch_size: Annotated[int | None, typer.Option(help="Sequences per batch.")] = None,
    stride: Annotated[int | None, typer.Option(help="Notes between sequence starts.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train one model per extra-input variant (same split, seeds, epochs); score the test split."""
    from improviser.bench.inputs import VARIANTS, bench_inputs  # noqa: PLC0415
    from improviser.cli.progress import count_progress  # noqa: PLC0415

    cfg = with_overrides(
        load_config(config), data={"stride": stride}, train={"batch_size": batch_size}
    )
    with count_progress("training variants (epochs)") as progress:
        result = bench_inputs(
            data or [CORPUS_DIR],
            cfg,
            variants=variant or tuple(VARIANTS),
            epochs=epochs,
            repeats=repeats,
            progress=progress,
        )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_inputs(result)


def add_commands(app: typer.Typer) -> None:
    """Add ``inputs`` to the ``bench`` app."""
    app.command("inputs")(inputs_cmd)
