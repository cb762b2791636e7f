"""The Keras callbacks of a training run: progress, time limit, early stopping, checkpoints.

Training stops on validation (:func:`early_stopping`: ``patience`` epochs with no
improvement of at least ``min_delta``, the best weights kept), on the time limit
(:func:`time_limit_callback`) or at the epoch ceiling; :func:`stopped_by` says which.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from improviser.config import Config
from improviser.inference.modelfile import save_model
from improviser.inference.tfload import keras

__all__ = [
    "ProgressFn",
    "checkpoint_callback",
    "early_stopping",
    "progress_callback",
    "stopped_by",
    "time_limit_callback",
]


ProgressFn = Callable[[dict[str, Any]], None]


def progress_callback(report: ProgressFn, notes_per_batch: int, steps: int, epochs: int) -> Any:
    """A Keras callback that reports batches and epochs to ``report``."""
    k = keras()

    class Progress(k.callbacks.Callback):  # type: ignore[misc,name-defined]
        """Reports epoch, batch, loss and notes/s to ``report``."""

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.t0 = time.perf_counter()
            self.notes = 0

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self.notes += notes_per_batch
            elapsed = time.perf_counter() - self.t0
            report(
                {
                    "event": "batch",
                    "epoch": self.epoch,
                    "epochs": epochs,
                    "batch": batch + 1,
                    "steps": steps,
                    "loss": float((logs or {}).get("loss", math.nan)),
                    "notes_per_second": self.notes / elapsed if elapsed > 0 else 0.0,
                }
            )

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            report({"event": "epoch", "epoch": epoch, "logs": dict(logs or {})})

    return Progress()


def time_limit_callback(minutes: float) -> Any:
    """A Keras callback that stops training after ``minutes`` (0 = never); ``fired`` says."""
    k = keras()

    class TimeLimit(k.callbacks.Callback):  # type: ignore[misc,name-defined]
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.t0 = time.monotonic()

            self.fired = False

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            # Checked per batch: one epoch of a large corpus can outlast the whole budget.
            if minutes > 0 and time.monotonic() - self.t0 > minutes * 60:
                self.model.stop_training = self.fired = True

    return TimeLimit()


def early_stopping(config: Config, monitor: str) -> Any:
    """Stop when ``monitor`` stops improving (``patience``, ``min_delta``); keep the best."""
    k = keras()
    if config.train.patience <= 0:
        return k.callbacks.Callback()
    return k.callbacks.EarlyStopping(
        monitor=monitor,
        patience=config.train.patience,
        min_delta=config.train.min_delta,
        restore_best_weights=True,
    )


def stopped_by(stopping: Any, limit: Any, monitor: str) -> str:
    """Why training ended: ``patience`` (on ``monitor``), ``max_minutes`` or ``epochs``."""
    if getattr(stopping, "stopped_epoch", 0) > 0:
        return f"patience ({monitor})"
    return "max_minutes" if getattr(limit, "fired", False) else "epochs"


def checkpoint_callback(directory: Path, every: int, meta: dict[str, Any], monitor: str) -> Any:
    """A checkpoint every N epochs and one of the best, each with its resume state."""
    k = keras()

    class EpochCheckpoint(k.callbacks.Callback):  # type: ignore[misc,name-defined]
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.best = math.inf

        def _save(self, name: str, epoch: int) -> None:
            path = directory / name
            save_model(self.model, path, {**meta, "checkpoint_epoch": epoch})
            path.with_suffix(".state.json").write_text(json.dumps({"epoch": epoch}))

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            done = epoch + 1
            if done % every == 0:
                self._save(f"epoch-{done:04d}.keras", done)
            value = float((logs or {}).get(monitor, math.inf))
            if value < self.best:
                self.best = value
                self._save("best.keras", done)

    return EpochCheckpoint()
