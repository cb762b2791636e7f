"""Choosing a step engine: by name, or ``auto`` by a short timed probe at start-up.

``make_engine(model, engine, device)``:

- ``numpy``: the streaming NumPy engine (CPU only; ``device="gpu"`` is a
  :class:`~improviser.errors.ConfigError`). Never imports TensorFlow.
- ``native``: the same engine with its step compiled
  (:class:`~improviser.inference.native_engine.NativeEngine`, built with the package
  where a C compiler is there; CPU only; never imports TensorFlow).
- ``tf``: :class:`~improviser.inference.tf_engine.TfEngine` on ``device`` (see
  :func:`~improviser.inference.tf_engine.resolve_device` for the GPU fallback rule).
- ``auto``: the candidates are timed over :data:`PROBE_STEPS` notes each and the fastest
  (lowest median) is returned, reset. The CPU engine is always a candidate: ``native``
  where it was built (the same arithmetic in one call: faster at every spacing measured,
  see ``improviser bench latency``), else ``numpy``. The TF
  engines (graph and XLA) are candidates only when TensorFlow is already imported in this
  process or ``device="gpu"`` was asked for: importing TensorFlow costs ~2.5 s and
  ~650 MB, far more than it could save, so ``auto`` never pays it on its own.
  ``device="cpu"`` keeps every candidate on the CPU.

``engine.name`` says which was chosen (``numpy``, ``tf-graph-cpu``, ``tf-xla-gpu``, ...).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from improviser.errors import ConfigError
from improviser.inference.native_engine import NativeEngine, native_available
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.protocol import StepModel
from improviser.inference.tf_engine import DEVICES
from improviser.music.encoding import FIELDS, VOCAB_SIZES, Token

__all__ = ["ENGINES", "PROBE_STEPS", "cpu_engine_type", "make_engine", "probe", "probe_tokens"]

ENGINES = ("auto", "numpy", "native", "tf")
PROBE_STEPS = 50


def probe_tokens(count: int, seed: int = 0) -> list[Token]:
    """``count`` random notes (valid classes of every field), the same for every engine."""
    rng = np.random.default_rng(seed)
    cols = [rng.integers(0, VOCAB_SIZES[f], count) for f in FIELDS]
    return [Token(*(int(c[i]) for c in cols)) for i in range(count)]


def probe(engines: Sequence[StepModel], steps: int = PROBE_STEPS) -> list[float]:
    """Median seconds per step of each engine over the same ``steps`` notes (after 5 warm-up).

    Each engine is reset before and after.
    """
    tokens = probe_tokens(steps + 5)
    medians = []
    for engine in engines:
        engine.reset()
        times = []
        for i, token in enumerate(tokens):
            t0 = time.perf_counter()
            engine.step(token)
            if i >= 5:
                times.append(time.perf_counter() - t0)
        engine.reset()
        medians.append(float(np.median(times)))
    return medians


def make_engine(
    model_path: str | Path,
    engine: str = "auto",
    device: str = "auto",
    *,
    strict: bool = False,
    report: Callable[[str], None] | None = None,
) -> StepModel:
    """The step engine for ``model_path`` (see the module docstring for the rules).

    ``strict`` makes a missing GPU an error instead of a warning; ``report`` receives a
    line per probed engine when ``engine="auto"`` times more than one.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if engine in ("numpy", "native"):
        if device == "gpu":
            raise ConfigError(
                f"the {engine} engine runs on the CPU only; use --engine tf for a GPU"
            )
        return _cpu_engine(model_path, engine)
    if engine == "tf":
        return _tf_engines(model_path, device, strict)[0]

    candidates: list[StepModel] = []
    if device != "gpu":
        candidates.append(_cpu_engine(model_path, "auto"))
    # TensorFlow's engines need the .keras file; a model shipped as .npz + .json only
    # (a models folder, a test) plays on NumPy even where TensorFlow is loaded.
    if device == "gpu" or ("tensorflow" in sys.modules and Path(model_path).exists()):
        candidates.extend(_tf_engines(model_path, device, strict, both=True))
    if len(candidates) == 1:
        return candidates[0]
    times = probe(candidates)
    for cand, seconds in zip(candidates, times, strict=True):
        if report is not None:
            report(f"{_name(cand)}: {seconds * 1e6:.0f} µs/note (median of {PROBE_STEPS})")
    return candidates[int(np.argmin(times))]


def cpu_engine_type(engine: str = "auto") -> type[NumpyEngine]:
    """The streaming CPU engine that ``engine`` plays on: ``native`` for ``native`` (or
    ``auto`` where it was built), else ``numpy``."""
    if engine == "native" or (engine == "auto" and native_available()):
        return NativeEngine
    return NumpyEngine


def _cpu_engine(model_path: str | Path, engine: str) -> StepModel:
    return cpu_engine_type(engine).from_file(model_path)


def _tf_engines(
    model_path: str | Path, device: str, strict: bool, both: bool = False
) -> list[StepModel]:
    from improviser.inference.tf_engine import TfEngine  # noqa: PLC0415

    graph = TfEngine(model_path, device=device, strict=strict)
    if not both:
        return [graph]
    # The XLA twin reuses the loaded model: one load, and no second fallback warning.
    where = "gpu" if "GPU" in graph.device else "cpu"
    xla = TfEngine(model_path, device=where, jit_compile=True, model=graph.model)
    return [graph, xla]


def _name(engine: StepModel) -> str:
    return str(getattr(engine, "name", type(engine).__name__))
