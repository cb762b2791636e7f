"""The peer runtimes' rows of ``bench latency``: the same models, one step per note.

:func:`run_peers` exports the bundled melody model (and the harmony model, where given)
for ONNX Runtime and LiteRT and checks each exported step against the NumPy engine over
the first :data:`AGREEMENT_NOTES` notes (``max_abs_diff_vs_numpy``: the largest difference
of any head's probability). Then, per model, the native and NumPy engines and both peers
step through the same note stream, with the same untimed pause work between notes, in
turns of :data:`BLOCK` notes (:func:`round_robin`): on a shared machine whose load comes
and goes, rows timed one after the other minutes apart would compare loads as much as
runtimes. The melody rows are ``RUNTIME step`` and ``ENGINE step, beside peers`` (the
engines' own rows, timed alone, stay as they are); the harmony rows ``harmony step,
ENGINE``. :meth:`PeerRun.summarize` adds ``vs_native_p50`` (a row's p50 over the native
engine's in the same rounds) to every row of a round."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from improviser.bench.harmony_latency import STEPS_PER_ONSET, onset_flops
from improviser.bench.latency import time_steps
from improviser.bench.peers.export import ONNX_OPSET, export_peers
from improviser.bench.peers.signature import FEATURE
from improviser.bench.peers.steppers import PEERS, PeerStepper, make_stepper, runtime_versions
from improviser.bench.stats import summarize
from improviser.inference.modelfile import load_weights
from improviser.inference.native_engine import NativeEngine, native_available
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.tfload import tensorflow
from improviser.inference.weights import MELODY, LstmWeights
from improviser.music.encoding import Token

__all__ = [
    "AGREEMENT_NOTES",
    "BLOCK",
    "NO_TENSORFLOW",
    "PeerRun",
    "harmony_tokens",
    "max_abs_diff",
    "round_robin",
    "run_peers",
]

AGREEMENT_NOTES = 50
"""Notes over which each exported step is compared with the NumPy engine."""
BLOCK = 100
"""Notes each engine or peer steps in its turn of a round (:func:`round_robin`)."""
WARMUP = 20
NO_TENSORFLOW = "the peer runtimes' rows need TensorFlow to export the models (--tensorflow)"
_MODULES = ("onnxruntime", "ai_edge_litert", "tf2onnx")
HARMONY = "harmony"


@dataclass
class PeerRun:
    """The peers' timings and what was run, for :func:`~improviser.bench.latency.bench_latency`."""

    rows: dict[str, list[float]] = field(default_factory=dict)
    """The melody model's peer rows (ms per note), summarized with the engines' rows."""
    harmony: dict[str, list[float]] = field(default_factory=dict)
    """The harmony model's one-step rows, every engine and peer (ms per step)."""
    info: dict[str, Any] = field(default_factory=dict)
    """Runtimes, threads, export, agreement; ``skipped`` (a line) where nothing ran."""

    def summarize(self, summary: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        """The harmony rows summarized (GFLOP/s of the engine's arithmetic), and
        ``vs_native_p50`` set on every row of ``info["baselines"]`` in both."""
        flops = self.info.get("harmony_step_flops", 0)
        out = {}
        for name, times in self.harmony.items():
            s = summarize(times)
            s["gflops"] = flops / (s["p50_ms"] / 1000) / 1e9
            out[name] = s
        every = {**summary, **out}
        for name, base in self.info.get("baselines", {}).items():
            if name in every and base in every:
                every[name]["vs_native_p50"] = every[name]["p50_ms"] / every[base]["p50_ms"]
        return out


def max_abs_diff(
    stepper: PeerStepper, engine: NumpyEngine, tokens: Sequence[Sequence[int]]
) -> float:
    """The largest difference of any head's probability between ``stepper`` and ``engine``
    stepped through ``tokens`` from their current states."""
    worst = 0.0
    for token in tokens:
        expected = engine.step_probs(token)
        for row, got in zip(expected, stepper.step_probs(token), strict=True):
            worst = max(worst, float(np.max(np.abs(row[: got.shape[0]] - got))))
    return worst


def harmony_tokens(weights: LstmWeights, count: int, seed: int = 4) -> list[tuple[int, ...]]:
    """``count`` random tokens of the harmony model (a class of each input)."""
    rng = np.random.default_rng(seed)
    sizes = weights.input_sizes()
    return [tuple(int(v) for v in rng.integers(0, sizes)) for _ in range(count)]


def _engines(weights: LstmWeights) -> dict[str, NumpyEngine]:
    engines = {"numpy": NumpyEngine(weights)}
    if native_available():
        engines["native"] = NativeEngine(weights)
    return engines


def round_robin(
    steps: Mapping[str, Callable[[Token], object]],
    tokens: Sequence[Token],
    between: Callable[[], object] | None = None,
    block: int = BLOCK,
    warmup: int = WARMUP,
) -> dict[str, list[float]]:
    """Milliseconds of each ``steps[name](token)``, every one stepping through all of
    ``tokens`` after ``warmup`` untimed notes, in blocks of ``block`` notes taken in turn
    (the order rotated each round), so that each sees the machine's load alike."""
    names = list(steps)
    for name in names:
        time_steps(steps[name], tokens[:warmup], warmup=warmup)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r, start in enumerate(range(warmup, len(tokens), block)):
        chunk = tokens[start : start + block]
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name] += time_steps(steps[name], chunk, warmup=0, between=between)
    return times


def _model_rows(
    model_path: Path,
    kind: str,
    tokens: Sequence[Sequence[int]],
    labels: Mapping[str, str],
    folder: Path,
    between: Callable[[], object] | None,
    info: dict[str, Any],
) -> dict[str, list[float]]:
    """Export one model, check each peer, time engines and peers in rounds; the rows are
    ``labels[engine or runtime]``."""
    weights = load_weights(model_path, kind)
    exported = export_peers(model_path, kind, folder)
    paths = {"onnxruntime": exported.onnx, "litert": exported.litert}
    steps: dict[str, Callable[[Token], object]] = {}
    engines = _engines(weights)
    for name, engine in engines.items():
        steps[labels[name]] = engine.step if kind == MELODY else engine.step_probs
    for runtime in PEERS:
        stepper = make_stepper(runtime, paths[runtime], exported.signature)
        row = labels[runtime]
        info["max_abs_diff_vs_numpy"][row] = max_abs_diff(
            stepper, NumpyEngine(weights), tokens[:AGREEMENT_NOTES]
        )
        stepper.reset()
        steps[row] = stepper.step_probs
        info["export"][row] = {
            "bytes": paths[runtime].stat().st_size,
            "seconds": exported.seconds[runtime],
        }
    base = labels["native" if "native" in engines else "numpy"]
    info["baselines"].update(dict.fromkeys(steps, base))
    return round_robin(steps, cast("Sequence[Token]", tokens), between)


def run_peers(
    model_path: str | Path,
    tokens: Sequence[Token],
    harmony_model: str | Path | None = None,
    between: Callable[[], object] | None = None,
) -> PeerRun:
    """Export, check and time the peers (see the module); a run that says why it was
    skipped where a runtime is not installed."""
    missing = [m for m in _MODULES if importlib.util.find_spec(m) is None]
    if missing:
        line = f"{FEATURE} need {', '.join(missing)}: pip install 'improviser[bench]'"
        return PeerRun(info={"skipped": line})
    info: dict[str, Any] = {
        "runtimes": runtime_versions(),
        "tensorflow": str(tensorflow().__version__),
        "onnx_opset": ONNX_OPSET,
        "threads": 1,
        "agreement_notes": AGREEMENT_NOTES,
        "block_notes": BLOCK,
        "max_abs_diff_vs_numpy": {},
        "export": {},
        "baselines": {},
        "loadavg_start": list(os.getloadavg()),
    }
    run = PeerRun(info=info)
    with tempfile.TemporaryDirectory(prefix="improviser-peers-") as tmp:
        folder = Path(tmp)
        melody = {"native": "native step, beside peers", "numpy": "numpy step, beside peers"}
        melody.update({runtime: f"{runtime} step" for runtime in PEERS})
        run.rows = _model_rows(Path(model_path), MELODY, tokens, melody, folder, between, info)
        if harmony_model is not None and Path(harmony_model).exists():
            weights = load_weights(harmony_model, HARMONY)
            info["harmony_model"] = str(harmony_model)
            info["harmony_step_flops"] = onset_flops(weights) // STEPS_PER_ONSET
            labels = {n: f"harmony step, {n}" for n in ("native", "numpy", *PEERS)}
            stream = harmony_tokens(weights, len(tokens))
            run.harmony = _model_rows(
                Path(harmony_model), HARMONY, stream, labels, folder, between, info
            )
    info["loadavg_end"] = list(os.getloadavg())
    return run
