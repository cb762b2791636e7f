"""Options of the studio page (the ``[web]`` section of the config).

``improviser web`` serves the page on ``host:port``. On a loopback address it works
without a token (the page carries one made for the process); on any other address it
needs ``token_file``, and the page changes nothing until that token is typed into it.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field

from improviser.config.base import Section
from improviser.errors import ConfigError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MIN_TOKEN_CHARS",
    "WebConfig",
    "is_loopback",
    "read_token",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MIN_TOKEN_CHARS = 16
"""A shorter token is refused: it could be guessed."""


class WebConfig(Section):
    """Where the page is served and who may steer through it."""

    host: str = Field(DEFAULT_HOST, min_length=1, max_length=253)
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    token_file: Path | None = None
    """File whose first line is the token the page must send to change anything."""
    sessions_dir: Path | None = None
    """The recordings listed on the page (``None``: ``live.sessions_dir``)."""
    notes_kept: int = Field(2000, ge=10, le=1_000_000)
    """Notes kept per instance, so a page opened late still shows the last minutes."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, ``127.x``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(config: WebConfig) -> str | None:
    """The token from ``token_file`` (``None`` if unset); :class:`ConfigError` if unusable."""
    if config.token_file is None:
        return None
    try:
        text = config.token_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            f"config key 'web.token_file': cannot read {config.token_file} ({why})"
        ) from None
    token = text.splitlines()[0].strip() if text.strip() else ""
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"config key 'web.token_file': the token in {config.token_file} must be at least "
            f"{MIN_TOKEN_CHARS} characters (make one: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(24))')"
        )
    return token
