"""Build, save and load the Keras models.

Two objectives:

- ``classes`` (default): four embedding inputs (pitch, IOI, duration, velocity), the
  notebook's LSTM stack (sizes from config, dropout between layers), and four softmax
  heads. Every layer returns sequences, so a training sequence of n notes gives n
  next-note targets, and one note at a time can be stepped with carried state
  (:class:`~improviser.inference.NumpyEngine`).
- ``regression``: the original notebook, kept to reproduce and compare it: 30 pitches
  scaled to 0..1 by a min-max scaler, ``LSTM(256) → LSTM(128) → LSTM(64) → Dense(1)``,
  MSE, Adam.

A saved model is three files: ``M.keras`` (loaded with ``safe_mode=True``; no custom
objects, no pickle), ``M.json`` (metadata: encoding, window, vocabulary, corpus hash,
metrics, history) and, for the classes objective, ``M.npz`` (the weights as plain arrays
for the streaming engine).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from improviser.config import ModelConfig
from improviser.encoding import DURATION_BEATS, FIELDS, IOI_BEATS, VELOCITY_BINS, VOCAB_SIZES
from improviser.errors import ModelError
from improviser.inference import LstmWeights, read_metadata
from improviser.tfload import keras

__all__ = [
    "FORMAT",
    "build_model",
    "build_regression_model",
    "encoding_metadata",
    "export_weights",
    "load_model",
    "save_model",
]

FORMAT = "improviser-model/1"


def _embedding_sizes(cfg: ModelConfig) -> dict[str, int]:
    return {
        "pitch": cfg.pitch_embedding,
        "ioi": cfg.ioi_embedding,
        "duration": cfg.duration_embedding,
        "velocity": cfg.velocity_embedding,
    }


def build_model(cfg: ModelConfig) -> Any:
    """The classes-objective network (uncompiled)."""
    k = keras()
    inputs = {f: k.Input(shape=(None,), dtype="int32", name=f) for f in FIELDS}
    sizes = _embedding_sizes(cfg)
    embedded = [
        k.layers.Embedding(VOCAB_SIZES[f], sizes[f], name=f"emb_{f}")(inputs[f]) for f in FIELDS
    ]
    x = k.layers.Concatenate(name="note")(embedded)
    for i, units in enumerate(cfg.lstm_units):
        x = k.layers.LSTM(units, return_sequences=True, name=f"lstm_{i}")(x)
        if cfg.dropout > 0:
            x = k.layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    outputs = {
        f"next_{f}": k.layers.Dense(VOCAB_SIZES[f], activation="softmax", name=f"next_{f}")(x)
        for f in FIELDS
    }
    return k.Model(inputs=inputs, outputs=outputs, name="improviser")


def compile_model(model: Any, cfg: ModelConfig) -> None:
    """Adam and one sparse cross-entropy per head, rhythm and velocity down-weighted."""
    k = keras()
    weights = {
        "pitch": 1.0,
        "ioi": cfg.rhythm_loss_weight,
        "duration": cfg.rhythm_loss_weight,
        "velocity": cfg.velocity_loss_weight,
    }
    model.compile(
        optimizer=k.optimizers.Adam(cfg.learning_rate),
        loss={f"next_{f}": "sparse_categorical_crossentropy" for f in FIELDS},
        loss_weights={f"next_{f}": weights[f] for f in FIELDS},
        metrics={"next_pitch": ["sparse_categorical_accuracy"]},
    )


def build_regression_model(window: int, cfg: ModelConfig) -> Any:
    """The notebook's model: scaled pitch windows → one scaled pitch, MSE (compiled)."""
    k = keras()
    inp = k.Input(shape=(window, 1), name="pitch_scaled")
    x = inp
    units = cfg.regression_units
    for i, n in enumerate(units):
        x = k.layers.LSTM(n, return_sequences=i < len(units) - 1, name=f"lstm_{i}")(x)
        x = k.layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    out = k.layers.Dense(1, name="next_pitch_scaled")(x)
    model = k.Model(inp, out, name="notebook_regression")
    model.compile(optimizer=k.optimizers.Adam(cfg.learning_rate), loss="mse")
    return model


def export_weights(model: Any) -> LstmWeights:
    """The classes model's arrays in the layout of the streaming engine."""
    layers = {layer.name: layer for layer in model.layers}
    lstm_names = sorted(
        (n for n in layers if n.startswith("lstm_")), key=lambda n: int(n.split("_")[1])
    )
    kernels, recurrents, biases = [], [], []
    for name in lstm_names:
        kern, rec, bias = (np.asarray(w, dtype=np.float32) for w in layers[name].get_weights())
        kernels.append(kern)
        recurrents.append(rec)
        biases.append(bias)
    return LstmWeights(
        embeddings={
            f: np.asarray(layers[f"emb_{f}"].get_weights()[0], dtype=np.float32) for f in FIELDS
        },
        kernels=kernels,
        recurrents=recurrents,
        biases=biases,
        heads={
            f: tuple(  # type: ignore[misc]
                np.asarray(w, dtype=np.float32) for w in layers[f"next_{f}"].get_weights()
            )
            for f in FIELDS
        },
    )


def encoding_metadata() -> dict[str, Any]:
    """The token encoding a model was trained with, for its metadata."""
    return {
        "fields": list(FIELDS),
        "vocabulary": dict(VOCAB_SIZES),
        "ioi_beats": list(IOI_BEATS),
        "duration_beats": list(DURATION_BEATS),
        "velocity_bins": VELOCITY_BINS,
    }


def save_model(model: Any, path: str | Path, metadata: dict[str, Any]) -> Path:
    """Save ``M.keras``, ``M.json`` and (classes objective) ``M.npz``; return the path."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"{path}: a model path must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    meta = {"format": FORMAT, **metadata}
    if meta.get("objective") == "classes":
        export_weights(model).to_npz(path.with_suffix(".npz"))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path.with_suffix(".json"))
    return path


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load a model and its metadata, safely; any fault is a one-line :class:`ModelError`."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: model file not found")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a Keras model file (corrupt or wrong format)")
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise ModelError(f"{path}: metadata format {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        model = keras().models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise ModelError(f"{path}: cannot load model ({type(exc).__name__}: {exc})") from exc
    return model, meta
