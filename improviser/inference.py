"""Per-note prediction: the streaming step engine.

The live engine and ``generate`` need the next-note distribution after every note. Running
the Keras model over a 30-note window for each note repeats 29 steps of work; instead
:class:`NumpyEngine` keeps each LSTM layer's state from note to note, so a note costs one
recurrent step. It needs only NumPy and the weights exported beside the model
(``MODEL.npz``), so a live session does not import TensorFlow.

Two precomputations make the step cheap: the first layer's input projection of each
embedding row is tabulated (``embedding @ kernel``), so the input side of layer 0 is four
row lookups; and the four output heads are one matrix.

Anything with ``reset()``, ``step(token)``, ``snapshot()`` and ``restore(state)`` is a
:class:`StepModel`; the live engine takes one, tests inject tiny deterministic ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from improviser.encoding import FIELDS, VOCAB_SIZES, Distribution, Token
from improviser.errors import ModelError

__all__ = ["LstmWeights", "NumpyEngine", "StepModel", "load_weights", "random_weights"]

F32 = npt.NDArray[np.float32]


@runtime_checkable
class StepModel(Protocol):
    """A model stepped one note at a time."""

    def reset(self) -> None:
        """Forget every note seen."""

    def step(self, token: Token) -> Distribution:
        """Take one note; return the distribution of the next."""

    def snapshot(self) -> object:
        """An opaque copy of the state, for :meth:`restore`."""

    def restore(self, state: object) -> None:
        """Return to a state from :meth:`snapshot`."""


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
    _check_shapes(weights, path)
    return weights


def _check_shapes(w: LstmWeights, where: Path | str) -> None:
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


def _sigmoid(x: F32) -> F32:
    # tanh form: no overflow warning for large negative inputs, and one ufunc call.
    out: F32 = 0.5 * np.tanh(0.5 * x) + 0.5
    return out


class NumpyEngine:
    """The streaming step engine: one LSTM step per note, state carried between notes."""

    def __init__(self, weights: LstmWeights) -> None:
        _check_shapes(weights, "weights")
        self.units = [r.shape[0] for r in weights.recurrents]
        offsets = np.cumsum([0] + [weights.embeddings[f].shape[1] for f in FIELDS])
        k0 = weights.kernels[0]
        # Layer 0's input projection of every embedding row; the bias rides on the pitch table.
        self._tables = [
            (weights.embeddings[f] @ k0[offsets[i] : offsets[i + 1]]).astype(np.float32)
            for i, f in enumerate(FIELDS)
        ]
        self._tables[0] = self._tables[0] + weights.biases[0]
        self._recurrent0 = weights.recurrents[0]
        # Deeper layers: [input; hidden] stacked so each step is one matrix product.
        self._stacked = [
            np.vstack([k, r]).astype(np.float32)
            for k, r in zip(weights.kernels[1:], weights.recurrents[1:], strict=True)
        ]
        self._biases = weights.biases[1:]
        self._head_kernel = np.hstack([weights.heads[f][0] for f in FIELDS]).astype(np.float32)
        self._head_bias = np.concatenate([weights.heads[f][1] for f in FIELDS]).astype(np.float32)
        bounds = np.cumsum([0] + [VOCAB_SIZES[f] for f in FIELDS])
        self._slices = [slice(int(bounds[i]), int(bounds[i + 1])) for i in range(len(FIELDS))]
        self._h: list[F32] = []
        self._c: list[F32] = []
        self.reset()

    @classmethod
    def from_file(cls, path: str | Path) -> NumpyEngine:
        """Load the engine for a model saved by :func:`improviser.model.save_model`."""
        return cls(load_weights(path))

    def reset(self) -> None:
        """Zero every layer's state, as at the start of a sequence."""
        self._h = [np.zeros(u, dtype=np.float32) for u in self.units]
        self._c = [np.zeros(u, dtype=np.float32) for u in self.units]

    def snapshot(self) -> tuple[list[F32], list[F32]]:
        """A copy of the recurrent state."""
        return [h.copy() for h in self._h], [c.copy() for c in self._c]

    def restore(self, state: object) -> None:
        """Return to a state taken by :meth:`snapshot`."""
        if not isinstance(state, tuple) or len(state) != 2:
            raise TypeError("restore() takes a state from snapshot()")
        hs: list[F32] = state[0]
        cs: list[F32] = state[1]
        self._h = [x.copy() for x in hs]
        self._c = [x.copy() for x in cs]

    def _cell(self, z: F32, layer: int) -> F32:
        u = self.units[layer]
        gates = _sigmoid(z)
        c = gates[u : 2 * u] * self._c[layer] + gates[:u] * np.tanh(z[2 * u : 3 * u])
        h: F32 = gates[3 * u :] * np.tanh(c)
        self._c[layer] = c
        self._h[layer] = h
        return h

    def step_logits(self, token: Sequence[int]) -> F32:
        """Take one note; return the concatenated logits of the four heads."""
        t = self._tables
        z = t[0][token[0]] + t[1][token[1]] + t[2][token[2]] + t[3][token[3]]
        z = z + self._h[0] @ self._recurrent0
        x = self._cell(z, 0)
        for i, (w, b) in enumerate(zip(self._stacked, self._biases, strict=True), start=1):
            x = self._cell(np.concatenate([x, self._h[i]]) @ w + b, i)
        logits: F32 = x @ self._head_kernel + self._head_bias
        return logits

    def step(self, token: Sequence[int]) -> Distribution:
        """Take one note; return the distribution of the next."""
        logits = self.step_logits(token).astype(np.float64)
        probs = []
        for s in self._slices:
            e = np.exp(logits[s] - logits[s].max())
            probs.append(e / e.sum())
        return Distribution(*probs)

    def run(self, tokens: npt.NDArray[np.int32] | Sequence[Sequence[int]]) -> Distribution | None:
        """Step through ``tokens``; return the last distribution (``None`` if empty)."""
        dist = None
        for row in tokens:
            dist = self.step(row)
        return dist


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
