"""Training, saving, loading, resuming, and the engine matching Keras."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from improviser.errors import ModelError
from improviser.inference import NumpyEngine, load_weights
from improviser.inference.modelfile import load_model
from improviser.music.encoding import FIELDS
from tests.model_fixtures import Trained, tiny_config

pytestmark = pytest.mark.slow


def test_training_writes_model_metadata_weights_history_and_checkpoints(trained: Trained) -> None:
    m = trained.model
    for suffix in (".keras", ".json", ".npz", ".history.csv"):
        assert m.with_suffix(suffix).exists(), suffix
    ckpt = m.with_name("tiny.checkpoints")
    assert (ckpt / "epoch-0004.keras").exists() and (ckpt / "epoch-0008.keras").exists()
    assert (ckpt / "best.keras").exists()
    meta = json.loads(m.with_suffix(".json").read_text())
    assert meta["objective"] == "classes"
    assert meta["window"] == 30 and meta["seq_len"] == 24
    assert meta["encoding"]["vocabulary"] == {
        "pitch": 128,
        "ioi": 17,
        "duration": 16,
        "velocity": 8,
    }
    assert len(meta["corpus"]["sha256"]) == 64
    assert meta["corpus"]["test_files"] and meta["training"]["notes_per_second"] > 0
    assert len(meta["history"]["loss"]) == 10
    assert meta["history"]["loss"][-1] < meta["history"]["loss"][0]


def test_model_loads_safely_and_the_engine_matches_keras(trained: Trained) -> None:
    model, _meta = load_model(trained.model)
    engine = NumpyEngine.from_file(trained.model)
    rng = np.random.default_rng(0)
    tokens = np.stack(
        [
            rng.integers(40, 90, 50),
            rng.integers(0, 17, 50),
            rng.integers(0, 16, 50),
            rng.integers(0, 8, 50),
        ],
        axis=1,
    ).astype(np.int32)
    out = model({f: tokens[None, :, i] for i, f in enumerate(FIELDS)}, training=False)
    worst = 0.0
    for i, row in enumerate(tokens):
        dist = engine.step(row)
        for f in FIELDS:
            worst = max(
                worst, float(np.abs(np.asarray(out[f"next_{f}"])[0, i] - dist.field(f)).max())
            )
    assert worst < 1e-5


def test_corrupt_and_missing_model_files_are_one_line_errors(
    trained: Trained, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"this is not a zip")
    bad.with_suffix(".json").write_text(trained.model.with_suffix(".json").read_text())
    with pytest.raises(ModelError, match="not a Keras model file"):
        load_model(bad)
    damaged = tmp_path / "damaged.keras"
    with zipfile.ZipFile(damaged, "w") as zf:
        zf.writestr("config.json", "{not json")
    damaged.with_suffix(".json").write_text(trained.model.with_suffix(".json").read_text())
    with pytest.raises(ModelError, match="cannot load model"):
        load_model(damaged)
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "absent.keras")
    (tmp_path / "w.npz").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="corrupt or truncated weights"):
        load_weights(tmp_path / "w.npz")
    with pytest.raises(ModelError, match="not found"):
        load_weights(tmp_path / "none.npz")


def test_resume_continues_from_the_checkpoint_epoch(trained: Trained, tmp_path: Path) -> None:
    from improviser.training.train import train

    ckpt = trained.model.with_name("tiny.checkpoints") / "epoch-0004.keras"
    result = train([trained.corpus], tmp_path / "resumed.keras", tiny_config(epochs=6), resume=ckpt)
    assert result.epochs == 2
    meta = json.loads((tmp_path / "resumed.json").read_text())
    assert meta["training"]["epochs"] == 6


def test_resuming_a_finished_model_goes_on_from_its_epochs_and_keeps_its_history(
    trained: Trained, tmp_path: Path
) -> None:
    from improviser.training.train import train

    before = json.loads(trained.model.with_suffix(".json").read_text())
    done = before["training"]["epochs"]
    out = tmp_path / "longer.keras"
    result = train([trained.corpus], out, tiny_config(epochs=done + 2), resume=trained.model)
    assert result.epochs == 2
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["epochs"] == done + 2
    assert meta["training"]["resumed_at_epoch"] == done
    assert meta["history"]["loss"][:done] == before["history"]["loss"]
    assert len(meta["history"]["loss"]) == done + 2
    rows = out.with_suffix(".history.csv").read_text().splitlines()
    assert len(rows) == 1 + done + 2


def test_regression_objective_reproduces_the_notebook(trained: Trained, tmp_path: Path) -> None:
    from improviser.config import with_overrides
    from improviser.training.train import train

    cfg = with_overrides(
        tiny_config(epochs=2),
        model={"objective": "regression", "regression_units": [16, 8, 4], "dropout": 0.5},
    )
    train([trained.corpus], tmp_path / "reg.keras", cfg)
    model, meta = load_model(tmp_path / "reg.keras")
    assert meta["objective"] == "regression"
    assert [layer.name for layer in model.layers if "lstm" in layer.name] == [
        "lstm_0",
        "lstm_1",
        "lstm_2",
    ]
    assert model.output_shape == (None, 1)
    assert meta["scaler"]["min"] < meta["scaler"]["max"]
    assert meta["scaler"]["residual_std"] > 0
    assert not (tmp_path / "reg.npz").exists()
