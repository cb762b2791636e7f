"""Which extra inputs earn their place: held-out bits/note with and without each viewpoint.

:func:`bench_inputs` reads the corpus and splits it by content once (as ``improviser
train`` does), then trains one model per variant on the same training split with the
same seeds and the same number of epochs (no early stopping, no time limit), and scores
each on the test split the way ``improviser evaluate`` scores a model: each piece from a
zero state, every note after the first on the distribution predicted before it. The
Keras model is run over whole pieces (an LSTM stepped note by note from a zero state
computes the same thing), because the streaming engines do not take extra inputs yet.

Reported per variant: pitch bits/note (what ``evaluate`` calls ``bits_per_note``), total
bits/note (pitch + IOI + duration + velocity: the whole note), top-1 pitch accuracy, the
last validation loss, training seconds, and the gain of each over the ``none`` variant
(positive: fewer bits, better). ``repeats > 1`` trains each variant again with the next
initialization seeds (the split stays the same) and reports the mean and the spread.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from improviser.config import Config, with_overrides
from improviser.errors import ConfigError, ModelError
from improviser.inference.tfload import keras, tensorflow
from improviser.music.encoding import FIELDS
from improviser.music.viewpoints import VIEWPOINTS, viewpoint_classes
from improviser.training.dataset import Piece, Split
from improviser.training.model import build_model, compile_model
from improviser.training.train import classes_data, read_and_split

__all__ = ["DEFAULT_EPOCHS", "VARIANTS", "bench_inputs", "score_held_out"]

VARIANTS: dict[str, tuple[str, ...]] = {
    "none": (),
    **{name: (name,) for name in VIEWPOINTS},
    "all": VIEWPOINTS,
}
"""Each variant's extra inputs: none, each viewpoint alone, all together."""
DEFAULT_EPOCHS = 5
"""Epochs per variant (about 2 minutes each on the bundled corpus on the 2-core machine)."""
_EPS = 1e-12
_SCORED = ("pitch_bits", "total_bits", "accuracy", "ioi_bits", "duration_bits", "val_loss")


def score_held_out(
    model: Any, pieces: Sequence[Piece], extra: Sequence[str] = (), batch: int = 32
) -> dict[str, float]:
    """Bits/note of each field, total bits/note and pitch top-1 over ``pieces``.

    Pieces are run whole, in batches of similar length padded at the end (the LSTM is
    causal, so padding after a piece changes none of its predictions).
    """
    bits = dict.fromkeys(FIELDS, 0.0)
    hits = count = 0
    by_length = sorted(pieces, key=lambda p: len(p.tokens))
    for start in range(0, len(by_length), batch):
        chunk = by_length[start : start + batch]
        longest = -(-max(len(p.tokens) for p in chunk) // 64) * 64  # fewer shapes to trace
        cols = 4 + len(extra)
        arr = np.zeros((len(chunk), longest, cols), dtype=np.int32)
        for j, piece in enumerate(chunk):
            t = piece.tokens
            arr[j, : len(t)] = np.concatenate([t, viewpoint_classes(t, extra)], axis=1)
        names = [*FIELDS, *extra]
        out = model.predict_on_batch({name: arr[:, :, i] for i, name in enumerate(names)})
        for j, piece in enumerate(chunk):
            n = len(piece.tokens) - 1
            steps = np.arange(n)
            for i, f in enumerate(FIELDS):
                probs = np.asarray(out[f"next_{f}"][j, :n], dtype=np.float64)
                target = piece.tokens[1:, i]
                bits[f] -= float(np.log2(np.maximum(probs[steps, target], _EPS)).sum())
                if f == "pitch":
                    hits += int((probs.argmax(axis=1) == target).sum())
            count += n
    n = max(count, 1)
    scores = {f"{f}_bits": bits[f] / n for f in FIELDS}
    scores["total_bits"] = sum(bits.values()) / n
    scores["accuracy"] = hits / n
    scores["notes"] = float(count)
    return scores


def _parameters(model: Any) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def _train_and_score(
    config: Config, split: Split, epochs: int, tick: Callable[[], None]
) -> dict[str, Any]:
    """One model of ``config`` trained ``epochs`` epochs on ``split.train``, scored on test."""
    k = keras()
    k.utils.set_random_seed(config.data.seed)
    batch = config.train.batch_size
    fit_data, val_data, notes_per_batch, steps = classes_data(config, split, batch)
    model = build_model(config.model)
    compile_model(model, config.model)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    history = model.fit(
        fit_data,
        validation_data=val_data,
        epochs=epochs,
        shuffle=False,  # the tf.data pipeline shuffles
        verbose=0,
        callbacks=[k.callbacks.LambdaCallback(on_epoch_end=lambda _e, _logs: tick())],
    )
    seconds = time.perf_counter() - t0
    val = history.history.get("val_loss", [math.nan])
    return {
        **score_held_out(model, split.test, config.model.extra_inputs),
        "val_loss": float(val[-1]),
        "seconds": seconds,
        "train_notes_per_s": notes_per_batch * steps * epochs / max(seconds, 1e-9),
        "parameters": _parameters(model),
        "load_1min_before": load,
    }


def _mean_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {
        key: float(np.mean([r[key] for r in runs]))
        for key in (*_SCORED, "velocity_bits", "seconds", "train_notes_per_s")
    }
    row["parameters"] = runs[0]["parameters"]
    if len(runs) > 1:
        row["spread"] = {
            key: float(max(r[key] for r in runs) - min(r[key] for r in runs))
            for key in ("pitch_bits", "total_bits")
        }
    row["runs"] = runs
    return row


def bench_inputs(
    data: Sequence[str | Path],
    config: Config,
    *,
    variants: Sequence[str] = tuple(VARIANTS),
    epochs: int = DEFAULT_EPOCHS,
    repeats: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train and score one model per variant (see the module docstring); JSON-ready."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise ConfigError(f"variants must be some of {', '.join(VARIANTS)}, got {list(variants)}")
    if epochs < 1 or repeats < 1:
        raise ConfigError(f"epochs and repeats must be at least 1, got {epochs}, {repeats}")
    if config.model.objective != "classes":
        raise ConfigError('bench inputs needs model.objective = "classes"')
    corpus, split = read_and_split(data, config, lambda _event: None)
    if not split.test:
        raise ModelError("the split left no test pieces; add files or raise data.test_fraction")
    total, done = len(variants) * repeats * epochs, 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows: dict[str, Any] = {}
    for name in dict.fromkeys(variants):
        runs = []
        for r in range(repeats):
            cfg = with_overrides(
                config,
                model={"extra_inputs": list(VARIANTS[name])},
                data={"seed": config.data.seed + r},
            )
            runs.append(_train_and_score(cfg, split, epochs, tick))
        rows[name] = {"extra_inputs": list(VARIANTS[name]), **_mean_row(runs)}
    if "none" in rows:
        base = rows["none"]
        for row in rows.values():
            row["pitch_gain_bits"] = base["pitch_bits"] - row["pitch_bits"]
            row["total_gain_bits"] = base["total_bits"] - row["total_bits"]
    return {
        "tensorflow": tensorflow().__version__,
        "cpu_count": os.cpu_count(),
        "load_1min_before": load_before,
        "load_1min_after": os.getloadavg()[0],
        "seconds": time.perf_counter() - t0,
        "epochs": epochs,
        "repeats": repeats,
        "seed": config.data.seed,
        "lstm_units": list(config.model.lstm_units),
        "batch_size": config.train.batch_size,
        "seq_len": config.data.seq_len,
        "stride": config.data.stride,
        "files": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "notes": corpus.notes,
        "test_notes": sum(len(p.tokens) - 1 for p in split.test),
        "variants": rows,
    }
