"""One step of a bundled model, traced from its ``.keras`` layers and exported to ONNX and LiteRT.

:func:`step_function` builds the step as a ``tf.function`` over the Keras model's own
layers (``emb_<input>``, the ``lstm_<i>`` or ``gru_<i>`` cells, the softmax ``next_<head>``
layers: the package's naming convention, the one
:func:`~improviser.inference.modelfile.export_weights` reads), with the state as inputs and
outputs (:class:`StepSignature`), batch 1.

Both files come from that one function, so the two runtimes run the same graph:

- ONNX through tf2onnx's ``from_function`` (opset 17). tf2onnx 1.17 converts it under
  TensorFlow 2.21 (checked: the probabilities agree with the NumPy engine's to ~1e-6);
  building the graph from the ``.npz`` with ONNX's ``LSTM`` op was the other way, but it
  would export our reading of the weights rather than the Keras model.
- LiteRT through ``tf.lite.TFLiteConverter.from_concrete_functions``, the Keras variables
  handed over in a ``tf.Module`` so the converter freezes them (given the Keras model
  itself it found no variables and the file computed NaNs).

TensorFlow is imported here (through :mod:`improviser.inference.tfload`) and so is
tf2onnx; only the benchmark imports this module.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from improviser.bench.peers.signature import FEATURE, StepSignature
from improviser.errors import missing_extra
from improviser.inference.modelfile import load_model, load_weights
from improviser.inference.tfload import tensorflow

__all__ = [
    "ONNX_OPSET",
    "Exported",
    "export_litert",
    "export_onnx",
    "export_peers",
    "step_function",
]

ONNX_OPSET = 17


@dataclass(frozen=True)
class Exported:
    """One model exported for both runtimes."""

    signature: StepSignature
    onnx: Path
    litert: Path
    seconds: dict[str, float]
    """Conversion time of each file (the trace included in the first)."""


def step_function(model: Any, signature: StepSignature) -> Any:
    """The model's one step as a ``tf.function`` with a fixed signature (see the module)."""
    tf = tensorflow()
    layers = {layer.name: layer for layer in model.layers}
    embeddings = [layers[f"emb_{name}"] for name in signature.inputs]
    cells = [layers[f"{signature.cell}_{i}"].cell for i in range(len(signature.units))]
    heads = [layers[f"next_{name}"] for name in signature.outputs]
    specs = [tf.TensorSpec([1], tf.int32, name=name) for name in signature.inputs]
    specs += [
        tf.TensorSpec([1, size], tf.float32, name=name)
        for name, size in zip(signature.states, signature.state_sizes, strict=True)
    ]
    count = len(signature.inputs)

    def step(*args: Any) -> dict[str, Any]:
        states = args[count:]
        x = tf.concat([emb(t) for emb, t in zip(embeddings, args[:count], strict=True)], -1)
        out: dict[str, Any] = {}
        parts = signature.parts
        for i, cell in enumerate(cells):
            here = list(states[len(parts) * i : len(parts) * (i + 1)])
            x, new = cell(x, here, training=False)
            for part, value in zip(parts, new, strict=True):
                out[f"{part}{i}_out"] = value
        for name, head in zip(signature.heads, heads, strict=True):
            out[name] = head(x)
        return out

    return tf.function(step, input_signature=specs, autograph=False)


def export_onnx(model: Any, signature: StepSignature, path: Path) -> Path:
    """Write the step as an ONNX model (tf2onnx); ``path`` returned."""
    try:
        import tf2onnx  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra(exc, "bench", FEATURE) from None
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    function = step_function(model, signature)
    proto, _external = tf2onnx.convert.from_function(
        function, input_signature=function.input_signature, opset=ONNX_OPSET
    )
    path.write_bytes(proto.SerializeToString())
    return path


def export_litert(model: Any, signature: StepSignature, path: Path) -> Path:
    """Write the step as a LiteRT (``.tflite``) flat buffer; ``path`` returned."""
    tf = tensorflow()
    function = step_function(model, signature).get_concrete_function()
    holder = tf.Module()
    holder.weights = [v.value for v in model.weights]  # the tf.Variables behind Keras's
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], holder)
    path.write_bytes(converter.convert())
    return path


def export_peers(model_path: str | Path, kind: str, folder: str | Path) -> Exported:
    """Export the model at ``model_path`` (of ``kind``) into ``folder`` for both runtimes."""
    model_path, folder = Path(model_path), Path(folder)
    signature = StepSignature.of(load_weights(model_path, kind))
    model, _meta = load_model(model_path)
    stem = folder / f"{model_path.stem}-step"
    t0 = time.perf_counter()
    onnx = export_onnx(model, signature, stem.with_suffix(".onnx"))
    t1 = time.perf_counter()
    litert = export_litert(model, signature, stem.with_suffix(".tflite"))
    seconds = {"onnxruntime": t1 - t0, "litert": time.perf_counter() - t1}
    return Exported(signature, onnx, litert, seconds)
