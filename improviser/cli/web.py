"""``improviser web``: the studio page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from improviser.config import load_config, with_overrides
from improviser.config.mqtt import parse_broker

__all__ = ["register"]

_err = Console(stderr=True)


def web(
    host: Annotated[
        str | None, typer.Option(help="Address to serve on (default 127.0.0.1: this machine).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to serve on (default 8765).")] = None,
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="MQTT broker HOST[:PORT] (default: the config's mqtt.host)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="File whose first line is the page's token."),
    ] = None,
    sessions: Annotated[
        Path | None, typer.Option("--sessions", help="Recordings folder to list.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file.")] = None,
) -> None:
    """Serve the studio page: every instance on the broker, its piano roll and controls."""
    from improviser.web import serve  # noqa: PLC0415 - starlette/uvicorn only for this command

    mqtt_values: dict[str, object] = {}
    if mqtt is not None:
        broker_host, broker_port = parse_broker(mqtt)
        mqtt_values = {"host": broker_host, "port": broker_port}
    cfg = with_overrides(
        load_config(config),
        web={"host": host, "port": port, "token_file": token_file, "sessions_dir": sessions},
        mqtt=mqtt_values,
    )

    def ready(url: str, settings: object) -> None:
        broker = f"{cfg.mqtt.host}:{cfg.mqtt.broker_port}"
        _err.print(f"studio page on {url} (broker {broker}; Ctrl-C stops)", highlight=False)

    serve(cfg, on_ready=ready)


def register(app: typer.Typer) -> None:
    """Add ``web`` to ``app``, and ``bench web`` to its ``bench`` group."""
    app.command("web")(web)
    from improviser.cli.bench import bench_app  # noqa: PLC0415
    from improviser.cli.bench_web import add_commands  # noqa: PLC0415

    add_commands(bench_app)
