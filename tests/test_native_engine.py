"""The compiled step engine: the NumPy engine's arithmetic, its state and its fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from improviser.errors import ConfigError
from improviser.inference import NativeEngine, NumpyEngine, make_engine, random_weights, select
from improviser.inference import native_engine as native
from improviser.inference.weights import LstmWeights
from improviser.music.encoding import Token
from tests.model_fixtures import Trained


def _tokens(count: int, seed: int) -> list[Token]:
    rng = np.random.default_rng(seed)
    return [
        Token(int(rng.integers(0, 128)), int(rng.integers(0, 17)), int(rng.integers(0, 16)),
              int(rng.integers(0, 8)))
        for _ in range(count)
    ]  # fmt: skip


def test_the_compiled_step_is_built_here() -> None:
    # `make test` installs the package with its C step; a failed build must not pass unseen.
    assert native.native_available(), "the C step was not built: pip install -e . needs gcc"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("units", [(16,), (32, 8), (24, 12, 8)])
def test_native_steps_as_numpy_does_through_prepare_restore_and_reset(
    units: tuple[int, ...], cell: str
) -> None:
    weights = random_weights(units, seed=3, cell=cell)
    numpy, compiled = NumpyEngine(weights), NativeEngine(weights)
    worst = 0.0
    for i, token in enumerate(_tokens(80, seed=len(units))):
        if i % 3 == 0:
            numpy.prepare()
            compiled.prepare()
        if i == 40:
            state = numpy.snapshot()
            numpy.restore(state)
            compiled.restore(state)  # the two engines' states are the same arrays' layout
        if i == 60:
            numpy.reset()
            compiled.reset()
        a, b = numpy.step_probs(token), compiled.step_probs(token)
        assert b.shape == (4, 128) and b.dtype == np.float64
        assert (b[1, 17:] == 0).all() and (b[3, 8:] == 0).all()
        worst = max(worst, float(np.abs(a - b).max()))
    assert worst < 1e-5
    logits = compiled.step_logits(Token(60, 1, 2, 3))
    np.testing.assert_allclose(logits, numpy.step_logits(Token(60, 1, 2, 3)), atol=1e-5)


def test_a_prepared_step_is_the_same_step_bit_for_bit() -> None:
    weights = random_weights((32, 16))
    plain, prepared = NativeEngine(weights), NativeEngine(weights)
    for token in _tokens(30, seed=9):
        prepared.prepare()
        prepared.prepare()  # twice: one product, the same
        np.testing.assert_array_equal(prepared.step_probs(token), plain.step_probs(token))


def test_a_class_outside_the_vocabulary_is_refused_and_changes_nothing() -> None:
    engine = NativeEngine(random_weights((16,)))
    engine.step(Token(60, 1, 2, 3))
    before = engine.snapshot()
    engine.prepare()
    for bad in (Token(128, 1, 2, 3), Token(60, -1, 2, 3), Token(60, 1, 2, 8)):
        with pytest.raises(IndexError, match="outside the model's vocabulary"):
            engine.step(bad)
    after = engine.snapshot()
    for x, y in zip(before[0] + before[1], after[0] + after[1], strict=True):
        np.testing.assert_array_equal(x, y)
    reference = NativeEngine(random_weights((16,)))
    reference.step(Token(60, 1, 2, 3))
    np.testing.assert_array_equal(
        engine.step_probs(Token(61, 1, 2, 3)), reference.step_probs(Token(61, 1, 2, 3))
    )


def test_without_the_compiled_step_auto_plays_numpy_and_native_is_one_clear_error(
    trained: Trained, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(native, "native_library", lambda: None)
    monkeypatch.setattr(select, "native_available", lambda: False)
    # Weights only (no .keras): auto has no TensorFlow candidate even with TF imported.
    shutil.copy(trained.model.with_suffix(".npz"), tmp_path / "m.npz")
    chosen = make_engine(tmp_path / "m.keras", engine="auto", device="cpu")
    assert type(chosen) is NumpyEngine
    with pytest.raises(ConfigError, match="engine 'native' is not built here"):
        make_engine(tmp_path / "m.keras", engine="native")


def test_too_many_layers_is_refused() -> None:
    weights: LstmWeights = random_weights((4,) * (native.MAX_LAYERS + 1))
    with pytest.raises(ConfigError, match="at most"):
        NativeEngine(weights)
