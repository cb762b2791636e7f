"""Training: corpus → model file, with progress, checkpoints, early stopping and resume.

``train(paths, out, config)`` reads the corpus, splits it by content, builds the model
under a ``tf.distribute`` strategy (one device here; several GPUs or workers with no code
change), trains with a progress bar that shows notes/s, keeps a checkpoint every N epochs
and the best one, stops early on validation loss, and saves the model with its metadata,
its training history and its held-out metrics.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from improviser import __version__
from improviser.config import Config
from improviser.errors import ConfigError, ModelError, missing_extra
from improviser.inference.modelfile import (
    encoding_metadata,
    load_model,
    read_metadata,
    save_model,
)
from improviser.inference.tfload import keras, tensorflow
from improviser.training.callbacks import (
    ProgressFn,
    checkpoint_callback,
    early_stopping,
    progress_callback,
    stopped_by,
    time_limit_callback,
)
from improviser.training.dataset import (
    Corpus,
    Split,
    load_corpus,
    make_dataset,
    pitch_windows,
    split_pieces,
    windows,
)
from improviser.training.model import build_model, build_regression_model, compile_model
from improviser.training.multiworker import multi_worker_fit

__all__ = [
    "TrainResult",
    "checkpoint_dir",
    "classes_data",
    "get_strategy",
    "read_and_split",
    "train",
]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    model_path: Path
    epochs: int
    history: dict[str, list[float]]
    seconds: float
    notes_per_second: float


def checkpoint_dir(out: Path) -> Path:
    """Where the checkpoints of a model saved at ``out`` go."""
    return out.with_name(out.stem + ".checkpoints")


def get_strategy(name: str) -> Any:
    """The ``tf.distribute`` strategy for ``name`` (``auto``: mirrored over several GPUs)."""
    tf = tensorflow()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def _split_metadata(corpus: Corpus, split: Split) -> dict[str, Any]:
    return {
        "sha256": corpus.sha256(),
        "files": len(corpus.pieces),
        "notes": corpus.notes,
        "skipped": [{"path": p, "reason": r} for p, r in corpus.skipped],
        "train_files": [p.path for p in split.train],
        "val_files": [p.path for p in split.val],
        "test_files": [p.path for p in split.test],
        "train_keys": sorted({p.key for p in split.train} | {p.key for p in split.val}),
    }


def _initial_epoch(resume: Path | None) -> int:
    """The epoch a resumed model had reached: its checkpoint's state, or for a finished
    model the epochs its metadata says it trained."""
    if resume is None:
        return 0
    state = resume.with_suffix(".state.json")
    if state.exists():
        return int(json.loads(state.read_text())["epoch"])
    trained = read_metadata(resume).get("training", {})
    return int(trained.get("epochs", 0)) if isinstance(trained, dict) else 0


def _earlier_history(resume: Path | None, hist: dict[str, list[float]]) -> dict[str, list[float]]:
    """``hist`` after the resumed model's own history (a finished model's metadata has it),
    so the curves and the history file show the whole training."""
    if resume is None:
        return hist
    earlier = read_metadata(resume).get("history")
    if not isinstance(earlier, dict) or set(earlier) != set(hist):
        return hist
    return {key: [float(v) for v in earlier[key]] + values for key, values in hist.items()}


def train(
    paths: Sequence[str | Path],
    out: str | Path,
    config: Config,
    *,
    resume: str | Path | None = None,
    report: ProgressFn | None = None,
) -> TrainResult:
    """Train a model on the MIDI files under ``paths`` and save it at ``out``."""
    out = Path(out)
    if out.suffix != ".keras":
        raise ConfigError(f"--out must end in .keras, got {out}")
    report = report or (lambda _event: None)
    keras().utils.set_random_seed(config.data.seed)
    corpus, split = read_and_split(paths, config, report)
    ckpt = checkpoint_dir(out)
    ckpt.mkdir(parents=True, exist_ok=True)
    resume_path = Path(resume) if resume is not None else None
    initial_epoch = _initial_epoch(resume_path)
    strategy = get_strategy(config.train.strategy)
    batch = config.train.batch_size * strategy.num_replicas_in_sync
    meta = _metadata(config, corpus, split, strategy)
    if config.model.objective == "regression":
        fit_data, val_data, notes_per_batch, steps, extra = _regression_data(config, split, batch)
        meta["scaler"] = extra
    else:
        fit_data, val_data, notes_per_batch, steps = classes_data(config, split, batch)
    with strategy.scope():
        model = _model(config, resume_path)
    monitor = "val_loss" if val_data is not None else "loss"
    stopping, limit = (
        early_stopping(config, monitor),
        time_limit_callback(config.train.max_minutes),
    )
    callbacks = [
        progress_callback(report, notes_per_batch, steps, config.train.epochs),
        checkpoint_callback(ckpt, config.train.checkpoint_every, meta, monitor),
        stopping,
        limit,
    ]
    t0 = time.perf_counter()
    history = multi_worker_fit(
        model,
        strategy,
        x=fit_data,
        validation_data=val_data,
        epochs=config.train.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        shuffle=False,  # the tf.data pipeline shuffles
        verbose=0,
    )
    seconds = time.perf_counter() - t0
    hist = {key: [float(v) for v in values] for key, values in history.history.items()}
    epochs_run = len(next(iter(hist.values()), []))
    trained_notes = notes_per_batch * steps * epochs_run
    meta["history"] = _earlier_history(resume_path, hist)
    meta["training"] = {
        "epochs": initial_epoch + epochs_run,
        "seconds": round(seconds, 2),
        "notes_per_second": round(trained_notes / seconds, 1) if seconds > 0 else None,
        "batch_size": batch,
        "tensorflow": tensorflow().__version__,
        "stopped_by": stopped_by(stopping, limit, monitor),
        **(
            {"resumed_from": str(resume_path), "resumed_at_epoch": initial_epoch}
            if resume_path
            else {}
        ),
    }
    if config.model.objective == "regression":
        meta["scaler"]["residual_std"] = _regression_residual_std(model, config, split, meta)
    save_model(model, out, meta)
    _write_history(out, meta["history"])
    return TrainResult(out, epochs_run, hist, seconds, trained_notes / max(seconds, 1e-9))


def read_and_split(
    paths: Sequence[str | Path], config: Config, report: ProgressFn
) -> tuple[Corpus, Split]:
    """Read the corpus under ``paths`` and split it by content (one-line errors if empty)."""
    corpus = load_corpus(
        paths,
        config.data,
        lambda i, n: report({"event": "read", "done": i, "total": n}),
    )
    if not corpus.pieces:
        raise ModelError("no usable melody in the training data")
    report(
        {
            "event": "melody_taken",
            "files": len(corpus.pieces),
            "notes": corpus.notes_read,
            "melody_notes": corpus.notes,
            "polyphonic": corpus.polyphonic,
        }
    )
    split = split_pieces(
        corpus.pieces, config.data.val_fraction, config.data.test_fraction, config.data.seed
    )
    if not split.train:
        raise ModelError("the split left no training pieces; add more files")
    report(
        {
            "event": "split",
            "train": len(split.train),
            "val": len(split.val),
            "test": len(split.test),
            "skipped": len(corpus.skipped),
            "notes": corpus.notes,
            "split_by": config.data.split_by,
        }
    )
    return corpus, split


def _metadata(config: Config, corpus: Corpus, split: Split, strategy: Any) -> dict[str, Any]:
    return {
        "objective": config.model.objective,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "improviser_version": __version__,
        "window": config.data.window,
        "seq_len": config.data.seq_len,
        "encoding": encoding_metadata(),
        "extra_inputs": list(config.model.extra_inputs),
        "config": config.model_dump(include={"data", "model", "train"}),
        "corpus": _split_metadata(corpus, split),
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
    }


def classes_data(config: Config, split: Split, batch: int) -> tuple[Any, Any, int, int]:
    """Training and validation datasets, notes per batch and steps per epoch."""
    extra = config.model.extra_inputs
    train_w = windows(split.train, config.data.seq_len, config.data.stride, extra)
    val_w = windows(split.val, config.data.seq_len, config.data.seq_len, extra)
    fit_data = make_dataset(
        train_w,
        batch,
        transpose=config.data.transpose_range,
        shuffle=True,
        seed=config.data.seed,
        extra=extra,
    )
    val_data = make_dataset(val_w, batch, extra=extra) if len(val_w) else None
    return fit_data, val_data, batch * config.data.seq_len, max(1, math.ceil(len(train_w) / batch))


def _model(config: Config, resume_path: Path | None) -> Any:
    """A new compiled model, or the one to resume (inside the strategy's scope)."""
    if resume_path is not None:
        model, _ = load_model(resume_path)
        if config.model.objective == "classes":
            compile_model(model, config.model)
        else:
            model.compile(optimizer=keras().optimizers.Adam(config.model.learning_rate), loss="mse")
        return model
    if config.model.objective == "regression":
        return build_regression_model(config.data.window, config.model)
    model = build_model(config.model)
    compile_model(model, config.model)
    return model


def _write_history(out: Path, hist: dict[str, list[float]]) -> None:
    path = out.with_suffix(".history.csv")
    keys = sorted(hist)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["epoch", *keys])
        for i in range(len(hist[keys[0]]) if keys else 0):
            writer.writerow([i + 1, *(f"{hist[key][i]:.6f}" for key in keys)])


def _regression_data(
    config: Config, split: Split, batch: int
) -> tuple[Any, Any, int, int, dict[str, float]]:
    tf = tensorflow()
    try:
        from sklearn.preprocessing import MinMaxScaler  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra(exc, "train", "the regression objective") from None
    window = config.data.window
    x, y = pitch_windows(split.train, window)
    xv, yv = pitch_windows(split.val, window)
    if len(x) == 0:
        raise ModelError(f"no training piece is longer than the window ({window} notes)")
    scaler = MinMaxScaler()
    scaler.fit(np.concatenate([x.reshape(-1), y]).reshape(-1, 1))
    lo, hi = float(scaler.data_min_[0]), float(scaler.data_max_[0])

    def scale(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return ((a - lo) / max(hi - lo, 1.0)).astype(np.float32)

    fit_data = (
        tf.data.Dataset.from_tensor_slices((scale(x)[..., None], scale(y)))
        .shuffle(min(len(x), 50_000), seed=config.data.seed)
        .batch(batch)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_data = (
        tf.data.Dataset.from_tensor_slices((scale(xv)[..., None], scale(yv))).batch(batch)
        if len(xv)
        else None
    )
    return fit_data, val_data, batch, max(1, math.ceil(len(x) / batch)), {"min": lo, "max": hi}


def _regression_residual_std(
    model: Any, config: Config, split: Split, meta: dict[str, Any]
) -> float:
    """RMS error on training windows: the spread of the Gaussian that scores its bits."""
    from improviser.training.baselines import regression_predict  # noqa: PLC0415

    x, y = pitch_windows(split.train, config.data.window)
    idx = np.random.default_rng(0).permutation(len(x))[:5000]
    pred = regression_predict(model, x[idx], meta["scaler"]["min"], meta["scaler"]["max"])
    return float(max(np.sqrt(np.mean((pred - y[idx]) ** 2)), 0.5))
