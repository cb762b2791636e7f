"""The weights of a classes-objective model, as plain arrays, and its metadata.

:func:`~improviser.model.save_model` writes ``MODEL.npz`` beside ``MODEL.keras``; the
NumPy engine reads only that file (and ``MODEL.json``), so it needs no TensorFlow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.encoding import FIELDS, VOCAB_SIZES
from improviser.errors import ModelError

__all__ = ["LstmWeights", "check_shapes", "load_weights", "random_weights", "read_metadata"]

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

    def to_npz(self, path: Path) -> None:
        """Save as a plain ``.npz`` (no pickle)."""
        arrays: dict[str, Any] = {}
        for name, emb in self.embeddings.items():
            arrays[f"emb_{name}"] = emb
        for i, (k, r, b) in enumerate(zip(self.kernels, self.recurrents, self.biases, strict=True)):
            arrays[f"lstm_{i}_kernel"] = k
            arrays[f"lstm_{i}_recurrent"] = r
            arrays[f"lstm_{i}_bias"] = b
        for name, (k, b) in self.heads.items():
            arrays[f"head_{name}_kernel"] = k
            arrays[f"head_{name}_bias"] = b
        np.savez(path, **arrays)


def load_weights(path: str | Path) -> LstmWeights:
    """Read the ``.npz`` weights of a model (``MODEL.keras`` or ``MODEL.npz`` may be given)."""
    path = Path(path).with_suffix(".npz")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in data.files}
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: weights file not found (train or export the model)") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: corrupt weights file ({exc})") from exc
    try:
        layers = sum(1 for k in arrays if k.endswith("_recurrent"))
        weights = LstmWeights(
            embeddings={f: arrays[f"emb_{f}"] for f in FIELDS},
            kernels=[arrays[f"lstm_{i}_kernel"] for i in range(layers)],
            recurrents=[arrays[f"lstm_{i}_recurrent"] for i in range(layers)],
            biases=[arrays[f"lstm_{i}_bias"] for i in range(layers)],
            heads={f: (arrays[f"head_{f}_kernel"], arrays[f"head_{f}_bias"]) for f in FIELDS},
        )
    except KeyError as exc:
        raise ModelError(f"{path}: weights file lacks array {exc}") from exc
    check_shapes(weights, path)
    return weights


def check_shapes(w: LstmWeights, where: Path | str) -> None:
    """Raise a one-line :class:`ModelError` unless the arrays fit together."""
    width = sum(w.embeddings[f].shape[1] for f in FIELDS)
    for f in FIELDS:
        if w.embeddings[f].shape[0] != VOCAB_SIZES[f]:
            raise ModelError(
                f"{where}: {f} vocabulary is {w.embeddings[f].shape[0]}, expected {VOCAB_SIZES[f]}"
            )
    if not w.kernels:
        raise ModelError(f"{where}: no LSTM layer")
    for i, (k, r, b) in enumerate(zip(w.kernels, w.recurrents, w.biases, strict=True)):
        units = r.shape[0]
        if (
            k.shape != (width, 4 * units)
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


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read the JSON metadata beside a model."""
    meta_path = Path(path).with_suffix(".json")
    try:
        data: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{meta_path}: model metadata not found") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_path}: corrupt model metadata ({exc})") from exc
    if not isinstance(data, dict) or "objective" not in data:
        raise ModelError(f"{meta_path}: not improviser model metadata")
    return data
