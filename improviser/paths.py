"""Where the bundled files live (the repository's ``samples/`` and ``config/``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CORPUS_DIR", "DEFAULT_CONFIG", "DEFAULT_MODEL", "REGRESSION_MODEL", "ROOT"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "samples" / "corpus"
DEFAULT_MODEL = ROOT / "samples" / "model" / "improviser.keras"
REGRESSION_MODEL = ROOT / "samples" / "model" / "notebook-regression.keras"
DEFAULT_CONFIG = ROOT / "config" / "default.toml"
