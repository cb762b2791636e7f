"""The weights of a classes-objective model as plain arrays (in memory).

Any LSTM or GRU model with named embedded inputs and named softmax heads is one: the melody model
(inputs = heads = the four token fields, :data:`~improviser.music.encoding.FIELDS`) and
the harmony model (inputs ``value, role, metre, ioi``, one head ``value``). The order of
:attr:`LstmWeights.embeddings` is the order in which the embeddings are concatenated into
the first LSTM layer (the token's fields), the order of :attr:`LstmWeights.heads` the
order of the rows a step engine returns; vocabulary sizes are read from the arrays.

Reading and writing them is :mod:`improviser.inference.modelfile`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from improviser.errors import ModelError
from improviser.music.encoding import FIELDS, VOCAB_SIZES

__all__ = [
    "CELLS",
    "F32",
    "KINDS",
    "MELODY",
    "LstmWeights",
    "check_shapes",
    "gates",
    "input_tables",
    "random_weights",
]

F32 = npt.NDArray[np.float32]
MELODY = "melody"
"""The kind of the melody model: its inputs and heads are exactly FIELDS / VOCAB_SIZES."""
KINDS = (MELODY, "harmony")
"""The kinds of model the package knows; any other kind is refused when read."""
CELLS = ("lstm", "gru")
"""The recurrent layers the engines step."""


def gates(cell: str) -> int:
    """Gate blocks per unit in a layer's kernels: LSTM i, f, c, o; GRU z, r, h."""
    return 3 if cell == "gru" else 4


@dataclass(frozen=True)
class LstmWeights:
    """The arrays of a classes-objective model, as exported beside the ``.keras`` file.

    The recurrent layers are Keras's own arrays: for an LSTM, gates in Keras order i, f,
    c, o; for a GRU (Keras's ``reset_after`` form), z, r, h, and the bias has two rows,
    the input side's and the recurrent side's.
    """

    embeddings: dict[str, F32]
    """Per input, in the token's order: ``(vocab, dim)``."""
    kernels: list[F32]
    """Per layer: ``(input, gates * units)``."""
    recurrents: list[F32]
    """Per layer: ``(units, gates * units)``."""
    biases: list[F32]
    """Per layer: LSTM ``(4 * units,)``; GRU ``(2, 3 * units)``."""
    heads: dict[str, tuple[F32, F32]]
    """Per output, in order: kernel ``(units_last, vocab)`` and bias ``(vocab,)``."""
    kind: str = MELODY
    """What the model predicts (one of :data:`KINDS`)."""
    cell: str = "lstm"
    """The recurrent layer (one of :data:`CELLS`)."""

    @property
    def inputs(self) -> tuple[str, ...]:
        """The input names, in the token's order."""
        return tuple(self.embeddings)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The output (head) names, in the order of the rows a step returns."""
        return tuple(self.heads)

    def input_sizes(self) -> tuple[int, ...]:
        """Each input's vocabulary, in order."""
        return tuple(int(e.shape[0]) for e in self.embeddings.values())

    def output_sizes(self) -> tuple[int, ...]:
        """Each head's classes, in order."""
        return tuple(int(b.shape[0]) for _k, b in self.heads.values())


def check_shapes(w: LstmWeights, where: Path | str) -> None:
    """Raise a one-line :class:`ModelError` unless the arrays fit together.

    A melody model must have exactly the four token fields as inputs and heads, with
    their vocabularies; a model of another kind at least one input and one head.
    """
    if w.kind not in KINDS:
        raise ModelError(f"{where}: unknown model kind {w.kind!r}")
    if w.cell not in CELLS:
        raise ModelError(f"{where}: unknown recurrent cell {w.cell!r}")
    if w.kind == MELODY:
        _check_melody(w, where)
    elif not w.embeddings or not w.heads:
        raise ModelError(f"{where}: a model needs at least one input and one head")
    for f, emb in w.embeddings.items():
        if emb.ndim != 2 or emb.shape[0] < 1:
            raise ModelError(f"{where}: {f} embedding has shape {emb.shape}, not 2-D")
    width = sum(e.shape[1] for e in w.embeddings.values())
    name = w.cell.upper()
    if not w.kernels or not (len(w.kernels) == len(w.recurrents) == len(w.biases)):
        raise ModelError(f"{where}: no {name} layer")
    g = gates(w.cell)
    for i, (k, r, b) in enumerate(zip(w.kernels, w.recurrents, w.biases, strict=True)):
        units = r.shape[0] if r.ndim == 2 else 0
        bias = (2, g * units) if w.cell == "gru" else (g * units,)
        if (
            units == 0
            or k.shape != (width, g * units)
            or r.shape != (units, g * units)
            or b.shape != bias
        ):
            raise ModelError(f"{where}: {name} layer {i} has inconsistent shapes")
        width = units
    for f, (k, b) in w.heads.items():
        if b.ndim != 1 or b.shape[0] < 1 or k.shape != (width, b.shape[0]):
            raise ModelError(f"{where}: {f} head has inconsistent shapes")


def _check_melody(w: LstmWeights, where: Path | str) -> None:
    for names, what in ((w.inputs, "inputs"), (w.outputs, "heads")):
        if names != FIELDS:
            raise ModelError(
                f"{where}: a melody model's {what} are {', '.join(FIELDS)}, got {', '.join(names)}"
            )
    for f in FIELDS:
        if w.embeddings[f].ndim != 2:
            raise ModelError(f"{where}: {f} embedding has shape {w.embeddings[f].shape}, not 2-D")
        if w.embeddings[f].shape[0] != VOCAB_SIZES[f]:
            raise ModelError(
                f"{where}: {f} vocabulary is {w.embeddings[f].shape[0]}, expected {VOCAB_SIZES[f]}"
            )
        if w.heads[f][1].shape != (VOCAB_SIZES[f],):
            raise ModelError(f"{where}: {f} head has inconsistent shapes")


def input_tables(w: LstmWeights, bias: F32) -> list[F32]:
    """Layer 0's input side of every class, per input: ``embedding @ kernel`` rows (the
    engines add one row per input instead of a product), ``bias`` folded into the first."""
    embeddings = list(w.embeddings.values())
    offsets = np.cumsum([0] + [e.shape[1] for e in embeddings])
    k0 = w.kernels[0]
    tables = [e @ k0[offsets[i] : offsets[i + 1]] for i, e in enumerate(embeddings)]
    tables[0] = tables[0] + bias
    return tables


def random_weights(
    lstm_units: Sequence[int] = (32, 16),
    embedding: int = 8,
    seed: int = 0,
    scale: float = 0.3,
    *,
    inputs: Mapping[str, int] | None = None,
    outputs: Mapping[str, int] | None = None,
    kind: str = MELODY,
    cell: str = "lstm",
) -> LstmWeights:
    """Small random weights: a model with no training, for tests that need no TensorFlow.

    ``inputs`` and ``outputs`` (name -> vocabulary) default to the melody model's fields;
    ``cell`` is ``"lstm"`` or ``"gru"``.
    """
    rng = np.random.default_rng(seed)
    ins = dict(inputs) if inputs is not None else {f: VOCAB_SIZES[f] for f in FIELDS}
    outs = dict(outputs) if outputs is not None else {f: VOCAB_SIZES[f] for f in FIELDS}

    def arr(*shape: int) -> F32:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    embeddings = {f: arr(n, embedding) for f, n in ins.items()}
    width = embedding * len(ins)
    kernels, recurrents, biases = [], [], []
    g = gates(cell)
    for units in lstm_units:
        kernels.append(arr(width, g * units))
        recurrents.append(arr(units, g * units))
        biases.append(arr(2, g * units) if cell == "gru" else arr(g * units))
        width = units
    heads = {f: (arr(width, n), arr(n)) for f, n in outs.items()}
    return LstmWeights(embeddings, kernels, recurrents, biases, heads, kind, cell)
