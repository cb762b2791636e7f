"""Per-note latency of every way to get the next-note distribution, start-up cost, FLOPs.

Rows (each timed per note over the same random note stream; p50/p99/max in ms, and the
speed-up over ``model.predict``'s p50). On the streaming engines' rows a young garbage
collection that is half due runs between notes, untimed, as a live session's pause
work runs it (:func:`~improviser.live.session.gcpause.collect_young_if_due`), so the collector
lands where it lands live, not on a note:

- ``keras predict (window)``: the notebook: ``model.predict`` on the last 30 notes;
- ``keras eager (window)``: ``model(x)`` on the same window;
- ``tf step graph`` / ``tf step xla``: :class:`~improviser.inference.TfEngine`, one
  compiled step with carried state (``jit_compile`` off / on);
- ``numpy window (N)``: :class:`~improviser.inference.WindowEngine` on the NumPy engine,
  the notebook's semantics without Keras;
- ``ENGINE step``: a streaming CPU engine (``numpy``; ``native``, its step compiled, where
  built), distribution only;
- ``ENGINE step + sample``: plus the draw as the live context makes it
  (:class:`~improviser.music.sampling.Sampler`, top-p 0.95 and a pitch range, the live
  defaults; compiled on ``native``): what the live engine pays per answer note;
- ``ENGINE step + sample, spaced``: the same with a pause between notes, so the weights
  are no longer hot in the caches;
- ``ENGINE step + listen + sample``: what a live note costs in follow mode with the
  default listening (:class:`~improviser.music.listener.Listener`: the short-term model
  learns the note and reshapes the prediction with the key and register) on a melodic
  stream (a phrase repeated with variations, so the short-term model's long contexts are
  found);
- ``ENGINE step + hear``: what a player's note costs in call-response (it is heard, the
  answer is drawn when the phrase ends), on the same stream;
- ``ENGINE, 100-500 ms apart``, ``ENGINE, 100-500 ms, warm N ms``: step + sample at a
  player's spacing, cold, then kept warm as the live session does (a rehearsed step every
  5 ms and every 1 ms, the default ``keep_warm_ms``);
- ``harmony voice (3 steps + 3 draws), ENGINE``: one melody onset of the bundled harmony
  model (:mod:`improviser.bench.harmony_latency`), hot, where the model is there
  (``run_latency_bench``: the bundled one);
- ``engine note, MODE, ENGINE, 100-500 ms, idle work on/off``: the live engine's whole
  ``note_on`` at that spacing (:mod:`improviser.bench.engine_note`);
- ``onnxruntime step``, ``litert step`` (and ``harmony step, ENGINE`` for every engine and
  peer): the same model exported to ONNX Runtime and LiteRT, one step per note with the
  state carried (:mod:`improviser.bench.peers`), with ``vs_native_p50``; ``peers=True``.

The slow rows (Keras, window) use fewer notes; each row says how many. Latency through
MIDI ports is ``bench e2e``'s; :func:`time_steps` times any ``step`` callable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from improviser.bench.engine_note import engine_note_rows
from improviser.bench.harmony_latency import harmony_latency_summary
from improviser.bench.latency_inside import LIVE_SAMPLING, measure_startup, profile_numpy_step
from improviser.bench.spacing import REAL_GAP_LABEL, REAL_GAP_S, real_spacing_rows
from improviser.bench.stats import summarize
from improviser.config import LiveConfig
from improviser.inference import NativeEngine, NumpyEngine, WindowEngine, load_weights
from improviser.inference.context import ModelContext
from improviser.inference.native_engine import native_available
from improviser.inference.select import probe_tokens
from improviser.inference.weights import LstmWeights
from improviser.live.session.gcpause import collect_young_if_due
from improviser.music.encoding import FIELDS, VOCAB_SIZES, Token
from improviser.music.listener import Listener, ListenParams
from improviser.music.sampling import Sampler
from improviser.paths import HARMONY_MODEL

__all__ = [
    "CPU_ENGINES",
    "LIVE_SAMPLING",
    "bench_latency",
    "cpu_engines",
    "flops_per_note",
    "measure_startup",
    "melodic_tokens",
    "profile_numpy_step",
    "run_latency_bench",
    "time_steps",
]

CPU_ENGINES = ("numpy", "native")
"""The streaming CPU engines' row names start with these."""


def time_steps(
    step: Callable[[Token], object],
    tokens: Sequence[Token],
    warmup: int = 20,
    gap_s: float = 0.0,
    between: Callable[[], object] | None = None,
) -> list[float]:
    """Milliseconds of each ``step(token)`` after ``warmup`` untimed ones.

    ``gap_s`` sleeps between notes (not timed), as a player's notes are spaced;
    ``between`` runs before each note, not timed (the pause work a session does).
    """
    times = []
    clock = time.perf_counter_ns
    for i, token in enumerate(tokens):
        if gap_s:
            time.sleep(gap_s)
        if between is not None:
            between()
        t0 = clock()
        step(token)
        t1 = clock()
        if i >= warmup:
            times.append((t1 - t0) / 1e6)
    return times


def melodic_tokens(count: int, seed: int = 2) -> list[Token]:
    """A 16-note phrase in C major played over and over, one note in eight varied."""
    rng = np.random.default_rng(seed)
    phrase = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 71, 67, 65, 62]
    pitches = [phrase[i % len(phrase)] for i in range(count)]
    steps = rng.choice([-2, -1, 1, 2], size=count) * (rng.random(count) < 0.125)
    return [Token(int(p + d), 6, 6, 4) for p, d in zip(pitches, steps, strict=True)]


def _listening(
    engine: NumpyEngine, sampler: Sampler | None, rng: np.random.Generator
) -> Callable[[Token], object]:
    """One live note with the default listening, as the live context takes it: heard
    (stepped, the listener told), then (with a sampler) reshaped and drawn."""
    context = ModelContext(engine, listener=Listener(ListenParams.from_config(LiveConfig())))

    def step(tok: Token) -> object:
        context.hear(tok)
        return None if sampler is None else context.draw(sampler, rng)

    return step


def flops_per_note(weights: LstmWeights) -> dict[str, int]:
    """Floating-point operations of one note, counted from the weight shapes.

    ``model``: what the Keras graph computes per time step (matrix products as 2 FLOPs per
    multiply-add, bias additions, the LSTM's element-wise gate arithmetic, the heads);
    ``engine``: the same less layer 0's input product, which the NumPy engine tabulates
    (it adds four table rows instead). ``weight_bytes``: the float32 weights the engine
    reads per note, which bound its speed more than the arithmetic does.
    """
    width = sum(weights.embeddings[f].shape[1] for f in FIELDS)
    gru = weights.cell == "gru"
    flops = 0
    engine_bytes = 0
    for i, (k, r) in enumerate(zip(weights.kernels, weights.recurrents, strict=True)):
        units = r.shape[0]
        inputs = k.shape[0]
        gates = r.shape[1]
        # activations and the state update (LSTM c = f·c + i·g, h = o·tanh(c); GRU about
        # the same: r·rh, the candidate's sum, h = hh + z·(h - hh))
        elementwise = 4 * gates + 5 * units
        biases = 2 * gates if gru else gates
        flops += 2 * inputs * gates + 2 * units * gates + biases + elementwise
        engine_bytes += 4 * (units * gates + (0 if i == 0 else inputs * gates + gates))
    vocab = sum(VOCAB_SIZES[f] for f in FIELDS)
    last = weights.recurrents[-1].shape[0]
    flops += 2 * last * vocab + vocab
    gates0 = weights.recurrents[0].shape[1]
    engine = flops - 2 * width * gates0 + 3 * gates0
    engine_bytes += 4 * ((last + 1) * len(FIELDS) * max(VOCAB_SIZES.values()) + 4 * gates0)
    return {"model": flops, "engine": engine, "weight_bytes": engine_bytes}


def _keras_rows(model_path: Path, tokens: Sequence[Token], window: int) -> dict[str, Any]:
    from improviser.inference.modelfile import load_model  # noqa: PLC0415  (imports TensorFlow)

    model, _meta = load_model(model_path)
    arr = np.asarray(tokens, dtype=np.int32)

    def inputs(i: int) -> dict[str, Any]:
        w = arr[max(0, i - window + 1) : i + 1]
        if len(w) < window:  # the notebook only starts once a window is full
            w = np.concatenate([np.repeat(arr[:1], window - len(w), axis=0), w])
        return {f: w[None, :, j] for j, f in enumerate(FIELDS)}

    idx = iter(range(len(arr)))

    def predict(_tok: Token) -> object:
        out = model.predict(inputs(next(idx)), verbose=0)
        return out["next_pitch"][0, -1]

    rows = {"keras predict (window)": time_steps(predict, tokens, warmup=5)}
    idx = iter(range(len(arr)))

    def eager(_tok: Token) -> object:
        out = model(inputs(next(idx)), training=False)
        return np.asarray(out["next_pitch"])[0, -1]

    rows["keras eager (window)"] = time_steps(eager, tokens, warmup=5)
    return rows


def _tf_rows(model_path: Path, tokens: Sequence[Token]) -> dict[str, list[float]]:
    from improviser.inference import TfEngine  # noqa: PLC0415

    graph = TfEngine(model_path, device="cpu")
    xla = TfEngine(model_path, device="cpu", jit_compile=True, model=graph.model)
    return {
        "tf step graph": time_steps(graph.step, tokens),
        "tf step xla": time_steps(xla.step, tokens),
    }


def cpu_engines(weights: LstmWeights) -> dict[str, NumpyEngine]:
    """The streaming CPU engines to time: NumPy, and the compiled one where it was built."""
    engines = {"numpy": NumpyEngine(weights)}
    if native_available():
        engines["native"] = NativeEngine(weights)
    return engines


def _engine_rows(
    name: str,
    engine: NumpyEngine,
    weights: LstmWeights,
    tokens: Sequence[Token],
    spaced_notes: int,
    gap_ms: float,
    real: int,
) -> dict[str, list[float]]:
    """Every streaming row of one CPU engine (``name`` heads each row's label)."""
    sampler = Sampler(LIVE_SAMPLING)
    rng = np.random.default_rng(0)
    context = ModelContext(engine)  # draws as the live engine does (compiled on native)

    def step_and_sample(tok: Token) -> Token:
        return context.draw(sampler, rng, engine.step_probs(tok))

    rows: dict[str, list[float]] = {}
    pause = collect_young_if_due  # the collector's young generations in the pauses, as live
    engine.reset()
    rows[f"{name} step"] = time_steps(engine.step, tokens, between=pause)
    engine.reset()
    rows[f"{name} step + sample"] = time_steps(step_and_sample, tokens, between=pause)
    engine.reset()
    rows[f"{name} step + sample, {gap_ms:g} ms apart"] = time_steps(
        step_and_sample, tokens[: spaced_notes + 5], warmup=5, gap_s=gap_ms / 1000, between=pause
    )
    engine.reset()
    melody = melodic_tokens(len(tokens))
    listening = _listening(engine, sampler, rng)
    rows[f"{name} step + listen + sample"] = time_steps(listening, melody, between=pause)
    engine.reset()
    rows[f"{name} step + hear"] = time_steps(_listening(engine, None, rng), melody, between=pause)
    if real > 0:
        rows.update(real_spacing_rows(name, context, sampler, step_and_sample, tokens[: real + 2]))
        rows.update(
            engine_note_rows(
                lambda: type(engine)(weights), real, REAL_GAP_S, f"{name}, {REAL_GAP_LABEL}"
            )
        )
    return rows


def bench_latency(
    model_path: str | Path,
    notes: int = 2000,
    slow_notes: int = 200,
    window: int = 30,
    spaced_notes: int = 200,
    gap_ms: float = 5.0,
    tensorflow: bool = True,
    real_notes: int = 100,
    real_engines: Sequence[str] = CPU_ENGINES,
    harmony_model: str | Path | None = None,
    peers: bool = False,
) -> dict[str, Any]:
    """Time every row of the module docstring; return a JSON-ready dict.

    ``harmony_model`` adds its rows (one melody onset on each CPU engine) where its
    ``.npz`` is there. ``peers`` adds the peer runtimes' rows (with ``tensorflow`` only:
    the export needs it) and their run's details as ``peers``.

    ``tensorflow=False`` leaves out the Keras and TF rows (and the ratio to
    ``model.predict``), for a quick run with no TensorFlow. ``real_notes`` (at most
    ``notes``; 0: none) are timed per row at a player's spacing, 100-500 ms apart
    (about 0.3 s each), cold and kept warm, for the engines in ``real_engines``.
    """
    model_path = Path(model_path)
    weights = load_weights(model_path)
    tokens = probe_tokens(notes + 20, seed=1)
    slow = tokens[: slow_notes + 5]
    rows: dict[str, list[float]] = {}
    if tensorflow:
        rows.update(_keras_rows(model_path, slow, window))
        rows.update(_tf_rows(model_path, tokens))
    windowed = WindowEngine(NumpyEngine(weights), window=window)
    rows[f"numpy window ({window})"] = time_steps(windowed.step, slow, warmup=5)
    for name, engine in cpu_engines(weights).items():
        rows.update(
            _engine_rows(
                name,
                engine,
                weights,
                tokens,
                spaced_notes,
                gap_ms,
                min(real_notes, notes) if name in real_engines else 0,
            )
        )
    peer = None
    if peers:
        from improviser.bench.peers.rows import NO_TENSORFLOW, PeerRun, run_peers  # noqa: PLC0415

        peer = (
            run_peers(model_path, tokens, harmony_model, between=collect_young_if_due)
            if tensorflow
            else PeerRun(info={"skipped": NO_TENSORFLOW})
        )
        rows.update(peer.rows)
    flops = flops_per_note(weights)
    summary: dict[str, Any] = {name: summarize(times) for name, times in rows.items()}
    base = summary.get("keras predict (window)", {}).get("p50_ms")
    for name, s in summary.items():
        if base:
            s["speedup_vs_predict_p50"] = base / s["p50_ms"]
        per_note = flops["engine"] if name.startswith(CPU_ENGINES) else flops["model"]
        if name.startswith(("keras", "numpy window")):
            per_note *= window  # a fresh window costs ``window`` steps per note
        s["gflops"] = per_note / (s["p50_ms"] / 1000) / 1e9
    if harmony_model is not None:
        summary.update(harmony_latency_summary(notes, harmony_model))
    if peer is not None:
        summary.update(peer.summarize(summary))
    return {
        "model": str(model_path),
        "units": [int(r.shape[0]) for r in weights.recurrents],
        "cell": weights.cell,
        "window": window,
        "cpu_count": os.cpu_count(),
        "loadavg_1min": os.getloadavg()[0],
        "numpy": np.__version__,
        "flops_per_note": flops,
        "weight_bandwidth_gb_s": flops["weight_bytes"]
        / (summary["numpy step"]["p50_ms"] / 1000)
        / 1e9,
        "rows": summary,
        "peers": peer.info if peer is not None else None,
    }


def run_latency_bench(
    model_path: str | Path,
    notes: int = 2000,
    slow_notes: int = 200,
    window: int = 30,
    tensorflow: bool = True,
    startup: bool = True,
    profile: bool = False,
    real_notes: int = 100,
    real_engines: Sequence[str] = CPU_ENGINES,
    harmony_model: str | Path | None = HARMONY_MODEL,
    peers: bool = True,
) -> dict[str, Any]:
    """Everything ``improviser bench latency`` reports, as one JSON-ready dict.

    Start-up is measured first, in fresh processes, before this one imports TensorFlow.
    """
    from improviser.inference import read_metadata  # noqa: PLC0415

    model_path = Path(model_path)
    read_metadata(model_path)  # a one-line ModelError for a wrong path, before any work
    result: dict[str, Any] = {}
    if startup:
        engines = ["numpy", "tf"] if tensorflow else ["numpy"]
        result["startup"] = [measure_startup(model_path, e) for e in engines]
    result["latency"] = bench_latency(
        model_path,
        notes=notes,
        slow_notes=slow_notes,
        window=window,
        tensorflow=tensorflow,
        real_notes=real_notes,
        real_engines=real_engines,
        harmony_model=harmony_model,
        peers=peers,
    )
    if profile:
        result["profile"] = profile_numpy_step(NumpyEngine.from_file(model_path), notes)
    return result
