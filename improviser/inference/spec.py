"""What a weights file says it is: the model's kind and its ordered inputs and heads.

The ``.npz`` file holds only numeric arrays (it is read with no pickle and no strings), so
the spec travels as one ``uint8`` array named ``spec``: the UTF-8 bytes of a small JSON
object ``{"kind": ..., "inputs": [...], "outputs": [...]}``. A file without it was written
before models had kinds: the melody model, whose inputs and heads are the four token
fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from improviser.errors import ModelError, reason
from improviser.inference.weights import F32, KINDS, MELODY, LstmWeights
from improviser.music.encoding import FIELDS

__all__ = ["MAX_SPEC_BYTES", "ModelSpec", "decode_spec", "encode_spec"]

MAX_SPEC_BYTES = 4096
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model's kind and its input and output names, in order."""

    kind: str = MELODY
    inputs: tuple[str, ...] = FIELDS
    outputs: tuple[str, ...] = FIELDS


def encode_spec(weights: LstmWeights) -> npt.NDArray[np.uint8]:
    """The ``spec`` array of ``weights``."""
    text = json.dumps(
        {"kind": weights.kind, "inputs": list(weights.inputs), "outputs": list(weights.outputs)}
    )
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def decode_spec(array: F32 | None, path: Path) -> ModelSpec:
    """The spec in a ``spec`` array as :func:`~improviser.inference.archive.read_npz` reads
    it (float32); ``None`` (no such array) is the melody model's. A malformed one is a
    one-line :class:`ModelError`."""
    if array is None:
        return ModelSpec()
    if array.ndim != 1 or array.size > MAX_SPEC_BYTES:
        raise ModelError(f"{path}: 'spec' must be a 1-D array of at most {MAX_SPEC_BYTES} bytes")
    if not np.array_equal(array, np.clip(np.round(array), 0, 255)):
        raise ModelError(f"{path}: 'spec' must hold bytes")
    try:
        data = json.loads(array.astype(np.uint8).tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: corrupt model spec ({reason(exc)})") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path}: the model spec must be a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ModelError(f"{path}: unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    names = {key: _names(data.get(key), key, path) for key in ("inputs", "outputs")}
    return ModelSpec(str(kind), names["inputs"], names["outputs"])


def _names(value: object, key: str, path: Path) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and _NAME.fullmatch(v) for v in value)
        or len(set(value)) != len(value)
    ):
        raise ModelError(f"{path}: the model spec's {key!r} must be a list of distinct names")
    return tuple(value)
