"""live's answer options (key, note values, chord lean): set for one run, checked at once.

A bad value is one line naming the config key and exit code 2, before any port or server
is touched; a good one reaches the session's config.
"""

from __future__ import annotations

import pytest

from improviser.cli.live import build_config
from tests.cli_run import improviser, one_line_error


@pytest.mark.parametrize(
    ("option", "value", "key"),
    [
        ("--key", "H minor", "live.key"),
        ("--rhythm-strength", "9", "live.rhythm_strength"),
        ("--chord-lean", "0", "live.chord_lean"),
    ],
)
def test_a_bad_answer_option_is_one_line(option: str, value: str, key: str) -> None:
    line = one_line_error(improviser("live", "--virtual", option, value))
    assert f"config key '{key}'" in line


def test_the_answer_options_reach_the_config() -> None:
    cfg = build_config(None, key="D minor", rhythm_strength=0.5, chord_lean=5.0)
    assert (cfg.key, cfg.rhythm_strength, cfg.chord_lean) == ("D minor", 0.5, 5.0)
    default = build_config(None)
    assert default.chord_lean == 3.0 and default.rhythm_strength == 1.0
