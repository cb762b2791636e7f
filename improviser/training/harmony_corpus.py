"""Corpus → harmony pieces → split by melody content.

A harmony *piece* is one file's :class:`~improviser.music.voicing.HarmonyEvent` list: a
file with tracks named Soprano, Alto, Tenor and Bass (the chorales of
``samples/chorales``) is read part by part (:func:`events_from_parts`); any other file
(a piano piece) by its top line and the notes under it (:func:`events_from_notes`).
Pieces are split into train / validation / test by their melody's tune (:func:`melody_key`:
its first intervals, transposition- and rhythm-invariant), seeded, as the melody corpus
is by content: the chorales harmonise some tunes several times, and one tune must not
sit on both sides of the split.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from improviser.config import DataConfig, HarmonyModelConfig
from improviser.errors import MidiFileError
from improviser.music.midi_read import part_track, read_midi
from improviser.music.time_signature import beats_per_bar
from improviser.music.voicing import (
    VOICES,
    HarmonyEvent,
    events_from_notes,
    events_from_parts,
    harmony_tokens,
    lower_voice_counts,
)
from improviser.training.dataset import _bucket, expand_paths

__all__ = [
    "KEY_INTERVALS",
    "PART_NAMES",
    "HarmonyCorpus",
    "HarmonyPiece",
    "HarmonySplit",
    "load_harmony_corpus",
    "melody_key",
    "read_piece",
    "split_harmony",
]

PART_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
"""Track names that make a file four parts (read part by part, soprano the melody)."""
Source = Literal["parts", "notes"]
KEY_INTERVALS = 16
"""Melody intervals in a tune key. The chorales harmonise some tunes several times, with
small changes of rhythm or ornament: the first 16 intervals, rhythm aside, group 381
chorales into 316 tunes, where the exact interval and IOI sequence tells all 381 apart
(8 intervals would group them into 247, by chance as much as by tune)."""


def melody_key(events: Sequence[HarmonyEvent]) -> str:
    """The melody's tune key: its first :data:`KEY_INTERVALS` pitch intervals, repeated
    notes merged, rhythm ignored (so transposed, re-barred or re-harmonised copies of one
    tune share it)."""
    melody = [e.melody for e in events]
    steps = [b - a for a, b in itertools.pairwise(melody) if b != a]
    data = np.array(steps[:KEY_INTERVALS], dtype=np.int16).tobytes()
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class HarmonyPiece:
    """One file's harmony events, their tokens and where they came from."""

    path: str
    events: tuple[HarmonyEvent, ...]
    tokens: npt.NDArray[np.int32]
    """:func:`~improviser.music.voicing.harmony_tokens` of :attr:`events`."""
    sha256: str
    source: Source
    """``parts`` (four named tracks) or ``notes`` (top line and the notes under it)."""

    @property
    def key(self) -> str:
        """The melody's tune key (:func:`melody_key`)."""
        return melody_key(self.events)


@dataclass
class HarmonyCorpus:
    """The pieces read from some paths, and the files that could not be used."""

    pieces: list[HarmonyPiece]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) of each file left out."""

    @property
    def events(self) -> int:
        """Melody onsets in all pieces."""
        return sum(len(p.events) for p in self.pieces)

    def lower_voices(self) -> dict[int, int]:
        """How many events of all pieces have 0, 1, 2 and 3 lower voices."""
        total = dict.fromkeys(range(len(VOICES) + 1), 0)
        for piece in self.pieces:
            for count, n in lower_voice_counts(piece.events).items():
                total[count] += n
        return total

    def sources(self) -> dict[str, int]:
        """How many pieces were read part by part and how many as notes."""
        return {s: sum(p.source == s for p in self.pieces) for s in ("parts", "notes")}

    def sha256(self) -> str:
        """One hash of every file's bytes (order-independent)."""
        digest = hashlib.sha256()
        for sha in sorted(p.sha256 for p in self.pieces):
            digest.update(sha.encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class HarmonySplit:
    """Pieces for training, validation and testing."""

    train: list[HarmonyPiece]
    val: list[HarmonyPiece]
    test: list[HarmonyPiece]


def read_piece(path: str | Path) -> HarmonyPiece:
    """The harmony events of one MIDI file (parts if it has S/A/T/B tracks, else notes).

    Raises :class:`MidiFileError` for a file that cannot be read.
    """
    path = Path(path)
    score = read_midi(path)
    bar = beats_per_bar(path)
    tracks = [part_track(score, name) for name in PART_NAMES]
    source: Source
    if all(t is not None for t in tracks):
        parts = [[n for n in score.notes if n.track == t] for t in tracks]
        events = events_from_parts(parts[0], parts[1], parts[2], parts[3], beats_per_bar=bar)
        source = "parts"
    else:
        events = events_from_notes(score.notes, beats_per_bar=bar)
        source = "notes"
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # removed or made unreadable since read_midi read it
        raise MidiFileError(f"{path}: cannot read ({exc.strerror})") from exc
    return HarmonyPiece(str(path), tuple(events), harmony_tokens(events), sha, source)


def load_harmony_corpus(
    paths: Iterable[str | Path],
    cfg: HarmonyModelConfig,
    progress: Callable[[int, int], None] | None = None,
) -> HarmonyCorpus:
    """Read the harmony events of every MIDI file under ``paths``.

    A file that cannot be read, has fewer than ``cfg.min_events`` melody onsets, or has
    no lower voice at all is skipped and listed in :attr:`HarmonyCorpus.skipped`.
    """
    files = expand_paths(paths)
    corpus = HarmonyCorpus(pieces=[])
    for i, path in enumerate(files):
        try:
            piece = read_piece(path)
        except MidiFileError as exc:
            corpus.skipped.append((str(path), str(exc)))
        else:
            if len(piece.events) < cfg.min_events:
                corpus.skipped.append((str(path), f"only {len(piece.events)} melody onsets"))
            elif all(e.sounding == 0 for e in piece.events):
                corpus.skipped.append((str(path), "no note under the melody (one voice only)"))
            else:
                corpus.pieces.append(piece)
        if progress is not None:
            progress(i + 1, len(files))
    return corpus


def split_harmony(pieces: Sequence[HarmonyPiece], cfg: DataConfig) -> HarmonySplit:
    """Split by tune key, seeded (``data``'s fractions and seed, as the melody corpus)."""
    train, val, test = [], [], []
    for piece in pieces:
        u = _bucket(piece.key, cfg.seed)
        if u < cfg.test_fraction:
            test.append(piece)
        elif u < cfg.test_fraction + cfg.val_fraction:
            val.append(piece)
        else:
            train.append(piece)
    return HarmonySplit(train, val, test)
