"""What a piano roll shows a musician: note names, bars and beats, phrases and answers.

Shared by ``improviser plot`` (a PNG) and the studio page (which draws the same thing in
the browser from :func:`roll_of`'s JSON). Pitch is named the way musicians read it
(middle C, MIDI 60, is ``C4``); time is laid out in bars and beats where the tempo is
known; the player's phrase ends and the improviser's answers are marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from improviser.music.notes import Note, Score

__all__ = [
    "ANSWER_GAP",
    "PART_NAMES",
    "Answer",
    "RollParts",
    "beat_lines",
    "note_name",
    "roll_of",
    "split_parts",
]

_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
PART_NAMES = ("player", "improviser")
"""The track names of a session recording (track 1 the player, track 2 the improviser)."""
ANSWER_GAP = 1.0
"""Seconds of silence in the improviser's part that separate two answers."""


def note_name(pitch: int) -> str:
    """``60`` -> ``"C4"``, ``61`` -> ``"C#4"``, ``21`` -> ``"A0"`` (scientific pitch)."""
    if not 0 <= pitch <= 127:
        raise ValueError(f"pitch must be in range 0..127, got {pitch}")
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer of the improviser's and the player's phrase end before it (seconds)."""

    start: float
    end: float
    phrase_end: float | None
    """The end of the player's last note before the answer (``None``: none before it)."""


@dataclass(frozen=True, slots=True)
class RollParts:
    """A recording's notes split into the player's and the improviser's."""

    player: tuple[Note, ...]
    improviser: tuple[Note, ...]
    others: tuple[Note, ...]
    """Notes of tracks with other names (a file not recorded by a session)."""

    @property
    def answers(self) -> list[Answer]:
        """The improviser's answers: runs of its notes with less than ``ANSWER_GAP`` between."""
        runs: list[list[float]] = []
        for note in sorted(self.improviser, key=lambda n: n.start):
            if runs and note.start - runs[-1][1] < ANSWER_GAP:
                runs[-1][1] = max(runs[-1][1], note.end)
            else:
                runs.append([note.start, note.end])
        out = []
        for start, end in runs:
            before = [n.end for n in self.player if n.start < start]
            out.append(Answer(start, end, max(before) if before else None))
        return out


def split_parts(score: Score) -> RollParts:
    """The notes of ``score`` by part, from its track names (``player``, ``improviser``)."""
    names = [n.casefold() for n in score.track_names]
    parts: dict[str, list[Note]] = {"player": [], "improviser": [], "others": []}
    for note in score.notes:
        name = names[note.track] if note.track < len(names) else ""
        parts[name if name in PART_NAMES else "others"].append(note)
    return RollParts(tuple(parts["player"]), tuple(parts["improviser"]), tuple(parts["others"]))


def beat_lines(bpm: float, seconds: float, beats_per_bar: int = 4) -> list[tuple[float, int]]:
    """``(time, beat in bar)`` of every beat from 0 to ``seconds`` (beat 0: a bar line)."""
    if bpm <= 0 or seconds <= 0:
        return []
    step = 60.0 / bpm
    count = int(seconds / step) + 1
    return [(i * step, i % beats_per_bar) for i in range(count)]


def roll_of(score: Score, beats_per_bar: int = 4) -> dict[str, Any]:
    """The JSON the page draws: notes by part, tempo, answers and phrase ends."""
    parts = split_parts(score)

    def notes(of: tuple[Note, ...]) -> list[list[float]]:
        return [[n.pitch, round(n.start, 4), round(n.end, 4), n.velocity] for n in of]

    end = max((n.end for n in score.notes), default=0.0)
    return {
        "bpm": round(score.bpm, 3),
        "beats_per_bar": beats_per_bar,
        "seconds": round(end, 4),
        "parts": {
            "player": notes(parts.player),
            "improviser": notes(parts.improviser),
            "other": notes(parts.others),
        },
        "answers": [
            {"start": round(a.start, 4), "end": round(a.end, 4), "phrase_end": a.phrase_end}
            for a in parts.answers
        ],
    }
