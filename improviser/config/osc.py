"""Options of the OSC face (the ``[osc]`` section of the config).

Off by default. ``--osc [HOST:]PORT`` listens for controls (``/improviser/<instance>/set/<key>``);
``--osc-out HOST:PORT`` is where status, notes, events, acks and errors are sent. OSC has
no authentication: a datagram is read only when it comes from an address in ``allow``
(loopback only by default), so a control surface on a tablet needs both ``listen`` on an
address it can reach and its network in ``allow``.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from improviser.config.base import Section
from improviser.config.mqtt import default_instance
from improviser.errors import ConfigError

__all__ = ["DEFAULT_OSC_PORT", "OscConfig", "parse_endpoint"]

DEFAULT_OSC_PORT = 9000
"""The port listened on when ``[osc]`` is enabled without one (TouchOSC's usual)."""


def parse_endpoint(text: str, option: str, *, default_host: str | None = None) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPV6]:PORT`` or (with ``default_host``) ``PORT`` -> (host, port).

    :class:`ConfigError` naming ``option`` when it is none of these.
    """
    host: str | None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = default_host, text
    form = "[HOST:]PORT" if default_host is not None else "HOST:PORT"
    if not host:
        raise ConfigError(f"{option}: expected {form}, got {text!r}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{option}: expected {form} with a port of 1..65535, got {text!r}")
    return host, int(port)


class OscConfig(Section):
    """Where the OSC face listens, whom it hears, and where it sends."""

    enabled: bool = False
    """Listen for OSC controls (``--osc [HOST:]PORT`` turns it on)."""
    listen: str = Field("127.0.0.1", min_length=1, max_length=253)
    """Address the UDP socket is bound to (``0.0.0.0``: every interface)."""
    port: int = Field(DEFAULT_OSC_PORT, ge=0, le=65535)
    """UDP port listened on (0: any free one, logged)."""
    allow: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    """Networks (CIDR) whose datagrams are read; others are dropped (logged once each)."""
    out: str | None = None
    """``HOST:PORT`` that status, notes, events, acks and errors are sent to (unset: none)."""
    instance: str | None = None
    """The session's name in the addresses (unset: ``mqtt.instance``, else the host name)."""
    notes: bool = True
    """Send every note (player's and improviser's) to ``out``."""
    queue_size: int = Field(1000, ge=10, le=1_000_000)
    """Events kept for ``out`` while it lags; the oldest are dropped first."""
    send_delay_ms: float = Field(5.0, ge=0.0, le=1000.0)
    """Events are sent this long after they happen, gathered: the sending then falls
    after the answer has left through the MIDI server, not beside it."""
    log_per_second: float = Field(5.0, gt=0.0, le=1000.0)
    """Most log lines per second about bad OSC; the rest are counted in the next one."""

    @field_validator("allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"not a network (CIDR, e.g. 192.168.1.0/24): {text!r}") from None
        return value

    @field_validator("out")
    @classmethod
    def _out(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_endpoint(value, "out")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("instance")
    @classmethod
    def _instance_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/ #*?,[]{}")):
            raise ValueError(
                "instance must be a name without '/', spaces or OSC pattern characters "
                f"(#*?,[]{{}}), got {value!r}"
            )
        return value

    def instance_name(self, fallback: str | None = None) -> str:
        """``instance``, else ``fallback`` (the MQTT instance), else the host name."""
        return self.instance or fallback or default_instance()

    def out_endpoint(self) -> tuple[str, int] | None:
        """``out`` as (host, port); ``None`` when unset."""
        return None if self.out is None else parse_endpoint(self.out, "osc.out")

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``allow`` as networks."""
        return [ipaddress.ip_network(text, strict=False) for text in self.allow]
