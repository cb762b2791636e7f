"""Any LSTM model with named embedded inputs and named softmax heads: its weights file
records its kind and its inputs and heads, and both step engines step it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from improviser.errors import ModelError
from improviser.inference import NativeEngine, NumpyEngine, load_weights, write_weights
from improviser.inference.modelfile import export_weights, read_metadata, save_model, weight_arrays
from improviser.inference.native_engine import native_available
from improviser.inference.weights import LstmWeights, random_weights
from improviser.music.encoding import FIELDS
from tests.test_fuzz import npz_of

HARMONY_IN = {"value": 128, "role": 4, "metre": 4, "ioi": 17}
HARMONY_OUT = {"value": 128}


def harmony_weights(units: tuple[int, ...] = (24, 12), seed: int = 0) -> LstmWeights:
    return random_weights(units, 6, seed, inputs=HARMONY_IN, outputs=HARMONY_OUT, kind="harmony")


def _tokens(count: int, seed: int) -> list[tuple[int, ...]]:
    rng = np.random.default_rng(seed)
    return [tuple(int(rng.integers(0, n)) for n in HARMONY_IN.values()) for _ in range(count)]


def test_a_harmony_model_round_trips_through_its_weights_file(tmp_path: Path) -> None:
    weights = harmony_weights()
    write_weights(weights, tmp_path / "h.npz")
    loaded = load_weights(tmp_path / "h.keras", kind="harmony")
    assert loaded.kind == "harmony"
    assert loaded.inputs == ("value", "role", "metre", "ioi")
    assert loaded.outputs == ("value",)
    assert loaded.input_sizes() == (128, 4, 4, 17) and loaded.output_sizes() == (128,)
    for a, b in zip(weight_arrays(weights).values(), weight_arrays(loaded).values(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_weights_file_without_a_spec_is_the_melody_model(tmp_path: Path) -> None:
    arrays = weight_arrays(random_weights((8,)))
    del arrays["spec"]  # as every file written before models had kinds
    (tmp_path / "old.npz").write_bytes(npz_of(arrays))
    loaded = load_weights(tmp_path / "old.npz")
    assert loaded.kind == "melody" and loaded.inputs == FIELDS and loaded.outputs == FIELDS
    NumpyEngine.from_file(tmp_path / "old.npz").step((60, 1, 2, 3))


def test_a_model_of_another_kind_is_one_clear_error(tmp_path: Path) -> None:
    write_weights(harmony_weights(), tmp_path / "h.npz")
    write_weights(random_weights((8,)), tmp_path / "m.npz")
    with pytest.raises(ModelError, match=r"h\.npz: a harmony model, not a melody model$"):
        NumpyEngine.from_file(tmp_path / "h.npz")  # a melody engine by default
    with pytest.raises(ModelError, match=r"m\.npz: a melody model, not a harmony model$"):
        load_weights(tmp_path / "m.npz", kind="harmony")


def _spec(text: bytes) -> Any:
    return np.frombuffer(text, dtype=np.uint8)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_spec(b"not json"), "corrupt model spec"),
        (_spec(b"[1, 2]"), "must be a JSON object"),
        (_spec(b'{"kind": "drums", "inputs": ["a"], "outputs": ["a"]}'), "unknown model kind"),
        (_spec(b'{"kind": "harmony", "inputs": [], "outputs": ["value"]}'), "'inputs' must be"),
        (_spec(b'{"kind": "harmony", "inputs": ["a", "a"], "outputs": ["a"]}'), "distinct"),
        (_spec(b'{"kind": "harmony", "inputs": ["A b"], "outputs": ["a"]}'), "distinct names"),
        (np.full(3, 300.0, dtype=np.float32), "must hold bytes"),
        (np.zeros((2, 2), dtype=np.uint8), "1-D array"),
    ],
)
def test_a_malformed_spec_is_one_line(tmp_path: Path, spec: Any, message: str) -> None:
    arrays = weight_arrays(harmony_weights())
    arrays["spec"] = spec
    (tmp_path / "bad.npz").write_bytes(npz_of(arrays))
    with pytest.raises(ModelError, match=message) as info:
        load_weights(tmp_path / "bad.npz")
    assert "\n" not in str(info.value) and "bad.npz" in str(info.value)


def test_a_melody_model_keeps_its_exact_checks(tmp_path: Path) -> None:
    odd = random_weights((8,), inputs={"pitch": 128, "ioi": 17, "duration": 16, "velocity": 9})
    write_weights(odd, tmp_path / "odd.npz")
    with pytest.raises(ModelError, match="velocity vocabulary is 9, expected 8"):
        load_weights(tmp_path / "odd.npz")
    swapped = random_weights((8,), inputs={"ioi": 17, "pitch": 128, "duration": 16, "velocity": 8})
    write_weights(swapped, tmp_path / "swapped.npz")
    with pytest.raises(ModelError, match="a melody model's inputs are pitch, ioi"):
        load_weights(tmp_path / "swapped.npz")


def test_a_harmony_head_must_fit_its_last_layer(tmp_path: Path) -> None:
    weights = harmony_weights()
    weights.heads["value"] = (np.zeros((5, 128), np.float32), np.zeros(128, np.float32))
    write_weights(weights, tmp_path / "h.npz")
    with pytest.raises(ModelError, match="value head has inconsistent shapes"):
        load_weights(tmp_path / "h.npz")


@pytest.mark.parametrize("units", [(16,), (24, 12), (16, 12, 8)])
def test_both_engines_step_a_harmony_model_alike(units: tuple[int, ...]) -> None:
    weights = harmony_weights(units, seed=len(units))
    engines: list[NumpyEngine] = [NumpyEngine(weights)]
    if native_available():
        engines.append(NativeEngine(weights))
    for engine in engines:
        assert engine.outputs == ("value",) and engine.sizes == (128,)
    worst = 0.0
    for i, token in enumerate(_tokens(60, seed=1)):
        if i % 4 == 3:  # a token whose prediction is not wanted
            for engine in engines:
                engine.feed(token)
            continue
        if i % 5 == 0:
            for engine in engines:
                engine.prepare()
        probs = [engine.step_probs(token) for engine in engines]
        for p in probs:
            assert p.shape == (1, 128)
            assert abs(p.sum() - 1.0) < 1e-6
        worst = max(worst, float(np.abs(probs[0] - probs[-1]).max()))
    assert worst < 1e-5


def test_feed_changes_the_state_as_a_step_does() -> None:
    weights = harmony_weights()
    fed, stepped = NumpyEngine(weights), NumpyEngine(weights)
    for token in _tokens(10, seed=2):
        fed.feed(token)
        stepped.step_probs(token)
    np.testing.assert_array_equal(fed.step_probs((60, 0, 0, 0)), stepped.step_probs((60, 0, 0, 0)))


def test_a_harmony_model_is_refused_where_a_melody_distribution_is_asked() -> None:
    engine = NumpyEngine(harmony_weights())
    with pytest.raises(TypeError, match="harmony model is stepped with step_probs"):
        engine.step((60, 0, 0, 0))


def test_a_token_of_the_wrong_length_or_class_is_refused() -> None:
    weights = random_weights((8,), inputs={"a": 5, "b": 3}, outputs={"a": 5}, kind="harmony")
    engines: list[NumpyEngine] = [NumpyEngine(weights)]
    if native_available():
        engines.append(NativeEngine(weights))
    for engine in engines:
        assert engine.step_probs((4, 2)).shape == (1, 5)
        with pytest.raises(IndexError):
            engine.step_probs((1, 2, 0))
        with pytest.raises(IndexError):
            engine.step_probs((5, 0))


@pytest.mark.slow
def test_export_reads_any_model_of_the_convention(tmp_path: Path) -> None:
    from improviser.inference.tfload import keras

    k = keras()
    names = ["value", "role", "metre", "ioi"]
    inputs = {n: k.Input(shape=(None,), dtype="int32", name=n) for n in names}
    dims = {"value": 6, "role": 2, "metre": 2, "ioi": 3}
    embedded = [
        k.layers.Embedding(HARMONY_IN[n], dims[n], name=f"emb_{n}")(inputs[n]) for n in names
    ]
    x = k.layers.Concatenate(name="token")(embedded)
    x = k.layers.Dropout(0.1, name="in_dropout")(x)  # walked back through
    x = k.layers.LSTM(12, return_sequences=True, name="lstm_0")(x)
    x = k.layers.LSTM(8, return_sequences=True, name="lstm_1")(x)
    out = k.layers.Dense(128, activation="softmax", name="next_value")(x)
    model = k.Model(inputs=inputs, outputs={"next_value": out})
    path = save_model(model, tmp_path / "h.keras", {"objective": "classes", "kind": "harmony"})
    meta = read_metadata(path)
    assert (meta["kind"], meta["inputs"], meta["outputs"]) == ("harmony", names, ["value"])
    weights = load_weights(path, kind="harmony")
    assert weights.inputs == tuple(names)
    assert export_weights(model, "harmony").inputs == tuple(names)
    tokens = np.asarray(_tokens(12, seed=3), dtype=np.int32)
    expected = np.asarray(model({n: tokens[None, :, i] for i, n in enumerate(names)})["next_value"])
    engine = NumpyEngine(weights)
    got = np.stack([engine.step_probs(tuple(t))[0] for t in tokens])
    np.testing.assert_allclose(got, expected[0], atol=1e-5)
    assert json.loads(path.with_suffix(".json").read_text())["format"] == "improviser-model/1"
