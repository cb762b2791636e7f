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
