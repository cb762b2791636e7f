"""The model file: ``M.keras``, ``M.json`` and ``M.npz``, written and read in one place.

A saved model is three files: ``M.keras`` (the Keras model, loaded with
``safe_mode=True``: no custom objects, no pickle), ``M.json`` (metadata: format,
objective, encoding, window, vocabulary, corpus hash, metrics, history) and, for the
classes objective, ``M.npz`` (the weights as plain arrays for the streaming engine, which
needs no TensorFlow). Training writes them with :func:`save_model`; the engines read them
with :func:`load_weights` / :func:`load_model`. Every fault reading one is a one-line
:class:`~improviser.errors.ModelError` that names the file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from improviser.errors import ModelError
from improviser.inference.tfload import keras
from improviser.inference.weights import LstmWeights, check_shapes
from improviser.music.encoding import DURATION_BEATS, FIELDS, IOI_BEATS, VELOCITY_BINS, VOCAB_SIZES

__all__ = [
    "FORMAT",
    "encoding_metadata",
    "export_weights",
    "load_model",
    "load_weights",
    "read_metadata",
    "save_model",
    "write_weights",
]

FORMAT = "improviser-model/1"


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
        write_weights(export_weights(model), path.with_suffix(".npz"))
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


def write_weights(weights: LstmWeights, path: Path) -> None:
    """Write ``weights`` as a plain ``.npz`` (no pickle), beside a model or anywhere."""
    arrays: dict[str, Any] = {}
    for name, emb in weights.embeddings.items():
        arrays[f"emb_{name}"] = emb
    for i, (k, r, b) in enumerate(
        zip(weights.kernels, weights.recurrents, weights.biases, strict=True)
    ):
        arrays[f"lstm_{i}_kernel"] = k
        arrays[f"lstm_{i}_recurrent"] = r
        arrays[f"lstm_{i}_bias"] = b
    for name, (k, b) in weights.heads.items():
        arrays[f"head_{name}_kernel"] = k
        arrays[f"head_{name}_bias"] = b
    np.savez(path, **arrays)


def load_weights(path: str | Path) -> LstmWeights:
    """Read the ``.npz`` weights of a model (``MODEL.keras`` or ``MODEL.npz`` may be given)."""
    path = Path(path).with_suffix(".npz")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in data.files}
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: weights file not found (train or export the model)") from exc
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: corrupt or truncated weights file ({exc})") from exc
    try:
        layers = sum(1 for k in arrays if k.endswith("_recurrent"))
        weights = LstmWeights(
            embeddings={f: arrays[f"emb_{f}"] for f in FIELDS},
            kernels=[arrays[f"lstm_{i}_kernel"] for i in range(layers)],
            recurrents=[arrays[f"lstm_{i}_recurrent"] for i in range(layers)],
            biases=[arrays[f"lstm_{i}_bias"] for i in range(layers)],
            heads={f: (arrays[f"head_{f}_kernel"], arrays[f"head_{f}_bias"]) for f in FIELDS},
        )
    except KeyError as exc:
        raise ModelError(f"{path}: weights file lacks array {exc}") from exc
    check_shapes(weights, path)
    return weights


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read the JSON metadata beside a model."""
    meta_path = Path(path).with_suffix(".json")
    try:
        data: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{meta_path}: model metadata not found") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_path}: corrupt model metadata ({exc})") from exc
    if not isinstance(data, dict) or "objective" not in data:
        raise ModelError(f"{meta_path}: not improviser model metadata")
    return data
