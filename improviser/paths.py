"""Where the bundled files live (the repository's ``samples/`` and ``config/``), and the
C parts built with the package.

In a source tree (or an editable install) they are the repository's own files; an
installed package (a wheel) carries the few it plays with — the bundled model's
``.npz`` and ``.json``, the demo's call, ``default.toml`` — in ``improviser/_bundled/``
(copied there by ``setup.py``), under the same relative paths.
"""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

__all__ = [
    "BUNDLED",
    "CORPUS_DIR",
    "DATA",
    "DEFAULT_CONFIG",
    "DEFAULT_MODEL",
    "HARMONY_MODEL",
    "REGRESSION_MODEL",
    "ROOT",
    "built_library",
]

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = Path(__file__).resolve().parent / "_bundled"
"""The bundled files inside an installed package."""
DATA = ROOT if (ROOT / "pyproject.toml").is_file() else BUNDLED
"""Where ``samples/`` and ``config/`` are: the source tree, else :data:`BUNDLED`."""
CORPUS_DIR = DATA / "samples" / "corpus"
DEFAULT_MODEL = DATA / "samples" / "model" / "improviser.keras"
HARMONY_MODEL = DATA / "samples" / "model" / "harmony.keras"
"""The bundled harmony model (lower voices under a melody), trained on the chorales."""
REGRESSION_MODEL = DATA / "samples" / "model" / "notebook-regression.keras"
DEFAULT_CONFIG = DATA / "config" / "default.toml"


def built_library(beside: str, stem: str) -> Path | None:
    """The C library ``stem`` built with the package beside the module file ``beside``
    (``_native``, ``_jackin``: loaded with ctypes); ``None`` if it was not built."""
    here = Path(beside).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"{stem}{suffix}"
        if path.exists():
            return path
    return None
