"""GRU models: trained by Keras, stepped by every engine, saved and read like LSTM models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from improviser.config import ModelConfig
from improviser.errors import ModelError
from improviser.inference import NativeEngine, NumpyEngine, StepModel, TfEngine, random_weights
from improviser.inference.modelfile import load_weights, save_model, weight_arrays
from improviser.inference.weights import LstmWeights, check_shapes
from improviser.music.encoding import FIELDS, Token


def _tokens(count: int, seed: int) -> list[Token]:
    rng = np.random.default_rng(seed)
    return [
        Token(int(rng.integers(30, 100)), int(rng.integers(0, 17)), int(rng.integers(0, 16)),
              int(rng.integers(0, 8)))
        for _ in range(count)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def gru_model() -> Any:
    """A small Keras GRU melody model with random (not near-uniform) weights."""
    from improviser.training.model import build_model

    model = build_model(ModelConfig(cell="gru", lstm_units=[24, 12], dropout=0.0))
    rng = np.random.default_rng(0)
    model.set_weights(
        [rng.normal(scale=0.4, size=w.shape).astype(np.float32) for w in model.get_weights()]
    )
    return model


def test_the_model_is_a_gru_stack_and_exports_keras_arrays(gru_model: Any) -> None:
    from improviser.inference.modelfile import export_weights

    names = [layer.name for layer in gru_model.layers]
    assert "gru_0" in names and "gru_1" in names and not any(n.startswith("lstm_") for n in names)
    weights = export_weights(gru_model)
    assert weights.cell == "gru" and weights.inputs == FIELDS
    assert [k.shape for k in weights.kernels] == [(68, 72), (24, 36)]
    assert [b.shape for b in weights.biases] == [(2, 72), (2, 36)]  # input and recurrent bias


def test_every_engine_steps_a_gru_as_keras_runs_it(gru_model: Any, tmp_path: Path) -> None:
    tokens = _tokens(40, seed=1)
    rows = np.asarray(tokens, dtype=np.int32)
    out = gru_model({f: rows[None, :, i] for i, f in enumerate(FIELDS)}, training=False)
    keras = {f: np.asarray(out[f"next_{f}"])[0] for f in FIELDS}
    path = save_model(gru_model, tmp_path / "gru.keras", {"objective": "classes"})
    weights = load_weights(path)
    engines: list[StepModel] = [
        NumpyEngine(weights),
        NativeEngine(weights),
        TfEngine(path, device="cpu", model=gru_model),
    ]
    for engine in engines:
        worst = 0.0
        for i, token in enumerate(tokens):
            if i % 3 == 0 and isinstance(engine, NumpyEngine):
                engine.prepare()  # the step done partly ahead is the same step
            dist = engine.step(token)
            for f in FIELDS:
                worst = max(worst, float(np.abs(keras[f][i] - dist.field(f)).max()))
        assert worst < 1e-5, (type(engine).__name__, worst)


def test_a_saved_gru_reads_back_as_a_gru(gru_model: Any, tmp_path: Path) -> None:
    path = save_model(gru_model, tmp_path / "m.keras", {"objective": "classes"})
    with np.load(path.with_suffix(".npz")) as arrays:
        names = set(arrays.files)
    assert {"gru_0_kernel", "gru_1_recurrent", "gru_1_bias"} <= names
    assert not any(n.startswith("lstm_") for n in names)
    weights = load_weights(path)
    assert weights.cell == "gru" and [int(r.shape[0]) for r in weights.recurrents] == [24, 12]
    assert NumpyEngine.from_file(path).cell == "gru"


def test_a_prepared_gru_step_is_the_same_step_bit_for_bit() -> None:
    weights = random_weights((32, 16), cell="gru")
    for kind in (NumpyEngine, NativeEngine):
        plain, prepared = kind(weights), kind(weights)
        for i, token in enumerate(_tokens(30, seed=9)):
            prepared.prepare()
            prepared.prepare()
            if i == 12:  # a restore makes what was prepared stale
                state = plain.snapshot()
                prepared.restore(state)
                plain.restore(state)
            np.testing.assert_array_equal(prepared.step_probs(token), plain.step_probs(token))


def test_a_gru_state_moves_and_a_reset_starts_over() -> None:
    engine = NumpyEngine(random_weights((16,), cell="gru"))
    first = engine.step_probs(Token(60, 1, 2, 3))
    hs, cs = engine.snapshot()
    assert np.abs(hs[0]).max() > 0 and cs == []  # a GRU carries h only
    compiled = NativeEngine(random_weights((16,), cell="gru"))
    with pytest.raises(IndexError):
        compiled.step_probs(Token(200, 0, 0, 0))
    engine.step_probs(Token(64, 1, 2, 3))
    engine.reset()
    np.testing.assert_array_equal(engine.step_probs(Token(60, 1, 2, 3)), first)


def test_a_harmony_shaped_gru_steps_with_any_inputs_and_heads() -> None:
    weights = random_weights(
        (16, 8), inputs={"value": 40, "role": 3}, outputs={"value": 40}, kind="harmony", cell="gru"
    )
    numpy, compiled = NumpyEngine(weights), NativeEngine(weights)
    for token in ([3, 1], [7, 2], [39, 0]):
        np.testing.assert_allclose(numpy.step_probs(token), compiled.step_probs(token), atol=1e-6)
    with pytest.raises(IndexError, match="2 classes"):
        numpy.step_probs([1, 2, 3])


def test_gru_arrays_of_the_wrong_shape_are_one_line_errors(tmp_path: Path) -> None:
    w = random_weights((8,), cell="gru")
    flat_bias = LstmWeights(
        w.embeddings, w.kernels, w.recurrents, [w.biases[0][0]], w.heads, w.kind, "gru"
    )
    with pytest.raises(ModelError, match="GRU layer 0 has inconsistent shapes"):
        check_shapes(flat_bias, "m.npz")
    as_lstm = LstmWeights(w.embeddings, w.kernels, w.recurrents, w.biases, w.heads, w.kind)
    with pytest.raises(ModelError, match="LSTM layer 0 has inconsistent shapes"):
        check_shapes(as_lstm, "m.npz")
    arrays = weight_arrays(w)
    lstm = weight_arrays(random_weights((8,)))
    both = tmp_path / "both.npz"
    np.savez(both, **arrays, **{k: v for k, v in lstm.items() if k.startswith("lstm_")})
    with pytest.raises(ModelError, match="both LSTM and GRU"):
        load_weights(both)


def test_the_cell_is_a_checked_model_option() -> None:
    from pydantic import ValidationError

    assert ModelConfig().cell == "lstm"
    with pytest.raises(ValidationError, match="lstm' or 'gru"):
        ModelConfig(cell="rnn")
    with pytest.raises(ValidationError, match='cell = "gru" needs objective = "classes"'):
        ModelConfig(cell="gru", objective="regression")
