"""``improviser bench soak`` and ``improviser bench flood``: a live session under load."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from improviser.errors import ConfigError

__all__ = ["add_commands", "print_flood", "print_soak"]

ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model (.keras); default: the bundled one if present."),
]
UntrainedOpt = Annotated[
    bool, typer.Option("--untrained", help="Random weights of the default model's size.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
UNANSWERED_SHOWN = 5
"""Unanswered phrases listed in the table's summary (the JSON has them all)."""
_SOAK_COLUMNS = (
    ("min", "t_s", "{:.1f}"),
    ("anon MB", "anon_mb", "{:.1f}"),
    ("tasks", "tasks", "{}"),
    ("queue", "queue_max", "{}"),
    ("drop", "dropped", "{}"),
    ("stuck", "stuck", "{}"),
    ("ans", "answered", "{}"),
    ("unans", "unanswered", "{}"),
    ("lat p50", "latency_p50_ms", "{:.1f}"),
    ("lat p99", "latency_p99_ms", "{:.1f}"),
    ("eng p50", "engine_p50_ms", "{:.2f}"),
    ("eng p99", "engine_p99_ms", "{:.2f}"),
    ("st%", "steal_pct", "{:.0f}"),
    ("xrun", "client_overruns", "{}"),
)


def _cell(fmt: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def soak_row_line(row: dict[str, Any]) -> str:
    """One progress line per interval (``answered``: phrases answered, of those played; in
    ``accompany`` mode every phrase is accompanied and none answered)."""
    return (
        f"{row['t_s'] / 60:5.1f} min: anon {row['anon_mb']:.1f} MB, {row['tasks']} tasks, "
        f"answered {row['answered']}/{row['answered'] + row['unanswered']}, "
        f"stuck {row['stuck']}, p99 ms: answer {_cell('{:.1f}', row['latency_p99_ms'])}, "
        f"engine {_cell('{:.2f}', row['engine_p99_ms'])}"
    )


def print_soak(result: dict[str, Any], console: Console | None = None) -> None:
    """The ``bench soak`` result: one row per interval, the totals and the goals (80 cols)."""
    console = console or Console(width=80)
    load = result["loadavg_before"][0], result["loadavg_after"][0]
    jack = result["jack"]
    console.print(
        f"model {result['model']}; JACK {jack['period_frames'] or 'running'} frames, "
        f"{jack['client_overruns']} client overruns; {result['cpu_count']} CPUs, "
        f"load {load[0]:.2f} -> {load[1]:.2f}",
        highlight=False,
    )
    table = Table(title="soak, per interval (ms; lat: phrase end -> answer heard)", padding=0)
    for name, _, _ in _SOAK_COLUMNS:
        table.add_column(name, justify="right")
    for row in result["rows"]:
        cells = [_cell(fmt, row[key]) for _, key, fmt in _SOAK_COLUMNS]
        cells[0] = f"{row['t_s'] / 60:.1f}"
        table.add_row(*cells)
    console.print(table)
    s = result["summary"]
    if "goals" not in s:
        return
    lat = s["latency_p99_first_last_ms"]
    lines = [
        f"anonymous memory {s['anon_growth_pct']:+.2f} % (goal < 5 %; second half "
        f"{s['anon_growth_second_half_pct']:+.2f} %), RSS "
        f"{s['rss_growth_pct']:+.2f} %; tasks {s['tasks_first_last'][0]} -> "
        f"{s['tasks_first_last'][1]}",
        f"stuck notes {s['stuck']}, left sounding {s['left_sounding']} (goal 0); answered "
        f"{s['answered']}, unanswered {s['unanswered']}; dropped {s['dropped']} messages, "
        f"{s['events_dropped']} events",
        f"answer latency p99 first {lat[0]:.1f} ms, last {lat[1]:.1f} ms",
        f"input: {s['input_sent']} messages sent, {s['input_lost']} lost by JACK on the way in "
        f"({s['unanswered_after_lost_release']} of the unanswered phrases came within "
        "held_key_seconds of a release it lost); "
        f"overruns by client: {s['overruns_by_client'] or 'none'}",
        *(
            f"unanswered: the phrase at {u['start_s']:.1f}-{u['end_s']:.1f} s (rest "
            f"{u['rest_s']:.1f} s; releases left out {u['dropped']}, pedal {u['pedal']}, "
            f"burst {u['burst']})"
            for u in s["unanswered_phrases"][:UNANSWERED_SHOWN]
        ),
        *(
            [f"... and {len(s['unanswered_phrases']) - UNANSWERED_SHOWN} more (--json)"]
            if len(s["unanswered_phrases"]) > UNANSWERED_SHOWN
            else []
        ),
        "goals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in s["goals"].items()),
    ]
    for line in lines:
        console.print(line, highlight=False)


def soak_cmd(
    minutes: Annotated[float, typer.Option(help="Length of the run, minutes.")] = 10.0,
    interval: Annotated[float, typer.Option(help="Seconds per row.")] = 60.0,
    model: ModelOpt = None,
    untrained: UntrainedOpt = False,
    record: Annotated[bool, typer.Option("--record/--no-record", help="Record (as live).")] = True,
    jack_period: Annotated[int, typer.Option(help="Frames per period of a private JACK.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the player's script.")] = 0,
    plot: Annotated[Path | None, typer.Option(help="Also plot the rows to this PNG.")] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="call-response (answers) or accompany (voices under the player's melody, "
            "from the bundled harmony model)."
        ),
    ] = "call-response",
    as_json: JsonOpt = False,
) -> None:
    """A long session through JACK: memory, stuck notes, latency per minute."""
    from improviser.bench.soak import SoakOptions, bench_soak  # noqa: PLC0415

    if minutes <= 0 or interval <= 0:
        raise ConfigError(f"need minutes > 0 and interval > 0, got {minutes}, {interval}")
    if mode not in ("call-response", "accompany"):
        raise ConfigError(f"--mode must be call-response or accompany, got {mode!r}")
    options = SoakOptions(
        seconds=minutes * 60,
        interval=interval,
        model=model,
        untrained=untrained,
        record=record,
        jack_period=jack_period,
        seed=seed,
        mode=mode,
    )
    err = Console(stderr=True)
    result = bench_soak(options, lambda row: err.print(soak_row_line(row), highlight=False))
    if plot is not None:
        from improviser.bench.soak_plot import plot_soak  # noqa: PLC0415

        plot_soak(result, plot)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_soak(result)


def print_flood(result: dict[str, Any], console: Console | None = None) -> None:
    """The ``bench flood`` result: each stage's count, memory, and the phrase after."""
    console = console or Console(width=80)
    seconds = result["flood_seconds"]
    table = Table(title=f"flood: {result['rate']:,.0f} messages/s for {seconds:.1f} s")
    for col in ("stage", "messages", "per s", "of parsed kinds sent"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    parsed = result["sent_parsed_kinds"]
    for name, key in (
        ("sent (all kinds)", "sent_total"),
        ("sent, kinds we parse", "sent_parsed_kinds"),
        ("arrived at our callback", "arrived"),
        ("parsed, handed to the loop", "parsed"),
        ("handled by the engine", "handled"),
        ("dropped by the queue", "queue_dropped"),
    ):
        n = result[key]
        share = f"{100 * n / parsed:.1f} %" if parsed and key != "sent_total" else ""
        table.add_row(name, f"{n:,}", f"{n / seconds:,.0f}", share)
    console.print(table)
    after = result["after"]
    load = result["loadavg_before"][0], result["loadavg_after"][0]
    console.print(
        f"own anonymous memory {result['anon_mb_before']:.1f} -> peak "
        f"{result['anon_mb_peak']:.1f} -> {result['anon_mb_after']:.1f} MB; a phrase after "
        f"the flood {'answered' if after['answered'] else 'NOT answered'}; JACK client "
        f"overruns {result['jack']['client_overruns']}; load {load[0]:.2f} -> {load[1]:.2f}",
        highlight=False,
    )


def flood_cmd(
    rate: Annotated[float, typer.Option(help="Messages a second.")] = 10_000.0,
    seconds: Annotated[float, typer.Option(help="Length of the flood, s.")] = 5.0,
    model: ModelOpt = None,
    untrained: UntrainedOpt = False,
    jack_period: Annotated[int, typer.Option(help="Frames per period of a private JACK.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the flood.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """How many messages a second reach the engine through JACK, and which part drops them."""
    from improviser.bench.flood import FloodOptions, bench_flood  # noqa: PLC0415

    if rate <= 0 or seconds <= 0:
        raise ConfigError(f"need rate > 0 and seconds > 0, got {rate}, {seconds}")
    result = bench_flood(
        FloodOptions(
            rate=rate, seconds=seconds, model=model, untrained=untrained,
            jack_period=jack_period, seed=seed,
        )
    )  # fmt: skip
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_flood(result)


def memory_cmd(
    notes: Annotated[int, typer.Option(help="Player notes (0.25 s apart, simulated).")] = 20000,
    block: Annotated[int, typer.Option(help="Notes per row.")] = 2000,
    mode: Annotated[str, typer.Option(help="call-response or follow.")] = "call-response",
    model: ModelOpt = None,
    untrained: UntrainedOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """What a long session keeps in memory (in-process, simulated clock): MB per block."""
    from improviser.bench.memory import bench_memory  # noqa: PLC0415
    from improviser.bench.models import choose_model  # noqa: PLC0415
    from improviser.live.engine.loading import load_step_model  # noqa: PLC0415

    if notes < 1 or not 1 <= block <= notes:
        raise ConfigError(f"need notes >= 1 and 1 <= block <= notes, got {notes}, {block}")
    if mode not in ("call-response", "follow"):
        raise ConfigError(f"mode must be call-response or follow, got {mode!r}")
    injected, path, _label = choose_model(model, untrained=untrained)
    step_model = injected or load_step_model(path, "auto")
    err = Console(stderr=True)
    result = bench_memory(
        step_model, notes, block, mode,
        progress=lambda r: err.print(
            f"{r['notes']:6d} notes ({r['session_minutes']:.0f} min): "
            f"{r['traced_mb']:.2f} MB traced", highlight=False
        ),
    )  # fmt: skip
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console = Console(width=100)
    table = Table(title=f"{mode}, {result['engine']}")
    for name in ("notes", "session min", "traced MB"):
        table.add_column(name, justify="right")
    for row in result["rows"]:
        table.add_row(str(row["notes"]), f"{row['session_minutes']:.0f}", f"{row['traced_mb']:.2f}")
    console.print(table)
    per_note = result["bytes_per_note_second_half"]
    console.print(
        f"second half: {_cell('{:.1f}', per_note)} bytes a note kept; "
        f"recorded {result['recorded']}; largest holders:"
    )
    for site in result["largest"]:
        console.print(f"  {site['kb']:9.0f} KB in {site['blocks']:6d} blocks  {site['where']}")


def add_commands(app: typer.Typer) -> None:
    """Add ``soak``, ``flood`` and ``memory`` to the ``bench`` app."""
    app.command("soak")(soak_cmd)
    app.command("flood")(flood_cmd)
    app.command("memory")(memory_cmd)
