"""Held-out evaluation of a model against baselines fit on the same training files.

The model is scored the way it plays: the streaming engine steps through each held-out
piece from a zero state, and each note is scored on the distribution predicted before it
(the first note of a piece, which has no context, is not scored, for the baselines
either). Files the model trained or validated on, and copies of them (same content key),
are left out of DATA automatically, so the training corpus directory can be passed as is.

With the short-term model (on by default), the model is also scored blended with a
:class:`~improviser.music.stm.ShortTermModel` that learns each held-out piece as it goes
(reset per piece, so only the piece's own earlier notes are its context), and the
short-term model is scored alone as a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.config import DataConfig
from improviser.errors import ModelError
from improviser.inference import NumpyEngine, metadata_data_config, read_metadata
from improviser.music.blend import DEFAULT_BIAS, DEFAULT_METHOD, blend
from improviser.music.stm import ShortTermModel
from improviser.training.baselines import (
    NgramModel,
    UnigramModel,
    gaussian_pitch_probs,
    regression_predict,
)
from improviser.training.dataset import Piece, load_corpus, pitch_windows

__all__ = ["NGRAM_ORDERS", "HeldOut", "Scores", "evaluate", "held_out", "score_pieces"]

NGRAM_ORDERS = (1, 2, 3, 4, 5, 6)
REGRESSION_BESIDE = "notebook-regression.keras"
"""A notebook regression model saved under this name beside the model is scored too."""
_EPS = 1e-12


@dataclass
class Scores:
    """Running sums of log-loss and hits for one field."""

    bits: float = 0.0
    hits: int = 0
    top5: int = 0
    count: int = 0

    def add(self, probs: npt.NDArray[np.float64], target: int, top5: bool = False) -> None:
        """Score one prediction."""
        self.bits -= math.log2(max(float(probs[target]), _EPS))
        best = int(np.argmax(probs))
        self.hits += best == target
        if top5:
            self.top5 += target in np.argpartition(probs, -5)[-5:]
        self.count += 1

    def summary(self) -> dict[str, float]:
        """bits/note and accuracy (and top-5 where scored)."""
        n = max(self.count, 1)
        out = {"bits_per_note": self.bits / n, "accuracy": self.hits / n}
        if self.top5:
            out["top5"] = self.top5 / n
        return out


@dataclass
class HeldOut:
    """The pieces of ``data`` that the model never saw in training or validation."""

    pieces: list[Piece]
    excluded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def held_out(data: Sequence[str | Path], meta: dict[str, Any], cfg: DataConfig) -> HeldOut:
    """The pieces of ``data`` outside the training and validation split in ``meta``.

    A file listed in the model's training or validation files, or a tune whose content key
    is one of its training keys (a copy under another id), is excluded and counted.
    """
    corpus = load_corpus(data, cfg)
    seen = {
        str(Path(p).resolve())
        for p in meta.get("corpus", {}).get("train_files", [])
        + meta.get("corpus", {}).get("val_files", [])
    }
    keys = set(meta.get("corpus", {}).get("train_keys", []))
    held = HeldOut([], skipped=corpus.skipped)
    for piece in corpus.pieces:
        if str(Path(piece.path).resolve()) in seen or piece.key in keys:
            held.excluded += 1
        else:
            held.pieces.append(piece)
    return held


def _transposed(pieces: Sequence[Piece], lo: int, hi: int) -> list[npt.NDArray[np.int32]]:
    seqs = []
    for piece in pieces:
        pitch = piece.tokens[:, 0]
        for shift in range(lo, hi + 1):
            if pitch.min() + shift >= 0 and pitch.max() + shift <= 127:
                seqs.append(pitch + shift)
    return seqs


def _network(meta: dict[str, Any]) -> dict[str, Any]:
    """What was scored: the recurrent stack and how long it trained (from its metadata)."""
    model = meta.get("config", {}).get("model", {})
    training = meta.get("training", {})
    regression = meta.get("objective") == "regression"
    return {
        "cell": "lstm" if regression else model.get("cell", "lstm"),
        "units": model.get("regression_units" if regression else "lstm_units", []),
        "epochs": training.get("epochs", meta.get("checkpoint_epoch")),
        "seconds": training.get("seconds"),
        "stopped_by": training.get("stopped_by"),
    }


def evaluate(
    model_path: str | Path,
    data: Sequence[str | Path],
    *,
    train: Sequence[str | Path] | None = None,
    regression_model: str | Path | None = None,
    stm: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score a model and the baselines on the held-out pieces under ``data``.

    Returns the JSON-ready dict: ``files``, ``notes``, ``bits_per_note``, ``accuracy``,
    ``top5``, ``ioi_bits``, ``ioi_accuracy``, ``duration_bits``, ``duration_accuracy``,
    ``velocity_bits``, ``excluded_files`` and ``baselines.{name}.bits_per_note|accuracy``.
    With ``stm``, also ``with_stm.{bits_per_note, accuracy, top5, gain_bits, max_order,
    blend, bias}`` (the model blended with the short-term model) and ``baselines.stm``.
    """
    say = progress or (lambda _msg: None)
    model_path = Path(model_path)
    meta = read_metadata(model_path)
    cfg = metadata_data_config(meta, model_path)
    # Load the model before reading any corpus: a broken model fails at once, not later.
    engine = NumpyEngine.from_file(model_path) if meta["objective"] == "classes" else None
    say("reading held-out files")
    held = held_out(data, meta, cfg)
    if not held.pieces:
        raise ModelError(
            f"no held-out piece to evaluate ({held.excluded} files were in the model's training "
            "or validation split)"
        )
    train_paths = train if train is not None else meta.get("corpus", {}).get("train_files", [])
    if not train_paths:
        raise ModelError(f"{model_path}: metadata lists no training files; pass --train DATA")
    say("reading training files for the baselines")
    train_pieces = load_corpus(train_paths, cfg).pieces

    result: dict[str, Any] = {
        "model": str(model_path),
        "objective": meta.get("objective"),
        "files": len(held.pieces),
        "excluded_files": held.excluded,
        "skipped_files": len(held.skipped),
        "notes": sum(len(p.tokens) - 1 for p in held.pieces),
        "network": _network(meta),
    }
    baselines: dict[str, Any] = {}
    if engine is not None:
        say("scoring the model" + (" with and without the short-term model" if stm else ""))
        scored, stm_alone = _score_model(engine, held.pieces, ShortTermModel() if stm else None)
        result.update(scored)
        if stm_alone is not None:
            baselines["stm"] = stm_alone

    say("fitting the baselines")
    baselines.update(_pitch_baselines(train_pieces, held.pieces, cfg))
    reg = _regression_path(model_path, meta, regression_model)
    if reg is not None:
        say("scoring the notebook regression model")
        baselines["regression"] = _score_regression(reg, held.pieces)
    result["baselines"] = baselines
    ngrams = {k: v for k, v in baselines.items() if k.startswith("ngram")}
    best = min(ngrams, key=lambda k: ngrams[k]["bits_per_note"])
    result["best_ngram"] = best
    if "bits_per_note" in result:
        result["gain_over_best_ngram_bits"] = (
            ngrams[best]["bits_per_note"] - result["bits_per_note"]
        )
    if meta.get("objective") == "regression":
        result.update(
            {k: v for k, v in baselines["regression"].items() if k in ("bits_per_note", "accuracy")}
        )
    return result


def _pitch_baselines(
    train_pieces: Sequence[Piece], held: Sequence[Piece], cfg: DataConfig
) -> dict[str, Any]:
    """The unigram and n-gram baselines, fit on the training pieces, scored on ``held``."""
    train_seqs = _transposed(train_pieces, *cfg.transpose_range)
    out = {"unigram": _score_pitch_model(UnigramModel().fit(train_seqs), held, 0)}
    # One fit at the highest order: given only k notes of history it blends exactly as
    # an order-k model fit on the same data would.
    ngram = NgramModel(max(NGRAM_ORDERS)).fit(train_seqs)
    for order in NGRAM_ORDERS:
        out[f"ngram{order}"] = _score_pitch_model(ngram, held, order)
    return out


def _regression_path(
    model_path: Path, meta: dict[str, Any], given: str | Path | None
) -> Path | None:
    """The notebook regression model to score: given, this one, or the one beside it."""
    if given is not None:
        return Path(given)
    if meta.get("objective") == "regression":
        return model_path
    beside = model_path.parent / REGRESSION_BESIDE
    return beside if beside.exists() and beside != model_path else None


def score_pieces(engine: NumpyEngine, pieces: Sequence[Piece]) -> dict[str, Any]:
    """The model's scores on ``pieces`` (pitch bits/note, accuracy, top-5, rhythm...)."""
    return _score_model(engine, pieces)[0]


def _score_model(
    engine: NumpyEngine, pieces: Sequence[Piece], stm: ShortTermModel | None = None
) -> tuple[dict[str, Any], dict[str, float] | None]:
    """The model's scores (blended with ``stm`` too, if given), and ``stm``'s alone."""
    pitch, ioi, dur, vel = Scores(), Scores(), Scores(), Scores()
    blended, alone = Scores(), Scores()
    for piece in pieces:
        engine.reset()
        if stm is not None:
            stm.reset()
        t = piece.tokens
        for i in range(len(t) - 1):
            dist = engine.step(t[i])
            nxt = t[i + 1]
            pitch.add(dist.pitch, int(nxt[0]), top5=True)
            ioi.add(dist.ioi, int(nxt[1]))
            dur.add(dist.duration, int(nxt[2]))
            vel.add(dist.velocity, int(nxt[3]))
            if stm is not None:
                stm.update(t[i])
                short = stm.predict()
                alone.add(short, int(nxt[0]), top5=True)
                blended.add(blend((dist.pitch, short)), int(nxt[0]), top5=True)
    p = pitch.summary()
    out: dict[str, Any] = {
        "bits_per_note": p["bits_per_note"],
        "accuracy": p["accuracy"],
        "top5": p.get("top5", 0.0),
        "ioi_bits": ioi.summary()["bits_per_note"],
        "ioi_accuracy": ioi.summary()["accuracy"],
        "duration_bits": dur.summary()["bits_per_note"],
        "duration_accuracy": dur.summary()["accuracy"],
        "velocity_bits": vel.summary()["bits_per_note"],
    }
    if stm is not None:
        b = blended.summary()
        out["with_stm"] = {
            "bits_per_note": b["bits_per_note"],
            "accuracy": b["accuracy"],
            "top5": b.get("top5", 0.0),
            "gain_bits": p["bits_per_note"] - b["bits_per_note"],
            "max_order": stm.max_order,
            "intervals": stm.intervals,
            "blend": DEFAULT_METHOD,
            "bias": DEFAULT_BIAS,
        }
        return out, alone.summary()
    return out, None


def _score_pitch_model(
    model: UnigramModel | NgramModel, pieces: Sequence[Piece], order: int
) -> dict[str, float]:
    scores = Scores()
    for piece in pieces:
        seq = [int(v) for v in piece.tokens[:, 0]]
        for i in range(1, len(seq)):
            scores.add(model.distribution(seq[max(0, i - order) : i]), seq[i], top5=True)
    return scores.summary()


def _score_regression(path: Path, pieces: Sequence[Piece]) -> dict[str, float]:
    from improviser.inference.modelfile import load_model  # noqa: PLC0415

    model, meta = load_model(path)
    if meta.get("objective") != "regression":
        raise ModelError(f"{path}: not a regression-objective model")
    scaler = meta.get("scaler", {})
    window = meta.get("window", 0)
    if window < 1 or "min" not in scaler or "max" not in scaler:
        raise ModelError(
            f"{path.with_suffix('.json')}: regression metadata needs a positive 'window' and "
            "'scaler.min', 'scaler.max'"
        )
    x, y = pitch_windows(pieces, window)
    if len(x) == 0:
        raise ModelError(f"no held-out piece is longer than the regression window ({window})")
    pred = regression_predict(model, x, scaler["min"], scaler["max"])
    std = float(scaler.get("residual_std", 1.0))
    scores = Scores()
    for mean, target in zip(pred, y, strict=True):
        probs = gaussian_pitch_probs(float(mean), std)
        scores.bits -= math.log2(max(float(probs[target]), _EPS))
        scores.hits += int(np.clip(np.rint(mean), 0, 127)) == int(target)
        scores.count += 1
    out = scores.summary()
    out["notes"] = float(scores.count)
    return out
