"""Pictures people look at before they listen: piano rolls and training curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from improviser.errors import ModelError, missing_extra
from improviser.inference.modelfile import read_metadata
from improviser.music.midi_read import read_midi
from improviser.music.notes import Note
from improviser.music.roll import beat_lines, note_name, split_parts

__all__ = ["plot_pianoroll", "plot_training"]

_MOST_BEAT_LINES = 400
"""Beyond this many beats only bar lines are drawn."""
_MOST_BAR_LABELS = 40
_PART_COLOURS = {"player": "#2563eb", "improviser": "#c2410c"}
"""The same colours as the studio page's roll."""
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
    """A piano roll of ``midi`` as a musician reads it, saved as PNG.

    Pitch is named (C4 = middle C); bars and beats are drawn at the file's tempo (bar
    numbers along the top); in a session recording the player's and the improviser's
    parts have their own colours, each answer is shaded and the player's phrase end
    before it is marked. Other files: one colour per track.
    """
    score = read_midi(midi)
    parts = split_parts(score)
    groups: list[tuple[str, str, list[Note]]] = []
    if parts.player or parts.improviser:
        groups += [("player", _PART_COLOURS["player"], list(parts.player)),
                   ("improviser", _PART_COLOURS["improviser"], list(parts.improviser))]  # fmt: skip
    others = sorted({n.track for n in parts.others})
    for i, track in enumerate(others):
        name = score.track_names[track] if track < len(score.track_names) else ""
        notes = [n for n in parts.others if n.track == track]
        groups.append((name or f"track {track}", _COLOURS[i % len(_COLOURS)], notes))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(14, 5.5), dpi=100)
    end = max((n.end for n in score.notes), default=1.0) + 0.5
    low = min((n.pitch for n in score.notes), default=60) - 2
    high = max((n.pitch for n in score.notes), default=72) + 2
    lines = beat_lines(score.bpm, end)
    if len(lines) > _MOST_BEAT_LINES:
        lines = [(when, beat) for when, beat in lines if beat == 0]
    for when, beat in lines:
        bar = beat == 0
        ax.axvline(when, color="#94a3b8" if bar else "#e2e8f0", linewidth=1.2 if bar else 0.6,
                   zorder=0)  # fmt: skip
    for pitch in range(max(low, 0), min(high, 127) + 1):
        if pitch % 12 in (1, 3, 6, 8, 10):
            ax.axhspan(pitch - 0.5, pitch + 0.5, color="#f1f5f9", zorder=0, linewidth=0)
    for index, answer in enumerate(parts.answers):
        ax.axvspan(answer.start, answer.end, color="#ea580c", alpha=0.10, linewidth=0,
                   label="answer" if index == 0 else None)  # fmt: skip
        if answer.phrase_end is not None:
            ax.axvline(answer.phrase_end, color="#1d4ed8", linestyle="--", linewidth=1,
                       label="phrase end" if index == 0 else None)  # fmt: skip
    for name, colour, notes in groups:
        for n in notes:
            ax.add_patch(
                plt.Rectangle(
                    (n.start, n.pitch - 0.4), max(n.duration, 0.01), 0.8, color=colour,
                    alpha=0.35 + 0.65 * n.velocity / 127, linewidth=0,
                )
            )  # fmt: skip
        ax.plot([], [], color=colour, linewidth=6, label=f"{name} ({len(notes)})")
    ax.set_xlim(0, end)
    ax.set_ylim(low, high)
    ax.set_yticks([p for p in range(max(low, 0), min(high, 127) + 1) if p % 12 in (0, 4, 7)])
    ax.set_yticklabels([note_name(int(p)) for p in ax.get_yticks()])
    bars = [when for when, beat in lines if beat == 0]
    every = max(1, -(-len(bars) // _MOST_BAR_LABELS))
    top = ax.secondary_xaxis("top")
    top.set_xticks(bars[::every], labels=[str(i + 1) for i in range(0, len(bars), every)])
    top.set_xlabel(f"bar (4 beats at {score.bpm:.0f} bpm)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("pitch")
    ax.set_title(title or Path(midi).name)
    ax.legend(loc="upper right", fontsize="small")
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
