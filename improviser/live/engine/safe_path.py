"""File names that a remote control may give: plain names inside one folder, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from improviser.errors import ControlError

__all__ = ["MAX_NAME", "inside"]

MAX_NAME = 128
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]*$")


def inside(folder: Path, name: object, suffix: str, key: str) -> Path:
    """``folder / name`` (``suffix`` added if missing), if ``name`` is a plain file name.

    A plain name has letters, digits, spaces and ``_ . + -`` only, starts with a letter or
    digit, is at most :data:`MAX_NAME` characters and stays inside ``folder`` once resolved
    (no ``/``, ``\\``, ``..``, hidden files or links out). Anything else is a
    :class:`ControlError` naming ``key``.
    """
    if not isinstance(name, str):
        raise ControlError(f"control {key!r}: expected a file name, got {name!r}")
    if len(name) > MAX_NAME or not _PLAIN.match(name) or ".." in name or Path(name).name != name:
        shown = name if len(name) <= MAX_NAME else name[:MAX_NAME] + "..."
        raise ControlError(
            f"control {key!r}: a plain file name inside {folder} is needed, got {shown!r}"
        )
    if not name.endswith(suffix):
        name += suffix
    root = folder.resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise ControlError(f"control {key!r}: {name!r} leads outside {folder}")
    return path
