"""Training throughput: notes/s of the improviser model against the notebook's model.

Both train on the same corpus windows on this machine, in the same run. The improviser
model takes sequences and scores every position (``seq_len`` targets per sequence); the
notebook's regression model takes 30-pitch windows and scores one target per window.
Reported per batch step: p50/p99 time, input notes/s and scored targets/s.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from improviser.bench.stats import summarize
from improviser.config import Config
from improviser.errors import ModelError
from improviser.inference.tfload import keras, tensorflow
from improviser.training.dataset import load_corpus, make_dataset, pitch_windows, windows
from improviser.training.model import build_model, build_regression_model, compile_model

__all__ = ["bench_training"]


def _time_steps(model: Any, batches: list[Any], warmup: int) -> list[float]:
    times = []
    for i, batch in enumerate(batches):
        t0 = time.perf_counter()
        model.train_on_batch(*batch)
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def bench_training(
    data: Sequence[str | Path], config: Config, steps: int = 30, warmup: int = 3
) -> dict[str, Any]:
    """Time ``steps`` training steps of each model; return a JSON-ready dict."""
    tf = tensorflow()
    keras().utils.set_random_seed(config.data.seed)
    corpus = load_corpus(data, config.data)
    if not corpus.pieces:
        raise ModelError("no usable melody in the benchmark data")
    batch = config.train.batch_size
    seq_len = config.data.seq_len
    extra = config.model.extra_inputs
    w = windows(corpus.pieces, seq_len, config.data.stride, extra)
    ds = make_dataset(w, batch, transpose=(-5, 6), shuffle=True, extra=extra).repeat()
    batches = [(x, y, sw) for x, y, sw in ds.take(steps + warmup).as_numpy_iterator()]
    model = build_model(config.model)
    compile_model(model, config.model)
    ours = _time_steps(model, batches, warmup)

    window = config.data.window
    xs, ys = pitch_windows(corpus.pieces, window)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(xs), size=(steps + warmup, batch))
    reg = build_regression_model(window, config.model)
    reg_batches = [
        ((xs[i][..., None] / 127.0).astype(np.float32), (ys[i] / 127.0).astype(np.float32))
        for i in idx
    ]
    theirs = _time_steps(reg, reg_batches, warmup)

    def row(times: list[float], notes: int, targets: int) -> dict[str, Any]:
        s = summarize(times)
        return {
            **s,
            "notes_per_batch": notes,
            "notes_per_s": notes / (s["p50_ms"] / 1000),
            "targets_per_s": targets / (s["p50_ms"] / 1000),
        }

    result = {
        "tensorflow": tf.__version__,
        "batch_size": batch,
        "improviser": row(ours, batch * seq_len, batch * seq_len),
        "notebook_regression": row(theirs, batch * window, batch),
    }
    result["ratio_targets_per_s"] = (
        result["improviser"]["targets_per_s"] / result["notebook_regression"]["targets_per_s"]
    )
    return result
