"""``improviser evaluate``: a model and the baselines scored on held-out files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from improviser.cli.report import report
from improviser.cli.style import StyleOpt, check_style
from improviser.config.styles import harmony_model_for, melody_model_for
from improviser.errors import ConfigError

__all__ = ["evaluate", "print_evaluation", "register"]

console = Console(stderr=True)


def evaluate(
    data: Annotated[list[Path], typer.Argument(help="Held-out MIDI files or directories.")],
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Model (.keras).")] = None,
    style: StyleOpt = None,
    train: Annotated[
        list[Path] | None, typer.Option(help="Fit the baselines on these instead.")
    ] = None,
    regression_model: Annotated[
        Path | None, typer.Option(help="Notebook regression model to score as a baseline.")
    ] = None,
    stm: Annotated[
        bool,
        typer.Option(help="Also score the model blended with a short-term model of each piece."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    kind: Annotated[
        str, typer.Option(help="melody, or harmony: bits per accompaniment event, per voice.")
    ] = "melody",
) -> None:
    """Score a model and the baselines on held-out files (bits/note, accuracy)."""
    check_style(style)
    if kind == "harmony":
        from improviser.cli.train_harmony import evaluate_harmony_command  # noqa: PLC0415

        evaluate_harmony_command(harmony_model_for(model, style), data, train, as_json)
        return
    if kind != "melody":
        raise ConfigError(f"--kind must be melody or harmony, got {kind!r}")
    model = melody_model_for(model, style)
    from improviser.training.evaluate import evaluate as run_evaluate  # noqa: PLC0415

    result = run_evaluate(
        model,
        data,
        train=train,
        regression_model=regression_model,
        stm=stm,
        progress=None if as_json else (lambda msg: console.print(f"[dim]{msg}…[/]")),
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_evaluation(result)


def print_evaluation(result: dict[str, Any]) -> None:
    """The evaluation as a table."""
    table = Table(title=f"{result['files']} held-out files, {result['notes']} notes")
    table.add_column("model")
    table.add_column("pitch bits/note", justify="right")
    table.add_column("accuracy", justify="right")
    table.add_column("top-5", justify="right")
    if "bits_per_note" in result:
        table.add_row(
            "[bold]improviser[/]",
            f"{result['bits_per_note']:.3f}",
            f"{result['accuracy']:.3f}",
            f"{result.get('top5', float('nan')):.3f}",
        )
    if "with_stm" in result:
        row = result["with_stm"]
        table.add_row(
            "[bold]improviser + short-term model[/]",
            f"{row['bits_per_note']:.3f}",
            f"{row['accuracy']:.3f}",
            f"{row['top5']:.3f}",
        )
    for name, row in result["baselines"].items():
        table.add_row(
            name,
            f"{row['bits_per_note']:.3f}",
            f"{row['accuracy']:.3f}",
            f"{row['top5']:.3f}" if "top5" in row else "-",
        )
    report().print(table)
    if "with_stm" in result:
        row = result["with_stm"]
        report().print(
            f"short-term model (order {row['max_order']}, {row['blend']} blend, bias "
            f"{row['bias']}): {row['gain_bits']:+.3f} bits/note against the model alone"
        )
    if "ioi_bits" in result:
        report().print(
            f"rhythm: IOI {result['ioi_bits']:.3f} bits ({result['ioi_accuracy']:.3f} acc), "
            f"duration {result['duration_bits']:.3f} bits ({result['duration_accuracy']:.3f} acc)"
        )


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to the main app."""
    app.command()(evaluate)
