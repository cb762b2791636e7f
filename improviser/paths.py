"""Where the bundled files live (the repository's ``samples/`` and ``config/``), and the
C parts built with the package."""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

__all__ = [
    "CORPUS_DIR",
    "DEFAULT_CONFIG",
    "DEFAULT_MODEL",
    "REGRESSION_MODEL",
    "ROOT",
    "built_library",
]

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "samples" / "corpus"
DEFAULT_MODEL = ROOT / "samples" / "model" / "improviser.keras"
REGRESSION_MODEL = ROOT / "samples" / "model" / "notebook-regression.keras"
DEFAULT_CONFIG = ROOT / "config" / "default.toml"


def built_library(beside: str, stem: str) -> Path | None:
    """The C library ``stem`` built with the package beside the module file ``beside``
    (``_native``, ``_jackin``: loaded with ctypes); ``None`` if it was not built."""
    here = Path(beside).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"{stem}{suffix}"
        if path.exists():
            return path
    return None
