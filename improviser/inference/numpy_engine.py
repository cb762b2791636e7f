"""The streaming step engine on NumPy: one LSTM step per note, state carried between notes.

Running the Keras model over a 30-note window for each note repeats 29 steps of work;
this engine keeps each layer's state from note to note, so a note costs one recurrent
step (about 1 MFLOP for the default 256→128→64 model). It needs only NumPy and
``MODEL.npz``, so a live session does not import TensorFlow.

Where the time goes, measured on the 2-core build machine (``improviser bench latency
--profile``): the two large matrix-vector products (layer 0's recurrent kernel, 1 MiB, and
layer 1's stacked kernel, 0.75 MiB) are about half of a step and are bound by the memory
bandwidth of streaming ~2 MiB of float32 weights; the rest is the fixed cost (~0.5-1 µs)
of each NumPy call, so the step is arranged to make as few calls as possible:

- layer 0's input projection of every embedding row is tabulated (``embedding @
  kernel``, bias folded in), so its input side is four row additions, no product;
- deeper layers read ``[h_below; h_own; 1]`` from one preallocated buffer against a
  stacked ``[kernel; recurrent; bias]`` matrix: one product, no concatenation, no bias
  addition; each layer writes its new ``h`` straight into that buffer (``out=``);
- the sigmoid gates (i, f, o) have their weights pre-scaled by 1/2 (exact in floating
  point), so ``sigmoid(x) = 0.5·tanh(x/2) + 0.5`` and one ``tanh`` over all four gates
  serves both the sigmoids and the cell candidate;
- the heads are one padded ``(units, heads × width)`` matrix (width: the largest head's
  classes) whose pad columns have a huge negative bias, so their softmax is one
  vectorized pass over a ``(heads, width)`` array (``(4, 128)`` for the melody model)
  and the pads come out as exact zeros.

A GRU model steps here too, through :class:`~improviser.inference.gru_layers.GruLayers`
(the same arrangement for its gates); the heads and softmax are shared.

Any model of :class:`~improviser.inference.weights.LstmWeights` steps here: a token is
one class per input, in the weights' input order, and a step returns one row per head.
The melody model (four fields in, four heads out) also returns a
:class:`~improviser.music.encoding.Distribution` from :meth:`NumpyEngine.step`; a model
of another kind (the harmony model) is read through :meth:`NumpyEngine.step_probs`.

Everything is float32, as in Keras; the softmax's last division writes the float64
:class:`~improviser.music.encoding.Distribution`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from improviser.inference.gru_layers import GruLayers
from improviser.inference.modelfile import load_weights
from improviser.inference.weights import F32, MELODY, LstmWeights, check_shapes, input_tables
from improviser.music.encoding import VOCAB_SIZES, Distribution

__all__ = ["NumpyEngine"]

F64 = npt.NDArray[np.float64]
WIDTH = max(VOCAB_SIZES.values())
"""Columns per head in the melody model's padded logits."""
_PAD_LOGIT = np.float32(-1e30)


def _halve_sigmoid_gates(m: F32, units: int) -> F32:
    """Scale the i, f and o gate columns by 1/2 (Keras gate order i, f, c, o)."""
    out = np.array(m, dtype=np.float32, copy=True)
    out[..., : 2 * units] *= 0.5
    out[..., 3 * units :] *= 0.5
    return out


class NumpyEngine:
    """The streaming step engine: one recurrent step per note, state carried between notes."""

    name = "numpy"

    def __init__(self, weights: LstmWeights) -> None:
        check_shapes(weights, "weights")
        units = [int(r.shape[0]) for r in weights.recurrents]
        self.units = units
        self.kind = weights.kind
        self.inputs = weights.inputs
        """Input names: a token is one class of each, in this order."""
        self.outputs = weights.outputs
        """Head names: the rows of :meth:`step_probs`, in this order."""
        self.cell = weights.cell
        """The recurrent layer: ``lstm`` or ``gru``."""
        self._sizes = list(weights.output_sizes())
        self._four = len(weights.embeddings) == 4  # the melody's and the harmony's tokens
        self._gru = GruLayers(weights) if weights.cell == "gru" else None
        self._h: list[F32]
        self._c: list[F32] = []
        self._top: F32
        if self._gru is not None:
            self._h, self._top = self._gru.h, self._gru.top
        else:
            self._init_lstm(weights)
        heads, width = len(self._sizes), max(self._sizes)
        head_kernel = np.zeros((units[-1] + 1, heads * width), dtype=np.float32)
        head_kernel[-1] = _PAD_LOGIT
        for i, (k, b) in enumerate(weights.heads.values()):
            head_kernel[:-1, i * width : i * width + k.shape[1]] = k
            head_kernel[-1, i * width : i * width + k.shape[1]] = b
        self._head_kernel = head_kernel
        compact = [i * width + j for i, n in enumerate(self._sizes) for j in range(n)]
        self._compact = np.asarray(compact, dtype=np.intp)
        self._prepared = False
        self._logits = np.zeros(heads * width, dtype=np.float32)
        self._logits2d = self._logits.reshape(heads, width)
        self._exp = np.zeros_like(self._logits2d)
        self._rowmax = np.zeros((heads, 1), dtype=np.float32)

    def _init_lstm(self, weights: LstmWeights) -> None:
        units = self.units
        layers = len(units)
        tables = input_tables(weights, weights.biases[0])
        self._tables = [_halve_sigmoid_gates(t, units[0]) for t in tables]
        self._recurrent0 = _halve_sigmoid_gates(weights.recurrents[0], units[0])
        self._stacked = [
            _halve_sigmoid_gates(np.vstack([k, r, b[None, :]]), u)
            for k, r, b, u in zip(
                weights.kernels[1:], weights.recurrents[1:], weights.biases[1:], units[1:],
                strict=True,
            )
        ]  # fmt: skip

        # Buffers. inputs[l] (l >= 1) is [h_{l-1}; h_l; 1]; layer 0's h lives in inputs[1].
        self._inputs = [
            np.zeros(units[i - 1] + units[i] + 1, dtype=np.float32) for i in range(1, layers)
        ]
        for buf in self._inputs:
            buf[-1] = 1.0
        if layers == 1:
            top = np.zeros(units[0] + 1, dtype=np.float32)
            top[-1] = 1.0
            self._h = [top[:-1]]
            self._top = top
        else:
            self._h = [self._inputs[0][: units[0]]] + [
                self._inputs[i - 1][units[i - 1] : -1] for i in range(1, layers)
            ]
            self._top = self._inputs[-1][units[-2] :]
        self._c = [np.zeros(u, dtype=np.float32) for u in units]
        self._z = [np.zeros(4 * u, dtype=np.float32) for u in units]
        self._s = [np.zeros(4 * u, dtype=np.float32) for u in units]
        self._tmp = [np.zeros(u, dtype=np.float32) for u in units]
        self._pre0 = np.zeros(4 * units[0], dtype=np.float32)

    @classmethod
    def from_file(cls, path: str | Path, kind: str = MELODY) -> NumpyEngine:
        """Load the engine of a model written by :func:`~improviser.inference.save_model`
        (a model of another ``kind`` is a one-line :class:`~improviser.errors.ModelError`)."""
        return cls(load_weights(path, kind))

    @property
    def sizes(self) -> tuple[int, ...]:
        """Each head's classes (the rest of its row in :meth:`step_probs` is zeros)."""
        return tuple(self._sizes)

    def reset(self) -> None:
        """Zero every layer's state, as at the start of a sequence."""
        self._prepared = False
        for state in self._h + self._c:
            state.fill(0.0)

    def snapshot(self) -> tuple[list[F32], list[F32]]:
        """A copy of the recurrent state."""
        return [h.copy() for h in self._h], [c.copy() for c in self._c]

    def restore(self, state: object) -> None:
        """Return to a state taken by :meth:`snapshot`."""
        if not isinstance(state, tuple) or len(state) != 2:
            raise TypeError("restore() takes a state from snapshot()")
        hs: list[F32] = state[0]
        cs: list[F32] = state[1]
        if len(hs) != len(self._h) or len(cs) != len(self._c):
            raise TypeError("restore() takes a state from snapshot() of the same model")
        self._prepared = False
        # The h arrays are views into the step buffers: copy into them, never rebind.
        for dst, src in zip(self._h + self._c, list(hs) + list(cs), strict=True):
            np.copyto(dst, src)

    def prepare(self) -> None:
        """Do the part of the next step that needs no note now: layer 0's recurrent
        product (its largest matrix), so the next :meth:`step` costs less.

        For a caller with idle time between notes (the live session calls it while
        waiting); the step's result is the same, bit for bit. Any change of state
        (a step, :meth:`restore`, :meth:`reset`) makes it stale.
        """
        if not self._prepared:
            if self._gru is not None:
                self._gru.prepare()
            else:
                np.dot(self._h[0], self._recurrent0, out=self._pre0)
            self._prepared = True

    def _advance(self, token: Sequence[int]) -> F32:
        """One step of every layer; returns the padded head logits (a reused buffer)."""
        if self._gru is not None:
            prepared, self._prepared = self._prepared, False
            self._gru.advance(token, prepared)
            np.dot(self._top, self._head_kernel, out=self._logits)
            return self._logits
        units = self.units
        t = self._tables
        if self._prepared:  # the product is ready: swap it in as this step's buffer
            self._z[0], self._pre0 = self._pre0, self._z[0]
            self._prepared = False
        else:
            np.dot(self._h[0], self._recurrent0, out=self._z[0])
        z = self._z[0]
        if self._four:
            z += t[0][token[0]]
            z += t[1][token[1]]
            z += t[2][token[2]]
            z += t[3][token[3]]
        else:
            if len(token) != len(t):
                raise IndexError(f"a token of this model has {len(t)} classes, got {len(token)}")
            for table, value in zip(t, token, strict=True):
                z += table[value]
        self._cell(0, z)
        for i, w in enumerate(self._stacked, start=1):
            z = self._z[i]
            np.dot(self._inputs[i - 1], w, out=z)
            self._cell(i, z)
            if i < len(units) - 1:
                self._inputs[i][: units[i]] = self._h[i]
        np.dot(self._top, self._head_kernel, out=self._logits)
        return self._logits

    def _cell(self, layer: int, z: F32) -> None:
        u = self.units[layer]
        s, c, tmp, h = self._s[layer], self._c[layer], self._tmp[layer], self._h[layer]
        np.tanh(z, out=z)  # i, f, o columns were halved: these are 2·sigmoid - 1
        np.multiply(z, 0.5, out=s)
        s += 0.5
        c *= s[u : 2 * u]
        np.multiply(s[:u], z[2 * u : 3 * u], out=tmp)
        c += tmp
        np.tanh(c, out=h)
        h *= s[3 * u :]

    def feed(self, token: Sequence[int]) -> None:
        """Take one token whose prediction is not wanted (no softmax is computed)."""
        self._advance(token)

    def step_probs(self, token: Sequence[int]) -> F64:
        """Take one token; return a new ``(heads, width)`` array, one softmax per row
        (zero-padded; ``(4, 128)`` for the melody model)."""
        self._advance(token)
        # float32 like Keras's own softmax (and ~2× faster than float64 here); the final
        # division writes the float64 result.
        e = self._exp
        np.maximum.reduce(self._logits2d, axis=1, keepdims=True, out=self._rowmax)
        np.subtract(self._logits2d, self._rowmax, out=e)
        np.exp(e, out=e)
        p: F64 = np.divide(e, np.add.reduce(e, axis=1, keepdims=True), dtype=np.float64)
        return p

    def step_logits(self, token: Sequence[int]) -> F32:
        """Take one token; return the concatenated logits of the heads (a new array)."""
        out: F32 = self._advance(token)[self._compact]
        return out

    def step(self, token: Sequence[int]) -> Distribution:
        """Take one note of a melody model; return the distribution of the next."""
        if self.kind != MELODY:
            raise TypeError(f"a {self.kind} model is stepped with step_probs(), not step()")
        p = self.step_probs(token)
        n = self._sizes
        return Distribution(p[0, : n[0]], p[1, : n[1]], p[2, : n[2]], p[3, : n[3]])

    def run(self, tokens: npt.NDArray[np.int32] | Sequence[Sequence[int]]) -> Distribution | None:
        """Step through ``tokens``; return the last distribution (``None`` if empty)."""
        dist = None
        for row in tokens:
            dist = self.step(row)
        return dist
