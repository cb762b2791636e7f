"""The streaming step engine compiled: :class:`NumpyEngine`'s step in one C call.

At a player's spacing (notes 100-500 ms apart) a NumPy step pays for its ~40 calls
with cold caches each time (measured: ``improviser bench latency``); the same
arithmetic in C (``_native.c``, built with the package when a C compiler is there)
costs one call. :class:`NativeEngine` keeps every array of the NumPy engine (tables,
buffers, state), so snapshots, restore and prepare work unchanged, and only the step runs
in C. Results agree with the NumPy engine to float32 rounding (tested), not bit for bit:
the sums run in another order. Any model the NumPy engine steps steps here, up to
:data:`MAX_INPUTS` inputs and :data:`MAX_HEADS` heads.

:func:`native_available` says whether the library was built; without it the NumPy
engine plays (``engine = auto``) or ``engine = native`` is one clear error.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from improviser.errors import ConfigError
from improviser.inference.modelfile import load_weights
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.weights import F32, MELODY, LstmWeights
from improviser.paths import built_library

__all__ = ["MAX_HEADS", "MAX_INPUTS", "NativeEngine", "native_available", "native_library"]

F64 = npt.NDArray[np.float64]
MAX_LAYERS = 8
MAX_INPUTS = 8
"""The most embedded inputs the compiled step takes (``IMP_MAX_INPUTS`` in ``_native.c``)."""
MAX_HEADS = 8
"""The most softmax heads the compiled step takes (``IMP_MAX_HEADS`` in ``_native.c``)."""
_P = ctypes.c_void_p


class _Dims(ctypes.Structure):
    """The leading fields both C structs share (``imp_net`` and ``imp_gru``)."""

    _fields_ = [
        ("layers", ctypes.c_int),
        ("width", ctypes.c_int),
        ("n_inputs", ctypes.c_int),
        ("n_heads", ctypes.c_int),
        ("units", ctypes.c_int * MAX_LAYERS),
        ("vocab", ctypes.c_int * MAX_INPUTS),
        ("sizes", ctypes.c_int * MAX_HEADS),
        ("tables", _P * MAX_INPUTS),
    ]


class _Net(_Dims):  # imp_net: an LSTM stack
    _fields_ = [
        ("rec0", _P),
        ("pre0", _P),
        ("stacked", _P * MAX_LAYERS),
        ("inputs", _P * MAX_LAYERS),
        ("h", _P * MAX_LAYERS),
        ("c", _P * MAX_LAYERS),
        ("z", _P * MAX_LAYERS),
        ("head", _P),
        ("top", _P),
        ("logits", _P),
        ("probs", _P),
    ]


class _GruNet(_Dims):  # imp_gru: a GRU stack
    _fields_ = [
        ("rec", _P * MAX_LAYERS),
        ("below", _P * MAX_LAYERS),
        ("states", _P * MAX_LAYERS),
        ("x", _P * MAX_LAYERS),
        ("r", _P * MAX_LAYERS),
        ("pre0", _P),
        ("head", _P),
        ("logits", _P),
        ("probs", _P),
    ]


_D = TypeVar("_D", bound=_Dims)


@cache
def native_library() -> ctypes.CDLL | None:
    """The compiled step (``_native*.so`` beside this module), or ``None`` if not built."""
    path = built_library(__file__, "_native")
    if path is None:
        return None
    lib = ctypes.CDLL(str(path))
    lib.imp_step.argtypes = [_P, _P, ctypes.c_int, ctypes.c_int]
    lib.imp_step.restype = ctypes.c_int
    lib.imp_prepare.argtypes = [_P]
    lib.imp_prepare.restype = None
    lib.imp_gru_step.argtypes = [_P, _P, ctypes.c_int, ctypes.c_int]
    lib.imp_gru_step.restype = ctypes.c_int
    lib.imp_gru_prepare.argtypes = [_P]
    lib.imp_gru_prepare.restype = None
    lib.imp_shape.argtypes = [_P, _P]
    lib.imp_shape.restype = ctypes.c_int
    lib.imp_pick.argtypes = [_P, _P, _P]
    lib.imp_pick.restype = None
    lib.imp_row_shape.argtypes = [_P, _P]
    lib.imp_row_shape.restype = ctypes.c_int
    lib.imp_row_pick.argtypes = [_P, ctypes.c_double]
    lib.imp_row_pick.restype = ctypes.c_int
    return lib


def native_available() -> bool:
    """Whether the compiled step was built with the package."""
    return native_library() is not None


def _address(array: npt.NDArray[np.generic], dtype: type[np.generic] = np.float32) -> int:
    """Where ``array``'s data is, for C (which reads it as contiguous ``dtype``)."""
    if not array.flags.c_contiguous or array.dtype != dtype:
        raise ValueError(f"the native engine needs C-contiguous {dtype.__name__} arrays")
    return int(array.ctypes.data)


class NativeEngine(NumpyEngine):
    """:class:`NumpyEngine` with its step (and :meth:`prepare`) compiled."""

    name = "native"

    def __init__(self, weights: LstmWeights) -> None:
        lib = native_library()
        if lib is None:
            raise ConfigError(
                "engine 'native' is not built here (it needs a C compiler when the package "
                "is installed); use engine 'numpy' or 'auto'"
            )
        super().__init__(weights)
        if len(self.units) > MAX_LAYERS:
            raise ConfigError(f"engine 'native' runs at most {MAX_LAYERS} layers")
        if len(self.inputs) > MAX_INPUTS or len(self.outputs) > MAX_HEADS:
            raise ConfigError(
                f"engine 'native' runs at most {MAX_INPUTS} inputs and {MAX_HEADS} heads"
            )
        self._lib = lib
        self._probs = np.zeros_like(self._logits2d, dtype=np.float64)
        self._token = (ctypes.c_int * len(self.inputs))()
        self._net: ctypes.Structure
        if self._gru is not None:
            self._net = self._describe_gru()
            self._c_step, self._c_prepare = lib.imp_gru_step, lib.imp_gru_prepare
        else:
            self._net = self._describe()
            self._c_step, self._c_prepare = lib.imp_step, lib.imp_prepare
        self._net_p = ctypes.addressof(self._net)
        self._token_p = ctypes.addressof(self._token)

    def _dims(self, net: _D, tables: list[F32]) -> _D:
        """``net`` with the fields both stacks share filled in."""
        net.layers = len(self.units)
        net.width = self._logits2d.shape[1]
        net.n_inputs = len(tables)
        net.n_heads = len(self._sizes)
        for i, u in enumerate(self.units):
            net.units[i] = u
        for f, table in enumerate(tables):
            net.vocab[f] = table.shape[0]
            net.tables[f] = _address(table)
        for f, size in enumerate(self._sizes):
            net.sizes[f] = size
        return net

    def _describe(self) -> _Net:
        """The C view of this engine's arrays (they live as long as the engine)."""
        net = self._dims(_Net(), self._tables)
        units = self.units
        for i in range(len(units)):
            net.h[i] = _address(self._h[i])  # views into the step buffers
            net.c[i] = _address(self._c[i])
            net.z[i] = _address(self._z[i])
        net.rec0 = _address(self._recurrent0)
        net.pre0 = _address(self._pre0)
        for layer in range(1, len(units)):
            net.stacked[layer] = _address(self._stacked[layer - 1])
            net.inputs[layer] = _address(self._inputs[layer - 1])
        net.head = _address(self._head_kernel)
        net.top = _address(self._top)
        net.logits = _address(self._logits)
        net.probs = _address(self._probs, np.float64)
        return net

    def _describe_gru(self) -> _GruNet:
        """The C view of the GRU layers' arrays (see :mod:`~improviser.inference.gru_layers`)."""
        gru = self._gru
        assert gru is not None
        net = self._dims(_GruNet(), gru.tables)
        for i in range(len(self.units)):
            net.rec[i] = _address(gru.recurrent[i])
            net.states[i] = _address(gru.states[i])
            net.x[i] = _address(gru.x[i])
            net.r[i] = _address(gru.r[i])
        for layer, below in enumerate(gru.below, start=1):
            net.below[layer] = _address(below)
        net.pre0 = _address(gru.pre0)
        net.head = _address(self._head_kernel)
        net.logits = _address(self._logits)
        net.probs = _address(self._probs, np.float64)
        return net

    @classmethod
    def from_file(cls, path: str | Path, kind: str = MELODY) -> NativeEngine:
        """Load the engine of a model written by :func:`~improviser.inference.save_model`
        (a model of another ``kind`` is a one-line :class:`~improviser.errors.ModelError`)."""
        return cls(load_weights(path, kind))

    def prepare(self) -> None:
        """As :meth:`NumpyEngine.prepare`, compiled (the step adds to the same product)."""
        if not self._prepared:
            self._c_prepare(self._net_p)
            self._prepared = True

    def _run(self, token: Sequence[int], with_probs: int) -> None:
        t = self._token
        if self._four:
            t[0], t[1], t[2], t[3] = token[0], token[1], token[2], token[3]
        elif len(token) != len(t):
            raise IndexError(f"a token of this model has {len(t)} classes, got {len(token)}")
        else:
            t[:] = [int(v) for v in token]
        prepared, self._prepared = self._prepared, False
        if self._c_step(self._net_p, self._token_p, prepared, with_probs) != 0:
            self._prepared = prepared
            raise IndexError(f"note {tuple(token)} has a class outside the model's vocabulary")

    def _advance(self, token: Sequence[int]) -> F32:
        self._run(token, 0)
        return self._logits

    def step_probs(self, token: Sequence[int]) -> F64:
        """Take one token; return a new ``(heads, width)`` array, one softmax per row
        (zero-padded; ``(4, 128)`` for the melody model)."""
        self._run(token, 1)
        return self._probs.copy()
