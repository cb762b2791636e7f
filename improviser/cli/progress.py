"""Rich progress displays: training (reading, then epochs with loss and notes/s), and a
plain count for the benchmarks' ``progress(done, total)`` callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["TrainingProgress", "count_progress", "taken_line"]

_EPOCH_KEYS = {
    "loss": "loss",
    "val_loss": "val loss",
    "next_pitch_loss": "pitch",
    "val_next_pitch_loss": "val pitch",
    "val_next_pitch_sparse_categorical_accuracy": "val pitch top-1",
    "val_next_value_loss": "val value",
}
"""What an epoch's line shows, in order, as what (a log key absent is left out)."""


def taken_line(event: dict[str, Any]) -> str:
    """What a training run took from its files, from its ``*_taken`` event."""
    if event["event"] == "melody_taken":
        line = (
            f"took the melody line (the top line) of {event['files']} files: "
            f"{event['melody_notes']:,} of {event['notes']:,} notes"
        )
        if not event["polyphonic"]:
            return line + " (every file is one line)"
        return (
            f"{line}; {event['polyphonic']} of them had notes under the melody, left out here: "
            "`--kind harmony` takes those as the lower voices"
        )
    voices = event["lower_voices"]
    sources = event["sources"]
    return (
        f"took the lower voices under the melody of {event['files']} files "
        f"({sources['parts']} as four named parts, {sources['notes']} as the top line and "
        f"the notes under it): {event['events']:,} melody onsets, with 1 / 2 / 3 lower "
        f"voices at {voices[1]:,} / {voices[2]:,} / {voices[3]:,} and none at {voices[0]:,}"
    )


@contextmanager
def count_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr, driven by the ``progress(done, total)`` callback it yields."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


class TrainingProgress:
    """Turns the events of :func:`improviser.training.train.train` into progress bars."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._read: TaskID | None = None
        self._epoch: TaskID | None = None

    def __enter__(self) -> TrainingProgress:
        self.progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def report(self, event: dict[str, Any]) -> None:
        """Show one event from the training run."""
        kind = event["event"]
        if kind == "read":
            if self._read is None:
                self._read = self.progress.add_task("reading", total=event["total"], info="files")
            self.progress.update(self._read, completed=event["done"])
        elif kind == "split":
            self.console.print(
                f"{event['notes']:,} {event.get('unit', 'notes')}; split by "
                f"{event.get('split_by', 'content')}: "
                f"{event['train']} train, {event['val']} validation, {event['test']} test "
                f"files ({event['skipped']} skipped)"
            )
        elif kind in ("melody_taken", "harmony_taken"):
            self.console.print(taken_line(event))
        elif kind == "batch":
            info = f"loss {event['loss']:.3f}  {event['notes_per_second']:,.0f} notes/s"
            desc = f"epoch {event['epoch'] + 1}/{event['epochs']}"
            if self._epoch is None:
                self._epoch = self.progress.add_task(desc, total=event["steps"], info=info)
            self.progress.update(self._epoch, completed=event["batch"], description=desc, info=info)
        elif kind == "epoch":
            logs = event["logs"]
            shown = [k for k in _EPOCH_KEYS if k in logs] or sorted(k for k in logs if "loss" in k)
            parts = [f"{_EPOCH_KEYS.get(k, k)} {logs[k]:.4f}" for k in shown]
            self.console.print(f"epoch {event['epoch'] + 1}: " + ", ".join(parts))
            if self._epoch is not None:
                self.progress.reset(self._epoch)
