"""Serving the page: the settings from the config, the socket, uvicorn.

The socket is bound here, before uvicorn starts, so an address in use is one line
(:class:`~improviser.errors.ConfigError`, exit 2) instead of uvicorn's log and exit 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import secrets
import signal
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn

from improviser.config import Config
from improviser.config.mqtt import read_password
from improviser.config.web import is_loopback, read_token
from improviser.errors import ConfigError
from improviser.web.app import WebSettings, create_app
from improviser.web.hub import Hub

__all__ = ["GRACE_SECONDS", "bind", "serve", "settings_of", "url_of"]

GRACE_SECONDS = 1.0
"""On Ctrl-C, open pages get this long before they are cut (their streams never end)."""


def settings_of(config: Config) -> WebSettings:
    """The app's settings from the config; :class:`ConfigError` for a missing token."""
    web = config.web
    loopback = is_loopback(web.host)
    token = read_token(web)
    if token is None and not loopback:
        raise ConfigError(
            f"web: serving on {web.host} (not loopback) needs a token: set web.token_file "
            "(or --token-file) to a file whose first line is the token"
        )
    return WebSettings(
        mqtt=config.mqtt,
        mqtt_password=read_password(config.mqtt),
        token=token or secrets.token_urlsafe(24),
        token_in_page=token is None,
        sessions_dir=web.sessions_dir or config.live.sessions_dir,
        loopback=loopback,
        notes_kept=web.notes_kept,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (an IPv6 address bare or in brackets);
    :class:`ConfigError` if it cannot be had."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ConfigError(f"web: cannot resolve host {host!r} ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"web: {host}:{port} is already in use (another 'improviser web'? "
                "choose another with --port)"
            ) from None
        raise ConfigError(f"web: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int) -> str:
    """The page's address as a browser takes it (an IPv6 address in brackets)."""
    bare = host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    return f"http://{shown}:{port}/"


class _Server(uvicorn.Server):
    """uvicorn's server that, told to stop, first ends the pages' event streams."""

    def __init__(self, hub: Hub, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._hub = hub

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Stop (a second Ctrl-C: at once). Unlike uvicorn's own, the signal is not raised
        again once the server is down: a stop by Ctrl-C or SIGTERM exits 0, as ``live``
        does. (uvicorn's re-raised SIGINT reached asyncio's runner as it was finishing, and
        the exit code then depended on whether the runner's task had one more await.)"""
        with contextlib.suppress(RuntimeError):  # no loop running: nothing to end
            asyncio.get_running_loop().call_soon_threadsafe(self._hub.closing.set)
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def serve(config: Config, *, on_ready: Callable[[str, WebSettings], None] | None = None) -> None:
    """Serve the page until Ctrl-C (or SIGTERM)."""
    settings = settings_of(config)
    sock = bind(config.web.host, config.web.port)
    app = create_app(settings)
    server = _Server(
        app.state.hub,
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=int(GRACE_SECONDS),
            proxy_headers=False,
        ),
    )
    if on_ready is not None:
        on_ready(url_of(config.web.host, sock.getsockname()[1]), settings)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
