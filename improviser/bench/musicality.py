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

``paths`` adds the two commands as a user runs them, with their defaults (``[answer]``,
``[generate]``, ``[live]``) but answers ``answer_notes`` long: ``generate`` (the answer
:func:`~improviser.inference.generate.continue_melody` writes after the call) and
``live`` (the call played key by key into the live engine on a simulated clock at a
fixed 120 bpm, :func:`~improviser.harness.call_player.answer_call`, and the answer it
plans). ``before`` adds ``generate before``: what ``generate`` drew before it took the
live path (no tilt towards the call's note values, no replay guard, the first IOI as
drawn; :func:`~improviser.inference.generate.continue_tokens` as the command called it),
and ``live before``: the live row with no replay guard. ``guards`` adds both rows again for
each replay-guard setting named (``GUARD[:NOTES[:PENALTY]]``, see
:mod:`improviser.music.replay`).

With ``listen`` the model answers again for each named set of
:class:`~improviser.music.listener.ListenParams` (``model+stm``: with the short-term
model of the call; ``model+listen``: short-term model, key and register as ``live`` does
by default; both in the call's rhythm, as ``model``), in the same run on the same calls.
``octaves`` moves every call by whole octaves too (e.g. ``-2, 0, 2`` for low, middle and
high calls), each reported apart.

Every answer is measured against its call (:mod:`improviser.bench.phrase_metrics`); the
result gives, per answerer and measure, the mean, p50 and p99 over the answers.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from improviser.bench.phrase_metrics import METRICS, answer_metrics, call_key
from improviser.config import DataConfig, GenerateConfig, LiveConfig, validation_message
from improviser.config.listen import GUARDS
from improviser.errors import ConfigError, ModelError
from improviser.harness.call_player import answer_call
from improviser.inference import NumpyEngine, read_metadata
from improviser.inference.generate import continue_melody, continue_tokens
from improviser.music.encoding import decode
from improviser.music.key import Key
from improviser.music.listener import ListenParams
from improviser.music.notes import Note
from improviser.music.rhythm import DEFAULT_STRENGTH
from improviser.music.sampling import SamplingParams
from improviser.training.dataset import Piece
from improviser.training.evaluate import HeldOut, held_out

__all__ = [
    "ANSWERERS",
    "DEFAULT_KEYS",
    "PATHS",
    "bench_musicality",
    "guard_settings",
    "listen_variants",
]

DEFAULT_KEYS = tuple(range(-5, 7))
"""Transpositions of each call, in semitones: every key once."""
ANSWERERS = ("model", "model-raw", "truth", "repeat", "unigram", "walk")
PATHS = ("generate", "live")
"""The commands whose answers the bench measures as a user gets them."""
LIVE_BPM = 120.0
"""The tempo the live row's calls are played at (fixed: the beat tracker is not measured)."""
Tokens = npt.NDArray[np.int32]
Progress = Callable[[int, int], None]
Values = dict[str, dict[str, list[float | None]]]


def listen_variants() -> dict[str, ListenParams]:
    """The model rows ``--listen`` adds: the short-term model alone, and ``live``'s defaults."""
    live = ListenParams.from_config(LiveConfig())
    return {
        "model+stm": ListenParams(
            short_term=True,
            short_term_weight=live.short_term_weight,
            short_term_bias=live.short_term_bias,
            learn_answers=live.learn_answers,
            auto_key=False,
            register=False,
        ),
        "model+listen": live,
    }


def guard_settings(spec: str) -> dict[str, Any]:
    """``GUARD[:NOTES[:PENALTY]]`` as answer settings, e.g. ``penalty:6:0.05``; or any
    ``[answer]`` settings as ``KEY=VALUE,KEY=VALUE`` (``rhythm_strength=2,replay_notes=5``)."""
    if "=" in spec:
        pairs = [item.partition("=") for item in spec.split(",")]
        if any(not key or not sep for key, sep, _ in pairs):
            raise ConfigError(f"answer settings are KEY=VALUE,KEY=VALUE, got {spec!r}")
        return {key.strip(): value.strip() for key, _, value in pairs}
    parts = spec.split(":")
    if parts[0] not in GUARDS or len(parts) > 3:
        raise ConfigError(
            f"a guard is GUARD[:NOTES[:PENALTY]] with GUARD one of {', '.join(GUARDS)}, "
            f"got {spec!r}"
        )
    out: dict[str, Any] = {"replay_guard": parts[0]}
    try:
        if len(parts) > 1:
            out["replay_notes"] = int(parts[1])
        if len(parts) > 2:
            out["replay_penalty"] = float(parts[2])
    except ValueError as exc:
        raise ConfigError(f"guard {spec!r}: NOTES is a whole number, PENALTY a number") from exc
    return out


def _path_configs(
    paths: Sequence[str], guards: Sequence[str], count: int
) -> dict[str, GenerateConfig | LiveConfig]:
    """Each row's command config: its defaults, ``count``-note answers, each guard."""
    for path in paths:
        if path not in PATHS:
            raise ConfigError(f"a path is one of {', '.join(PATHS)}, got {path!r}")
    length = {"answer_length": "notes", "answer_notes": count}
    rows: dict[str, GenerateConfig | LiveConfig] = {}
    for spec in ["", *guards]:
        settings = length | (guard_settings(spec) if spec else {})
        suffix = f" {spec}" if spec else ""
        try:
            if "generate" in paths:
                rows["generate" + suffix] = GenerateConfig.model_validate(settings)
            if "live" in paths:
                live = settings | {"bpm": LIVE_BPM, "sync": "fixed"}
                rows["live" + suffix] = LiveConfig.model_validate(live)
        except ValidationError as exc:
            raise ConfigError(f"guard {spec!r}: {validation_message(exc, 'answer')}") from exc
    return rows


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


@dataclasses.dataclass(frozen=True)
class _Answering:
    """How the model rows answer: the call's rhythm, and each listening variant's."""

    rhythm_strength: float
    listen: Mapping[str, ListenParams]
    paths: Mapping[str, GenerateConfig | LiveConfig] = dataclasses.field(default_factory=dict)
    before: bool = False


def _answers(
    engine: NumpyEngine,
    tokens: Tokens,
    call_notes: int,
    params: SamplingParams,
    rng: np.random.Generator,
    how: _Answering,
) -> dict[str, Tokens | list[Note]]:
    """Every answerer's answer to the call ``tokens[:call_notes]``."""
    call_tokens = tokens[:call_notes]
    count = len(tokens) - call_notes
    strength = how.rhythm_strength
    answers: dict[str, Tokens | list[Note]] = {
        "model": continue_tokens(engine, call_tokens, count, params, rng, strength),
        "model-raw": continue_tokens(engine, call_tokens, count, params, rng),
    }
    for name, listen in how.listen.items():
        answers[name] = continue_tokens(engine, call_tokens, count, params, rng, strength, listen)
    call = _notes(call_tokens)
    if how.before:
        old = GenerateConfig(replay_guard="off")
        answers["generate before"] = continue_tokens(
            engine,
            call_tokens,
            count,
            SamplingParams.from_config(old.sampling),
            rng,
            listen=ListenParams.from_config(old),
        )
    for name, cfg in how.paths.items():
        if isinstance(cfg, LiveConfig):
            answers[name] = answer_call(engine, call, cfg, rng)
        else:
            answers[name] = continue_melody(engine, call, LIVE_BPM, cfg, rng)
    key = call_key(call)
    answers |= {
        "truth": tokens[call_notes:],
        "repeat": _repeat(call_tokens, count),
        "unigram": _unigram(call_tokens, count, rng),
        "walk": _walk(call_tokens, count, key, rng),
    }
    return answers


def _measure(
    values: Values, answers: Mapping[str, Tokens | list[Note]], call_tokens: Tokens
) -> None:
    call = _notes(call_tokens)
    key = call_key(call)
    for name, answer in answers.items():
        notes = answer if isinstance(answer, list) else _notes(answer, call[-1].start_beats)
        measured = answer_metrics(notes, call, key)
        per = values.setdefault(name, {m: [] for m in METRICS})
        for metric, value in measured.items():
            per[metric].append(value)


def _summaries(values: Values) -> dict[str, dict[str, dict[str, float | int | None]]]:
    return {a: {m: _summary(v) for m, v in per.items()} for a, per in values.items()}


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
    listen: Mapping[str, ListenParams] | None = None,
    octaves: Sequence[int] = (0,),
    paths: Sequence[str] = PATHS,
    guards: Sequence[str] = (),
    before: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Answer held-out calls in every key; measure model, truth and baselines alike.

    ``progress(done, total)`` is called after each transposed call. Returns a JSON-ready
    dict: ``model``, ``files``, ``calls``, ``answers``, ``keys``, ``octaves``,
    ``call_notes``, ``answer_notes``, ``sampling``, ``seconds`` and
    ``metrics[answerer][measure]`` = ``{n, mean, p50, p99}`` (over every octave), and
    ``by_octave[octave]`` the same for each octave alone.
    """
    if calls < 1 or call_notes < 2 or answer_notes < 2 or not keys or not octaves:
        raise ConfigError(
            f"need calls >= 1, call_notes >= 2, answer_notes >= 2, a key and an octave, got "
            f"{calls}, {call_notes}, {answer_notes}, {list(keys)}, {list(octaves)}"
        )
    t0 = time.perf_counter()
    model = Path(model)
    pieces, held = _pieces(model, data, calls, call_notes + answer_notes)
    sampling = LiveConfig().sampling
    params = SamplingParams.from_config(sampling)
    engine = NumpyEngine.from_file(model)
    rng = np.random.default_rng(seed)
    listen = dict(listen or {})
    rows = _path_configs(paths, guards, answer_notes)
    if before:
        live = _path_configs(("live",), ("off",), answer_notes)
        rows["live before"] = live["live off"]
    how = _Answering(rhythm_strength, listen, rows, before)
    total_values: Values = {}
    by_octave: dict[int, Values] = {o: {} for o in octaves}
    total, done = len(pieces) * len(keys) * len(octaves), 0
    for piece in pieces:
        for octave in octaves:
            for shift in keys:
                done += 1
                tokens = piece.tokens[: call_notes + answer_notes].copy()
                tokens[:, 0] += shift + 12 * octave
                if tokens[:, 0].min() >= 0 and tokens[:, 0].max() <= 127:
                    answers = _answers(engine, tokens, call_notes, params, rng, how)
                    _measure(total_values, answers, tokens[:call_notes])
                    _measure(by_octave[octave], answers, tokens[:call_notes])
                if progress is not None:
                    progress(done, total)
    return {
        "model": str(model),
        "files": len(held.pieces),
        "excluded_files": held.excluded,
        "calls": len(pieces),
        "answers": len(total_values.get("model", {}).get("key", [])),
        "keys": list(keys),
        "octaves": list(octaves),
        "listen": {name: dataclasses.asdict(how) for name, how in listen.items()},
        "call_notes": call_notes,
        "answer_notes": answer_notes,
        "sampling": sampling.model_dump(),
        "seed": seed,
        "rhythm_strength": rhythm_strength,
        "paths": list(paths),
        "guards": list(guards),
        "before": before,
        "seconds": time.perf_counter() - t0,
        "loadavg_1min": os.getloadavg()[0],
        "metrics": _summaries(total_values),
        "by_octave": {str(o): _summaries(v) for o, v in by_octave.items()},
    }


def _pieces(
    model: Path, data: Sequence[str | Path], calls: int, notes: int
) -> tuple[list[Piece], HeldOut]:
    """The first ``calls`` held-out pieces of at least ``notes`` notes."""
    meta = read_metadata(model)
    if meta.get("objective") != "classes":
        raise ModelError(f"{model}: the musicality bench needs a classes-objective model")
    cfg = DataConfig.model_validate(meta.get("config", {}).get("data", {}))
    held = held_out(data, meta, cfg)
    pieces = [p for p in held.pieces if len(p.tokens) >= notes][:calls]
    if not pieces:
        raise ModelError(
            f"no held-out piece has {notes} notes "
            f"({len(held.pieces)} held out, {held.excluded} in the model's split)"
        )
    return pieces, held
