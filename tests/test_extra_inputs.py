"""``model.extra_inputs``: config, windows, the network, the engines' refusal, the bench."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from improviser.config import Config, with_overrides
from improviser.errors import ConfigError, ModelError
from improviser.inference import NumpyEngine, random_weights, write_weights
from improviser.inference.modelfile import refuse_extra_inputs
from improviser.live.engine.loading import load_step_model
from improviser.music.encoding import encode
from improviser.music.viewpoints import viewpoint_classes
from improviser.training.dataset import Piece, windows
from tests.model_fixtures import Trained, tiny_config
from tests.synth import make_melody, write_corpus

REFUSAL = "which the live engine does not support yet"


def _pieces(n: int) -> list[Piece]:
    return [Piece(f"p{i}.mid", encode(make_melody(i, 40)), f"sha{i}") for i in range(n)]


def test_config_keeps_one_order_and_refuses_repeats_and_regression() -> None:
    assert Config().model.extra_inputs == []
    cfg = with_overrides(Config(), model={"extra_inputs": ["bar", "interval"]})
    assert cfg.model.extra_inputs == ["interval", "bar"]
    with pytest.raises(ConfigError, match="twice"):
        with_overrides(Config(), model={"extra_inputs": ["bar", "bar"]})
    with pytest.raises(ConfigError, match=r"model\.extra_inputs"):
        with_overrides(Config(), model={"extra_inputs": ["contour"]})
    with pytest.raises(ConfigError, match="classes"):
        with_overrides(Config(), model={"extra_inputs": ["bar"], "objective": "regression"})


def test_windows_carry_the_viewpoints_after_the_pad_column() -> None:
    pieces = _pieces(2)
    plain = windows(pieces, length=16, stride=8)
    extra = windows(pieces, length=16, stride=8, extra=("interval", "bar"))
    assert plain.shape[2] == 5 and extra.shape == (*plain.shape[:2], 7)
    assert np.array_equal(extra[:, :, :5], plain)  # none asked: the same windows as before
    whole = viewpoint_classes(pieces[0].tokens, ("interval", "bar"))
    assert np.array_equal(extra[1, :, 5:], whole[8:25])  # computed over the whole piece
    short = windows([Piece("s", pieces[0].tokens[:5], "x")], 16, 8, extra=("degree",))
    assert short.shape == (1, 17, 6)


def test_dataset_feeds_each_viewpoint_as_an_input_untouched_by_transposition() -> None:
    from improviser.training.dataset import make_dataset

    w = windows(_pieces(3), length=16, stride=8, extra=("degree", "bar"))
    ds = make_dataset(w, batch_size=64, transpose=(-5, 6), extra=("degree", "bar"))
    inputs, targets, _ = next(iter(ds))
    assert set(inputs) == {"pitch", "ioi", "duration", "velocity", "degree", "bar"}
    assert set(targets) == {"next_pitch", "next_ioi", "next_duration", "next_velocity"}
    assert np.array_equal(inputs["degree"].numpy(), w[:, :-1, 5])
    assert np.array_equal(inputs["bar"].numpy(), w[:, :-1, 6])


def test_network_embeds_each_extra_input_after_the_four_tokens() -> None:
    from improviser.training.model import build_model

    cfg = Config().model
    plain = {layer.name: layer for layer in build_model(cfg).layers}
    assert sorted(n for n in plain if n.startswith("emb_")) == [
        "emb_duration", "emb_ioi", "emb_pitch", "emb_velocity"
    ]  # fmt: skip
    wider = build_model(cfg.model_copy(update={"extra_inputs": ["interval", "bar"]}))
    layers = {layer.name: layer for layer in wider.layers}
    assert layers["emb_interval"].get_weights()[0].shape == (50, 8)
    assert layers["emb_bar"].get_weights()[0].shape == (16, 4)
    width = 48 + 8 + 8 + 4
    assert plain["lstm_0"].get_weights()[0].shape[0] == width
    assert layers["lstm_0"].get_weights()[0].shape[0] == width + 8 + 4


def _refused(exc: pytest.ExceptionInfo[ModelError], names: str) -> None:
    message = str(exc.value)
    assert f"model uses extra inputs [{names}] {REFUSAL}" in message
    assert "\n" not in message


def test_numpy_engine_and_live_loader_refuse_a_model_with_extra_inputs(tmp_path: Path) -> None:
    weights = random_weights()
    weights.embeddings["interval"] = np.zeros((50, 8), np.float32)
    weights.embeddings["bar"] = np.zeros((16, 4), np.float32)
    model = tmp_path / "m.keras"
    write_weights(weights, model.with_suffix(".npz"))
    with pytest.raises(ModelError) as exc:
        NumpyEngine.from_file(model)
    _refused(exc, "interval, bar")
    meta = {"format": "improviser-model/1", "objective": "classes", "extra_inputs": ["degree"]}
    model.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError) as exc:
        load_step_model(model)
    _refused(exc, "degree")
    refuse_extra_inputs({"objective": "classes", "extra_inputs": []}, model)  # none: fine
    with pytest.raises(ModelError) as exc:
        refuse_extra_inputs({"config": {"model": {"extra_inputs": ["bar"]}}}, model)
    _refused(exc, "bar")


@pytest.mark.slow
def test_a_model_trained_with_extra_inputs_records_them_and_is_refused(tmp_path: Path) -> None:
    from improviser.inference import TfEngine
    from improviser.training.evaluate import evaluate
    from improviser.training.train import train

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 12, 48)
    cfg = with_overrides(
        tiny_config(epochs=1), model={"extra_inputs": ["degree", "interval", "bar"]}
    )
    out = train([corpus], tmp_path / "x.keras", cfg).model_path
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["extra_inputs"] == ["interval", "degree", "bar"]
    assert meta["config"]["model"]["extra_inputs"] == ["interval", "degree", "bar"]
    for load in (NumpyEngine.from_file, load_step_model, TfEngine):
        with pytest.raises(ModelError) as exc:
            load(out)
        _refused(exc, "interval, degree, bar")
    with pytest.raises(ModelError) as exc:
        evaluate(out, [corpus])
    _refused(exc, "interval, degree, bar")


@pytest.mark.slow
def test_held_out_scoring_matches_the_streaming_engine(trained: Trained) -> None:
    """The bench scores whole pieces with Keras; evaluate steps the NumPy engine."""
    from improviser.bench.variants import score_held_out
    from improviser.inference.modelfile import load_model
    from improviser.training.dataset import load_corpus
    from improviser.training.evaluate import score_pieces

    model, _ = load_model(trained.model)
    pieces = load_corpus([trained.corpus], trained.config.data).pieces[:9]
    ours = score_held_out(model, pieces, batch=4)
    theirs = score_pieces(NumpyEngine.from_file(trained.model), pieces)
    assert ours["pitch_bits"] == pytest.approx(theirs["bits_per_note"], abs=1e-4)
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"], abs=5e-3)
    assert ours["ioi_bits"] == pytest.approx(theirs["ioi_bits"], abs=1e-4)
    assert ours["duration_bits"] == pytest.approx(theirs["duration_bits"], abs=1e-4)
    total = sum(ours[f"{f}_bits"] for f in ("pitch", "ioi", "duration", "velocity"))
    assert ours["total_bits"] == pytest.approx(total)


@pytest.mark.slow
def test_bench_inputs_runs_each_variant_on_a_tiny_corpus(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from improviser.bench.inputs import bench_inputs
    from improviser.cli.bench import bench_app

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 16, 48)
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        "[data]\nseq_len = 16\nstride = 8\nval_fraction = 0.2\ntest_fraction = 0.25\n"
        "[model]\nlstm_units = [16]\npitch_embedding = 8\n"
        "[train]\nbatch_size = 16\n"
    )
    runner = CliRunner()
    args = ["inputs", str(corpus), "--config", str(cfg), "--epochs", "1"]
    result = runner.invoke(bench_app, [*args, "--variant", "none", "--variant", "all", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    rows = out["variants"]
    assert list(rows) == ["none", "all"]
    assert rows["all"]["extra_inputs"] == ["interval", "degree", "bar"]
    assert rows["none"]["pitch_gain_bits"] == 0.0
    for row in rows.values():
        assert 0 < row["pitch_bits"] < row["total_bits"] < 30
        assert row["total_gain_bits"] == pytest.approx(
            rows["none"]["total_bits"] - row["total_bits"]
        )
    assert rows["all"]["parameters"] > rows["none"]["parameters"]
    assert out["epochs"] == 1 and out["files"]["test"] > 0 and out["test_notes"] > 0
    table = runner.invoke(bench_app, [*args, "--variant", "bar"], env={"COLUMNS": "100"})
    assert table.exit_code == 0, table.output
    assert "extra inputs:" in table.stdout and "bar" in table.stdout
    with pytest.raises(ConfigError, match="variants must be some of"):
        bench_inputs([corpus], Config(), variants=["contour"])
