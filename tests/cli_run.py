"""``improviser`` run as a user runs it (a subprocess), and its one-line errors read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def improviser(
    *args: str | Path, cwd: Path | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """``python -m improviser ARGS``: exit code, stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "improviser", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a user's mistake prints (exit code 2, nothing else on stderr or stdout)."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stdout == "", result.stdout
    return lines[0]
