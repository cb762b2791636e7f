"""Corpus → pieces → split → windows → ``tf.data``.

A *piece* is one file's melody as tokens. Pieces are split into train / validation /
test by content, not only by file: two files whose melodies have the same interval
sequence (the same tune in two collections, or transposed) always land in the same
split, so held-out figures are not flattered by a copy in the training set. The split is
seeded and stable: a piece's split depends only on its content key and the seed.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from improviser.config import DataConfig
from improviser.errors import MidiFileError, reason
from improviser.music.encoding import encode
from improviser.music.midi_read import part_track, read_midi
from improviser.music.notes import extract_melody, skyline
from improviser.music.viewpoints import viewpoint_classes

__all__ = [
    "Corpus",
    "Piece",
    "Split",
    "content_key",
    "expand_paths",
    "load_corpus",
    "make_dataset",
    "split_pieces",
    "tune_key",
    "windows",
]

MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


@dataclass(frozen=True)
class Piece:
    """One file's melody as an ``(n, 4)`` token array."""

    path: str
    tokens: npt.NDArray[np.int32]
    sha256: str
    split_by: Literal["content", "tune"] = "content"
    """Which key :attr:`key` is (``data.split_by``)."""

    @property
    def key(self) -> str:
        """Split key: same for the same tune in another file or key."""
        return tune_key(self.tokens) if self.split_by == "tune" else content_key(self.tokens)


@dataclass
class Corpus:
    """The pieces read from some paths, and the files that could not be used."""

    pieces: list[Piece]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) of each file left out."""
    notes_read: int = 0
    """Notes of the pieces' files (of the tracks and channels chosen), melody or not."""
    polyphonic: int = 0
    """Pieces whose file had notes beside the melody line (left out of it)."""

    @property
    def notes(self) -> int:
        """Total notes in all pieces."""
        return sum(len(p.tokens) for p in self.pieces)

    def sha256(self) -> str:
        """One hash of every file's bytes (order-independent)."""
        digest = hashlib.sha256()
        for sha in sorted(p.sha256 for p in self.pieces):
            digest.update(sha.encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class Split:
    """Pieces for training, validation and testing."""

    train: list[Piece]
    val: list[Piece]
    test: list[Piece]


def content_key(tokens: npt.NDArray[np.int32]) -> str:
    """A hash of the pitch-interval and IOI sequence: transposition-invariant."""
    intervals = np.diff(tokens[:, 0]).astype(np.int16)
    ioi = tokens[1:, 1].astype(np.int16)
    return hashlib.sha1(np.stack([intervals, ioi]).tobytes(), usedforsecurity=False).hexdigest()


TUNE_KEY_INTERVALS = 16
"""Pitch intervals in a tune key: the harmony corpus's ``KEY_INTERVALS`` (the same key,
so a chorale melody model split by tune holds out the harmony model's test chorales)."""


def tune_key(tokens: npt.NDArray[np.int32]) -> str:
    """A hash of the first 16 pitch intervals, repeated notes merged, rhythm aside."""
    pitches = tokens[:, 0].tolist()
    steps = [b - a for a, b in itertools.pairwise(pitches) if b != a]
    data = np.array(steps[:TUNE_KEY_INTERVALS], dtype=np.int16).tobytes()
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Every MIDI file named, or found under a named directory, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found.extend(
                    p for p in sorted(path.rglob("*")) if p.suffix.lower() in MIDI_SUFFIXES
                )
            elif path.exists():
                found.append(path)
            else:
                raise MidiFileError(f"{path}: no such file or directory")
        except OSError as exc:  # a directory we may not list
            raise MidiFileError(f"{path}: cannot read ({exc.strerror or reason(exc)})") from exc
    return sorted(set(found))


def load_corpus(
    paths: Iterable[str | Path],
    cfg: DataConfig,
    progress: Callable[[int, int], None] | None = None,
) -> Corpus:
    """Read and encode the melody of every MIDI file under ``paths``.

    A file that cannot be read or has fewer than ``cfg.min_notes`` notes is skipped and
    listed in :attr:`Corpus.skipped`, never dropped silently.
    """
    files = expand_paths(paths)
    corpus = Corpus(pieces=[])
    for i, path in enumerate(files):
        try:
            score = read_midi(path)
            named = None if cfg.part is None else part_track(score, cfg.part)
            chosen = extract_melody(
                score.notes,
                channel=cfg.channel,
                track=cfg.track if named is None else named,
                mode="all",
            )
            melody = skyline(chosen) if cfg.melody == "skyline" else chosen
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
        except MidiFileError as exc:
            corpus.skipped.append((str(path), str(exc)))
        except OSError as exc:  # removed or made unreadable since read_midi read it
            corpus.skipped.append((str(path), f"{path}: cannot read ({exc.strerror})"))
        else:
            if len(melody) < cfg.min_notes:
                corpus.skipped.append((str(path), f"only {len(melody)} melody notes"))
            else:
                corpus.pieces.append(Piece(str(path), encode(melody), sha, cfg.split_by))
                corpus.notes_read += len(chosen)
                corpus.polyphonic += len(melody) < len(chosen)
        if progress is not None:
            progress(i + 1, len(files))
    return corpus


def _bucket(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_pieces(
    pieces: Sequence[Piece], val_fraction: float, test_fraction: float, seed: int
) -> Split:
    """Split by content key, seeded: copies of one tune always share a split."""
    train, val, test = [], [], []
    for piece in pieces:
        u = _bucket(piece.key, seed)
        if u < test_fraction:
            test.append(piece)
        elif u < test_fraction + val_fraction:
            val.append(piece)
        else:
            train.append(piece)
    return Split(train, val, test)


def windows(
    pieces: Sequence[Piece], length: int, stride: int, extra: Sequence[str] = ()
) -> npt.NDArray[np.int32]:
    """Every ``length + 1``-token window (inputs and shifted targets), ``(m, length + 1, 5 + k)``.

    A piece shorter than the window gives one window padded at the front by repeating its
    first token; padded positions are masked out of the loss by :func:`make_dataset`
    through their weight (see ``pad`` column, the fifth channel). The ``k`` names in
    ``extra`` (:mod:`improviser.music.viewpoints`) add a column each after it, computed
    over the whole piece, so a window's first note keeps its interval, key and bar.
    """
    out: list[npt.NDArray[np.int32]] = []
    for piece in pieces:
        t = piece.tokens
        n = len(t)
        valid = np.ones((n, 1), dtype=np.int32)
        tv = np.concatenate([t, valid, viewpoint_classes(t, extra)], axis=1)
        if n < length + 1:
            pad = np.repeat(tv[:1], length + 1 - n, axis=0)
            pad[:, 4] = 0
            out.append(np.concatenate([pad, tv])[None])
            continue
        starts = list(range(0, n - length, stride))
        if starts[-1] != n - length - 1:
            starts.append(n - length - 1)
        out.extend(tv[s : s + length + 1][None] for s in starts)
    if not out:
        return np.zeros((0, length + 1, 5 + len(extra)), dtype=np.int32)
    return np.concatenate(out)


def make_dataset(
    data: npt.NDArray[np.int32],
    batch_size: int,
    *,
    transpose: tuple[int, int] = (0, 0),
    shuffle: bool = False,
    seed: int = 0,
    extra: Sequence[str] = (),
) -> Any:
    """A ``tf.data.Dataset`` of ``(inputs, targets, weights)`` dicts from :func:`windows`.

    ``transpose=(lo, hi)`` shifts each window by a random number of semitones in that
    range, clipped per window so every pitch stays inside 0..127. ``extra`` names the
    viewpoint columns of the windows (as given to :func:`windows`): each is one more
    input (they are transposition-invariant, so the shift leaves them as they are).
    """
    from improviser.inference.tfload import tensorflow  # noqa: PLC0415

    tf = tensorflow()
    ds = tf.data.Dataset.from_tensor_slices(data)
    if shuffle:
        ds = ds.shuffle(min(len(data), 50_000), seed=seed, reshuffle_each_iteration=True)
    lo, hi = transpose

    def to_example(w: Any) -> Any:
        pitch = w[:, 0]
        if lo != 0 or hi != 0:
            low = tf.maximum(lo, -tf.reduce_min(pitch))
            high = tf.minimum(hi, 127 - tf.reduce_max(pitch))
            shift = tf.random.uniform([], low, high + 1, dtype=tf.int32)
            pitch = pitch + shift
        inputs = {
            "pitch": pitch[:-1],
            "ioi": w[:-1, 1],
            "duration": w[:-1, 2],
            "velocity": w[:-1, 3],
        }
        for j, name in enumerate(extra):
            inputs[name] = w[:-1, 5 + j]
        targets = {
            "next_pitch": pitch[1:],
            "next_ioi": w[1:, 1],
            "next_duration": w[1:, 2],
            "next_velocity": w[1:, 3],
        }
        # A target counts only if both it and its input are real notes, not padding.
        mask = tf.cast(w[1:, 4] * w[:-1, 4], tf.float32)
        weights = dict.fromkeys(targets, mask)
        return inputs, targets, weights

    ds = ds.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def pitch_windows(
    pieces: Sequence[Piece], window: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """The notebook's examples: ``window`` pitches → the next pitch, every position."""
    xs, ys = [], []
    for piece in pieces:
        p = piece.tokens[:, 0]
        for s in range(len(p) - window):
            xs.append(p[s : s + window])
            ys.append(p[s + window])
    if not xs:
        return np.zeros((0, window), np.int32), np.zeros((0,), np.int32)
    return np.asarray(xs, np.int32), np.asarray(ys, np.int32)
