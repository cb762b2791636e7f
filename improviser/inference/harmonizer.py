"""The harmonizer: the lower voices under a melody, one melody onset at a time, causally.

:class:`Harmonizer` steps a harmony model (:mod:`improviser.music.voicing`: four tokens
per melody onset, melody, bass, tenor, alto) on a streaming engine
(:class:`~improviser.inference.NumpyEngine` or its compiled twin) with its state
carried. At each melody onset, :meth:`Harmonizer.voice` hears the melody token and draws
the bass from the model's prediction, hears the bass and draws the tenor, hears the tenor
and draws the alto. Each draw is reshaped by a mask first: a voice is a rest (0) or a
pitch inside its range, at or above the voice drawn under it and at or below the melody
(no crossing, never above the melody), and (``avoid_parallels``, on by default) not one
that would move it in parallel fifths or octaves with a part already placed at this
onset: the rule Bach keeps, which a model sampled note by note breaks several times as
often as he does (``improviser bench harmony``). Temperature, top-k and top-p are the project's
sampler's (:func:`~improviser.music.sampling.sample_field`; on the compiled engine its
compiled twin :class:`~improviser.inference.native_draw.NativeRowDraw`, which draws the
same pitches from the same generator); the generator is seeded.

The alto's own token is heard later (:meth:`Harmonizer.settle`, in the pause after the
onset, or first thing at the next onset), so the hot path of an onset is three steps and
three draws. Nothing is ever read ahead of the onset being voiced: the voices at onset k
are the same whatever melody follows (tested). The live accompaniment and ``improviser
harmonize`` use this same class, so the same seed gives the same notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from improviser.errors import ModelError
from improviser.inference.native_draw import NativeRowDraw
from improviser.inference.native_engine import NativeEngine
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.select import cpu_engine_type
from improviser.music.encoding import PITCHES
from improviser.music.sampling import sample_field
from improviser.music.voicing import HARMONY_FIELDS, HARMONY_VOCAB, METRE_CLASSES, REST, VOICES

__all__ = [
    "HARMONY",
    "VOICE_RANGES",
    "Harmonizer",
    "HarmonizerState",
    "HarmonyParams",
    "Voicing",
]

HARMONY = "harmony"
"""The kind of a harmony model's weights."""
VOICE_RANGES: tuple[tuple[int, int], ...] = ((36, 64), (45, 69), (52, 77))
"""MIDI ranges of bass, tenor and alto: the chorales' written ranges (bass C2-E4, tenor
A2-A4, alto E3-F5) with a few semitones to spare for the transposed keys."""
_IOI_CLASSES = HARMONY_VOCAB["ioi"]


class Voicing(NamedTuple):
    """The lower voices at one melody onset; 0 (:data:`~improviser.music.voicing.REST`)
    where a voice is silent."""

    bass: int
    tenor: int
    alto: int


@dataclass(frozen=True, slots=True)
class HarmonyParams:
    """How the voices are drawn (the defaults: the closest to Bach's voices on the held-out
    chorales of ``improviser bench harmony``, against 1.0 / 1.0 and 0.6)."""

    temperature: float = 0.8
    top_k: int = 0
    """Keep the k most likely pitches of each draw (0 = all)."""
    top_p: float = 0.9
    """Keep the most likely pitches whose probabilities add up to p."""
    ranges: tuple[tuple[int, int], ...] = VOICE_RANGES
    """``(low, high)`` MIDI pitch of bass, tenor and alto."""
    avoid_parallels: bool = True
    """Leave out of a voice's draw the pitches that would move it in parallel fifths or
    octaves with a part already placed at this onset (the melody, a voice under it)."""

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in range (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 or more, got {self.top_k}")
        if len(self.ranges) != len(VOICES) or not all(
            1 <= lo <= hi < PITCHES for lo, hi in self.ranges
        ):
            raise ValueError(f"ranges must be three (low, high) in 1..127, got {self.ranges}")


@dataclass(frozen=True, slots=True)
class HarmonizerState:
    """A snapshot of a :class:`Harmonizer` (see :meth:`Harmonizer.snapshot`)."""

    model: object
    pending: tuple[int, int, int, int] | None
    onsets: int
    last: tuple[int, int, int, int] = (0, 0, 0, 0)


class Harmonizer:
    """Lower voices under a melody, drawn from a harmony model one onset at a time."""

    def __init__(
        self,
        engine: NumpyEngine,
        params: HarmonyParams | None = None,
        seed: int | None = None,
    ) -> None:
        if engine.inputs != HARMONY_FIELDS or engine.outputs != ("value",):
            raise ModelError(
                f"a harmony model reads {', '.join(HARMONY_FIELDS)} and predicts value; this "
                f"one reads {', '.join(engine.inputs)} and predicts {', '.join(engine.outputs)}"
            )
        if engine.sizes != (PITCHES,):
            raise ModelError(f"a harmony model predicts {PITCHES} values, not {engine.sizes[0]}")
        self.engine = engine
        self.params = params or HarmonyParams()
        self.rng = np.random.default_rng(seed)
        self._mask = np.zeros(PITCHES, dtype=bool)
        p = self.params
        self._row = (
            NativeRowDraw(PITCHES, p.temperature, p.top_k, p.top_p)
            if isinstance(engine, NativeEngine)
            else None
        )
        """The compiled draw, on the compiled engine (the same draws as sample_field's)."""
        self._pending: tuple[int, int, int, int] | None = None
        self._last = (0, 0, 0, 0)
        """The melody and the voices at the previous onset (0: none)."""
        self.onsets = 0
        """Melody onsets heard since the last reset."""

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        engine: str = "auto",
        params: HarmonyParams | None = None,
        seed: int | None = None,
    ) -> Harmonizer:
        """The harmonizer of the harmony model at ``path`` on a streaming CPU engine
        (``auto``: the compiled one where built, else NumPy; ``numpy``; ``native``)."""
        return cls(cpu_engine_type(engine).from_file(path, HARMONY), params, seed)

    def voice(self, melody: int, metre: int, ioi: int) -> Voicing:
        """Hear a melody onset; draw its bass, tenor and alto (each 0 or at most ``melody``)."""
        _check(melody, metre, ioi)
        self.settle_step()
        engine = self.engine
        placed = [melody]
        probs = engine.step_probs((melody, 0, metre, ioi))
        bass = self._draw(probs[0], 0, 1, melody, placed)
        placed.append(bass)
        probs = engine.step_probs((bass, 1, metre, ioi))
        tenor = self._draw(probs[0], 1, bass or 1, melody, placed)
        placed.append(tenor)
        probs = engine.step_probs((tenor, 2, metre, ioi))
        alto = self._draw(probs[0], 2, tenor or bass or 1, melody, placed)
        self._pending = (alto, 3, metre, ioi)
        self._last = (melody, bass, tenor, alto)
        self.onsets += 1
        return Voicing(bass, tenor, alto)

    def hold(self, melody: int, metre: int, ioi: int, voices: Sequence[int]) -> None:
        """Hear a melody onset under which ``voices`` (bass, tenor, alto) sound, drawing
        nothing (the accompaniment kept its voices, or played none: all rests)."""
        _check(melody, metre, ioi)
        if len(voices) != len(VOICES) or not all(0 <= int(v) < PITCHES for v in voices):
            raise ValueError(f"voices must be three pitches in range 0..127, got {voices}")
        self.settle_step()
        engine = self.engine
        engine.feed((melody, 0, metre, ioi))
        engine.feed((int(voices[0]), 1, metre, ioi))
        engine.feed((int(voices[1]), 2, metre, ioi))
        self._pending = (int(voices[2]), 3, metre, ioi)
        self._last = (melody, int(voices[0]), int(voices[1]), int(voices[2]))
        self.onsets += 1

    def settle(self) -> None:
        """Do, while idle, what the next onset need not wait for: hear the last alto and
        take the next step's largest product ahead (the results are unchanged)."""
        self.settle_step()
        self.engine.prepare()

    def settle_step(self) -> None:
        """Hear the last onset's alto, if not yet heard."""
        if self._pending is not None:
            self.engine.feed(self._pending)
            self._pending = None

    def snapshot(self) -> HarmonizerState:
        """What was heard (the model's state; not the generator's)."""
        return HarmonizerState(self.engine.snapshot(), self._pending, self.onsets, self._last)

    def restore(self, state: HarmonizerState) -> None:
        """Return to a state from :meth:`snapshot`."""
        self.engine.restore(state.model)
        self._pending = state.pending
        self.onsets = state.onsets
        self._last = state.last

    def reset(self, seed: int | None = None) -> None:
        """Forget every onset heard (and reseed the generator when ``seed`` is given)."""
        self.engine.reset()
        self._pending = None
        self._last = (0, 0, 0, 0)
        self.onsets = 0
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def _parallels(self, voice: int, placed: Sequence[int], lo: int, hi: int) -> list[int]:
        """The pitches of ``lo..hi`` that would take ``voice`` in parallel fifths or
        octaves (any octave) with a part in ``placed`` (melody, then the voices under
        this one), both moving the same way from the previous onset."""
        before = self._last[voice + 1]
        if not before:
            return []
        out: list[int] = []
        for part, now in enumerate(placed):
            was = self._last[part]
            interval = abs(before - was) % 12
            if not now or not was or now == was or interval not in (0, 7):
                continue
            up = now > was
            for residue in {(now + interval) % 12, (now - interval) % 12}:
                first = lo + (residue - lo) % 12
                out.extend(
                    x
                    for x in range(first, hi + 1, 12)
                    if x != before and (x > before) == up and abs(x - now) % 12 == interval
                )
        return out

    def _draw(
        self,
        probs: npt.NDArray[np.float64],
        voice: int,
        low: int,
        high: int,
        placed: Sequence[int],
    ) -> int:
        """Draw voice ``voice`` from ``probs``: a rest, or a pitch in ``low..high`` and in
        the voice's range (less parallels with ``placed``, when avoided). With no
        probability left there, a rest (no draw is taken)."""
        lo, hi = self.params.ranges[voice]
        lo, hi = max(lo, low), min(hi, high)
        banned = self._parallels(voice, placed, lo, hi) if self.params.avoid_parallels else []
        if self._row is not None:
            drawn = self._row.draw(probs, lo, hi, self.rng, banned)
            return REST if drawn is None else drawn
        mask = self._mask
        mask.fill(False)
        mask[lo : hi + 1] = True
        if banned:
            mask[banned] = False
        mask[REST] = True
        if not probs[mask].sum() > 0.0:
            return REST
        params = self.params
        return sample_field(
            probs,
            self.rng,
            temperature=params.temperature,
            top_k=params.top_k,
            top_p=params.top_p,
            allowed=mask,
        )


def _check(melody: int, metre: int, ioi: int) -> None:
    if not 1 <= melody < PITCHES:
        raise ValueError(f"melody must be in range 1..127, got {melody}")
    if not 0 <= metre < METRE_CLASSES:
        raise ValueError(f"metre must be in range 0..{METRE_CLASSES - 1}, got {metre}")
    if not 0 <= ioi < _IOI_CLASSES:
        raise ValueError(f"ioi must be in range 0..{_IOI_CLASSES - 1}, got {ioi}")
