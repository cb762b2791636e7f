"""Per-note prediction: the step engines and how one is chosen.

A live session needs the next-note distribution after every note, at once. The package
is split by concept::

    protocol      StepModel: reset / step / snapshot / restore (ProbsStepModel: + step_probs)
    weights       the model's arrays in memory (LstmWeights: any named inputs and heads)
    spec          what a weights file says it is: kind (melody, harmony), inputs, heads
    modelfile     the model file: M.keras, M.json, M.npz written and read in one place
    archive       the zip archives (.keras, .npz) opened with bounds on what they unpack
    generate      seed .mid -> continuation .mid
    numpy_engine  NumpyEngine: the streaming engine, NumPy only
    native_engine NativeEngine: NumpyEngine's step in C (_native.c; live default where built)
    tf_engine     TfEngine: a compiled TensorFlow step pinned to a device (cpu/gpu)
    window        WindowEngine: re-runs the last N notes from a zero state (notebook semantics)
    select        make_engine: engine and device by name, or "auto" by a timed probe
    harmonizer    Harmonizer: bass, tenor, alto under each melody onset (a harmony model)
    harmonize     a melody file -> the same file with a track per voice (improviser harmonize)

Only ``tf_engine`` touches TensorFlow, and only when a :class:`TfEngine` is built.
"""

from improviser.inference.modelfile import (
    load_model,
    load_weights,
    metadata_data_config,
    read_metadata,
    refuse_extra_inputs,
    save_model,
    write_weights,
)
from improviser.inference.native_engine import NativeEngine, native_available
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.protocol import ProbsStepModel, StepModel
from improviser.inference.select import ENGINES, make_engine, probe
from improviser.inference.tf_engine import DeviceFallbackWarning, TfEngine, resolve_device
from improviser.inference.weights import LstmWeights, random_weights
from improviser.inference.window import WindowEngine

__all__ = [
    "ENGINES",
    "DeviceFallbackWarning",
    "LstmWeights",
    "NativeEngine",
    "NumpyEngine",
    "ProbsStepModel",
    "StepModel",
    "TfEngine",
    "WindowEngine",
    "load_model",
    "load_weights",
    "make_engine",
    "metadata_data_config",
    "native_available",
    "probe",
    "random_weights",
    "read_metadata",
    "refuse_extra_inputs",
    "resolve_device",
    "save_model",
    "write_weights",
]
