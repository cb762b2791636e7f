"""The configuration: pydantic models of ``config/default.toml``.

Every option of every command lives here, with its default as a named value. A TOML file
overrides the defaults, CLI options override the file. An unknown key or a wrong value
is a :class:`~improviser.errors.ConfigError` whose one line names the key, e.g.
``config key 'train.epochs': Input should be greater than 0 (got -3)``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from improviser.config.answer import AnswerConfig, shared_answer_keys
from improviser.config.base import Section
from improviser.config.generate import GenerateConfig
from improviser.config.listen import ListenConfig
from improviser.config.live import LiveConfig
from improviser.config.mqtt import MqttConfig
from improviser.config.osc import OscConfig
from improviser.config.sampling import SamplingConfig
from improviser.config.synth import SynthConfig
from improviser.config.training import DataConfig, HarmonyModelConfig, ModelConfig, TrainConfig
from improviser.config.web import WebConfig
from improviser.errors import ConfigError, reason

__all__ = [
    "AnswerConfig",
    "Config",
    "DataConfig",
    "GenerateConfig",
    "HarmonyModelConfig",
    "ListenConfig",
    "LiveConfig",
    "ModelConfig",
    "MqttConfig",
    "OscConfig",
    "SamplingConfig",
    "Section",
    "SynthConfig",
    "TrainConfig",
    "WebConfig",
    "load_config",
    "validation_message",
    "with_overrides",
]

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "default.toml"


class Config(Section):
    """Every option of improviser.

    ``[answer]`` is read by ``[live]`` and ``[generate]`` alike: each takes every key of it
    that it does not set itself (:func:`~improviser.config.answer.shared_answer_keys`).
    """

    answer: AnswerConfig = Field(default_factory=AnswerConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    harmony: HarmonyModelConfig = Field(default_factory=HarmonyModelConfig)
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    synth: SynthConfig = Field(default_factory=SynthConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    osc: OscConfig = Field(default_factory=OscConfig)

    @model_validator(mode="before")
    @classmethod
    def _shared_answer(cls, data: Any) -> Any:
        return shared_answer_keys(data)


MAX_CONFIG_BYTES = 1 << 20
"""A config file larger than this is refused (``default.toml``: a few kB)."""
_QUOTED_VALUE_CHARS = 60


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """The first error of ``exc`` as one line that names the key, e.g.
    ``config key 'train.epochs': Input should be greater than 0 (got -3)``.

    ``prefix`` is put before the key, for a section validated on its own.
    """
    err = exc.errors()[0]
    key = ".".join(str(p) for p in (*([prefix] if prefix else []), *err["loc"]))
    msg = " ".join(err["msg"].split())
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    got = err.get("input")
    suffix = ""
    if got is not None and not isinstance(got, dict):
        shown = repr(got)
        if len(shown) > _QUOTED_VALUE_CHARS:
            shown = shown[: _QUOTED_VALUE_CHARS - 1] + "…"
        suffix = f" (got {shown})"
    return f"config key '{key}': {msg}{suffix}"


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a TOML file; ``None`` gives the built-in defaults.

    Any fault (unreadable, too large, not UTF-8, not TOML, a wrong key or value) is a
    one-line :class:`ConfigError` that starts with the file's path.
    """
    if path is None:
        return Config()
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or reason(exc)})") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than the {MAX_CONFIG_BYTES} bytes a config may have")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({reason(exc)})") from exc
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({reason(exc)})") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {validation_message(exc)}") from exc


def with_overrides(config: Config, **sections: dict[str, Any]) -> Config:
    """A copy of ``config`` with the non-``None`` values of each section replaced.

    ``with_overrides(cfg, train={"epochs": 3, "batch_size": None})`` sets only epochs;
    a dotted key reaches into a subsection (``live={"sampling.temperature": 0.7}``). The
    values are validated as if they came from the file.
    """
    data = config.model_dump()
    for section, values in sections.items():
        for key, value in values.items():
            if value is not None:
                *parents, leaf = [section, *key.split(".")]
                node = data
                for part in parents:
                    node = node[part]
                node[leaf] = value
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc)) from exc
