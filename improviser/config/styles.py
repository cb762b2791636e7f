"""Styles: a name for a bundled melody model and the harmony model that travels with it.

``--style NAME`` (``live``, ``generate``, ``harmonize``, ``evaluate``, ``bench
musicality``) and ``[live] style`` pick both models at once; a model named on its own
(``--model``, ``--harmony-model``, or a path in the config outside the bundled ones)
still wins. A style also names its corpus, where the benches find its held-out pieces.

It lives in ``config/`` because the config's ``style`` key is checked against it, and the
config may only look at :mod:`improviser.paths` below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from improviser import paths
from improviser.errors import ConfigError

__all__ = [
    "DEFAULT_STYLE",
    "STYLES",
    "Style",
    "get_style",
    "harmony_model_for",
    "melody_model_for",
]

_MODELS = paths.DATA / "samples" / "model"


@dataclass(frozen=True, slots=True)
class Style:
    """One style: its melody model, its harmony model and the corpus they learnt from."""

    name: str
    melody_model: Path
    """The melody model (``.keras``; the live engines read the ``.npz`` beside it)."""
    harmony_model: Path
    """The harmony model ``accompany`` and ``harmonize`` play with."""
    corpus: Path
    """The melody model's corpus: its held-out split is what the benches answer."""
    about: str
    """One line: what the style is."""


STYLES: dict[str, Style] = {
    "folk": Style(
        "folk",
        paths.DEFAULT_MODEL,
        # The chorale harmony model is the only one bundled: the folk style borrows it.
        paths.HARMONY_MODEL,
        paths.CORPUS_DIR,
        "fiddle tunes (Ryan's Mammoth Collection, O'Neill's Music of Ireland)",
    ),
    "chorale": Style(
        "chorale",
        _MODELS / "chorale.keras",
        paths.HARMONY_MODEL,
        paths.DATA / "samples" / "chorales",
        "J. S. Bach's chorale melodies (the soprano of the four-part chorales)",
    ),
}
"""Every style, by name."""

DEFAULT_STYLE = "folk"
"""The style of a command given neither a style nor a model."""


def get_style(name: str) -> Style:
    """The style called ``name``; a one-line :class:`ConfigError` listing them if none is."""
    try:
        return STYLES[name]
    except KeyError:
        raise ConfigError(f"unknown style {name!r}: choose one of {', '.join(STYLES)}") from None


def melody_model_for(model: Path | None, style: str | None) -> Path:
    """The melody model to load: ``model`` where given, else ``style``'s (default: folk)."""
    chosen = get_style(style or DEFAULT_STYLE)  # checked even where a model wins
    return model if model is not None else chosen.melody_model


def harmony_model_for(model: Path | None, style: str | None) -> Path:
    """The harmony model to load: ``model`` where given, else ``style``'s (default: folk)."""
    chosen = get_style(style or DEFAULT_STYLE)
    return model if model is not None else chosen.harmony_model
