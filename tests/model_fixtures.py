"""A tiny model trained once per test session on a synthetic corpus (about 15 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from improviser.config import Config, with_overrides
from tests.synth import write_corpus


@dataclass(frozen=True)
class Trained:
    """A trained model and the corpus it came from."""

    model: Path
    corpus: Path
    config: Config


def tiny_config(**train: object) -> Config:
    """A model small and quick enough for tests."""
    return with_overrides(
        Config(),
        data={"seq_len": 24, "stride": 3, "val_fraction": 0.2, "test_fraction": 0.2},
        model={
            "lstm_units": [48, 24],
            "pitch_embedding": 16,
            "dropout": 0.1,
            "learning_rate": 0.01,
        },
        train={"epochs": 10, "batch_size": 8, "patience": 0, "checkpoint_every": 4, **train},
    )


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from improviser.training.train import train

    root = tmp_path_factory.mktemp("trained")
    corpus = root / "corpus"
    write_corpus(corpus, 40, 96)
    cfg = tiny_config()
    result = train([corpus], root / "model" / "tiny.keras", cfg)
    return Trained(result.model_path, corpus, cfg)


CHORALES = Path(__file__).resolve().parents[1] / "samples" / "chorales"
HARMONY_FILES = 16
"""Chorales the tiny harmony model trains on (the first, by name; split 10/3/3 by tune)."""


@dataclass(frozen=True)
class TrainedHarmony:
    """A trained harmony model and the chorales it came from."""

    model: Path
    corpus: Path
    config: Config


def tiny_harmony_config(**train: object) -> Config:
    """A harmony model small and quick enough for tests."""
    return with_overrides(
        Config(),
        data={"val_fraction": 0.2, "test_fraction": 0.2, "seed": 1234},
        harmony={
            "lstm_units": [24],
            "value_embedding": 8,
            "dropout": 0.0,
            "learning_rate": 0.01,
            "seq_events": 8,
            "stride_events": 4,
        },
        train={"epochs": 3, "batch_size": 16, "patience": 0, "checkpoint_every": 2, **train},
    )


def copy_chorales(directory: Path, count: int = HARMONY_FILES) -> Path:
    """Copy the first ``count`` bundled chorales into ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted(CHORALES.glob("*.mid"))[:count]:
        (directory / path.name).write_bytes(path.read_bytes())
    return directory


@pytest.fixture(scope="session")
def trained_harmony(tmp_path_factory: pytest.TempPathFactory) -> TrainedHarmony:
    from improviser.training.harmony_train import train_harmony

    root = tmp_path_factory.mktemp("trained_harmony")
    corpus = copy_chorales(root / "chorales")
    cfg = tiny_harmony_config()
    result = train_harmony([corpus], root / "model" / "tiny-harmony.keras", cfg)
    return TrainedHarmony(result.model_path, corpus, cfg)
