"""Step an exported model one note at a time on ONNX Runtime or LiteRT, state carried.

Each stepper runs a file written by :mod:`~improviser.bench.peers.export` with the
runtime's ordinary Python API, one thread (the package's engines use one), and keeps the
state between notes as the package's engines do: the step's new ``h``/``c`` become the
next step's inputs. :meth:`step_probs` returns each head's probabilities (float32, as
the runtime computed them). Neither imports TensorFlow.

- :class:`OnnxStepper`: an ``onnxruntime.InferenceSession`` on the CPU provider (graph
  optimizations at their default, all), ``session.run`` with one feed dict whose state
  entries are replaced by the outputs after each note.
- :class:`LiteRtStepper`: ``ai_edge_litert``'s ``Interpreter`` (XNNPACK, its default CPU
  delegate), tensors addressed by index (``set_tensor``, ``invoke``, ``get_tensor``), the
  indices read once from the step's signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from improviser.bench.peers.signature import FEATURE, StepSignature
from improviser.errors import missing_extra
from improviser.inference.weights import F32

__all__ = [
    "PEERS",
    "LiteRtStepper",
    "OnnxStepper",
    "PeerStepper",
    "make_stepper",
    "runtime_versions",
]

PEERS = ("onnxruntime", "litert")
"""The peer runtimes, as their rows are named."""
_PACKAGES = {"onnxruntime": "onnxruntime", "litert": "ai-edge-litert"}


def runtime_versions() -> dict[str, str]:
    """The installed version of each peer runtime."""
    return {name: version(package) for name, package in _PACKAGES.items()}


class PeerStepper:
    """What both steppers share: the signature, the state's zeros, the interface."""

    name = ""

    def __init__(self, signature: StepSignature) -> None:
        self.signature = signature
        self._zeros = [np.zeros((1, n), dtype=np.float32) for n in signature.state_sizes]

    def _token_arrays(self) -> list[np.ndarray[Any, np.dtype[np.int32]]]:
        return [np.zeros(1, dtype=np.int32) for _ in self.signature.inputs]

    def state(self) -> list[F32]:
        """A copy of the carried state, ``h0, c0, h1, c1, ...``, each ``(1, units)``."""
        raise NotImplementedError

    def restore(self, state: Sequence[F32]) -> None:
        """Carry ``state`` (as :meth:`state` gives it) into the next step."""
        raise NotImplementedError

    def reset(self) -> None:
        """Zero the state, as at the start of a sequence."""
        self.restore(self._zeros)

    def step_probs(self, token: Sequence[int]) -> list[F32]:
        """Take one token (a class per input); return each head's probabilities."""
        raise NotImplementedError


class OnnxStepper(PeerStepper):
    """The exported step on ONNX Runtime."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, signature: StepSignature, threads: int = 1) -> None:
        super().__init__(signature)
        try:
            import onnxruntime as ort  # noqa: PLC0415
        except ImportError as exc:
            raise missing_extra(exc, "bench", FEATURE) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokens = self._token_arrays()
        self._feed: dict[str, Any] = dict(zip(signature.inputs, self._tokens, strict=True))
        self._outputs = [*signature.heads, *signature.new_states]
        self._heads = len(signature.heads)
        self.reset()

    def state(self) -> list[F32]:
        return [np.array(self._feed[name]) for name in self.signature.states]

    def restore(self, state: Sequence[F32]) -> None:
        for name, value in zip(self.signature.states, state, strict=True):
            self._feed[name] = np.array(value, dtype=np.float32).reshape(1, -1)

    def step_probs(self, token: Sequence[int]) -> list[F32]:
        """One ``session.run``; the new state kept in the feed for the next note."""
        for arr, value in zip(self._tokens, token, strict=True):
            arr[0] = value
        out = self._session.run(self._outputs, self._feed)
        feed, n = self._feed, self._heads
        for j, name in enumerate(self.signature.states):
            feed[name] = out[n + j]
        return [p[0] for p in out[:n]]


class LiteRtStepper(PeerStepper):
    """The exported step on LiteRT (``ai_edge_litert``)."""

    name = "litert"

    def __init__(self, path: str | Path, signature: StepSignature, threads: int = 1) -> None:
        super().__init__(signature)
        try:
            from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
        except ImportError as exc:
            raise missing_extra(exc, "bench", FEATURE) from None
        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        runner = self._interpreter.get_signature_runner()
        ins = {name: d["index"] for name, d in runner.get_input_details().items()}
        outs = {name: d["index"] for name, d in runner.get_output_details().items()}
        self._token_index = [ins[name] for name in signature.inputs]
        self._state_in = [ins[name] for name in signature.states]
        self._state_out = [outs[name] for name in signature.new_states]
        self._head_index = [outs[name] for name in signature.heads]
        self._tokens = self._token_arrays()
        self._state: list[F32] = []
        self.reset()

    def state(self) -> list[F32]:
        return [np.array(s) for s in self._state]

    def restore(self, state: Sequence[F32]) -> None:
        self._state = [np.array(s, dtype=np.float32).reshape(1, -1) for s in state]

    def step_probs(self, token: Sequence[int]) -> list[F32]:
        """Set the token and state tensors, invoke, read the heads and the new state."""
        it = self._interpreter
        for index, arr, value in zip(self._token_index, self._tokens, token, strict=True):
            arr[0] = value
            it.set_tensor(index, arr)
        for index, state in zip(self._state_in, self._state, strict=True):
            it.set_tensor(index, state)
        it.invoke()
        self._state = [it.get_tensor(index) for index in self._state_out]
        return [it.get_tensor(index)[0] for index in self._head_index]


def make_stepper(runtime: str, path: str | Path, signature: StepSignature) -> PeerStepper:
    """The stepper of ``runtime`` (one of :data:`PEERS`) on the file at ``path``."""
    if runtime == "onnxruntime":
        return OnnxStepper(path, signature)
    if runtime == "litert":
        return LiteRtStepper(path, signature)
    raise ValueError(f"unknown peer runtime {runtime!r} (known: {', '.join(PEERS)})")
