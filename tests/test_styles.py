"""Styles: a name picks a bundled melody model and its harmony model; the chorale model
plays in the live engines."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from improviser.config import Config, load_config, with_overrides
from improviser.config.styles import (
    STYLES,
    get_style,
    harmony_model_for,
    melody_model_for,
)
from improviser.errors import ConfigError
from improviser.inference import NumpyEngine
from improviser.inference.native_engine import NativeEngine, native_available
from improviser.music.encoding import encode
from improviser.music.midi_read import part_track, read_midi
from improviser.music.notes import extract_melody
from improviser.paths import CORPUS_DIR, DATA, DEFAULT_MODEL, HARMONY_MODEL
from improviser.training.dataset import content_key, tune_key
from tests.cli_run import improviser, one_line_error

MODELS = DATA / "samples" / "model"
CHORALE = MODELS / "chorale.keras"


def test_each_style_names_its_bundled_files() -> None:
    folk, chorale = get_style("folk"), get_style("chorale")
    assert (folk.melody_model, folk.harmony_model, folk.corpus) == (
        DEFAULT_MODEL,
        HARMONY_MODEL,
        CORPUS_DIR,
    )
    assert chorale.melody_model == CHORALE
    assert chorale.harmony_model == HARMONY_MODEL  # trained on the same chorales
    assert chorale.corpus == DATA / "samples" / "chorales"
    for style in STYLES.values():
        for model in (style.melody_model, style.harmony_model):
            for suffix in (".keras", ".json", ".npz"):
                assert model.with_suffix(suffix).is_file(), model.with_suffix(suffix)
        assert style.corpus.is_dir()


def test_a_named_model_wins_over_the_style(tmp_path: Path) -> None:
    mine = tmp_path / "mine.keras"
    assert melody_model_for(None, None) == DEFAULT_MODEL
    assert melody_model_for(None, "chorale") == CHORALE
    assert melody_model_for(mine, "chorale") == mine
    assert harmony_model_for(None, "chorale") == HARMONY_MODEL
    assert harmony_model_for(mine, "folk") == mine
    with pytest.raises(ConfigError, match="choose one of folk, chorale"):
        melody_model_for(mine, "jazz")  # checked even where the model wins


def test_the_live_config_takes_a_style(tmp_path: Path) -> None:
    live = with_overrides(Config(), live={"style": "chorale"}).live
    assert (live.model, live.harmony_model) == (CHORALE, HARMONY_MODEL)
    # A later override to another style moves both models again...
    live = with_overrides(with_overrides(Config(), live={"style": "chorale"}),
                          live={"style": "folk"}).live  # fmt: skip
    assert live.model == DEFAULT_MODEL
    # ...but a model of the user's own stays.
    mine = tmp_path / "mine.keras"
    live = with_overrides(Config(), live={"style": "chorale", "model": str(mine)}).live
    assert (live.model, live.harmony_model) == (mine, HARMONY_MODEL)
    path = tmp_path / "c.toml"
    path.write_text('[live]\nstyle = "chorale"\n')
    assert load_config(path).live.model == CHORALE
    path.write_text('[live]\nstyle = "jazz"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "live.style" in str(info.value) and "folk, chorale" in str(info.value)


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--style", "jazz", "--seed", "x.mid", "--out", "y.mid"],
        ["evaluate", "--style", "jazz", "."],
        ["harmonize", "--style", "jazz", "x.mid", "--out", "y.mid"],
        ["live", "--style", "jazz", "--virtual"],
        ["bench", "musicality", "--style", "jazz"],
    ],
)
def test_a_bad_style_is_one_line_listing_the_styles(args: list[str], tmp_path: Path) -> None:
    line = one_line_error(improviser(*args, cwd=tmp_path))
    assert "unknown style 'jazz'" in line and "folk, chorale" in line


def _held_out_chorale() -> np.ndarray:
    """The soprano of the chorale model's first held-out chorale, as tokens."""
    meta = json.loads(CHORALE.with_suffix(".json").read_text())
    path = DATA / meta["corpus"]["test_files"][0]
    score = read_midi(path)
    soprano = extract_melody(score.notes, track=part_track(score, "Soprano"), mode="all")
    return encode(soprano)


@pytest.mark.parametrize(
    "engine_type",
    [
        NumpyEngine,
        pytest.param(
            NativeEngine,
            marks=pytest.mark.skipif(not native_available(), reason="C engine not built"),
        ),
    ],
)
def test_the_chorale_model_answers_in_the_live_engines(engine_type: type[NumpyEngine]) -> None:
    engine = engine_type.from_file(CHORALE)
    tokens = _held_out_chorale()
    bits = []
    for here, following in itertools.pairwise(tokens):
        dist = engine.step(here)
        assert dist.pitch.sum() == pytest.approx(1.0, abs=1e-4)
        bits.append(-np.log2(max(float(dist.pitch[following[0]]), 1e-12)))
    # Far better than a guess among 128 pitches (7 bits) on a chorale it never saw.
    assert float(np.mean(bits)) < 4.0


@pytest.mark.skipif(not native_available(), reason="C engine not built")
def test_the_c_engine_steps_the_chorale_model_as_numpy_does() -> None:
    numpy_engine, c_engine = NumpyEngine.from_file(CHORALE), NativeEngine.from_file(CHORALE)
    for token in _held_out_chorale()[:24]:
        a, b = numpy_engine.step(token), c_engine.step(token)
        np.testing.assert_allclose(a.pitch, b.pitch, atol=1e-5)
        np.testing.assert_allclose(a.ioi, b.ioi, atol=1e-5)


def test_a_tune_key_ignores_key_rhythm_and_repeated_notes() -> None:
    tune = np.array([[60, 2, 2, 4], [62, 2, 2, 4], [64, 2, 2, 4], [62, 4, 4, 4]], np.int32)
    varied = tune.copy()
    varied[:, 0] += 5  # another key,
    varied[:, 1] = [4, 4, 2, 2]  # another rhythm,
    varied = np.insert(varied, 2, varied[1], axis=0)  # a note repeated
    assert tune_key(tune) == tune_key(varied)
    assert content_key(tune) != content_key(varied)
    assert tune_key(tune) != tune_key(tune[::-1].copy())


def test_the_chorale_style_holds_out_the_harmony_models_chorales() -> None:
    melody = json.loads(CHORALE.with_suffix(".json").read_text())["corpus"]
    harmony = json.loads(HARMONY_MODEL.with_suffix(".json").read_text())["corpus"]
    assert melody["test_files"] == harmony["test_files"]
    assert set(melody["train_files"]) == set(harmony["train_files"])
