"""Harmony pieces → transposed, windowed token sequences with per-target weights → ``tf.data``.

A training example is ``4 * seq_events`` tokens starting on a melody token, and the
value of each next token as its target. Only targets that are voice tokens (bass, tenor,
alto) weigh 1: the melody is the player's, never predicted, so its targets weigh 0, as
do padding positions. Training pieces are used in every transposition of
``transpose_min..transpose_max`` (the 12 keys) that keeps all their sounding pitches in
``pitch_low..pitch_high``; rests (value 0) stay rests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.config import HarmonyModelConfig
from improviser.music.voicing import HARMONY_FIELDS, REST, ROLES
from improviser.training.harmony_corpus import HarmonyPiece

__all__ = [
    "Examples",
    "make_harmony_dataset",
    "piece_transpositions",
    "transpose_tokens",
    "transposed_sequences",
    "voice_examples",
]

I32 = npt.NDArray[np.int32]
_TOKENS_PER_EVENT = len(ROLES)


@dataclass(frozen=True)
class Examples:
    """Training examples: ``inputs (m, L, 4)``, ``targets (m, L)``, ``weights (m, L)``."""

    inputs: I32
    targets: I32
    weights: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def voice_targets(self) -> int:
        """How many targets weigh 1 (voice tokens)."""
        return int(self.weights.sum())


def transpose_tokens(tokens: I32, shift: int) -> I32:
    """``tokens`` with every sounding value moved ``shift`` semitones (rests stay 0)."""
    out = tokens.copy()
    values = out[:, 0]
    values[values != REST] += shift
    return out


def piece_transpositions(tokens: I32, cfg: HarmonyModelConfig) -> list[int]:
    """The shifts of ``transpose_min..transpose_max`` that keep every sounding value of
    ``tokens`` inside ``pitch_low..pitch_high`` (0 always, if the piece is inside)."""
    sounding = tokens[:, 0][tokens[:, 0] != REST]
    if not len(sounding):
        return [0]
    lo, hi = int(sounding.min()), int(sounding.max())
    return [
        s
        for s in range(cfg.transpose_min, cfg.transpose_max + 1)
        if cfg.pitch_low <= lo + s and hi + s <= cfg.pitch_high
    ]


def transposed_sequences(
    pieces: Sequence[HarmonyPiece], cfg: HarmonyModelConfig, augment: bool = True
) -> list[I32]:
    """Each piece's tokens in each of its transpositions (``augment``), else as written."""
    out: list[I32] = []
    for piece in pieces:
        shifts = piece_transpositions(piece.tokens, cfg) if augment else [0]
        out.extend(transpose_tokens(piece.tokens, s) for s in shifts)
    return out


def voice_examples(sequences: Sequence[I32], seq_events: int, stride_events: int) -> Examples:
    """Windows of ``seq_events`` events every ``stride_events`` (the last one flush with
    the end), each padded at the back with weight-0 tokens if the piece is shorter."""
    length = seq_events * _TOKENS_PER_EVENT
    inputs, targets, weights = [], [], []
    for tokens in sequences:
        events = len(tokens) // _TOKENS_PER_EVENT
        starts = list(range(0, max(events - seq_events, 0) + 1, stride_events))
        if starts[-1] != max(events - seq_events, 0):
            starts.append(events - seq_events)
        for start in starts:
            chunk = tokens[start * _TOKENS_PER_EVENT : start * _TOKENS_PER_EVENT + length + 1]
            x = np.zeros((length, len(HARMONY_FIELDS)), dtype=np.int32)
            y = np.zeros(length, dtype=np.int32)
            w = np.zeros(length, dtype=np.float32)
            n = len(chunk) - 1
            x[: n + 1 if n < length else length] = chunk[:length]
            y[:n] = chunk[1:, 0]
            w[:n] = chunk[1:, 1] != 0  # a voice token's target, not the melody's
            inputs.append(x)
            targets.append(y)
            weights.append(w)
    if not inputs:
        shape = (0, length)
        return Examples(
            np.zeros((*shape, len(HARMONY_FIELDS)), np.int32),
            np.zeros(shape, np.int32),
            np.zeros(shape, np.float32),
        )
    return Examples(np.stack(inputs), np.stack(targets), np.stack(weights))


def make_harmony_dataset(
    examples: Examples,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    repeat: bool = False,
) -> Any:
    """A ``tf.data.Dataset`` of ``(inputs, {"next_value": targets}, {"next_value": weights})``.

    ``repeat``: endless (reshuffled each pass), for a fit whose epochs are counted in steps.
    """
    from improviser.inference.tfload import tensorflow  # noqa: PLC0415

    tf = tensorflow()
    inputs = {name: examples.inputs[:, :, i] for i, name in enumerate(HARMONY_FIELDS)}
    ds = tf.data.Dataset.from_tensor_slices(
        (inputs, {"next_value": examples.targets}, {"next_value": examples.weights})
    )
    if shuffle:
        ds = ds.shuffle(min(len(examples), 50_000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
