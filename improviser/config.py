"""The configuration: pydantic models of ``config/default.toml``.

Every option of every command lives here, with its default as a named value. A TOML file
overrides the defaults, CLI options override the file. An unknown key or a wrong value
is a :class:`~improviser.errors.ConfigError` whose one line names the key, e.g.
``config key 'train.epochs': Input should be greater than 0 (got -3)``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from improviser.errors import ConfigError
from improviser.live.settings import LiveConfig

__all__ = [
    "Config",
    "DataConfig",
    "GenerateConfig",
    "LiveConfig",
    "ModelConfig",
    "TrainConfig",
    "load_config",
    "with_overrides",
]

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "default.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataConfig(_Section):
    """How files become training examples."""

    window: int = Field(30, ge=2, le=1024)
    seq_len: int = Field(64, ge=2, le=4096)
    stride: int = Field(16, ge=1)
    melody: Literal["skyline", "all"] = "skyline"
    channel: int | None = Field(None, ge=0, le=15)
    track: int | None = Field(None, ge=0)
    transpose_min: int = Field(-5, ge=-24, le=0)
    transpose_max: int = Field(6, ge=0, le=24)
    val_fraction: float = Field(0.1, ge=0.0, lt=0.5)
    test_fraction: float = Field(0.1, ge=0.0, lt=0.5)
    seed: int = 1234
    min_notes: int = Field(8, ge=2)


class ModelConfig(_Section):
    """The network and its objective."""

    objective: Literal["classes", "regression"] = "classes"
    lstm_units: list[int] = Field(default_factory=lambda: [128, 64], min_length=1)
    regression_units: list[int] = Field(default_factory=lambda: [256, 128, 64], min_length=1)
    """The LSTM stack of ``objective = "regression"``: the notebook's own."""
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    pitch_embedding: int = Field(48, ge=1)
    ioi_embedding: int = Field(8, ge=1)
    duration_embedding: int = Field(8, ge=1)
    velocity_embedding: int = Field(4, ge=1)
    learning_rate: float = Field(1e-3, gt=0.0, lt=1.0)
    rhythm_loss_weight: float = Field(0.5, ge=0.0)
    velocity_loss_weight: float = Field(0.25, ge=0.0)

    @model_validator(mode="after")
    def _units_positive(self) -> ModelConfig:
        if any(u <= 0 for u in [*self.lstm_units, *self.regression_units]):
            raise ValueError(
                f"every LSTM size must be positive, got {self.lstm_units} / {self.regression_units}"
            )
        return self


class TrainConfig(_Section):
    """The training loop."""

    epochs: int = Field(30, gt=0)
    batch_size: int = Field(64, gt=0)
    checkpoint_every: int = Field(5, gt=0)
    patience: int = Field(5, ge=0)
    strategy: Literal["auto", "default", "mirrored", "multi-worker"] = "auto"
    max_minutes: float = Field(0.0, ge=0.0)
    """Stop after this many minutes of training (0 = no limit)."""


class GenerateConfig(_Section):
    """Sampling for ``generate`` (a live session has its own, in ``[live]``)."""

    notes: int = Field(64, gt=0, le=100_000)
    temperature: float = Field(1.0, gt=0.0, le=10.0)
    top_k: int = Field(0, ge=0, le=128)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    min_pitch: int = Field(21, ge=0, le=127)
    max_pitch: int = Field(108, ge=0, le=127)
    seed: int | None = None
    include_seed: bool = True

    @model_validator(mode="after")
    def _range(self) -> GenerateConfig:
        if self.min_pitch > self.max_pitch:
            raise ValueError(
                f"min_pitch must not exceed max_pitch, got {self.min_pitch} > {self.max_pitch}"
            )
        return self


class Config(_Section):
    """Every option of improviser."""

    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)


def _first_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in (*([prefix] if prefix else []), *err["loc"]))
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    got = err.get("input")
    suffix = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
    return ConfigError(f"config key '{key}': {msg}{suffix}")


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a TOML file; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from exc


def with_overrides(config: Config, **sections: dict[str, Any]) -> Config:
    """A copy of ``config`` with the non-``None`` values of each section replaced.

    ``with_overrides(cfg, train={"epochs": 3, "batch_size": None})`` sets only epochs;
    the values are validated as if they came from the file.
    """
    data = config.model_dump()
    for section, values in sections.items():
        for key, value in values.items():
            if value is not None:
                data[section][key] = value
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from exc
