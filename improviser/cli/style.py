"""The ``--style`` option the commands that load a model share."""

from __future__ import annotations

from typing import Annotated

import typer

from improviser.config.styles import STYLES, get_style

__all__ = ["StyleOpt", "check_style"]

StyleOpt = Annotated[
    str | None,
    typer.Option(
        "--style",
        help=f"Bundled style: {' or '.join(STYLES)} (its melody and harmony models; "
        "--model wins). Default: folk.",
    ),
]


def check_style(style: str | None) -> None:
    """A wrong name: one line listing the styles (a ``ConfigError``), before any work."""
    if style is not None:
        get_style(style)
