"""The TensorFlow step engine: the model's own layers, one compiled step per note, on a device.

:class:`TfEngine` loads the ``.keras`` model under ``tf.device`` (so its variables live on
that device), builds a ``tf.function`` with a fixed input signature (one note: four int32
classes) that steps each LSTM or GRU cell once from state held in ``tf.Variable``\\ s on the same
device, and traces it once at start-up, so no note pays for tracing. With
``jit_compile=True`` the step is compiled by XLA. It never calls ``model.predict``.

It is the engine for ``--device gpu``. On a CPU the NumPy engine is ~10× faster per note
(``improviser bench latency``): a TF call costs tens of microseconds of dispatch, more
than the whole NumPy step.

Device rule (:func:`resolve_device`): ``cpu`` is the CPU; ``gpu`` is the first GPU
TensorFlow sees, else a :class:`DeviceFallbackWarning` and the CPU (or, with
``strict=True``, a one-line :class:`~improviser.errors.ModelError`); ``auto`` is the first
GPU if there is one, else the CPU. Memory growth is switched on for every GPU, so the
engine takes only the memory it uses.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from improviser.errors import ConfigError, ModelError
from improviser.inference.tfload import tensorflow
from improviser.music.encoding import FIELDS, VOCAB_SIZES, Distribution

__all__ = ["DEVICES", "DeviceFallbackWarning", "TfEngine", "choose_device", "resolve_device"]

DEVICES = ("auto", "cpu", "gpu")
CPU = "/CPU:0"
GPU = "/GPU:0"


class DeviceFallbackWarning(RuntimeWarning):
    """A GPU was asked for and none is visible: the engine runs on the CPU."""


def choose_device(device: str, gpus: int, *, strict: bool = False) -> str:
    """The TensorFlow device name for ``device`` when ``gpus`` GPUs are visible.

    The pure half of :func:`resolve_device`, so the rule is tested on machines with no GPU.
    """
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cpu":
        return CPU
    if gpus > 0:
        return GPU
    if device == "gpu":
        msg = (
            "--device gpu: TensorFlow sees no GPU (needs a CUDA GPU, its driver and "
            "improviser[gpu])"
        )
        if strict:
            raise ModelError(msg)
        warnings.warn(f"{msg}; running on the CPU", DeviceFallbackWarning, stacklevel=3)
    return CPU


def resolve_device(device: str = "auto", *, strict: bool = False) -> str:
    """Ask TensorFlow for its GPUs, switch on their memory growth, apply :func:`choose_device`."""
    tf = tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        # RuntimeError: the GPU is already initialized; growth can only be set before.
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)
    return choose_device(device, len(gpus), strict=strict)


class TfEngine:
    """The model's layers stepped one note at a time by a compiled ``tf.function``."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "auto",
        jit_compile: bool = False,
        strict: bool = False,
        model: Any = None,
    ) -> None:
        """Load ``model_path`` (or use an already loaded Keras ``model``) onto ``device``."""
        from improviser.inference.modelfile import (  # noqa: PLC0415  (imports Keras)
            load_model,
            refuse_extra_inputs,
        )

        tf = tensorflow()
        self.device = resolve_device(device, strict=strict)
        self.jit_compile = jit_compile
        kind = self.device.strip("/").split(":")[0].lower()
        self.name = f"tf-{'xla' if jit_compile else 'graph'}-{kind}"
        with tf.device(self.device):
            if model is None:
                model, meta = load_model(model_path)
                refuse_extra_inputs(meta, model_path)
                if meta.get("objective") != "classes":
                    raise ModelError(
                        f"{model_path}: the step engines need a classes-objective model"
                    )
            layers = {layer.name: layer for layer in model.layers}
            prefix = "gru" if "gru_0" in layers else "lstm"
            count = sum(1 for n in layers if n.startswith(f"{prefix}_"))
            if count == 0:
                raise ModelError(f"{model_path}: model has no LSTM or GRU layer")
            self._cells = [layers[f"{prefix}_{i}"].cell for i in range(count)]
            self._embeddings = [layers[f"emb_{f}"] for f in FIELDS]
            self._heads = [layers[f"next_{f}"] for f in FIELDS]
            self.units = [int(cell.units) for cell in self._cells]
            per_cell = 1 if prefix == "gru" else 2  # GRU: h; LSTM: h and c
            self._states = [
                [tf.Variable(tf.zeros((1, u)), trainable=False) for _ in range(per_cell)]
                for u in self.units
            ]
        self.model = model
        """The Keras model whose layers the step runs."""
        self._tf = tf
        self._sizes = [VOCAB_SIZES[f] for f in FIELDS]
        self._bounds = np.cumsum([0, *self._sizes])
        self._step = tf.function(
            self._graph_step,
            input_signature=[tf.TensorSpec([len(FIELDS)], tf.int32)],
            jit_compile=jit_compile,
            autograph=False,  # plain Python loops over layers: nothing for AutoGraph to convert
        )
        self._step(tf.zeros([len(FIELDS)], tf.int32))  # trace (and compile) now, not on a note
        self.reset()

    def _graph_step(self, token: Any) -> Any:
        tf = self._tf
        with tf.device(self.device):
            x = tf.concat(
                [emb(token[i : i + 1]) for i, emb in enumerate(self._embeddings)], axis=-1
            )
            for cell, state in zip(self._cells, self._states, strict=True):
                x, new = cell(x, list(state), training=False)
                for variable, value in zip(state, new, strict=True):
                    variable.assign(value)
            return tf.concat([head(x) for head in self._heads], axis=-1)[0]

    def reset(self) -> None:
        """Zero every layer's state."""
        for v in self._variables():
            v.assign(np.zeros(v.shape, dtype=np.float32))

    def _variables(self) -> list[Any]:
        return [v for state in self._states for v in state]

    def snapshot(self) -> list[np.ndarray[Any, np.dtype[np.float32]]]:
        """A copy of the recurrent state (host arrays)."""
        return [np.array(v.numpy()) for v in self._variables()]

    def restore(self, state: object) -> None:
        """Return to a state taken by :meth:`snapshot`."""
        variables = self._variables()
        if not isinstance(state, list) or len(state) != len(variables):
            raise TypeError("restore() takes a state from snapshot() of the same engine")
        for v, value in zip(variables, state, strict=True):
            v.assign(value)

    def _probs(self, token: Sequence[int]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The four heads' probabilities, concatenated."""
        out: np.ndarray[Any, np.dtype[np.float64]] = (
            self._step(np.asarray(token, dtype=np.int32)).numpy().astype(np.float64)
        )
        return out

    def step_probs(self, token: Sequence[int]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Take one note; return a new ``(4, 128)`` array, one field per row (zero-padded).

        The layout of :meth:`improviser.inference.NumpyEngine.step_probs`, which
        :meth:`improviser.music.sampling.Sampler.sample_padded` draws from.
        """
        p = self._probs(token)
        b = self._bounds
        out = np.zeros((len(FIELDS), max(self._sizes)), dtype=np.float64)
        for i, n in enumerate(self._sizes):
            out[i, :n] = p[b[i] : b[i + 1]]
        return out

    def step(self, token: Sequence[int]) -> Distribution:
        """Take one note; return the distribution of the next."""
        p = self._probs(token)
        b = self._bounds
        return Distribution(*(p[b[i] : b[i + 1]] for i in range(len(FIELDS))))
