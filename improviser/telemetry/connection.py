"""How to reach the broker: client options (TLS, user), errors in one line, backoff.

Shared by the bridge (:mod:`improviser.telemetry.bridge`) and the engineer's commands
(:mod:`improviser.telemetry.remote`). The password is passed to the client and nowhere
else: no message here ever contains it.
"""

from __future__ import annotations

import logging
import random
import ssl
from typing import Any

import aiomqtt

from improviser.config.mqtt import MqttConfig
from improviser.errors import ConfigError

__all__ = ["backoff", "client_options", "describe", "tls_context"]

_quiet = logging.getLogger("improviser.mqtt.client")
_quiet.setLevel(logging.WARNING)


def tls_context(config: MqttConfig) -> ssl.SSLContext | None:
    """The TLS context of ``config`` (``None`` without TLS); :class:`ConfigError` on bad files."""
    if not config.tls:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(config.ca_file) if config.ca_file is not None else None
        )
        if config.cert_file is not None and config.key_file is not None:
            context.load_cert_chain(str(config.cert_file), str(config.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"config key 'mqtt.tls': cannot load the certificates ({exc.strerror or exc})"
        ) from None
    return context


def client_options(
    config: MqttConfig,
    password: str | None,
    *,
    identifier: str,
    will: aiomqtt.Will | None = None,
) -> dict[str, Any]:
    """Keyword arguments of :class:`aiomqtt.Client` for ``config``."""
    return {
        "hostname": config.host,
        "port": config.broker_port,
        "username": config.username,
        "password": password,
        "identifier": identifier,
        "keepalive": config.keepalive,
        "will": will,
        "tls_context": tls_context(config),
        "timeout": 10.0,
        "logger": _quiet,
        "max_queued_outgoing_messages": config.queue_size,
    }


def describe(exc: BaseException, config: MqttConfig) -> str:
    """One line saying why the broker could not be reached or refused us."""
    where = f"{config.host}:{config.broker_port}"
    rc = getattr(exc, "rc", None)
    value = getattr(rc, "value", rc)
    if value in (4, 5, 134, 135):
        who = f"user {config.username!r}" if config.username else "no user name"
        return (
            f"mqtt broker {where} refused us ({who}): wrong user name or password, or not "
            "allowed; check mqtt.username and mqtt.password_env/password_file"
        )
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"mqtt broker {where}: {text}"


def backoff(attempt: int, low: float, high: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect ``attempt`` (0-based): doubling, capped, jittered."""
    ceiling = min(high, low * 2.0 ** min(attempt, 32))
    draw = (rng or random).random()
    return ceiling * (0.5 + 0.5 * draw)
