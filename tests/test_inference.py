"""The step engines: equivalence with Keras, the StepModel protocol, choosing an engine."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from improviser.errors import ConfigError, ModelError
from improviser.inference import (
    DeviceFallbackWarning,
    NativeEngine,
    NumpyEngine,
    ProbsStepModel,
    StepModel,
    TfEngine,
    WindowEngine,
    make_engine,
    random_weights,
)
from improviser.inference.select import probe_tokens
from improviser.inference.tf_engine import CPU, GPU, choose_device
from improviser.music.encoding import FIELDS, Distribution, Token
from tests.model_fixtures import Trained

ROOT = Path(__file__).resolve().parent.parent


def _tokens(n: int, seed: int = 0) -> np.ndarray[Any, np.dtype[np.int32]]:
    rng = np.random.default_rng(seed)
    cols = [rng.integers(40, 90, n), rng.integers(0, 17, n), rng.integers(0, 16, n)]
    cols.append(rng.integers(0, 8, n))
    return np.stack(cols, axis=1).astype(np.int32)


def _keras_probs(model: Any, tokens: np.ndarray[Any, Any]) -> dict[str, np.ndarray[Any, Any]]:
    out = model({f: tokens[None, :, i] for i, f in enumerate(FIELDS)}, training=False)
    return {f: np.asarray(out[f"next_{f}"])[0] for f in FIELDS}


def _diff(a: Distribution, b: Distribution) -> float:
    return max(float(np.abs(a.field(f) - b.field(f)).max()) for f in FIELDS)


def _worst_against_keras(engine: StepModel, keras_out: dict[str, Any], tokens: Any) -> float:
    worst = 0.0
    engine.reset()
    for i, row in enumerate(tokens):
        dist = engine.step(Token(*row))
        for f in FIELDS:
            assert dist.field(f).shape == keras_out[f][i].shape
            worst = max(worst, float(np.abs(keras_out[f][i] - dist.field(f)).max()))
    return worst


@pytest.fixture(scope="module")
def keras_model(trained: Trained) -> Any:
    from improviser.inference.modelfile import load_model

    return load_model(trained.model)[0]


@pytest.fixture(scope="module")
def tf_engines(trained: Trained, keras_model: Any) -> dict[str, TfEngine]:
    graph = TfEngine(trained.model, device="cpu")
    xla = TfEngine(trained.model, device="cpu", jit_compile=True, model=keras_model)
    return {"graph": graph, "xla": xla}


ENGINE_BUILDERS: dict[str, Callable[[Trained, dict[str, TfEngine]], StepModel]] = {
    "numpy": lambda t, _tf: NumpyEngine.from_file(t.model),
    "native": lambda t, _tf: NativeEngine.from_file(t.model),
    "tf-graph": lambda _t, tf: tf["graph"],
    "tf-xla": lambda _t, tf: tf["xla"],
}


@pytest.mark.parametrize("name", list(ENGINE_BUILDERS))
def test_every_engine_matches_keras_within_1e_5(
    name: str, trained: Trained, keras_model: Any, tf_engines: dict[str, TfEngine]
) -> None:
    tokens = _tokens(60)
    engine = ENGINE_BUILDERS[name](trained, tf_engines)
    assert isinstance(engine, StepModel)
    assert _worst_against_keras(engine, _keras_probs(keras_model, tokens), tokens) <= 1e-5


def test_tf_engine_variables_live_on_the_device_asked_for(
    tf_engines: dict[str, TfEngine],
) -> None:
    engine = tf_engines["graph"]
    assert engine.device == CPU and engine.name == "tf-graph-cpu"
    assert tf_engines["xla"].name == "tf-xla-cpu"
    assert all("CPU:0" in v.device for v in engine._variables())


def test_window_engine_is_keras_on_the_last_n_notes(
    trained: Trained, keras_model: Any, tf_engines: dict[str, TfEngine]
) -> None:
    tokens = _tokens(20, seed=3)
    window = 6
    for base in (NumpyEngine.from_file(trained.model), tf_engines["graph"]):
        engine = WindowEngine(base, window=window)
        engine.reset()
        worst = 0.0
        for i, row in enumerate(tokens):
            dist = engine.step(Token(*row))
            ref = _keras_probs(keras_model, tokens[max(0, i - window + 1) : i + 1])
            diffs = [float(np.abs(ref[f][-1] - dist.field(f)).max()) for f in FIELDS]
            worst = max(worst, *diffs)
        assert worst <= 1e-5


def test_window_engine_reprimes_every_k_notes_and_carries_between() -> None:
    weights = random_weights((16, 8))
    tokens = [Token(*row) for row in _tokens(25, seed=5)]
    carried = NumpyEngine(weights)
    fresh = NumpyEngine(weights)
    engine = WindowEngine(NumpyEngine(weights), window=5, every=3)
    reprimed = []
    for i, tok in enumerate(tokens):
        got = engine.step(tok)
        want_carried = carried.step(tok)
        fresh.reset()
        want_fresh = fresh.run(tokens[max(0, i - 4) : i + 1])
        assert want_fresh is not None
        if i < 5:  # not full yet: carried state is the window
            assert _diff(got, want_carried) < 1e-12
        if _diff(got, want_fresh) < 1e-12 and i >= 5:
            reprimed.append(i)
    # Full at note 4 (re-primed there, the counter being past 3), then every 3 notes.
    assert reprimed == [7, 10, 13, 16, 19, 22]
    with pytest.raises(ValueError, match="every must be in range"):
        WindowEngine(NumpyEngine(weights), window=5, every=6)
    with pytest.raises(ValueError, match="window must be at least 1"):
        WindowEngine(NumpyEngine(weights), window=0)


def _protocol_engines(trained: Trained, tf_engines: dict[str, TfEngine]) -> list[StepModel]:
    return [
        NumpyEngine(random_weights((16,))),
        NumpyEngine(random_weights((24, 12, 8))),
        NumpyEngine.from_file(trained.model),
        NativeEngine(random_weights((24, 12, 8))),
        NativeEngine.from_file(trained.model),
        tf_engines["graph"],
        tf_engines["xla"],
        WindowEngine(NumpyEngine(random_weights((16, 8))), window=4, every=2),
    ]


def test_reset_snapshot_restore_give_identical_distributions(
    trained: Trained, tf_engines: dict[str, TfEngine]
) -> None:
    tokens = [Token(*row) for row in _tokens(12, seed=7)]
    for engine in _protocol_engines(trained, tf_engines):
        engine.reset()
        first = [engine.step(t) for t in tokens]
        engine.reset()
        again = [engine.step(t) for t in tokens[:6]]
        assert all(_diff(a, b) == 0.0 for a, b in zip(first, again, strict=False))
        state = engine.snapshot()
        rest = [engine.step(t) for t in tokens[6:]]
        engine.step(tokens[0])  # move on, then go back
        engine.restore(state)
        replay = [engine.step(t) for t in tokens[6:]]
        assert all(_diff(a, b) == 0.0 for a, b in zip(rest, replay, strict=True))
        assert all(_diff(a, b) == 0.0 for a, b in zip(first[6:], rest, strict=True))
        # A distribution handed out is never changed by later steps.
        kept = first[0].pitch.copy()
        engine.step(tokens[3])
        assert np.array_equal(first[0].pitch, kept)
        with pytest.raises(TypeError, match="snapshot"):
            engine.restore("not a state")


@pytest.mark.parametrize("name", list(ENGINE_BUILDERS))
def test_step_probs_is_the_padded_layout_of_step(
    name: str, trained: Trained, tf_engines: dict[str, TfEngine]
) -> None:
    engine = ENGINE_BUILDERS[name](trained, tf_engines)
    assert isinstance(engine, ProbsStepModel)  # the live engine's fast path
    tokens = [Token(*row) for row in _tokens(5, seed=3)]
    engine.reset()
    dists = [engine.step(t) for t in tokens]
    engine.reset()
    padded = [engine.step_probs(t) for t in tokens]
    for dist, probs in zip(dists, padded, strict=True):
        assert probs.shape == (4, 128) and probs.dtype == np.float64
        for i, f in enumerate(FIELDS):
            n = len(dist.field(f))
            assert np.allclose(probs[i, :n], dist.field(f), atol=1e-7)
            assert (probs[i, n:] == 0).all()


def test_numpy_engine_distributions_are_normalized_and_logits_compact() -> None:
    engine = NumpyEngine(random_weights((16, 8)))
    dist = engine.step(Token(60, 1, 2, 3))
    for f in FIELDS:
        assert abs(dist.field(f).sum() - 1.0) < 1e-6 and (dist.field(f) > 0).all()
    probs = engine.step_probs(Token(62, 1, 2, 3))
    assert probs.shape == (4, 128) and np.allclose(probs.sum(axis=1), 1.0)
    assert (probs[1, 17:] == 0).all() and (probs[3, 8:] == 0).all()
    assert engine.step_logits(Token(64, 1, 2, 3)).shape == (128 + 17 + 16 + 8,)


def test_choose_device_rule() -> None:
    assert choose_device("cpu", 2) == CPU
    assert choose_device("auto", 1) == GPU
    assert choose_device("gpu", 1) == GPU
    assert choose_device("auto", 0) == CPU
    with pytest.warns(DeviceFallbackWarning, match="no GPU"):
        assert choose_device("gpu", 0) == CPU
    with pytest.raises(ModelError, match="no GPU"):
        choose_device("gpu", 0, strict=True)
    with pytest.raises(ConfigError, match="device must be one of"):
        choose_device("tpu", 0)


def test_gpu_asked_for_without_a_gpu_falls_back_to_cpu_or_fails_strictly(
    trained: Trained,
) -> None:
    from improviser.inference.tfload import tensorflow

    if tensorflow().config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU: the fallback cannot happen")
    with pytest.warns(DeviceFallbackWarning, match="running on the CPU"):
        engine = make_engine(trained.model, engine="tf", device="gpu")
    assert isinstance(engine, TfEngine) and engine.device == CPU
    with pytest.raises(ModelError, match="no GPU"):
        make_engine(trained.model, engine="tf", device="gpu", strict=True)
    # auto + gpu: only the TF engines are candidates; they fall back to the CPU.
    with pytest.warns(DeviceFallbackWarning):
        chosen = make_engine(trained.model, engine="auto", device="gpu")
    assert isinstance(chosen, TfEngine) and chosen.device == CPU


def test_make_engine_choices(trained: Trained) -> None:
    numpy = make_engine(trained.model, engine="numpy")
    assert isinstance(numpy, NumpyEngine) and not isinstance(numpy, NativeEngine)
    assert isinstance(make_engine(trained.model, engine="native"), NativeEngine)
    assert isinstance(make_engine(trained.model), NativeEngine)  # auto, where it was built
    assert isinstance(make_engine(trained.model, engine="tf", device="cpu"), TfEngine)
    with pytest.raises(ConfigError, match="CPU only"):
        make_engine(trained.model, engine="numpy", device="gpu")
    with pytest.raises(ConfigError, match="engine must be one of"):
        make_engine(trained.model, engine="onnx")
    with pytest.raises(ConfigError, match="device must be one of"):
        make_engine(trained.model, device="fpga")
    with pytest.raises(ModelError, match="weights file not found"):
        make_engine(trained.model.with_name("missing.keras"), engine="numpy")


def test_auto_probes_every_candidate_once_tensorflow_is_imported(trained: Trained) -> None:
    assert "tensorflow" in sys.modules  # the trained fixture imported it
    lines: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = make_engine(trained.model, device="cpu", report=lines.append)
    names = [line.split(":")[0] for line in lines]
    assert names == ["native", "tf-graph-cpu", "tf-xla-cpu"]
    assert getattr(engine, "name", None) in names
    # The chosen engine comes back reset: same answer as a fresh NumPy engine.
    ref = NumpyEngine.from_file(trained.model).step(Token(60, 2, 3, 4))
    assert _diff(engine.step(Token(60, 2, 3, 4)), ref) <= 1e-5


def _run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    return result.stdout.strip()


def test_live_path_never_imports_tensorflow(trained: Trained) -> None:
    code = (
        "import sys\n"
        "from improviser.inference import make_engine\n"
        "from improviser.music.sampling import Sampler, SamplingParams\n"
        "import numpy as np\n"
        f"for kind in ('numpy', 'auto'):\n"
        f"    e = make_engine({str(trained.model)!r}, engine=kind)\n"
        "    Sampler(SamplingParams()).sample(e.step((60, 1, 2, 3)), np.random.default_rng(0))\n"
        "    print(e.name, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    assert _run_python(code).splitlines() == ["numpy False False", "native False False"]


def test_probe_tokens_are_valid_and_repeatable() -> None:
    a, b = probe_tokens(40), probe_tokens(40)
    assert a == b and len(a) == 40
    engine = NumpyEngine(random_weights((8,)))
    assert engine.run(a) is not None  # every class in range: no IndexError


def test_prepare_takes_the_recurrent_product_ahead_and_changes_nothing() -> None:
    weights = random_weights((16, 8))
    plain, prepared = NumpyEngine(weights), NumpyEngine(weights)
    tokens = [Token(60 + i % 7, 1 + i % 3, 2, 3) for i in range(12)]
    for i, token in enumerate(tokens):
        prepared.prepare()
        prepared.prepare()  # twice: still one product, the same
        if i == 5:  # a restore makes what was prepared stale: it must not be used
            state = plain.snapshot()
            prepared.restore(state)
            plain.restore(state)
        if i == 8:
            prepared.reset()
            plain.reset()
        np.testing.assert_array_equal(prepared.step_probs(token), plain.step_probs(token))
