"""Held-out evaluation of a harmony model against n-gram baselines fit on its training split.

Each held-out piece is read as the model reads it (one forward pass from a zero state is
the same as stepping it token by token), and every voice token (bass, tenor, alto) is
scored on the distribution predicted before it, with the melody token of its own event
already heard: bits per accompaniment event (the three voices' bits summed, averaged over
events), and bits and top-1 accuracy per voice. The melody tokens are not scored: the
melody is the player's.

The baselines are :class:`~improviser.training.baselines.NgramModel`'s interpolated
Witten-Bell n-grams over the token values, fit on the model's training split in the same
12 transpositions: ``ngram_flat<k>`` pools every token (context: the previous k values,
whatever their roles), ``ngram_role<k>`` keeps one table per voice (the same context,
counted only where that voice comes next). Files the model trained or validated on, and
other harmonisations of their tunes (same tune key), are left out of DATA.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from improviser.config import HarmonyModelConfig, validation_message
from improviser.errors import ModelError
from improviser.inference.modelfile import load_model, read_metadata
from improviser.music.voicing import HARMONY_FIELDS, ROLES, VOICES
from improviser.training.baselines import NgramModel
from improviser.training.harmony_corpus import HarmonyPiece, load_harmony_corpus
from improviser.training.harmony_dataset import transposed_sequences

__all__ = ["NGRAM_ORDERS", "VoiceScores", "evaluate_harmony", "harmony_config_of"]

NGRAM_ORDERS = (1, 2, 3, 4, 6, 8)
"""Contexts of the n-gram baselines, in tokens (4 tokens: one event back)."""
_EPS = 1e-12
Predict = Callable[[npt.NDArray[np.int32], int], npt.NDArray[np.float64]]
"""The next-value distribution before token ``i`` of a piece's tokens."""


@dataclass
class VoiceScores:
    """Running sums of bits and hits per voice, and the events scored."""

    bits: dict[str, float] = field(default_factory=lambda: dict.fromkeys(VOICES, 0.0))
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VOICES, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VOICES, 0))
    events: int = 0

    def add(self, voice: str, probs: npt.NDArray[np.float64], target: int) -> None:
        """Score one voice token."""
        self.bits[voice] -= math.log2(max(float(probs[target]), _EPS))
        self.hits[voice] += int(np.argmax(probs)) == target
        self.counts[voice] += 1

    def summary(self) -> dict[str, Any]:
        """bits per event, accuracy over voice tokens, and both per voice."""
        tokens = max(sum(self.counts.values()), 1)
        return {
            "bits_per_event": sum(self.bits.values()) / max(self.events, 1),
            "accuracy": sum(self.hits.values()) / tokens,
            "voices": {
                v: {
                    "bits": self.bits[v] / max(self.counts[v], 1),
                    "accuracy": self.hits[v] / max(self.counts[v], 1),
                }
                for v in VOICES
            },
        }


def harmony_config_of(meta: dict[str, Any], path: Path) -> HarmonyModelConfig:
    """The ``[harmony]`` options a model was trained with (one-line error if malformed)."""
    try:
        return HarmonyModelConfig.model_validate(meta.get("config", {}).get("harmony", {}))
    except ValidationError as exc:
        raise ModelError(
            f"{path.with_suffix('.json')}: {validation_message(exc, 'config.harmony')}"
        ) from exc


def _score(pieces: Sequence[HarmonyPiece], predict: Predict) -> dict[str, Any]:
    scores = VoiceScores()
    for piece in pieces:
        t = piece.tokens
        scores.events += len(piece.events)
        for i in range(1, len(t)):
            role = int(t[i, 1])
            if role:
                scores.add(ROLES[role], predict(t, i), int(t[i, 0]))
    return scores.summary()


def _model_predict(model: Any) -> Predict:
    """Score with one forward pass per piece (cached), the same as stepping from zero."""
    cache: dict[int, npt.NDArray[np.float64]] = {}

    def predict(tokens: npt.NDArray[np.int32], i: int) -> npt.NDArray[np.float64]:
        key = id(tokens)
        if key not in cache:
            cache.clear()
            inputs = {f: tokens[None, :, j] for j, f in enumerate(HARMONY_FIELDS)}
            out = model(inputs, training=False)
            probs = out["next_value"] if isinstance(out, dict) else out
            cache[key] = np.asarray(probs, dtype=np.float64)[0]
        row: npt.NDArray[np.float64] = cache[key][i - 1]
        return row

    return predict


def _ngram_baselines(
    train: Sequence[npt.NDArray[np.int32]], held: Sequence[HarmonyPiece]
) -> dict[str, Any]:
    top = max(NGRAM_ORDERS)
    flat = NgramModel(top)
    per_voice = {role: NgramModel(top) for role in range(1, len(ROLES))}
    for tokens in train:
        values = [int(v) for v in tokens[:, 0]]
        roles = tokens[:, 1]
        flat.fit([values])
        for i, value in enumerate(values):
            if roles[i]:
                per_voice[int(roles[i])].counts.add(values[max(0, i - top) : i], value)
    out: dict[str, Any] = {}
    # One fit at the highest order: given only k tokens of history it blends exactly as
    # an order-k model fit on the same data would (as the melody evaluation does).
    for k in NGRAM_ORDERS:

        def flat_k(t: npt.NDArray[np.int32], i: int, k: int = k) -> npt.NDArray[np.float64]:
            return flat.distribution([int(v) for v in t[max(0, i - k) : i, 0]])

        def role_k(t: npt.NDArray[np.int32], i: int, k: int = k) -> npt.NDArray[np.float64]:
            return per_voice[int(t[i, 1])].distribution([int(v) for v in t[max(0, i - k) : i, 0]])

        out[f"ngram_flat{k}"] = _score(held, flat_k)
        out[f"ngram_role{k}"] = _score(held, role_k)
    return out


def _held_out(
    data: Sequence[str | Path], meta: dict[str, Any], cfg: HarmonyModelConfig
) -> tuple[list[HarmonyPiece], int, int]:
    corpus = load_harmony_corpus(data, cfg)
    listed = meta.get("corpus", {})
    seen = {
        str(Path(p).resolve()) for p in listed.get("train_files", []) + listed.get("val_files", [])
    }
    keys = set(listed.get("train_keys", []))
    held = [
        p for p in corpus.pieces if str(Path(p.path).resolve()) not in seen and p.key not in keys
    ]
    return held, len(corpus.pieces) - len(held), len(corpus.skipped)


def evaluate_harmony(
    model_path: str | Path,
    data: Sequence[str | Path],
    *,
    train: Sequence[str | Path] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score a harmony model and the n-gram baselines on the held-out pieces under ``data``.

    Returns the JSON-ready dict: ``files``, ``events``, ``bits_per_event``, ``accuracy``,
    ``voices.{bass,tenor,alto}.{bits,accuracy}``, ``baselines.{name}`` (the same keys),
    ``best_ngram`` and ``gain_over_best_ngram_bits`` (per event).
    """
    say = progress or (lambda _msg: None)
    model_path = Path(model_path)
    meta = read_metadata(model_path)
    if meta.get("kind") != "harmony":
        raise ModelError(f"{model_path}: a {meta.get('kind', 'melody')} model, not a harmony model")
    cfg = harmony_config_of(meta, model_path)
    model, _ = load_model(model_path)
    say("reading held-out files")
    held, excluded, skipped = _held_out(data, meta, cfg)
    if not held:
        raise ModelError(
            f"no held-out piece to evaluate ({excluded} files were in the model's training "
            "or validation split, or harmonise one of its tunes)"
        )
    train_paths = train if train is not None else meta.get("corpus", {}).get("train_files", [])
    if not train_paths:
        raise ModelError(f"{model_path}: metadata lists no training files; pass --train DATA")
    say("reading training files for the baselines")
    train_pieces = load_harmony_corpus(train_paths, cfg).pieces
    result: dict[str, Any] = {
        "model": str(model_path),
        "kind": "harmony",
        "files": len(held),
        "events": sum(len(p.events) for p in held),
        "excluded_files": excluded,
        "skipped_files": skipped,
        "train_files": len(train_pieces),
    }
    say("scoring the model")
    result.update(_score(held, _model_predict(model)))
    say("fitting and scoring the n-gram baselines")
    baselines = _ngram_baselines(transposed_sequences(train_pieces, cfg), held)
    result["baselines"] = baselines
    best = min(baselines, key=lambda k: baselines[k]["bits_per_event"])
    result["best_ngram"] = best
    result["gain_over_best_ngram_bits"] = (
        baselines[best]["bits_per_event"] - result["bits_per_event"]
    )
    return result
