"""Training the harmony model: corpus → split by tune → transposed windows → model file.

The loop is the melody model's (:mod:`improviser.training.train`): the same strategy,
progress, checkpoint, early-stopping and time-limit callbacks, resume, history CSV. The
model is saved with metadata ``kind: harmony`` (its inputs and outputs are written by
:func:`~improviser.inference.modelfile.save_model`), the harmony encoding, the split and
what the corpus held (pieces read as four parts or as notes, lower voices per event).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from improviser import __version__
from improviser.config import Config
from improviser.errors import ConfigError, ModelError
from improviser.inference.modelfile import load_model, save_model
from improviser.inference.tfload import keras, tensorflow
from improviser.music.encoding import IOI_BEATS
from improviser.music.voicing import HARMONY_FIELDS, HARMONY_VOCAB, METRE_CLASSES, ROLES
from improviser.training.callbacks import (
    ProgressFn,
    checkpoint_callback,
    early_stopping,
    progress_callback,
    stopped_by,
    time_limit_callback,
)
from improviser.training.harmony_corpus import (
    HarmonyCorpus,
    HarmonySplit,
    load_harmony_corpus,
    split_harmony,
)
from improviser.training.harmony_dataset import (
    make_harmony_dataset,
    transposed_sequences,
    voice_examples,
)
from improviser.training.harmony_model import build_harmony_model, compile_harmony_model
from improviser.training.multiworker import multi_worker_fit
from improviser.training.train import (
    TrainResult,
    _initial_epoch,
    _write_history,
    checkpoint_dir,
    get_strategy,
)

__all__ = ["HARMONY", "harmony_encoding_metadata", "read_and_split_harmony", "train_harmony"]

HARMONY = "harmony"
"""The ``kind`` of a harmony model in its metadata and weights."""


def harmony_encoding_metadata() -> dict[str, Any]:
    """The token encoding a harmony model was trained with, for its metadata."""
    return {
        "fields": list(HARMONY_FIELDS),
        "vocabulary": dict(HARMONY_VOCAB),
        "roles": list(ROLES),
        "metre_classes": METRE_CLASSES,
        "ioi_beats": list(IOI_BEATS),
    }


def read_and_split_harmony(
    paths: Sequence[str | Path], config: Config, report: ProgressFn
) -> tuple[HarmonyCorpus, HarmonySplit]:
    """Read the harmony corpus under ``paths``, say what it took, and split it by tune."""
    corpus = load_harmony_corpus(
        paths,
        config.harmony,
        lambda i, n: report({"event": "read", "done": i, "total": n}),
    )
    if not corpus.pieces:
        reasons = "; ".join(r for _, r in corpus.skipped[:3])
        raise ModelError(f"no usable harmony in the training data ({reasons or 'no MIDI files'})")
    report(
        {
            "event": "harmony_taken",
            "files": len(corpus.pieces),
            "sources": corpus.sources(),
            "events": corpus.events,
            "lower_voices": corpus.lower_voices(),
            "skipped": corpus.skipped,
        }
    )
    split = split_harmony(corpus.pieces, config.data)
    if not split.train:
        raise ModelError("the split left no training pieces; add more files")
    report(
        {
            "event": "split",
            "train": len(split.train),
            "val": len(split.val),
            "test": len(split.test),
            "skipped": len(corpus.skipped),
            "notes": corpus.events,
            "unit": "melody onsets",
            "split_by": "tune (the melody's first intervals)",
        }
    )
    return corpus, split


def _corpus_metadata(corpus: HarmonyCorpus, split: HarmonySplit) -> dict[str, Any]:
    return {
        "sha256": corpus.sha256(),
        "files": len(corpus.pieces),
        "events": corpus.events,
        "sources": corpus.sources(),
        "lower_voices": {str(k): v for k, v in corpus.lower_voices().items()},
        "skipped": [{"path": p, "reason": r} for p, r in corpus.skipped],
        "train_files": [p.path for p in split.train],
        "val_files": [p.path for p in split.val],
        "test_files": [p.path for p in split.test],
        "train_keys": sorted({p.key for p in split.train} | {p.key for p in split.val}),
    }


def train_harmony(
    paths: Sequence[str | Path],
    out: str | Path,
    config: Config,
    *,
    resume: str | Path | None = None,
    report: ProgressFn | None = None,
) -> TrainResult:
    """Train a harmony model on the MIDI files under ``paths`` and save it at ``out``."""
    out = Path(out)
    if out.suffix != ".keras":
        raise ConfigError(f"--out must end in .keras, got {out}")
    report = report or (lambda _event: None)
    hcfg = config.harmony
    keras().utils.set_random_seed(config.data.seed)
    corpus, split = read_and_split_harmony(paths, config, report)
    ckpt = checkpoint_dir(out)
    ckpt.mkdir(parents=True, exist_ok=True)
    resume_path = Path(resume) if resume is not None else None
    initial_epoch = _initial_epoch(resume_path)
    strategy = get_strategy(config.train.strategy)
    batch = config.train.batch_size * strategy.num_replicas_in_sync
    train_x = voice_examples(
        transposed_sequences(split.train, hcfg), hcfg.seq_events, hcfg.stride_events
    )
    val_x = voice_examples(
        transposed_sequences(split.val, hcfg, augment=False), hcfg.seq_events, hcfg.seq_events
    )
    # An epoch is as many sequences as the training pieces give in one key, drawn from
    # all keys: a pass over all 12 would put minutes between two looks at validation.
    one_key = voice_examples(
        transposed_sequences(split.train, hcfg, augment=False),
        hcfg.seq_events,
        hcfg.stride_events,
    )
    fit_data = make_harmony_dataset(
        train_x, batch, shuffle=True, seed=config.data.seed, repeat=True
    )
    val_data = make_harmony_dataset(val_x, batch) if len(val_x) else None
    steps = max(1, math.ceil(len(one_key) / batch))
    tokens_per_batch = batch * hcfg.seq_events * len(ROLES)
    meta: dict[str, Any] = {
        "objective": "classes",
        "kind": HARMONY,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "improviser_version": __version__,
        "window": hcfg.seq_events * len(ROLES),
        "seq_len": hcfg.seq_events * len(ROLES),
        "encoding": harmony_encoding_metadata(),
        "config": config.model_dump(include={"data", "harmony", "train"}),
        "corpus": _corpus_metadata(corpus, split),
        "examples": {"train": len(train_x), "val": len(val_x), "per_epoch": steps * batch},
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
    }
    with strategy.scope():
        if resume_path is not None:
            model, _ = load_model(resume_path)
        else:
            model = build_harmony_model(hcfg)
        compile_harmony_model(model, hcfg)
    monitor = "val_loss" if val_data is not None else "loss"
    stopping, limit = early_stopping(config, monitor), time_limit_callback(config.train.max_minutes)
    callbacks = [
        progress_callback(report, tokens_per_batch, steps, config.train.epochs),
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
        steps_per_epoch=steps,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        shuffle=False,  # the tf.data pipeline shuffles
        verbose=0,
    )
    seconds = time.perf_counter() - t0
    hist = {key: [float(v) for v in values] for key, values in history.history.items()}
    epochs_run = len(next(iter(hist.values()), []))
    tokens = tokens_per_batch * steps * epochs_run
    meta["history"] = hist
    meta["training"] = {
        "epochs": initial_epoch + epochs_run,
        "seconds": round(seconds, 2),
        "notes_per_second": round(tokens / seconds, 1) if seconds > 0 else None,
        "batch_size": batch,
        "tensorflow": tensorflow().__version__,
        "stopped_by": stopped_by(stopping, limit, monitor),
    }
    save_model(model, out, meta)
    _write_history(out, hist)
    return TrainResult(out, epochs_run, hist, seconds, tokens / max(seconds, 1e-9))
