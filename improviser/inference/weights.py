"""The weights of a classes-objective model as plain arrays (in memory).

Reading and writing them is :mod:`improviser.inference.modelfile`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from improviser.errors import ModelError
from improviser.music.encoding import FIELDS, VOCAB_SIZES

__all__ = ["F32", "LstmWeights", "check_shapes", "random_weights"]

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LstmWeights:
    """The arrays of a classes-objective model, as exported beside the ``.keras`` file."""

    embeddings: dict[str, F32]
    """Per field: ``(vocab, dim)``."""
    kernels: list[F32]
    """Per LSTM layer: ``(input, 4 * units)``, gates in Keras order i, f, c, o."""
    recurrents: list[F32]
    """Per LSTM layer: ``(units, 4 * units)``."""
    biases: list[F32]
    """Per LSTM layer: ``(4 * units,)``."""
    heads: dict[str, tuple[F32, F32]]
    """Per field: output kernel ``(units_last, vocab)`` and bias ``(vocab,)``."""


def check_shapes(w: LstmWeights, where: Path | str) -> None:
    """Raise a one-line :class:`ModelError` unless the arrays fit together."""
    for f in FIELDS:
        if w.embeddings[f].ndim != 2:
            raise ModelError(f"{where}: {f} embedding has shape {w.embeddings[f].shape}, not 2-D")
        if w.embeddings[f].shape[0] != VOCAB_SIZES[f]:
            raise ModelError(
                f"{where}: {f} vocabulary is {w.embeddings[f].shape[0]}, expected {VOCAB_SIZES[f]}"
            )
    width = sum(w.embeddings[f].shape[1] for f in FIELDS)
    if not w.kernels:
        raise ModelError(f"{where}: no LSTM layer")
    for i, (k, r, b) in enumerate(zip(w.kernels, w.recurrents, w.biases, strict=True)):
        units = r.shape[0] if r.ndim == 2 else 0
        if (
            units == 0
            or k.shape != (width, 4 * units)
            or r.shape != (units, 4 * units)
            or b.shape != (4 * units,)
        ):
            raise ModelError(f"{where}: LSTM layer {i} has inconsistent shapes")
        width = units
    for f in FIELDS:
        k, b = w.heads[f]
        if k.shape != (width, VOCAB_SIZES[f]) or b.shape != (VOCAB_SIZES[f],):
            raise ModelError(f"{where}: {f} head has inconsistent shapes")


def random_weights(
    lstm_units: Sequence[int] = (32, 16),
    embedding: int = 8,
    seed: int = 0,
    scale: float = 0.3,
) -> LstmWeights:
    """Small random weights: a model with no training, for tests that need no TensorFlow."""
    rng = np.random.default_rng(seed)

    def arr(*shape: int) -> F32:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    embeddings = {f: arr(VOCAB_SIZES[f], embedding) for f in FIELDS}
    width = embedding * len(FIELDS)
    kernels, recurrents, biases = [], [], []
    for units in lstm_units:
        kernels.append(arr(width, 4 * units))
        recurrents.append(arr(units, 4 * units))
        biases.append(arr(4 * units))
        width = units
    heads = {f: (arr(width, VOCAB_SIZES[f]), arr(VOCAB_SIZES[f])) for f in FIELDS}
    return LstmWeights(embeddings, kernels, recurrents, biases, heads)
