"""``improviser train|evaluate --kind harmony``: the harmony model from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from improviser.cli.report import report
from improviser.config import Config, with_overrides
from improviser.errors import ConfigError
from improviser.music.voicing import VOICES

__all__ = ["evaluate_harmony_command", "train_harmony_command"]


def train_harmony_command(
    data: list[Path],
    out: Path,
    cfg: Config,
    resume: Path | None,
    melody_only: dict[str, Any],
    harmony: dict[str, Any],
) -> None:
    """Train a harmony model on ``data`` and say what it took and what it saved.

    ``melody_only``: options given that only the melody model has (refused, one line);
    ``harmony``: ``[harmony]`` keys set on the command line (``lstm_units``, ``dropout``).
    """
    from improviser.cli.progress import TrainingProgress  # noqa: PLC0415
    from improviser.training.harmony_train import train_harmony  # noqa: PLC0415

    given = [name for name, value in melody_only.items() if value is not None]
    if given:
        raise ConfigError(
            f"{', '.join(given)} apply to the melody model only; the harmony model's "
            "sequences are set in the config's [harmony] section"
        )
    cfg = with_overrides(cfg, harmony=harmony)
    console = Console(stderr=True)
    with TrainingProgress(console) as progress:
        result = train_harmony(data, out, cfg, resume=resume, report=progress.report)
    last = {k: v[-1] for k, v in result.history.items() if v}
    console.print(
        f"saved [bold]{result.model_path}[/] (harmony) after {result.epochs} epochs in "
        f"{result.seconds:.0f} s ({result.notes_per_second:,.0f} tokens/s); "
        + ", ".join(f"{k} {v:.4f}" for k, v in sorted(last.items()))
    )


def evaluate_harmony_command(
    model: Path, data: list[Path], train: list[Path] | None, as_json: bool
) -> None:
    """Score a harmony model and its n-gram baselines on held-out files; a table or JSON."""
    from improviser.training.harmony_evaluate import evaluate_harmony  # noqa: PLC0415

    console = Console(stderr=True)
    result = evaluate_harmony(
        model,
        data,
        train=train,
        progress=None if as_json else (lambda msg: console.print(f"[dim]{msg}…[/]")),
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table(title=f"{result['files']} held-out files, {result['events']} melody onsets")
    table.add_column("model")
    table.add_column("bits/event", justify="right")
    for voice in VOICES:
        table.add_column(f"{voice} bits", justify="right")
        table.add_column(f"{voice} top-1", justify="right")
    rows = [("[bold]harmony model[/]", result)]
    rows += [(name, result["baselines"][name]) for name in sorted(result["baselines"])]
    for name, row in rows:
        cells = [f"{row['bits_per_event']:.3f}"]
        for voice in VOICES:
            scores = row["voices"][voice]
            cells += [f"{scores['bits']:.3f}", f"{scores['accuracy']:.3f}"]
        table.add_row(name, *cells)
    report().print(table)
    report().print(
        f"best n-gram: {result['best_ngram']}; the model against it: "
        f"{result['gain_over_best_ngram_bits']:+.3f} bits per event (positive: the model is better)"
    )
