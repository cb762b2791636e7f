"""Musicality of the model's answers against the songs' own continuations and baselines.

For each of the first ``calls`` held-out songs (pieces the model never trained or
validated on, see :func:`improviser.training.evaluate.held_out`) with enough notes, its
first ``call_notes`` notes are a call, transposed by each of ``keys`` semitones. Each
call is answered by:

- ``model``: the streaming NumPy engine steps through the call and draws
  ``answer_notes`` notes with the live sampler settings (``[live.sampling]`` defaults:
  temperature, top-p, the live pitch range), its rhythm conditioned on the call's note
  values as a live answer is (:class:`~improviser.music.rhythm.CallRhythm` at
  ``rhythm_strength``), as :func:`~improviser.inference.generate.continue_tokens` does;
- ``model-raw``: the same model in its own rhythm (no conditioning: the answers before
  the call's note values were followed);
- ``truth``: the song's own next ``answer_notes`` notes (transposed alike);
- ``repeat``: the call again (its first ``answer_notes`` notes, cycled if shorter);
- ``unigram``: notes drawn at random from the call (pitch, rhythm and loudness together);
- ``walk``: a random walk of ±1..2 scale steps in the call's key from its last note,
  with IOIs and durations drawn from the call's.

Every answer is measured against its call (:mod:`improviser.bench.phrase_metrics`); the
result gives, per answerer and measure, the mean, p50 and p99 over the answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.bench.phrase_metrics import METRICS, answer_metrics, call_key
from improviser.config import DataConfig, LiveConfig
from improviser.errors import ConfigError, ModelError
from improviser.inference import NumpyEngine, read_metadata
from improviser.inference.generate import continue_tokens
from improviser.music.encoding import decode
from improviser.music.key import Key
from improviser.music.notes import Note
from improviser.music.rhythm import DEFAULT_STRENGTH
from improviser.music.sampling import SamplingParams
from improviser.training.evaluate import held_out

__all__ = ["ANSWERERS", "DEFAULT_KEYS", "bench_musicality"]

DEFAULT_KEYS = tuple(range(-5, 7))
"""Transpositions of each call, in semitones: every key once."""
ANSWERERS = ("model", "model-raw", "truth", "repeat", "unigram", "walk")
Tokens = npt.NDArray[np.int32]
Progress = Callable[[int, int], None]


def _as_phrase(call: Tokens) -> Tokens:
    """The call's tokens with its first IOI (0: nothing before it) set to the second's,
    so a baseline that reuses the first note does not strike it with the note before."""
    phrase = call.copy()
    phrase[0, 1] = call[1, 1]
    return phrase


def _repeat(call: Tokens, count: int) -> Tokens:
    return np.resize(_as_phrase(call), (count, call.shape[1])).astype(np.int32)


def _unigram(call: Tokens, count: int, rng: np.random.Generator) -> Tokens:
    return _as_phrase(call)[rng.integers(0, len(call), size=count)].astype(np.int32)


def _walk(call: Tokens, count: int, key: Key, rng: np.random.Generator) -> Tokens:
    scale = np.asarray(sorted(p for p in range(128) if key.contains(p)))
    at = int(np.argmin(np.abs(scale - int(call[-1, 0]))))
    out = _unigram(call, count, rng)
    for i in range(count):
        at = int(np.clip(at + rng.choice([-2, -1, 1, 2]), 0, len(scale) - 1))
        out[i, 0] = scale[at]
    return out


def _notes(tokens: Tokens, start_beats: float = 0.0) -> list[Note]:
    return decode(tokens, bpm=60.0, start_beats=start_beats)


def _summary(values: Sequence[float | None]) -> dict[str, float | int | None]:
    a = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if a.size == 0:
        return {"n": 0, "mean": None, "p50": None, "p99": None}
    return {
        "n": int(a.size),
        "mean": float(a.mean()),
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
    }


def bench_musicality(
    model: str | Path,
    data: Sequence[str | Path],
    *,
    calls: int = 60,
    keys: Sequence[int] = DEFAULT_KEYS,
    call_notes: int = 16,
    answer_notes: int = 16,
    seed: int = 0,
    rhythm_strength: float = DEFAULT_STRENGTH,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Answer held-out calls in every key; measure model, truth and baselines alike.

    ``progress(done, total)`` is called after each transposed call. Returns a JSON-ready
    dict: ``model``, ``files``, ``calls``, ``answers``, ``keys``, ``call_notes``,
    ``answer_notes``, ``sampling``, ``seconds`` and ``metrics[answerer][measure]`` =
    ``{n, mean, p50, p99}``.
    """
    if calls < 1 or call_notes < 2 or answer_notes < 2 or not keys:
        raise ConfigError(
            f"need calls >= 1, call_notes >= 2, answer_notes >= 2 and a key, got "
            f"{calls}, {call_notes}, {answer_notes}, {list(keys)}"
        )
    t0 = time.perf_counter()
    model = Path(model)
    meta = read_metadata(model)
    if meta.get("objective") != "classes":
        raise ModelError(f"{model}: the musicality bench needs a classes-objective model")
    cfg = DataConfig.model_validate(meta.get("config", {}).get("data", {}))
    held = held_out(data, meta, cfg)
    pieces = [p for p in held.pieces if len(p.tokens) >= call_notes + answer_notes][:calls]
    if not pieces:
        raise ModelError(
            f"no held-out piece has {call_notes + answer_notes} notes "
            f"({len(held.pieces)} held out, {held.excluded} in the model's split)"
        )
    sampling = LiveConfig().sampling
    params = SamplingParams.from_config(sampling)
    engine = NumpyEngine.from_file(model)
    rng = np.random.default_rng(seed)
    values: dict[str, dict[str, list[float | None]]] = {
        a: {m: [] for m in METRICS} for a in ANSWERERS
    }
    total, done = len(pieces) * len(keys), 0
    for piece in pieces:
        for shift in keys:
            done += 1
            tokens = piece.tokens[: call_notes + answer_notes].copy()
            tokens[:, 0] += shift
            if tokens[:, 0].min() < 0 or tokens[:, 0].max() > 127:
                continue
            call_tokens = tokens[:call_notes]
            call = _notes(call_tokens)
            key = call_key(call)
            answers = {
                "model": continue_tokens(
                    engine, call_tokens, answer_notes, params, rng, rhythm_strength
                ),
                "model-raw": continue_tokens(engine, call_tokens, answer_notes, params, rng),
                "truth": tokens[call_notes:],
                "repeat": _repeat(call_tokens, answer_notes),
                "unigram": _unigram(call_tokens, answer_notes, rng),
                "walk": _walk(call_tokens, answer_notes, key, rng),
            }
            for name, answer in answers.items():
                measured = answer_metrics(_notes(answer, call[-1].start_beats), call, key)
                for metric, value in measured.items():
                    values[name][metric].append(value)
            if progress is not None:
                progress(done, total)
    return {
        "model": str(model),
        "files": len(held.pieces),
        "excluded_files": held.excluded,
        "calls": len(pieces),
        "answers": len(values["model"]["key"]),
        "keys": list(keys),
        "call_notes": call_notes,
        "answer_notes": answer_notes,
        "sampling": sampling.model_dump(),
        "seed": seed,
        "rhythm_strength": rhythm_strength,
        "seconds": time.perf_counter() - t0,
        "metrics": {a: {m: _summary(v) for m, v in per.items()} for a, per in values.items()},
    }
