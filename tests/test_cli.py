"""The command line: a user's mistake is one line on stderr and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.synth import write_corpus


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "improviser", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--model", "/nonexistent/m.keras", "."], "model metadata not found"),
        (["generate", "--seed", "/nonexistent.mid", "--out", "/tmp/x.mid"], "cannot read"),
        (["plot", "/nonexistent.mid"], "cannot read"),
        (["train", "/nonexistent-dir", "--out", "/tmp/x.keras", "--epochs", "0"], "train.epochs"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_config_value_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[generate.sampling]\ntemperature = -1\n")
    write_corpus(tmp_path / "c", 1)
    result = run(
        "generate",
        "--config",
        str(cfg),
        "--seed",
        str(tmp_path / "c" / "tune000.mid"),
        "--out",
        str(tmp_path / "o.mid"),
    )
    assert result.returncode == 2
    assert "config key 'generate.sampling.temperature'" in result.stderr
