"""Train one model per variant on the same split and seeds, score each on the test split.

The harness of ``bench inputs`` (which extra inputs earn their place) and ``bench arch``
(which network): a variant is a set of config overrides and a recurrent cell. Every
variant trains on the same content split with the same seeds, for the same number of
epochs (no early stopping) or the same minutes, and is scored the way ``improviser
evaluate`` scores a model: each test piece from a zero state, every note after the first
on the distribution predicted before it (:func:`score_held_out`). ``repeats > 1`` trains
each variant again with the next initialization seeds and reports the mean and spread.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from improviser.config import Config, with_overrides
from improviser.errors import ConfigError, ModelError
from improviser.inference.tfload import keras, tensorflow
from improviser.music.encoding import FIELDS
from improviser.music.viewpoints import viewpoint_classes
from improviser.training.callbacks import time_limit_callback
from improviser.training.dataset import Piece, Split
from improviser.training.model import Cell, build_model, compile_model
from improviser.training.train import classes_data, read_and_split

__all__ = ["Budget", "Variant", "pick", "run_variants", "score_held_out"]

_EPS = 1e-12
_SCORED = ("pitch_bits", "total_bits", "accuracy", "ioi_bits", "duration_bits", "val_loss")
_MEANS = (*_SCORED, "velocity_bits", "seconds", "epochs", "train_notes_per_s")


@dataclass(frozen=True)
class Variant:
    """One network to train: config sections to override, and its recurrent cell."""

    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    cell: Cell = "lstm"
    note: str = ""


@dataclass(frozen=True)
class Budget:
    """How long each model trains: ``epochs``, or ``minutes`` (then epochs is a ceiling)."""

    epochs: int
    minutes: float = 0.0

    def check(self) -> None:
        """One line for a budget that trains nothing."""
        if self.epochs < 1 or self.minutes < 0:
            raise ConfigError(
                f"epochs must be at least 1 and minutes not negative, got "
                f"{self.epochs}, {self.minutes}"
            )


def pick(names: Sequence[str], known: Mapping[str, Variant]) -> dict[str, Variant]:
    """The variants called ``names`` (each once, in order); one line for an unknown one."""
    if not names or any(name not in known for name in names):
        raise ConfigError(f"variants must be some of {', '.join(known)}, got {list(names)}")
    return {name: known[name] for name in dict.fromkeys(names)}


def score_held_out(
    model: Any, pieces: Sequence[Piece], extra: Sequence[str] = (), batch: int = 32
) -> dict[str, float]:
    """Bits/note of each field, total bits/note and pitch top-1 over ``pieces``.

    Pieces are run whole, in batches of similar length padded at the end (the network is
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
    config: Config, cell: Cell, split: Split, budget: Budget, tick: Callable[[], None]
) -> dict[str, Any]:
    """One model of ``config`` trained within ``budget`` on ``split.train``, scored on test."""
    k = keras()
    k.utils.set_random_seed(config.data.seed)
    batch = config.train.batch_size
    fit_data, val_data, notes_per_batch, steps = classes_data(config, split, batch)
    model = build_model(config.model, cell)
    compile_model(model, config.model)
    load = os.getloadavg()[0]
    epochs_run = 0

    def epoch_end(_epoch: int, _logs: object) -> None:
        nonlocal epochs_run
        epochs_run += 1
        tick()

    callbacks = [k.callbacks.LambdaCallback(on_epoch_end=epoch_end)]
    if budget.minutes:
        callbacks.append(time_limit_callback(budget.minutes))
    t0 = time.perf_counter()
    history = model.fit(
        fit_data,
        validation_data=val_data,
        epochs=budget.epochs,
        shuffle=False,  # the tf.data pipeline shuffles
        verbose=0,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - t0
    val = history.history.get("val_loss", [math.nan])
    # A time limit stops inside an epoch: count the batches it trained, not whole epochs.
    trained = int(model.optimizer.iterations.numpy())
    return {
        **score_held_out(model, split.test, config.model.extra_inputs),
        "val_loss": float(val[-1]),
        "seconds": seconds,
        "epochs": trained / steps,
        "train_notes_per_s": notes_per_batch * trained / max(seconds, 1e-9),
        "parameters": _parameters(model),
        "load_1min_before": load,
    }


def _mean_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {key: float(np.mean([r[key] for r in runs])) for key in _MEANS}
    row["parameters"] = runs[0]["parameters"]
    if len(runs) > 1:
        row["spread"] = {
            key: float(max(r[key] for r in runs) - min(r[key] for r in runs))
            for key in ("pitch_bits", "total_bits")
        }
    row["runs"] = runs
    return row


def run_variants(
    data: Sequence[str | Path],
    config: Config,
    variants: Mapping[str, Variant],
    *,
    budget: Budget,
    repeats: int = 1,
    baseline: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train and score every variant (see the module docstring); a JSON-ready dict.

    With ``baseline`` (one of ``variants``), each row also has its gain over that row:
    ``pitch_gain_bits`` and ``total_gain_bits`` (positive: fewer bits, better), and the
    gain seed by seed.
    """
    budget.check()
    if repeats < 1:
        raise ConfigError(f"repeats must be at least 1, got {repeats}")
    if config.model.objective != "classes":
        raise ConfigError('the variants need model.objective = "classes"')
    corpus, split = read_and_split(data, config, lambda _event: None)
    if not split.test:
        raise ModelError("the split left no test pieces; add files or raise data.test_fraction")
    total, done = len(variants) * repeats * budget.epochs, 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total)

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows: dict[str, Any] = {}
    for name, variant in variants.items():
        runs = []
        for r in range(repeats):
            cfg = with_overrides(config, **{k: dict(v) for k, v in variant.overrides.items()})
            cfg = with_overrides(cfg, data={"seed": config.data.seed + r})
            runs.append(_train_and_score(cfg, variant.cell, split, budget, tick))
            done = (list(variants).index(name) * repeats + r + 1) * budget.epochs
        rows[name] = {
            "cell": variant.cell,
            "lstm_units": list(cfg.model.lstm_units),
            "overrides": {k: dict(v) for k, v in variant.overrides.items()},
            "note": variant.note,
            **_mean_row(runs),
        }
    if baseline is not None and baseline in rows:
        base = rows[baseline]
        for row in rows.values():
            for key in ("pitch", "total"):
                row[f"{key}_gain_bits"] = base[f"{key}_bits"] - row[f"{key}_bits"]
                row[f"{key}_gain_by_seed"] = [
                    b[f"{key}_bits"] - r[f"{key}_bits"]
                    for b, r in zip(base["runs"], row["runs"], strict=True)
                ]
    return {
        "tensorflow": tensorflow().__version__,
        "cpu_count": os.cpu_count(),
        "load_1min_before": load_before,
        "load_1min_after": os.getloadavg()[0],
        "seconds": time.perf_counter() - t0,
        "epochs": budget.epochs,
        "minutes": budget.minutes,
        "repeats": repeats,
        "seed": config.data.seed,
        "baseline": baseline,
        "lstm_units": list(config.model.lstm_units),
        "batch_size": config.train.batch_size,
        "seq_len": config.data.seq_len,
        "stride": config.data.stride,
        "transpose_octaves": config.data.transpose_octaves,
        "files": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "notes": corpus.notes,
        "test_notes": sum(len(p.tokens) - 1 for p in split.test),
        "variants": rows,
    }
