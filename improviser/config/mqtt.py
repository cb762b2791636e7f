"""Options of the MQTT bridge (the ``[mqtt]`` section of the config).

Off by default. The password never appears here, on the command line or in a log: the
config names where to read it (an environment variable or a file), and
:func:`read_password` reads it when the bridge starts.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from improviser.config.base import Section
from improviser.errors import ConfigError

__all__ = [
    "DEFAULT_PORT",
    "TLS_PORT",
    "MqttConfig",
    "default_instance",
    "parse_broker",
    "read_password",
]

DEFAULT_PORT = 1883
TLS_PORT = 8883
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_instance() -> str:
    """The host name, as an instance name (characters outside ``[A-Za-z0-9_.-]`` -> ``-``)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()) or "improviser"
    return name[:64]


class MqttConfig(Section):
    """Where the bridge connects, as whom, and what it publishes."""

    enabled: bool = False
    """Connect to a broker (``--mqtt HOST[:PORT]`` turns it on)."""
    host: str = Field("localhost", min_length=1, max_length=253)
    port: int | None = Field(None, ge=1, le=65535)
    """``None``: 1883, or 8883 with TLS."""
    instance: str | None = None
    """The session's name in the topics (``improviser/<instance>/...``); ``None``: host name."""
    client_id: str | None = Field(None, min_length=1, max_length=128)
    """``None``: ``improviser-<instance>``."""
    qos: int = Field(1, ge=0, le=2)
    """QoS of status, stats, events, acks and errors (notes always go at QoS 0)."""
    keepalive: int = Field(15, ge=2, le=3600)
    """Seconds between pings; the broker publishes the last will after 1.5 times this."""
    tls: bool = False
    ca_file: Path | None = None
    """CA certificate(s) that signed the broker's certificate (``None``: the system's)."""
    cert_file: Path | None = None
    """Client certificate, for brokers that ask for one (with ``key_file``)."""
    key_file: Path | None = None
    username: str | None = Field(None, min_length=1, max_length=256)
    password_env: str | None = Field(None, min_length=1, max_length=256)
    """Name of the environment variable holding the password."""
    password_file: Path | None = None
    """File whose first line is the password (keep it mode 0600)."""
    notes: bool = False
    """Publish every note (player's and improviser's) on ``notes``."""
    notes_per_second: float = Field(50.0, gt=0.0, le=100_000.0)
    """Most notes published per second (beyond it they are skipped and counted)."""
    queue_size: int = Field(1000, ge=10, le=1_000_000)
    """Outgoing messages kept while the broker is slow or away; the oldest are dropped."""
    publish_delay_ms: float = Field(10.0, ge=0.0, le=1000.0)
    """Events are published this long after they happen, gathered: the broker's work
    then falls after the answer has left through the MIDI server, not beside it."""
    max_payload: int = Field(65536, ge=256, le=16_777_216)
    """Bytes; a larger control payload is rejected unread."""
    reconnect_min: float = Field(0.5, gt=0.0, le=60.0)
    """First wait before reconnecting (seconds); doubled on each failure..."""
    reconnect_max: float = Field(30.0, gt=0.0, le=3600.0)
    """...up to this, each wait shortened by a random jitter of up to half."""

    @field_validator("instance")
    @classmethod
    def _instance_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(
                "instance must be 1-64 letters, digits, '_', '.' or '-' "
                f"(no '/', '+' or '#'), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        if self.reconnect_min > self.reconnect_max:
            raise ValueError(
                f"reconnect_min must not exceed reconnect_max, got "
                f"{self.reconnect_min} > {self.reconnect_max}"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give password_env or password_file, not both")
        return self

    @property
    def instance_name(self) -> str:
        """``instance``, or the host name."""
        return self.instance or default_instance()

    @property
    def broker_port(self) -> int:
        """``port``, or the default port of the transport."""
        if self.port is not None:
            return self.port
        return TLS_PORT if self.tls else DEFAULT_PORT


def read_password(config: MqttConfig) -> str | None:
    """The password from ``password_env`` or ``password_file``; ``None`` if neither is set.

    :class:`ConfigError` (which never contains the password) if it cannot be read.
    """
    if config.password_env is not None:
        value = os.environ.get(config.password_env)
        if not value:
            raise ConfigError(
                f"config key 'mqtt.password_env': environment variable "
                f"{config.password_env!r} is not set"
            )
        return value
    if config.password_file is not None:
        try:
            text = config.password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"config key 'mqtt.password_file': cannot read {config.password_file} "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise ConfigError(f"config key 'mqtt.password_file': {config.password_file} is empty")
        return lines[0]
    return None


def parse_broker(text: str) -> tuple[str, int | None]:
    """``HOST``, ``HOST:PORT`` or ``[IPV6]:PORT`` -> (host, port or ``None``)."""
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or None
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise ConfigError(f"--mqtt: expected HOST[:PORT], got {text!r}")
    if port is None:
        return host, None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"--mqtt: port must be 1..65535, got {port!r}")
    return host, int(port)
