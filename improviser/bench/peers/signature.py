"""The names of the exported step's inputs and outputs (no runtime needed to read them)."""

from __future__ import annotations

from dataclasses import dataclass

from improviser.inference.weights import LstmWeights

__all__ = ["FEATURE", "StepSignature"]

FEATURE = "the peer runtimes' rows (ONNX Runtime, LiteRT)"
"""What the ``bench`` extra brings, as its missing-extra line names it."""


@dataclass(frozen=True)
class StepSignature:
    """What one exported step takes and gives, in order.

    Inputs: one ``int32`` of shape ``(1,)`` per model input (its class), then ``h0, c0,
    h1, c1, ...`` of shape ``(1, units)`` (a GRU: ``h0, h1, ...``). Outputs: ``p_<head>`` of
    shape ``(1, classes)`` per head, then ``h0_out, c0_out, ...``.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    units: tuple[int, ...]
    cell: str = "lstm"

    @property
    def parts(self) -> tuple[str, ...]:
        """Each layer's state, in order: LSTM ``h, c``; GRU ``h``."""
        return ("h",) if self.cell == "gru" else ("h", "c")

    @classmethod
    def of(cls, weights: LstmWeights) -> StepSignature:
        """The signature of the model whose arrays are ``weights``."""
        units = tuple(int(r.shape[0]) for r in weights.recurrents)
        return cls(weights.inputs, weights.outputs, units, weights.cell)

    @property
    def states(self) -> tuple[str, ...]:
        """The state inputs, ``h0, c0, h1, c1, ...``."""
        return tuple(f"{s}{i}" for i in range(len(self.units)) for s in self.parts)

    @property
    def state_sizes(self) -> tuple[int, ...]:
        """The width of each state input, in :attr:`states`' order."""
        return tuple(u for u in self.units for _ in self.parts)

    @property
    def heads(self) -> tuple[str, ...]:
        """The probability outputs, ``p_<head>``."""
        return tuple(f"p_{f}" for f in self.outputs)

    @property
    def new_states(self) -> tuple[str, ...]:
        """The state outputs, ``h0_out, c0_out, ...``."""
        return tuple(f"{s}_out" for s in self.states)
