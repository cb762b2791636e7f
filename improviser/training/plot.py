"""Pictures people look at before they listen: piano rolls and training curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from improviser.errors import ModelError, missing_extra
from improviser.inference.modelfile import read_metadata
from improviser.music.midi_read import read_midi

__all__ = ["plot_pianoroll", "plot_training"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _pyplot() -> Any:
    try:
        import matplotlib  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra(exc, "plot", "drawing pictures") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _save(plt: Any, fig: Any, out: str | Path) -> Path:
    fig.tight_layout()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_pianoroll(midi: str | Path, out: str | Path, title: str | None = None) -> Path:
    """A piano roll of every track of ``midi``, one colour per track, saved as PNG."""
    import mido  # noqa: PLC0415

    score = read_midi(midi)
    names: dict[int, str] = {}
    for index, track in enumerate(mido.MidiFile(midi, clip=True).tracks):
        names[index] = track.name or f"track {index}"
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(14, 5), dpi=100)
    tracks = sorted({n.track for n in score.notes})
    for i, track in enumerate(tracks):
        notes = [n for n in score.notes if n.track == track]
        colour = _COLOURS[i % len(_COLOURS)]
        for n in notes:
            ax.add_patch(
                plt.Rectangle(
                    (n.start, n.pitch - 0.4),
                    max(n.duration, 0.01),
                    0.8,
                    color=colour,
                    alpha=0.35 + 0.65 * n.velocity / 127,
                    linewidth=0,
                )
            )
        ax.plot(
            [], [], color=colour, linewidth=6, label=f"{names.get(track, track)} ({len(notes)})"
        )
    if score.notes:
        ax.set_xlim(0, max(n.end for n in score.notes) + 0.5)
        ax.set_ylim(min(n.pitch for n in score.notes) - 2, max(n.pitch for n in score.notes) + 2)
    ax.set_xlabel("seconds")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title or Path(midi).name)
    ax.grid(alpha=0.2)
    ax.legend(loc="upper right")
    return _save(plt, fig, out)


def plot_training(model: str | Path, out: str | Path) -> Path:
    """Training and validation loss and pitch accuracy per epoch of a saved model."""
    history = {
        key: curve
        for key, curve in read_metadata(model).get("history", {}).items()
        if isinstance(curve, list) and all(isinstance(x, int | float) for x in curve)
    }
    if not history:
        raise ModelError(f"{Path(model).with_suffix('.json')}: no training history to plot")
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=100)
    for key in ("loss", "val_loss"):
        if key in history:
            left.plot(range(1, len(history[key]) + 1), history[key], label=key, marker="o")
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.legend()
    left.grid(alpha=0.3)
    for key in sorted(history):
        if key.endswith("accuracy"):
            right.plot(range(1, len(history[key]) + 1), history[key], label=key, marker="o")
    right.set_xlabel("epoch")
    right.set_ylabel("pitch accuracy")
    right.legend()
    right.grid(alpha=0.3)
    fig.suptitle(Path(model).name)
    return _save(plt, fig, out)
