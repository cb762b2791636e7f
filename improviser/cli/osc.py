"""The OSC side of the command line: ``--osc`` and ``--osc-out`` for ``live``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from improviser.config import load_config, with_overrides
from improviser.config.mqtt import MqttConfig
from improviser.config.osc import OscConfig, parse_endpoint
from improviser.live.session.session import Companion
from improviser.telemetry.osc import OscFace

__all__ = ["OscOpt", "OscOutOpt", "osc_companions", "osc_config", "osc_line"]

OscOpt = Annotated[
    str | None,
    typer.Option("--osc", help="Take OSC controls on UDP [HOST:]PORT (host: osc.listen)."),
]
OscOutOpt = Annotated[
    str | None,
    typer.Option("--osc-out", help="Send status, notes, acks and errors over OSC to HOST:PORT."),
]


def osc_config(path: Path | None, listen: str | None, out: str | None) -> OscConfig:
    """The ``[osc]`` section of ``path`` with ``--osc [HOST:]PORT`` and ``--osc-out HOST:PORT``.

    Either option turns OSC on.
    """
    base = load_config(path)
    values: dict[str, object] = {}
    if listen is not None:
        host, port = parse_endpoint(listen, "--osc", default_host=base.osc.listen)
        values.update(enabled=True, listen=host, port=port)
    if out is not None:
        parse_endpoint(out, "--osc-out")
        values.update(enabled=True, out=out)
    return with_overrides(base, osc=values).osc


def osc_companions(config: OscConfig, mqtt: MqttConfig) -> dict[str, Companion]:
    """``{"improviser.osc": face}`` when OSC is on (its port bound now), else nothing.

    The instance is ``osc.instance``, else the MQTT one, so both faces name it alike.
    """
    if not config.enabled:
        return {}
    fallback = mqtt.instance_name if mqtt.instance is not None else None
    return {"improviser.osc": OscFace(config, instance=config.instance_name(fallback))}


def osc_line(companions: dict[str, Companion]) -> str:
    """``; osc: 127.0.0.1:9000 as 'studio' -> 127.0.0.1:9001`` for the start line, or ``""``."""
    face = companions.get("improviser.osc")
    if not isinstance(face, OscFace):
        return ""
    line = f"; osc: {face.config.listen}:{face.port} as {face.addresses.instance!r}"
    return line + (f" -> {face.config.out}" if face.config.out else "")
