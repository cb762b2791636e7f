"""The TOML config: defaults, one-line errors naming the key, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from improviser.config import Config, load_config, with_overrides
from improviser.errors import ConfigError
from improviser.paths import DEFAULT_CONFIG


def test_default_toml_documents_exactly_the_defaults() -> None:
    assert load_config(DEFAULT_CONFIG) == Config()


def test_every_option_in_default_toml_has_a_comment() -> None:
    lines = DEFAULT_CONFIG.read_text().splitlines()

    def is_option(text: str) -> bool:
        return "=" in text and not text.lstrip().startswith("#")

    for i, line in enumerate(lines):
        if is_option(line):
            j = i - 1
            while is_option(lines[j]):  # a comment may cover a group of related options
                j -= 1
            assert lines[j].lstrip().startswith("#"), f"no comment above {line!r}"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[train]\nepochs = -3\n", "config key 'train.epochs': Input should be greater than 0"),
        ("[train]\nepoks = 3\n", "config key 'train.epoks': unknown key"),
        ("[nonsense]\nx = 1\n", "config key 'nonsense': unknown key"),
        ('[model]\nobjective = "magic"\n', "config key 'model.objective'"),
        (
            "[generate.sampling]\nmin_pitch = 90\nmax_pitch = 10\n",
            "min_pitch must not exceed max_pitch",
        ),
        ("[data\n", "not valid TOML"),
    ],
)
def test_wrong_keys_and_values_are_one_line_errors(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_overrides_win_and_are_validated() -> None:
    cfg = with_overrides(Config(), train={"epochs": 3, "batch_size": None})
    assert cfg.train.epochs == 3 and cfg.train.batch_size == Config().train.batch_size
    with pytest.raises(ConfigError, match=r"'generate\.sampling\.temperature'"):
        with_overrides(Config(), generate={"sampling.temperature": 0})
    live = with_overrides(Config(), live={"sampling.top_p": 0.5}).live
    assert live.sampling.top_p == 0.5
    assert live.sampling.min_pitch == Config().live.sampling.min_pitch


def test_save_load_equal_then_change_one_field(tmp_path: Path) -> None:
    import tomli_w

    cfg = with_overrides(Config(), model={"lstm_units": [64, 32]})
    path = tmp_path / "c.toml"
    path.write_bytes(tomli_w.dumps(cfg.model_dump(mode="json", exclude_none=True)).encode())
    back = load_config(path)
    assert back == cfg
    back.model.dropout = 0.1
    assert back != cfg
