"""Fine-tuning a model on the player's own phrases, with a guard against forgetting.

``finetune(base, data, out, config)`` reads the player's files (``config.data.part``:
the track of that name in a session recording, e.g. ``player``; a file with no such
track is read whole, so a folder of the player's own MIDI files works the same), splits
them by content into train / validation / held-out shares, and scores the base model on
the held-out share and on the base model's own held-out pieces (``base_data``). It then
trains the base model further on the player's training share (early stopping on the
player's validation share, at ``learning_rate``), scores both again, and saves the
result only if it forgot no more than ``max_forgetting`` bits/note on the base's held-out
pieces; otherwise it raises a one-line :class:`~improviser.errors.ModelError` and writes
nothing. Every figure goes into the new model's metadata (``finetune``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from improviser.config import Config
from improviser.errors import ConfigError, ModelError
from improviser.inference import NumpyEngine
from improviser.inference.modelfile import (
    load_model,
    metadata_data_config,
    read_metadata,
    refuse_extra_inputs,
    save_model,
)
from improviser.inference.tfload import keras
from improviser.training.callbacks import (
    ProgressFn,
    early_stopping,
    progress_callback,
    time_limit_callback,
)
from improviser.training.dataset import Piece, Split
from improviser.training.evaluate import held_out, score_pieces
from improviser.training.model import compile_model
from improviser.training.train import classes_data, read_and_split

__all__ = ["DEFAULT_HELD_OUT", "DEFAULT_LEARNING_RATE", "DEFAULT_MAX_FORGETTING", "finetune"]

DEFAULT_LEARNING_RATE = 3e-4
"""A tenth to a third of training's: the player's phrases move the model, not replace it."""
DEFAULT_HELD_OUT = 0.25
"""The share of the player's files held out for scoring, and the share for validation."""
DEFAULT_MAX_FORGETTING = 0.15
"""Bits/note the base's held-out pieces may get worse before the result is refused."""


def _scores(model: Path, player: Sequence[Piece], base: Sequence[Piece]) -> dict[str, Any]:
    engine = NumpyEngine.from_file(model)
    out = {"player": score_pieces(engine, player)}
    if base:
        out["base"] = score_pieces(engine, base)
    return out


def _fit(base: Path, config: Config, split: Split, learning_rate: float, report: ProgressFn) -> Any:
    """The base model trained further on the player's training share."""
    model, _ = load_model(base)
    compile_model(model, config.model.model_copy(update={"learning_rate": learning_rate}))
    batch = config.train.batch_size
    fit_data, val_data, notes_per_batch, steps = classes_data(config, split, batch)
    monitor = "val_loss" if val_data is not None else "loss"
    model.fit(
        fit_data,
        validation_data=val_data,
        epochs=config.train.epochs,
        callbacks=[
            progress_callback(report, notes_per_batch, steps, config.train.epochs),
            early_stopping(config, monitor),
            time_limit_callback(config.train.max_minutes),
        ],
        shuffle=False,
        verbose=0,
    )
    return model


def _config_for(base: Path, meta: dict[str, Any], config: Config, held: float) -> Config:
    """``config`` with the base model's own data and model options (its encoding), and
    ``held`` of the player's files held out, as much for validation."""
    data = metadata_data_config(meta, base)
    data = data.model_copy(
        update={
            "part": config.data.part,
            "stride": config.data.stride,
            "val_fraction": held,
            "test_fraction": held,
            "seed": config.data.seed,
        }
    )
    model = config.model.model_validate(meta.get("config", {}).get("model", {}))
    return config.model_copy(update={"data": data, "model": model})


def finetune(
    base: str | Path,
    data: Sequence[str | Path],
    out: str | Path,
    config: Config,
    *,
    base_data: Sequence[str | Path] = (),
    learning_rate: float = DEFAULT_LEARNING_RATE,
    max_forgetting: float = DEFAULT_MAX_FORGETTING,
    held_out_share: float = DEFAULT_HELD_OUT,
    report: ProgressFn | None = None,
) -> dict[str, Any]:
    """Fine-tune ``base`` on the player's files ``data``; save at ``out``; the figures."""
    base, out = Path(base), Path(out)
    if out.suffix != ".keras":
        raise ConfigError(f"--out must end in .keras, got {out}")
    report = report or (lambda _event: None)
    meta = read_metadata(base)
    if meta.get("objective") != "classes":
        raise ModelError(f"{base}: only a classes-objective model can be fine-tuned")
    refuse_extra_inputs(meta, base)
    if not 0 < held_out_share < 0.5:
        raise ConfigError(f"the held-out share must be in (0, 0.5), got {held_out_share}")
    config = _config_for(base, meta, config, held_out_share)
    keras().utils.set_random_seed(config.data.seed)
    _, split = read_and_split(data, config, report)
    if not split.test or not split.val:
        raise ModelError(
            f"the player's files split into {len(split.train)} train, {len(split.val)} "
            f"validation, {len(split.test)} held-out: add sessions (or raise --held-out)"
        )
    base_pieces = held_out(base_data, meta, metadata_data_config(meta, base)).pieces
    t0 = time.perf_counter()
    before = _scores(base, split.test, base_pieces)
    model = _fit(base, config, split, learning_rate, report)
    figures: dict[str, Any] = {"base": str(base), "part": config.data.part}
    figures["learning_rate"] = learning_rate
    figures |= {"player_files": {"train": len(split.train), "test": len(split.test)}}
    with tempfile.TemporaryDirectory() as tmp:
        trial = save_model(model, Path(tmp) / out.name, meta)
        after = _scores(trial, split.test, base_pieces)
        figures |= {"before": before, "after": after, "max_forgetting": max_forgetting}
        figures["forgetting"] = _forgetting(before, after)
        figures["seconds"] = round(time.perf_counter() - t0, 2)
        _guard(figures, max_forgetting)
        save_model(model, out, _metadata(meta, split, figures))
    return figures


def _forgetting(before: dict[str, Any], after: dict[str, Any]) -> float | None:
    """How many bits/note worse the base's held-out pieces got (``None``: not scored)."""
    if "base" not in before:
        return None
    return float(after["base"]["bits_per_note"] - before["base"]["bits_per_note"])


def _guard(figures: dict[str, Any], max_forgetting: float) -> None:
    forgot = figures["forgetting"]
    if forgot is not None and forgot > max_forgetting:
        was = figures["before"]["base"]["bits_per_note"]
        raise ModelError(
            f"fine-tuning forgot too much: the base's held-out pieces went from {was:.3f} to "
            f"{was + forgot:.3f} bits/note (+{forgot:.3f} > {max_forgetting}); nothing saved "
            "(lower --learning-rate or raise --max-forgetting)"
        )


def _metadata(meta: dict[str, Any], split: Split, figures: dict[str, Any]) -> dict[str, Any]:
    """The base's metadata, the player's trained files added (``evaluate`` leaves them out)."""
    corpus = dict(meta.get("corpus", {}))
    corpus["train_files"] = [*corpus.get("train_files", []), *(p.path for p in split.train)]
    corpus["val_files"] = [*corpus.get("val_files", []), *(p.path for p in split.val)]
    keys = {*corpus.get("train_keys", []), *(p.key for p in split.train + split.val)}
    corpus["train_keys"] = sorted(keys)
    return {**meta, "corpus": corpus, "finetune": figures}
