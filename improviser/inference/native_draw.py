"""Drawing a note, compiled: the listener's reshaping and the sampler in two C calls.

:meth:`ModelContext.draw <improviser.inference.context.ModelContext.draw>` on the
native engine draws here: :meth:`Listener.shaping
<improviser.music.listener.Listener.shaping>` says what to apply (the short-term model's
prediction is still computed in Python), ``_native.c`` folds, blends, weighs and draws as
:meth:`Listener.shape <improviser.music.listener.Listener.shape>` and
:meth:`Sampler.sample_padded <improviser.music.sampling.Sampler.sample_padded>` do, and
the generator is drawn from exactly as there (four uniforms, only when no fallback rule
applies), so a seeded session draws the same notes on either path (tested) except where
rounding of a sum taken in another order moves a draw across a boundary.

:class:`NativeRowDraw` is :func:`~improviser.music.sampling.sample_field` for one row
under a mask of the rest and an interval (the harmonizer's voices), in two C calls.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from improviser.inference.native_engine import native_library
from improviser.music.encoding import FIELDS, PITCHES, Token
from improviser.music.listener import Listener
from improviser.music.register import SHIFT_SLACK, register_window
from improviser.music.sampling import Sampler, sample_field

__all__ = ["NativeDraw", "NativeRowDraw"]

F64 = npt.NDArray[np.float64]
_P = ctypes.c_void_p
_ROWS = len(FIELDS)


class _Draw(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("sizes", ctypes.c_int * _ROWS),
        ("pitches", ctypes.c_int),
        ("reg", ctypes.c_int),
        ("center", ctypes.c_double),
        ("lo", ctypes.c_int),
        ("hi", ctypes.c_int),
        ("slack", ctypes.c_int),
        ("stm", _P),
        ("stm_weight", ctypes.c_double),
        ("stm_bias", ctypes.c_double),
        ("key", _P),
        ("temperature", ctypes.c_double),
        ("allowed", _P),
        ("keep", ctypes.c_int * _ROWS),
        ("cut", ctypes.c_int * _ROWS),
        ("top_p", ctypes.c_double),
        ("p", _P),
        ("totals", ctypes.c_double * _ROWS),
    ]


class NativeDraw:
    """``sampler.sample_padded(listener.shape_padded(probs), rng)``, compiled."""

    def __init__(self, width: int) -> None:
        lib = native_library()
        if lib is None:
            raise RuntimeError("the compiled step is not built")
        self._lib = lib
        self._width = width
        self._probs = np.zeros((_ROWS, width), dtype=np.float64)
        self._rows = np.zeros((_ROWS, width), dtype=np.float64)
        self._stm = np.zeros(PITCHES, dtype=np.float64)
        self._key = np.zeros(PITCHES, dtype=np.float64)
        self._key_source: F64 | None = None
        self._allowed = np.zeros((_ROWS, width), dtype=np.uint8)
        self._u = np.zeros(_ROWS, dtype=np.float64)
        self._token = (ctypes.c_int * _ROWS)()
        self._sampler: Sampler | None = None
        d = self._d = _Draw()
        d.width = width
        d.pitches = PITCHES
        d.slack = SHIFT_SLACK
        d.allowed = self._allowed.ctypes.data
        d.p = self._rows.ctypes.data
        self._d_p = ctypes.addressof(d)
        self._probs_p = self._probs.ctypes.data
        self._u_p = self._u.ctypes.data
        self._token_p = ctypes.addressof(self._token)

    def _take_sampler(self, sampler: Sampler) -> None:
        rule, d = sampler.rule, self._d
        if rule.allowed.shape != self._allowed.shape:
            raise ValueError(f"the sampler's rows are not {self._allowed.shape}")
        self._allowed[:] = rule.allowed
        for i in range(_ROWS):
            d.sizes[i] = int(rule.sizes[i])
            d.keep[i] = int(rule.keep[i])
            d.cut[i] = int(rule.cut[i])
        d.temperature = sampler.params.temperature
        d.top_p = sampler.params.top_p
        self._sampler = sampler

    def _take_listener(self, listener: Listener | None) -> None:
        d = self._d
        if listener is None:
            d.reg, d.stm, d.key = 0, None, None
            return
        center, stm, weights, stm_weight = listener.shaping(PITCHES)
        params = listener.params
        d.reg = center is not None
        if center is not None:
            d.center = center
            d.lo, d.hi = register_window(center, params.register_span, PITCHES)
        d.stm = None
        if stm is not None:
            np.copyto(self._stm, stm)
            d.stm = self._stm.ctypes.data
            d.stm_weight = stm_weight
            d.stm_bias = params.short_term_bias
        d.key = None
        if weights is not None:
            if weights is not self._key_source:  # scale_weights caches: copy on change
                np.copyto(self._key, weights)
                self._key_source = weights
            d.key = self._key.ctypes.data

    def draw(
        self,
        probs: F64,
        sampler: Sampler,
        listener: Listener | None,
        rng: np.random.Generator,
    ) -> Token:
        """Draw the next note from the ``(4, width)`` prediction ``probs``."""
        if sampler is not self._sampler:
            self._take_sampler(sampler)
        self._take_listener(listener)
        np.copyto(self._probs, probs)
        if self._lib.imp_shape(self._d_p, self._probs_p) != 0:  # a fallback rule: Python's
            shaped = probs if listener is None else listener.shape_padded(probs)
            return sampler.sample_padded(shaped, rng)
        rng.random(out=self._u)
        self._lib.imp_pick(self._d_p, self._u_p, self._token_p)
        t = self._token
        return Token(t[0], t[1], t[2], t[3])


class _Row(ctypes.Structure):
    _fields_ = [
        ("n", ctypes.c_int),
        ("lo", ctypes.c_int),
        ("hi", ctypes.c_int),
        ("banned", _P),
        ("temperature", ctypes.c_double),
        ("top_k", ctypes.c_int),
        ("top_p", ctypes.c_double),
        ("p", _P),
        ("total", ctypes.c_double),
    ]


class NativeRowDraw:
    """``sample_field(probs, rng, temperature, top_k, top_p, allowed)`` compiled, for a
    mask that allows class 0 and the classes ``lo..hi`` less those of ``banned``.

    :meth:`draw` returns ``None`` where no probability is left inside the mask (nothing is
    drawn from the generator then) and takes one ``rng.random()`` otherwise, as
    ``sample_field`` does.
    """

    def __init__(self, size: int, temperature: float, top_k: int, top_p: float) -> None:
        lib = native_library()
        if lib is None:
            raise RuntimeError("the compiled step is not built")
        if not 1 <= size <= 256:
            raise ValueError(f"a row of 1..256 classes is drawn here, not {size}")
        self._lib = lib
        self._size = size
        self._scratch = np.zeros(size, dtype=np.float64)
        self._banned = np.zeros(size, dtype=np.uint8)
        row = self._row = _Row()
        row.n = size
        row.temperature = temperature
        row.top_k = top_k
        row.top_p = top_p
        row.p = self._scratch.ctypes.data
        self._row_p = ctypes.addressof(row)
        self._params = (temperature, top_k, top_p)

    def draw(
        self,
        probs: F64,
        lo: int,
        hi: int,
        rng: np.random.Generator,
        banned: Sequence[int] = (),
    ) -> int | None:
        """Draw from ``probs`` (``size`` float64, C-contiguous) under the mask."""
        if probs.shape != (self._size,) or probs.dtype != np.float64:
            raise ValueError(f"probs must be {self._size} float64 values")
        probs = np.ascontiguousarray(probs)
        row = self._row
        row.lo, row.hi = lo, hi
        row.banned = None
        if banned:
            flags = self._banned
            flags.fill(0)
            flags[list(banned)] = 1
            row.banned = flags.ctypes.data
        status = self._lib.imp_row_shape(self._row_p, probs.ctypes.data)
        if status == 1:
            return None
        if status == 2:  # not reached for a softmax row; sample_field's own rules
            mask = np.zeros(self._size, dtype=bool)
            mask[max(lo, 0) : hi + 1] = True
            mask[list(banned)] = False
            mask[0] = True
            temperature, top_k, top_p = self._params
            return sample_field(
                probs, rng, temperature=temperature, top_k=top_k, top_p=top_p, allowed=mask
            )
        return int(self._lib.imp_row_pick(self._row_p, rng.random()))
