"""``bench arch``: network changes trained and scored one at a time, and the training
options they measure (label smoothing, a moving average of the weights, GRU)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from improviser.bench.arch import DEFAULT_VARIANTS, VARIANTS, multiply_adds
from improviser.bench.variants_table import variants_table
from improviser.config import Config, with_overrides
from improviser.errors import ConfigError
from tests.synth import write_corpus

TINY = (
    "[data]\nseq_len = 16\nstride = 8\nval_fraction = 0.2\ntest_fraction = 0.25\n"
    "[model]\nlstm_units = [16]\npitch_embedding = 8\n"
    "[train]\nbatch_size = 16\n"
)


def test_multiply_adds_count_the_stack_and_the_heads() -> None:
    # 68 inputs -> LSTM 128 -> LSTM 64 -> four heads of 128 + 17 + 16 + 8 classes
    assert multiply_adds(68, [128, 64]) == 4 * 196 * 128 + 4 * 192 * 64 + 64 * 169
    assert multiply_adds(68, [148, 74], "gru") == 3 * 216 * 148 + 3 * 222 * 74 + 74 * 169


def test_the_changes_keep_the_default_cost_within_two_percent() -> None:
    base = multiply_adds(68, [128, 64])
    for name in DEFAULT_VARIANTS:
        variant = VARIANTS[name]
        units = variant.overrides.get("model", {}).get("lstm_units", [128, 64])
        assert abs(multiply_adds(68, units, variant.cell) / base - 1) < 0.02, name


def test_label_smoothing_spreads_the_target_over_the_classes() -> None:
    from improviser.training.model import build_model, compile_model

    eps = 0.1
    cfg = with_overrides(Config(), model={"label_smoothing": eps, "lstm_units": [8]}).model
    model = build_model(cfg)
    compile_model(model, cfg)
    loss = model.loss["next_ioi"]
    probs = np.full((1, 1, 17), 0.5 / 16, dtype=np.float32)
    probs[0, 0, 3] = 0.5
    got = float(np.asarray(loss(np.array([[3]]), probs)).ravel()[0])
    want = -(1 - eps + eps / 17) * math.log(0.5) - (16 * eps / 17) * math.log(0.5 / 16)
    assert got == pytest.approx(want, rel=1e-4)
    plain = Config().model
    model = build_model(plain)
    compile_model(model, plain)
    assert model.loss["next_ioi"] == "sparse_categorical_crossentropy"


@pytest.mark.slow
def test_weight_average_writes_the_averaged_weights_at_the_end() -> None:
    from improviser.inference.tfload import keras
    from improviser.music.encoding import FIELDS, VOCAB_SIZES
    from improviser.training.model import build_model, compile_model

    rng = np.random.default_rng(0)
    x = {f: rng.integers(0, VOCAB_SIZES[f], size=(32, 12)) for f in FIELDS}
    y = {f"next_{f}": rng.integers(0, VOCAB_SIZES[f], size=(32, 12)) for f in FIELDS}
    finals = []
    for momentum in (0.0, 0.9):
        keras().utils.set_random_seed(7)
        cfg = with_overrides(Config(), model={"weight_average": momentum, "lstm_units": [8]})
        model = build_model(cfg.model)
        compile_model(model, cfg.model)
        assert bool(model.optimizer.use_ema) is (momentum > 0)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        finals.append(np.asarray(model.get_layer("next_pitch").get_weights()[0]))
    assert not np.allclose(finals[0], finals[1])


@pytest.mark.slow
def test_gru_cell_builds_a_gru_stack() -> None:
    from improviser.training.model import build_model

    model = build_model(with_overrides(Config(), model={"lstm_units": [8, 4]}).model, "gru")
    assert [layer.name for layer in model.layers if "_" in layer.name and "gru" in layer.name]
    assert not [layer for layer in model.layers if layer.name.startswith("lstm_")]


@pytest.mark.slow
def test_bench_arch_trains_each_variant_and_times_its_step(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from improviser.bench.arch import bench_arch
    from improviser.bench.variants import Budget
    from improviser.cli.bench import bench_app

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 16, 48)
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    runner = CliRunner()
    args = ["arch", str(corpus), "--config", str(cfg), "--epochs", "1", "--repeats", "2"]
    result = runner.invoke(
        bench_app, [*args, "--variant", "baseline", "--variant", "gru", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    rows = out["variants"]
    assert list(rows) == ["baseline", "gru"] and out["baseline"] == "baseline"
    assert rows["gru"]["cell"] == "gru"
    for row in rows.values():
        assert row["step"]["p99_ms"] >= row["step"]["p50_ms"] > 0
    for row in rows.values():
        assert len(row["runs"]) == 2 and row["epochs"] == pytest.approx(1.0)
        assert 0 < row["pitch_bits"] < row["total_bits"] < 30
        assert row["pitch_gain_by_seed"] == pytest.approx(
            [
                b["pitch_bits"] - r["pitch_bits"]
                for b, r in zip(rows["baseline"]["runs"], row["runs"], strict=True)
            ]
        )
    table = variants_table(out, {"baseline": "LSTM", "gru": "GRU"}, cost=True)
    assert table.count("\n| ") >= 2 and "| GRU |" in table and "(not timed)" not in table
    shown = runner.invoke(bench_app, [*args[:-2], "--variant", "baseline"], env={"COLUMNS": "150"})
    assert shown.exit_code == 0, shown.output
    assert "networks: 1 epochs each" in shown.stdout
    with pytest.raises(ConfigError, match="variants must be some of"):
        bench_arch([corpus], Config(), variants=["lstm-huge"], budget=Budget(1))
    with pytest.raises(ConfigError, match="epochs must be at least 1"):
        bench_arch([corpus], Config(), budget=Budget(0))
