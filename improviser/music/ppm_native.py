"""Context counts in C (``_ppm.c``): :class:`~improviser.music.ppm.ContextCounts`'s
counting and blend in fixed, preallocated tables.

The short-term model counts and takes back ~2 × (order + 1) contexts on every note; in
Python that is dicts and tuples made and freed on the live path (~40 µs a note warm, more
with cold caches) and a heap that fragments over a long session. :class:`NativeCounts`
keeps them in tables sized when it is made for the most a bounded model holds (``reserve``
contexts), so counting allocates nothing and a session's memory stays where it started.
The same counts and the same distribution as the Python class, to rounding (the sum runs
in another order); :func:`native_counts_available` says whether the library was built.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from improviser.paths import built_library

__all__ = ["NativeCounts", "native_counts_available", "native_counts_fit", "predict_pair"]

F64 = npt.NDArray[np.float64]
_P = ctypes.c_void_p
_I32P = ctypes.POINTER(ctypes.c_int32)


@cache
def _library() -> ctypes.CDLL | None:
    path = built_library(__file__, "_ppm")
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
        return _declare(lib)
    except (OSError, AttributeError):  # a library left from an older build: counts in Python
        return None


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    lib.ppm_new.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
    lib.ppm_new.restype = _P
    lib.ppm_reserve.argtypes = [_P, ctypes.c_int64]
    lib.ppm_reserve.restype = ctypes.c_int
    lib.ppm_free.argtypes = [_P]
    lib.ppm_free.restype = None
    for name in ("ppm_add", "ppm_remove"):
        fn = getattr(lib, name)
        fn.argtypes = [_P, _I32P, ctypes.c_int, ctypes.c_int32]
        fn.restype = ctypes.c_int
    lib.ppm_distribution.argtypes = [_P, _I32P, ctypes.c_int, _P]
    lib.ppm_distribution.restype = ctypes.c_int
    lib.ppm_predict_pair.argtypes = [_P, _P, _I32P, ctypes.c_int, _I32P, ctypes.c_int]
    lib.ppm_predict_pair.argtypes += [ctypes.c_int, ctypes.c_int, _P, _P]
    lib.ppm_predict_pair.restype = None
    lib.ppm_size.argtypes = [_P, ctypes.POINTER(ctypes.c_int64)]
    lib.ppm_size.restype = ctypes.c_int64
    lib.ppm_capacity.argtypes = [_P, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64)]
    lib.ppm_capacity.restype = None
    lib.ppm_dump.argtypes = [_P, _I32P]
    lib.ppm_dump.restype = None
    return lib


def native_counts_available() -> bool:
    """Whether the C counts were built with the package."""
    return _library() is not None


def _bits(vocab: int) -> int:
    return max(1, (vocab - 1).bit_length())


def native_counts_fit(order: int, vocab: int) -> bool:
    """Whether contexts of ``order`` symbols of ``vocab`` fit the C table's 64-bit keys."""
    return order * _bits(vocab) <= 64


class NativeCounts:
    """What followed every context of up to ``order`` symbols over ``vocab``, in C.

    ``reserve``: the contexts (and context/symbol pairs) to make room for now; a model
    that counts at most ``n`` symbols at a time holds at most ``(order + 1) * n``. Past
    it the tables double (a pause proportional to their size).
    """

    def __init__(self, order: int, vocab: int, reserve: int = 1024) -> None:
        lib = _library()
        if lib is None:
            raise RuntimeError("the C context counts were not built with the package")
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        if vocab < 1:
            raise ValueError(f"vocab must be >= 1, got {vocab}")
        if not native_counts_fit(order, vocab):
            raise ValueError(f"contexts of {order} symbols of {vocab} do not fit 64 bits")
        self.order = order
        self.vocab = vocab
        self._lib = lib
        handle = lib.ppm_new(order, vocab, _bits(vocab), max(1, reserve))
        if not handle:
            raise MemoryError(f"no memory for {reserve} contexts")
        self._handle: int = handle
        self._free = weakref.finalize(self, lib.ppm_free, handle)
        self._history = (ctypes.c_int32 * (order + 1))()
        self._out = np.zeros(vocab, dtype=np.float64)
        self._out_p = self._out.ctypes.data

    def reserve(self, contexts: int) -> None:
        """Make room for ``contexts`` contexts (and pairs) now, not while counting."""
        if self._lib.ppm_reserve(self._handle, contexts) != 0:
            raise MemoryError(f"no memory for {contexts} contexts")

    @property
    def capacity(self) -> tuple[int, int]:
        """Contexts and follower pairs the tables hold now without growing."""
        contexts, nodes = ctypes.c_int64(), ctypes.c_int64()
        self._lib.ppm_capacity(self._handle, ctypes.byref(contexts), ctypes.byref(nodes))
        return contexts.value, nodes.value

    def _context(self, history: Sequence[int]) -> int:
        """Put the last ``order`` symbols of ``history`` in the call buffer; their count."""
        n = min(len(history), self.order)
        buf = self._history
        if n:
            buf[:n] = list(history[len(history) - n :])
        return n

    def _check(self, symbol: int) -> None:
        if not 0 <= symbol < self.vocab:
            raise ValueError(f"symbol must be in range 0..{self.vocab - 1}, got {symbol}")

    def add(self, history: Sequence[int], symbol: int) -> None:
        """Count ``symbol`` after each of the last 0..order symbols of ``history``."""
        self._check(symbol)
        n = self._context(history)
        if self._lib.ppm_add(self._handle, self._history, n, symbol) != 0:
            raise MemoryError("no memory to grow the context counts")

    def remove(self, history: Sequence[int], symbol: int) -> None:
        """Take back one :meth:`add` of ``symbol`` after ``history``, exactly."""
        n = self._context(history)
        if self._lib.ppm_remove(self._handle, self._history, n, symbol) != 0:
            raise KeyError(f"{symbol} was never counted after {tuple(history)[-n:]}")

    def add_sequence(self, seq: Sequence[int]) -> None:
        """Count every symbol of ``seq`` after each of its contexts within the sequence."""
        s = [int(v) for v in seq]
        for i, x in enumerate(s):
            self.add(s[max(0, i - self.order) : i], x)

    def distribution(self, history: Sequence[int]) -> F64:
        """The next-symbol distribution after ``history`` (most recent symbol last)."""
        n = self._context(history)
        self._lib.ppm_distribution(self._handle, self._history, n, self._out_p)
        return self._out.copy()

    def _dump(self) -> list[tuple[tuple[int, ...], int, dict[int, int]]]:
        length = ctypes.c_int64()
        self._lib.ppm_size(self._handle, ctypes.byref(length))
        raw = (ctypes.c_int32 * max(1, length.value))()
        self._lib.ppm_dump(self._handle, raw)
        data, i, out = list(raw)[: length.value], 0, []
        while i < len(data):
            k = data[i]
            key = tuple(data[i + 1 : i + 1 + k])
            total, types = data[i + 1 + k], data[i + 2 + k]
            pairs = data[i + 3 + k : i + 3 + k + 2 * types]
            out.append((key, total, dict(zip(pairs[::2], pairs[1::2], strict=True))))
            i += 3 + k + 2 * types
        return out

    @property
    def levels(self) -> list[dict[tuple[int, ...], dict[int, int]]]:
        """A copy of the counts as :attr:`ContextCounts.levels` holds them (inspection)."""
        levels: list[dict[tuple[int, ...], dict[int, int]]] = [{} for _ in range(self.order + 1)]
        for key, _, followers in self._dump():
            levels[len(key)][key] = followers
        return levels

    @property
    def totals(self) -> list[dict[tuple[int, ...], int]]:
        """A copy of the totals as :attr:`ContextCounts.totals` holds them (inspection)."""
        totals: list[dict[tuple[int, ...], int]] = [{} for _ in range(self.order + 1)]
        for key, total, _ in self._dump():
            totals[len(key)][key] = total
        return totals


def predict_pair(
    pitch: NativeCounts,
    interval: NativeCounts,
    pitches: Sequence[int],
    steps: Sequence[int],
    last: int,
    span: int,
) -> F64:
    """The short-term model's prediction (:meth:`ShortTermModel.predict
    <improviser.music.stm.ShortTermModel.predict>`, equal weights) in one call: the mean
    of ``pitch``'s distribution after ``pitches`` and ``interval``'s after ``steps`` read
    from the pitch ``last`` (interval ``i`` is symbol ``i + span``), renormalised."""
    n_p = pitch._context(pitches)
    n_s = interval._context(steps)
    out = np.empty(pitch.vocab, dtype=np.float64)
    pitch._lib.ppm_predict_pair(
        pitch._handle, interval._handle, pitch._history, n_p, interval._history, n_s,
        last, span, interval._out_p, out.ctypes.data,
    )  # fmt: skip
    return out
