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
from pydantic import ValidationError

from improviser.config import DataConfig, validation_message
from improviser.errors import ModelError, reason
from improviser.inference.archive import ARCHIVE_ERRORS, check_archive, read_npz
from improviser.inference.spec import decode_spec, encode_spec
from improviser.inference.tfload import keras
from improviser.inference.weights import CELLS, MELODY, LstmWeights, check_shapes
from improviser.music.encoding import DURATION_BEATS, FIELDS, IOI_BEATS, VELOCITY_BINS, VOCAB_SIZES
from improviser.music.viewpoints import VIEWPOINTS

__all__ = [
    "FORMAT",
    "MAX_METADATA_BYTES",
    "METADATA_TYPES",
    "OBJECTIVES",
    "encoding_metadata",
    "export_weights",
    "load_model",
    "load_weights",
    "metadata_data_config",
    "read_metadata",
    "refuse_extra_inputs",
    "save_model",
    "weight_arrays",
    "write_weights",
]

FORMAT = "improviser-model/1"
OBJECTIVES = ("classes", "regression")
MAX_METADATA_BYTES = 64 << 20
"""Metadata larger than this is refused (the bundled model's: about 340 kB)."""

_Schema = dict[str, "type | list[type] | _Schema"]
METADATA_TYPES: _Schema = {
    "format": str,
    "objective": str,
    "window": int,
    "seq_len": int,
    "config": {"data": {}, "model": {}, "train": {}},
    "corpus": {"train_files": [str], "val_files": [str], "train_keys": [str]},
    "encoding": {},
    "extra_inputs": [str],
    "kind": str,
    "inputs": [str],
    "outputs": [str],
    "history": {},
    "training": {},
    "scaler": {"min": float, "max": float, "residual_std": float},
}
"""The type of each metadata key the package reads; ``{}`` is any object."""


def export_weights(model: Any, kind: str = MELODY) -> LstmWeights:
    """The classes model's arrays in the layout of the streaming engine.

    Reads any Keras model built by the package's convention: an ``Embedding`` named
    ``emb_<input>`` per input, recurrent layers ``lstm_0``, ``lstm_1``, ... (or ``gru_0``,
    ...) and a softmax ``Dense`` named ``next_<output>`` per head. The inputs keep the order
    in which their embeddings feed the first recurrent layer; the heads follow the inputs'
    order (a head that predicts an input), then the rest by name.
    """
    layers = {layer.name: layer for layer in model.layers}
    cell = "gru" if "gru_0" in layers else "lstm"
    names = sorted(
        (n for n in layers if n.startswith(f"{cell}_")), key=lambda n: int(n.split("_")[1])
    )
    kernels, recurrents, biases = [], [], []
    for name in names:
        kern, rec, bias = (np.asarray(w, dtype=np.float32) for w in layers[name].get_weights())
        kernels.append(kern)
        recurrents.append(rec)
        biases.append(bias)
    inputs = _input_order(model.layers, f"{cell}_0")
    outputs = [n.removeprefix("next_") for n in layers if n.startswith("next_")]
    outputs.sort(key=lambda f: (inputs.index(f), "") if f in inputs else (len(inputs), f))
    return LstmWeights(
        embeddings={
            f: np.asarray(layers[f"emb_{f}"].get_weights()[0], dtype=np.float32) for f in inputs
        },
        kernels=kernels,
        recurrents=recurrents,
        biases=biases,
        heads={
            f: tuple(  # type: ignore[misc]
                np.asarray(w, dtype=np.float32) for w in layers[f"next_{f}"].get_weights()
            )
            for f in outputs
        },
        kind=kind,
        cell=cell,
    )


def _input_order(layers: list[Any], first: str) -> list[str]:
    """The inputs in the order their ``emb_*`` outputs are concatenated into ``first``
    (walking back through single-input layers such as dropout); where the graph does not
    say, the order the embedding layers were built in."""
    embedded = [layer for layer in layers if layer.name.startswith("emb_")]
    by_name = {layer.name: layer for layer in layers}

    def producer(tensor: Any) -> Any:
        return next((layer for layer in layers if layer.output is tensor), None)

    tensor = by_name[first].input if first in by_name else None
    for _ in range(len(layers)):
        layer = producer(tensor) if tensor is not None else None
        if layer is None:
            break
        if layer in embedded:
            return [layer.name.removeprefix("emb_")]
        if isinstance(layer.input, list):
            sources = [producer(t) for t in layer.input]
            if all(s in embedded for s in sources) and len(sources) == len(embedded):
                return [s.name.removeprefix("emb_") for s in sources]
            break
        tensor = layer.input
    return [layer.name.removeprefix("emb_") for layer in embedded]


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
        weights = export_weights(model, str(meta.setdefault("kind", MELODY)))
        meta["inputs"] = list(weights.inputs)
        meta["outputs"] = list(weights.outputs)
        write_weights(weights, path.with_suffix(".npz"))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path.with_suffix(".json"))
    return path


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load a model and its metadata, safely; any fault is a one-line :class:`ModelError`."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            check_archive(zf, path)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: model file not found") from exc
    except ModelError:
        raise
    except ARCHIVE_ERRORS as exc:
        what = "not a Keras model file (corrupt, truncated or not a zip)"
        raise _archive_error(path, exc, what) from exc
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise ModelError(f"{path}: metadata format {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        model = keras().models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged archive
        what = f"{type(exc).__name__}: {reason(exc)}"
        raise ModelError(f"{path}: cannot load model ({what})") from exc
    return model, meta


def _archive_error(path: Path, exc: BaseException, what: str) -> ModelError:
    if isinstance(exc, OSError) and exc.errno is not None:
        return ModelError(f"{path}: cannot read ({exc.strerror})")
    return ModelError(f"{path}: {what} ({reason(exc)})")


def weight_arrays(weights: LstmWeights) -> dict[str, Any]:
    """``weights`` as the named arrays of the ``.npz`` file (``spec``: kind, inputs, heads)."""
    arrays: dict[str, Any] = {"spec": encode_spec(weights)}
    for name, emb in weights.embeddings.items():
        arrays[f"emb_{name}"] = emb
    cell = weights.cell
    for i, (k, r, b) in enumerate(
        zip(weights.kernels, weights.recurrents, weights.biases, strict=True)
    ):
        arrays[f"{cell}_{i}_kernel"] = k
        arrays[f"{cell}_{i}_recurrent"] = r
        arrays[f"{cell}_{i}_bias"] = b
    for name, (k, b) in weights.heads.items():
        arrays[f"head_{name}_kernel"] = k
        arrays[f"head_{name}_bias"] = b
    return arrays


def write_weights(weights: LstmWeights, path: Path) -> None:
    """Write ``weights`` as a plain ``.npz`` (no pickle), beside a model or anywhere."""
    np.savez(path, **weight_arrays(weights))


def load_weights(path: str | Path, kind: str | None = None) -> LstmWeights:
    """Read the ``.npz`` weights of a model (``MODEL.keras`` or ``MODEL.npz`` may be given).

    A file with no ``spec`` array (written before models had kinds) is a melody model.
    With ``kind``, a model of another kind is refused. Any fault (missing, unreadable,
    truncated, not a ``.npz``, arrays missing, of the wrong type or shape, too large, of
    another kind) is a one-line :class:`ModelError` that names the file.
    """
    path = Path(path).with_suffix(".npz")
    try:
        arrays = read_npz(path)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: weights file not found (train or export the model)") from exc
    except ModelError:
        raise
    except ARCHIVE_ERRORS as exc:
        raise _archive_error(path, exc, "corrupt or truncated weights file") from exc
    _refuse(path, [v for v in VIEWPOINTS if f"emb_{v}" in arrays])
    spec = decode_spec(arrays.pop("spec", None), path)
    if kind is not None and spec.kind != kind:
        raise ModelError(f"{path}: a {spec.kind} model, not a {kind} model")
    cells = {c for c in CELLS if f"{c}_0_recurrent" in arrays}
    if len(cells) > 1:
        raise ModelError(f"{path}: weights file holds both LSTM and GRU layers")
    cell = cells.pop() if cells else "lstm"
    try:
        layers = sum(1 for k in arrays if k.endswith("_recurrent"))
        weights = LstmWeights(
            embeddings={f: arrays[f"emb_{f}"] for f in spec.inputs},
            kernels=[arrays[f"{cell}_{i}_kernel"] for i in range(layers)],
            recurrents=[arrays[f"{cell}_{i}_recurrent"] for i in range(layers)],
            biases=[arrays[f"{cell}_{i}_bias"] for i in range(layers)],
            heads={f: (arrays[f"head_{f}_kernel"], arrays[f"head_{f}_bias"]) for f in spec.outputs},
            kind=spec.kind,
            cell=cell,
        )
    except KeyError as exc:
        raise ModelError(f"{path}: weights file lacks array {exc}") from exc
    check_shapes(weights, path)
    return weights


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read the JSON metadata beside a model.

    Any fault (missing, unreadable, too large, not UTF-8, not JSON, not an object, a known
    key of the wrong type) is a one-line :class:`ModelError` that names the file, so a
    caller may rely on the types in :data:`METADATA_TYPES`.
    """
    meta_path = Path(path).with_suffix(".json")
    try:
        with meta_path.open("rb") as fh:
            raw = fh.read(MAX_METADATA_BYTES + 1)
    except FileNotFoundError as exc:
        raise ModelError(f"{meta_path}: model metadata not found") from exc
    except OSError as exc:
        raise ModelError(f"{meta_path}: cannot read ({exc.strerror or reason(exc)})") from exc
    if len(raw) > MAX_METADATA_BYTES:
        raise ModelError(
            f"{meta_path}: larger than the {MAX_METADATA_BYTES} bytes model metadata may have"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ModelError(f"{meta_path}: corrupt model metadata ({reason(exc)})") from exc
    if not isinstance(data, dict) or "objective" not in data:
        raise ModelError(f"{meta_path}: not improviser model metadata")
    _check_types(data, METADATA_TYPES, meta_path, "")
    if data["objective"] not in OBJECTIVES:
        raise ModelError(f"{meta_path}: unknown objective {data['objective']!r}")
    return data


def refuse_extra_inputs(meta: dict[str, Any], path: str | Path) -> None:
    """A one-line :class:`ModelError` if the model hears inputs beyond the four tokens.

    Such a model (``model.extra_inputs``, a measurement for now) trains and saves, but no
    step engine feeds those inputs yet, so playing or scoring it here must fail loudly.
    """
    config_model = meta.get("config", {}).get("model", {})
    named = meta.get("extra_inputs") or config_model.get("extra_inputs") or []
    _refuse(Path(path), [str(v) for v in named])


def _refuse(path: Path, extra: list[str]) -> None:
    if extra:
        raise ModelError(
            f"{path}: model uses extra inputs [{', '.join(extra)}] which the live engine "
            "does not support yet"
        )


def metadata_data_config(meta: dict[str, Any], path: str | Path) -> DataConfig:
    """The data options a model was trained with (``config.data`` of its metadata)."""
    try:
        return DataConfig.model_validate(meta.get("config", {}).get("data", {}))
    except ValidationError as exc:
        meta_path = Path(path).with_suffix(".json")
        raise ModelError(f"{meta_path}: {validation_message(exc, 'config.data')}") from exc


def _check_types(data: dict[str, Any], types: _Schema, path: Path, prefix: str) -> None:
    for key, expected in types.items():
        if key not in data:
            continue
        value = data[key]
        name = f"{prefix}{key}"
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ModelError(f"{path}: '{name}' must be an object, got {_kind(value)}")
            _check_types(value, expected, path, f"{name}.")
        elif isinstance(expected, list):
            (item,) = expected
            if not isinstance(value, list) or not all(_is(v, item) for v in value):
                raise ModelError(f"{path}: '{name}' must be a list of {item.__name__}")
        elif not _is(value, expected):
            raise ModelError(f"{path}: '{name}' must be {expected.__name__}, got {_kind(value)}")


def _is(value: object, expected: type) -> bool:
    if isinstance(value, bool):  # JSON true is not a number
        return expected is bool
    if expected is float:
        return isinstance(value, int | float)
    return isinstance(value, expected)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
