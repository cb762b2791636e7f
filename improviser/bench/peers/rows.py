"""The peer runtimes' rows of ``bench latency``: the same models, one step per note.

:func:`run_peers` exports the bundled melody model (and the harmony model, where given)
for ONNX Runtime and LiteRT, checks each exported step against the NumPy engine over the
first :data:`AGREEMENT_NOTES` notes (``max_abs_diff_vs_numpy``: the largest difference of
any head's probability), then times ``RUNTIME step`` on the note stream the engines' rows
use, with the same untimed pause work between notes. The harmony model's rows (``harmony
step, ENGINE``) time one step each on the NumPy and native engines too, so each peer has a
baseline from the same run: :meth:`PeerRun.summarize` adds ``vs_native_p50`` (a row's p50
over the native engine's, of the same model) to every row it names.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
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

__all__ = ["AGREEMENT_NOTES", "PeerRun", "harmony_tokens", "max_abs_diff", "run_peers"]

AGREEMENT_NOTES = 50
"""Notes over which each exported step is compared with the NumPy engine."""
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


def _time_peers(
    model_path: Path,
    kind: str,
    tokens: Sequence[Sequence[int]],
    label: Callable[[str], str],
    folder: Path,
    between: Callable[[], object] | None,
    info: dict[str, Any],
) -> dict[str, list[float]]:
    """Export one model, check and time each peer; its rows (named by ``label``)."""
    weights = load_weights(model_path, kind)
    exported = export_peers(model_path, kind, folder)
    paths = {"onnxruntime": exported.onnx, "litert": exported.litert}
    stream = cast("Sequence[Token]", tokens)
    rows = {}
    for runtime in PEERS:
        stepper = make_stepper(runtime, paths[runtime], exported.signature)
        row = label(runtime)
        info["max_abs_diff_vs_numpy"][row] = max_abs_diff(
            stepper, NumpyEngine(weights), tokens[:AGREEMENT_NOTES]
        )
        stepper.reset()
        rows[row] = time_steps(stepper.step_probs, stream, between=between)
        info["export"][row] = {
            "bytes": paths[runtime].stat().st_size,
            "seconds": exported.seconds[runtime],
        }
    return rows


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
    engines = "native" if native_available() else "numpy"
    info: dict[str, Any] = {
        "runtimes": runtime_versions(),
        "tensorflow": str(tensorflow().__version__),
        "onnx_opset": ONNX_OPSET,
        "threads": 1,
        "agreement_notes": AGREEMENT_NOTES,
        "max_abs_diff_vs_numpy": {},
        "export": {},
        "baselines": {},
        "loadavg_start": list(os.getloadavg()),
    }
    run = PeerRun(info=info)
    with tempfile.TemporaryDirectory(prefix="improviser-peers-") as tmp:
        folder = Path(tmp)
        run.rows = _time_peers(
            Path(model_path), MELODY, tokens, lambda r: f"{r} step", folder, between, info
        )
        info["baselines"] = {
            f"{name} step": f"{engines} step" for name in ("numpy", "native", *PEERS)
        }
        if harmony_model is not None and Path(harmony_model).exists():
            weights = load_weights(harmony_model, HARMONY)
            stream = harmony_tokens(weights, len(tokens))
            info["harmony_model"] = str(harmony_model)
            info["harmony_step_flops"] = onset_flops(weights) // STEPS_PER_ONSET
            for name, engine in _engines(weights).items():
                run.harmony[f"harmony step, {name}"] = time_steps(
                    engine.step_probs, cast("Sequence[Token]", stream), between=between
                )
            run.harmony.update(
                _time_peers(
                    Path(harmony_model),
                    HARMONY,
                    stream,
                    lambda r: f"harmony step, {r}",
                    folder,
                    between,
                    info,
                )
            )
            info["baselines"].update(
                {
                    f"harmony step, {n}": f"harmony step, {engines}"
                    for n in ("numpy", "native", *PEERS)
                }
            )
    info["loadavg_end"] = list(os.getloadavg())
    return run
