"""``improviser bench web``: note in -> drawn on the studio page's roll, in Chromium."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from improviser.cli.bench_tables import ms_text
from improviser.errors import ConfigError

__all__ = ["add_commands", "web_cmd"]


def web_cmd(
    notes: Annotated[int, typer.Option(help="Notes played (>= 100 for a p99).")] = 200,
    gap: Annotated[float, typer.Option(help="Seconds from one note to the next.")] = 0.25,
    jack_period: Annotated[
        int, typer.Option(help="Frames per period of the private JACK server (48 kHz).")
    ] = 256,
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="Broker HOST:PORT (default: a private Mosquitto)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Note in -> on the web page's piano roll: p50/p99 in headless Chromium."""
    from improviser.bench.browser import BrowserMissingError  # noqa: PLC0415
    from improviser.bench.web import WebBenchOptions, bench_web  # noqa: PLC0415

    if notes < 1 or gap <= 0.02:
        raise ConfigError(f"need notes >= 1 and gap > 0.02 s, got {notes}, {gap}")
    try:
        result = bench_web(
            WebBenchOptions(notes=notes, gap=gap, jack_period=jack_period, mqtt=mqtt)
        )
    except BrowserMissingError as exc:
        raise ConfigError(str(exc)) from None
    if as_json:
        print(json.dumps(result, indent=2))
        return
    _print(result)


def _print(result: dict[str, Any]) -> None:
    table = Table(title=f"note in -> web page roll ({result['notes']} notes, {result['browser']})")
    for column in ("stage", "n", "p50", "p99", "max"):
        table.add_column(column)
    for key, label in (
        ("note_to_server", "note in -> page server (JACK, session, MQTT)"),
        ("server_to_page", "page server -> page (event stream)"),
        ("page_to_frame", "page -> drawn in a frame"),
        ("note_to_roll", "note in -> on the roll"),
    ):
        row = result[key]
        table.add_row(label, str(row["n"]), ms_text(row["p50_ms"]), ms_text(row["p99_ms"]),
                      ms_text(row["max_ms"]))  # fmt: skip
    Console().print(table)
    print(
        f"target p99 {result['target_ms']:.0f} ms; lost {result['lost']}; browser clock "
        f"set to ours within {result['clock_uncertainty_ms']:.2f} ms"
    )


def add_commands(app: typer.Typer) -> None:
    """Add ``web`` to the ``bench`` app."""
    app.command("web")(web_cmd)
