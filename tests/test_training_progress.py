"""What ``improviser train`` prints at each epoch's end: the losses a user decides on."""

from __future__ import annotations

import io

from rich.console import Console

from improviser.cli.progress import TrainingProgress


def _epoch_line(logs: dict[str, float]) -> str:
    out = io.StringIO()
    with TrainingProgress(Console(file=out, width=200)) as progress:
        progress.report({"event": "epoch", "epoch": 4, "logs": logs})
    return next(line for line in out.getvalue().splitlines() if line.startswith("epoch 5:"))


def test_an_epoch_line_shows_the_validation_loss_and_pitch_first() -> None:
    logs = {
        "loss": 2.3,
        "next_duration_loss": 0.52,
        "next_ioi_loss": 0.08,
        "next_pitch_loss": 1.99,
        "next_pitch_sparse_categorical_accuracy": 0.33,
        "next_velocity_loss": 0.0,
        "val_loss": 2.04,
        "val_next_pitch_loss": 1.75,
        "val_next_pitch_sparse_categorical_accuracy": 0.41,
    }
    line = _epoch_line(logs)
    assert line == (
        "epoch 5: loss 2.3000, val loss 2.0400, pitch 1.9900, val pitch 1.7500, "
        "val pitch top-1 0.4100"
    )


def test_an_epoch_line_of_other_logs_shows_their_losses() -> None:
    assert _epoch_line({"mse": 0.1, "a_loss": 0.5}) == "epoch 5: a_loss 0.5000"
