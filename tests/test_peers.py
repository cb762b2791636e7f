"""The bundled models exported to ONNX Runtime and LiteRT step as the NumPy engine does.

Each exported step (traced from the ``.keras`` layers, converted by tf2onnx and by
TensorFlow's TFLiteConverter) is run with the state carried by the caller and compared
with the NumPy engine, from the zero state and from the same random state, over 50 notes.
Skipped where the ``bench`` extra is not installed (``make test`` installs it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from improviser.bench.peers.export import Exported
from improviser.bench.peers.signature import StepSignature
from improviser.errors import MissingExtraError
from improviser.inference import NumpyEngine, load_weights
from improviser.inference.select import probe_tokens
from improviser.inference.weights import LstmWeights
from improviser.paths import DEFAULT_MODEL, HARMONY_MODEL
from tests.model_fixtures import Trained

NOTES = 50
TOLERANCE = 1e-4
MODELS = {"melody": DEFAULT_MODEL, "harmony": HARMONY_MODEL}


def _runtimes() -> None:
    for module in ("onnxruntime", "ai_edge_litert", "tf2onnx", "tensorflow"):
        pytest.importorskip(module)


@pytest.fixture(scope="module", params=list(MODELS))
def exported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Exported, LstmWeights]:
    _runtimes()
    from improviser.bench.peers.export import export_peers

    kind = str(request.param)
    folder = tmp_path_factory.mktemp(f"peers-{kind}")
    return export_peers(MODELS[kind], kind, folder), load_weights(MODELS[kind], kind)


def _tokens(weights: LstmWeights) -> list[tuple[int, ...]]:
    if weights.kind == "melody":
        return [tuple(t) for t in probe_tokens(NOTES, seed=1)]
    from improviser.bench.peers.rows import harmony_tokens

    return harmony_tokens(weights, NOTES)


def _random_state(sig: StepSignature, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((1, n)) * 0.5).astype(np.float32) for n in sig.state_sizes]


@pytest.mark.parametrize("runtime", ["onnxruntime", "litert"])
def test_the_exported_step_gives_the_numpy_engines_probabilities(
    exported: tuple[Exported, LstmWeights], runtime: str
) -> None:
    from improviser.bench.peers.rows import max_abs_diff
    from improviser.bench.peers.steppers import make_stepper

    files, weights = exported
    path = files.onnx if runtime == "onnxruntime" else files.litert
    stepper = make_stepper(runtime, path, files.signature)
    tokens = _tokens(weights)
    engine = NumpyEngine(weights)
    assert max_abs_diff(stepper, engine, tokens) < TOLERANCE  # both from the zero state

    state = _random_state(files.signature, seed=5)
    stepper.restore(state)
    parts = len(files.signature.parts)  # LSTM: h, c per layer; GRU: h
    cells = [s[0] for s in state[1::parts]] if parts == 2 else []
    engine.restore(([s[0] for s in state[0::parts]], cells))
    assert max_abs_diff(stepper, engine, tokens) < TOLERANCE  # both from one random state
    after = engine.snapshot()
    np.testing.assert_allclose(stepper.state()[0][0], after[0][0], atol=TOLERANCE)

    # The state is what carries the melody: stepped from zero at every note, it differs.
    forgetful = 0.0
    engine.reset()
    for token in tokens:
        stepper.reset()
        expected = engine.step_probs(token)
        got = stepper.step_probs(token)
        forgetful = max(forgetful, float(np.abs(expected[0, : got[0].shape[0]] - got[0]).max()))
    assert forgetful > 100 * TOLERANCE


def test_a_missing_runtime_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from improviser.bench.peers.rows import run_peers
    from improviser.bench.peers.steppers import LiteRtStepper, OnnxStepper

    sig = StepSignature.of(load_weights(DEFAULT_MODEL))
    hidden = {"onnxruntime": OnnxStepper, "ai_edge_litert.interpreter": LiteRtStepper}
    for module, stepper in hidden.items():
        for name in (module, module.split(".")[0]):
            monkeypatch.setitem(sys.modules, name, None)
        with pytest.raises(MissingExtraError, match=r"pip install 'improviser\[bench\]'"):
            stepper(tmp_path / "absent", sig)
    skipped = run_peers(DEFAULT_MODEL, probe_tokens(5)).info["skipped"]
    assert "onnxruntime, ai_edge_litert" in skipped and "improviser[bench]" in skipped


def test_bench_latency_has_the_peers_rows_and_their_ratios(
    trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    _runtimes()
    from typer.testing import CliRunner

    from improviser.bench.peers_table import LABELS, peers_table
    from improviser.cli.bench import bench_app
    from improviser.cli.bench_peers import print_peers

    args = ["latency", "--model", str(trained.model), "--notes", "30", "--slow-notes", "2",
            "--window", "4", "--real-notes", "0", "--no-startup", "--json"]  # fmt: skip
    out = CliRunner().invoke(bench_app, args)
    assert out.exit_code == 0, out.output
    result = json.loads(out.output[out.output.index("{") :])
    rows, peers = result["latency"]["rows"], result["latency"]["peers"]
    for name in ("onnxruntime step", "litert step", "harmony step, onnxruntime",
                 "harmony step, litert"):  # fmt: skip
        assert rows[name]["n"] == 30 and 0 < rows[name]["p50_ms"] <= rows[name]["p99_ms"]
        assert rows[name]["vs_native_p50"] > 0 and peers["max_abs_diff_vs_numpy"][name] < 1e-4
    assert rows["native step, beside peers"]["vs_native_p50"] == 1.0
    assert "vs_native_p50" not in rows["tf step graph"]
    assert rows["onnxruntime step"]["speedup_vs_predict_p50"] > 0
    assert len(peers["loadavg_start"]) == len(peers["loadavg_end"]) == 3

    print_peers(result)
    table = capsys.readouterr().out
    assert "litert step" in table and "× native p50" in table
    page = peers_table(result)
    assert all(f"| {label} |" in page for label in LABELS.values()), page


def test_round_robin_steps_each_through_the_whole_stream_in_order() -> None:
    from improviser.bench.peers.rows import round_robin

    tokens = probe_tokens(20 + 250, seed=2)
    seen: dict[str, list[object]] = {"a": [], "b": [], "c": []}
    times = round_robin({name: seen[name].append for name in seen}, tokens, block=100)
    for name, stepped in seen.items():
        assert stepped == list(tokens)  # 20 untimed, then 100 + 100 + 50 timed
        assert len(times[name]) == 250 and all(t >= 0 for t in times[name])


def test_without_tensorflow_the_table_says_why_there_are_no_peers(trained: Trained) -> None:
    from typer.testing import CliRunner

    from improviser.bench.peers.rows import NO_TENSORFLOW
    from improviser.cli.bench import bench_app

    args = ["latency", "--model", str(trained.model), "--notes", "5", "--slow-notes", "2",
            "--real-notes", "0", "--no-startup", "--no-tensorflow"]  # fmt: skip
    out = CliRunner().invoke(bench_app, args, env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert f"peer runtimes: {NO_TENSORFLOW}" in out.output
    assert "onnxruntime step" not in out.output
