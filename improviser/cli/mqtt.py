"""The MQTT side of the command line: options, the bridge for ``live``, ``watch`` and ``set``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from improviser.cli.aio import run_async
from improviser.config import load_config, with_overrides
from improviser.config.mqtt import MqttConfig, parse_broker, read_password
from improviser.live.session.session import Companion
from improviser.telemetry.bridge import MqttBridge
from improviser.telemetry.remote import ALL, InstanceView, WatchState, send_control, watch

__all__ = ["MqttOpt", "bridge_companions", "mqtt_config", "register"]

MqttOpt = Annotated[
    str | None, typer.Option("--mqtt", help="MQTT broker HOST[:PORT] (turns MQTT on).")
]
_out = Console()


def mqtt_config(path: Path | None, broker: str | None, **overrides: Any) -> MqttConfig:
    """The ``[mqtt]`` section of ``path`` with ``--mqtt HOST[:PORT]`` and other options."""
    values = dict(overrides)
    if broker is not None:
        host, port = parse_broker(broker)
        values.update(enabled=True, host=host, port=port)
    return with_overrides(load_config(path), mqtt=values).mqtt


def bridge_companions(config: MqttConfig) -> dict[str, Companion]:
    """``{"improviser.mqtt": bridge}`` when MQTT is on, else nothing."""
    if not config.enabled:
        return {}
    return {"improviser.mqtt": MqttBridge(config, password=read_password(config))}


def _parse_value(text: str) -> object:
    """A JSON value, or the text itself as a string (``follow`` = ``"follow"``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def set_control(
    instance: Annotated[str, typer.Argument(help="Instance name (see 'improviser watch').")],
    key: Annotated[str, typer.Argument(help="Control: temperature, mode, mute, record...")],
    value: Annotated[str, typer.Argument(help="JSON value (0.7, true, {}); else a string.")],
    mqtt: MqttOpt = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the answer.")] = 5.0,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file.")] = None,
) -> None:
    """Send one control to an instance; print its ack (exit 0) or its error (exit 2)."""
    cfg = mqtt_config(config, mqtt)
    reply = run_async(
        send_control(cfg, read_password(cfg), instance, key, _parse_value(value), wait=wait)
    )
    _out.print(f"{instance}: {reply.message}", highlight=False)


def _note(note: dict[str, Any]) -> str:
    """``p60`` (the player's C4), ``i64`` (the improviser's E4)."""
    return f"{note['part'][0]}{note['pitch']}"


def _instance_table(name: str, view: InstanceView) -> Table:
    status, stats = view.status, view.stats
    table = Table(title=f"{name}: {status.get('state', '?')}", show_header=False, expand=True)
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value")
    settings = status.get("settings", {})
    rows = [
        ("mode / model", f"{status.get('mode', '-')} / {status.get('model', '-')}"),
        ("engine", str(status.get("engine", "-"))),
        ("recording", str(status.get("recording", "-"))),
        ("settings", ", ".join(f"{k}={v}" for k, v in settings.items())),
        (
            "stats",
            ", ".join(
                f"{k}={stats.get(k)}"
                for k in ("notes_in", "notes_out", "phrases", "answers", "response_p99_ms")
            ),
        ),
        ("last notes", " ".join(_note(n) for n in view.notes if n["velocity"])),
        ("events", " | ".join(e["message"] for e in view.events)),
    ]
    if view.last_reply is not None:
        rows.append((view.last_reply["topic"], view.last_reply["message"]))
    for what, text in rows:
        table.add_row(what, text)
    return table


def render(state: WatchState) -> Group:
    """Every instance seen, one table each."""
    tables = [_instance_table(name, view) for name, view in sorted(state.instances.items())]
    return Group(*tables) if tables else Group("waiting for instances...")


def watch_cmd(
    mqtt: MqttOpt = None,
    instance: Annotated[str, typer.Option("--instance", help="Instance name, or all.")] = ALL,
    seconds: Annotated[
        float | None, typer.Option("--seconds", help="Stop after this long (default: Ctrl-C).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file.")] = None,
) -> None:
    """A live view of one instance, or all of them, on a broker."""
    cfg = mqtt_config(config, mqtt)
    with Live(render(WatchState()), console=_out, refresh_per_second=4) as view:
        run_async(
            watch(
                cfg,
                read_password(cfg),
                instance,
                lambda state: view.update(render(state)),
                seconds=seconds,
            )
        )


def register(app: typer.Typer) -> None:
    """Add ``watch`` and ``set`` to ``app``."""
    app.command("watch")(watch_cmd)
    app.command("set")(set_control)
