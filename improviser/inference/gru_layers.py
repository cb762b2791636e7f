"""The GRU layers of the streaming step engine: arrays and one NumPy step.

Keras's GRU (``reset_after=True``, its default) computes, per layer, from the input ``x``
and the previous state ``h``::

    [xz, xr, xh] = x @ kernel + bias[0]        [rz, rr, rh] = h @ recurrent + bias[1]
    z = sigmoid(xz + rz)    r = sigmoid(xr + rr)    hh = tanh(xh + r * rh)
    h' = z * h + (1 - z) * hh

The arrays here are arranged as :class:`~improviser.inference.NumpyEngine` arranges an
LSTM's, for the same reasons (few calls, no copies):

- layer 0's input side is tabulated per embedding row (``embedding @ kernel``, the input
  bias folded into the first input's table), so it is row additions, no product;
- each layer keeps its state as ``[h; 1]`` in one buffer, and its recurrent side is one
  product of that buffer with ``[recurrent; bias[1]]`` (the bias rides on the 1); a deeper
  layer's input side is likewise ``[h_below; 1] @ [kernel; bias[0]]``. The two sides stay
  apart because the reset gate multiplies only the recurrent candidate ``rh``;
- the z and r columns are pre-scaled by 1/2 (exact), so ``sigmoid(a) = 0.5·tanh(a/2) +
  0.5`` and one ``tanh`` serves both gates.

Layer 0's recurrent product depends only on the state, so it can be done ahead
(:meth:`GruLayers.prepare`), as the LSTM engine's can. ``_native.c`` steps the same arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from improviser.inference.weights import F32, LstmWeights, input_tables

__all__ = ["GruLayers"]


def _halve_gates(m: F32, units: int) -> F32:
    """Scale the z and r gate columns by 1/2 (Keras gate order z, r, h)."""
    out = np.array(m, dtype=np.float32, copy=True)
    out[..., : 2 * units] *= 0.5
    return out


class GruLayers:
    """A GRU stack's arrays and state, stepped one token at a time."""

    def __init__(self, weights: LstmWeights) -> None:
        units = [int(r.shape[0]) for r in weights.recurrents]
        self.units = units
        tables = input_tables(weights, weights.biases[0][0])
        self.tables = [_halve_gates(t, units[0]) for t in tables]
        """Per input: ``(vocab, 3 * units[0])``, layer 0's input side of each class."""
        self.recurrent = [
            _halve_gates(np.vstack([r, b[1][None, :]]), u)
            for r, b, u in zip(weights.recurrents, weights.biases, units, strict=True)
        ]
        """Per layer: ``(units + 1, 3 * units)``, the recurrent kernel over its bias."""
        self.below = [
            _halve_gates(np.vstack([k, b[0][None, :]]), u)
            for k, b, u in zip(weights.kernels[1:], weights.biases[1:], units[1:], strict=True)
        ]
        """Per layer from 1: ``(units_below + 1, 3 * units)``, the input kernel over its bias."""
        self.states = [np.zeros(u + 1, dtype=np.float32) for u in units]
        """Per layer: ``[h; 1]``."""
        for buf in self.states:
            buf[-1] = 1.0
        self.h = [buf[:-1] for buf in self.states]
        """Per layer: the state ``h`` (views into :attr:`states`)."""
        self.top = self.states[-1]
        """``[h_last; 1]``, what the heads read."""
        self.x = [np.zeros(3 * u, dtype=np.float32) for u in units]
        self.r = [np.zeros(3 * u, dtype=np.float32) for u in units]
        self._s = [np.zeros(2 * u, dtype=np.float32) for u in units]
        self._hh = [np.zeros(u, dtype=np.float32) for u in units]
        self.pre0 = np.zeros(3 * units[0], dtype=np.float32)
        """Layer 0's recurrent side for the next step, when :meth:`prepare` did it."""
        self._four = len(self.tables) == 4

    def prepare(self) -> None:
        """Layer 0's recurrent product for the next step, into :attr:`pre0`."""
        np.dot(self.states[0], self.recurrent[0], out=self.pre0)

    def advance(self, token: Sequence[int], prepared: bool) -> None:
        """One step of every layer; ``prepared``: :attr:`pre0` holds this state's product."""
        if prepared:  # swap the ready product in as this step's buffer
            self.r[0], self.pre0 = self.pre0, self.r[0]
        else:
            np.dot(self.states[0], self.recurrent[0], out=self.r[0])
        x, t = self.x[0], self.tables
        if self._four:
            np.add(t[0][token[0]], t[1][token[1]], out=x)
            x += t[2][token[2]]
            x += t[3][token[3]]
        else:
            if len(token) != len(t):
                raise IndexError(f"a token of this model has {len(t)} classes, got {len(token)}")
            np.copyto(x, t[0][token[0]])
            for table, value in zip(t[1:], token[1:], strict=True):
                x += table[value]
        self._cell(0)
        for i, w in enumerate(self.below, start=1):
            np.dot(self.states[i - 1], w, out=self.x[i])
            np.dot(self.states[i], self.recurrent[i], out=self.r[i])
            self._cell(i)

    def _cell(self, layer: int) -> None:
        u = self.units[layer]
        x, r, h = self.x[layer], self.r[layer], self.h[layer]
        s, hh = self._s[layer], self._hh[layer]
        gates = x[: 2 * u]
        gates += r[: 2 * u]
        np.tanh(gates, out=gates)  # the columns were halved: 2·sigmoid - 1
        np.multiply(gates, 0.5, out=s)
        s += 0.5  # s = [z; r]
        np.multiply(s[u:], r[2 * u :], out=hh)
        hh += x[2 * u :]
        np.tanh(hh, out=hh)
        h -= hh  # h' = hh + z * (h - hh)
        h *= s[:u]
        h += hh
