"""The wheel of the working tree, built as a fresh clone would build it.

``bench install`` and ``tests/test_extras.py`` both install this wheel into fresh venvs:
the tracked and new (not ignored) files of the git working tree are copied out first, so
nothing built or ignored beside them (``.venv``, ``build/``, a compiled engine) gets in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["build_wheel", "source_copy"]

BUILD_TIMEOUT_S = 600
"""The longest a wheel build may take (it compiles the C engine)."""


def source_copy(root: Path, target: Path) -> Path:
    """The tracked and new (not ignored) files of the working tree at ``root``, copied
    under ``target`` as a clone has them; ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def build_wheel(source: Path, dist: Path) -> Path:
    """Build the wheel of the tree at ``source`` into ``dist`` with this interpreter's pip
    (no dependencies, no build isolation: setuptools as installed here); its path.

    Raises :class:`subprocess.CalledProcessError` if pip fails (its output in the error).
    """
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        check=True, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    (wheel,) = dist.glob("improviser-*.whl")
    return wheel
