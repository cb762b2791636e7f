"""``improviser bench sync``: answers on an outside clock's grid, ``--clock-out`` at an
outside client, a tempo change followed; through a private JACK server."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer
from rich.table import Table

from improviser.cli.bench_live import JsonOpt, ModelOpt, UntrainedOpt
from improviser.cli.report import report
from improviser.errors import ConfigError

__all__ = ["add_commands", "bench_sync_cmd", "print_sync"]


def bench_sync_cmd(
    runs: Annotated[
        int, typer.Option(help="Clock runs (each: two answers, a stop, a tempo change).")
    ] = 8,
    model: ModelOpt = None,
    untrained: UntrainedOpt = False,
    engine: Annotated[str, typer.Option(help="CPU engine: auto, numpy or native.")] = "auto",
    seed: Annotated[
        int, typer.Option(help="Sampler seed of the first run (the next runs count up).")
    ] = 0,
    jack_period: Annotated[
        int, typer.Option(help="Frames per period of the private JACK server.")
    ] = 64,
    clock_out_seconds: Annotated[
        float, typer.Option(help="Seconds of the --clock-out session.")
    ] = 6.0,
    as_json: JsonOpt = False,
) -> None:
    """Musical time at outside JACK clients: answer note-ons against a clock master's grid
    (120 bpm; stop, continue, 150 bpm), the tempo followed, --clock-out's tick jitter."""
    from improviser.bench.sync import SyncOptions, bench_sync  # noqa: PLC0415
    from improviser.cli.progress import count_progress  # noqa: PLC0415

    if runs < 1:
        raise ConfigError(f"--runs must be at least 1, got {runs}")
    if clock_out_seconds < 1.0:
        raise ConfigError(f"--clock-out-seconds must be at least 1, got {clock_out_seconds:g}")
    if engine not in ("auto", "numpy", "native"):
        raise ConfigError(f"--engine must be auto, numpy or native, got {engine!r}")
    if jack_period < 16 or jack_period & (jack_period - 1):
        raise ConfigError(f"--jack-period must be a power of two from 16, got {jack_period}")
    options = SyncOptions(runs=runs, model=model, untrained=untrained, engine=engine, seed=seed,
                          jack_period=jack_period, clock_out_seconds=clock_out_seconds)  # fmt: skip
    with count_progress("sync runs (and the clock-out run)") as progress:
        result = bench_sync(options, progress)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_sync(result)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def print_sync(result: dict[str, Any]) -> None:
    """The table of ``bench sync``."""
    a, out, jack = result["answers"], result["clock_out"], result["jack"]
    table = Table(
        title=f"musical time at outside clients, JACK {jack['period_frames']} frames, "
        f"{result['cpu_count']} CPUs, load {result['loadavg_before'][0]:.2f} → "
        f"{result['loadavg_after'][0]:.2f}"
    )
    for col in ("measure", "n", "p50 ms", "p99 ms", "max ms", "notes"):
        table.add_column(col, justify="left" if col in ("measure", "notes") else "right")
    for r in result["per_run"]:
        if r["failed"]:
            table.add_row(f"run {r['run'] + 1}: failed", "", "", "", "", r["failed"])
            continue
        e = r["error"]
        table.add_row(
            f"run {r['run'] + 1}: answer note-ons vs the master's grid",
            str(e["n"]),
            _ms(e["p50_ms"]),
            _ms(e["p99_ms"]),
            _ms(e["max_ms"]),
            f"{r['lost_ticks']} ticks lost, tempo {r['tempo_off_pct']:+.1f} %",
        )
    e = a["error"]
    table.add_row(
        "all runs", str(e["n"]), _ms(e["p50_ms"]), _ms(e["p99_ms"]), _ms(e["max_ms"]),
        f"{a['notes_heard']}/{a['notes_sent']} heard, {a['failed']} runs failed",
    )  # fmt: skip
    late = a["late_to_plan"]
    table.add_row(
        "all runs: heard after their planned time", str(late["n"]), _ms(late["p50_ms"]),
        _ms(late["p99_ms"]), _ms(late["max_ms"]), "the session's and JACK's share",
    )  # fmt: skip
    table.add_row(
        f"--clock-out tick jitter at {out['bpm']:g} bpm",
        str(out["ticks"]),
        _ms(out["p50_ms"]),
        _ms(out["p99_ms"]),
        _ms(out["max_ms"]),
        f"{out['lost']} lost",
    )
    report().print(table)
    report().print(
        f"tempo 2 beats after {result['tempo_change']['from_bpm']:g} → "
        f"{result['tempo_change']['to_bpm']:g} bpm: at most "
        f"{a['tempo_max_abs_off_pct']:.1f} % off; the master sent its ticks up to "
        f"{a['master_late_p99_ms']:.2f} ms late (p99 of a run); model {result['model']}"
    )


def add_commands(bench_app: typer.Typer) -> None:
    """Add ``sync`` to the ``bench`` group."""
    bench_app.command("sync")(bench_sync_cmd)
