"""``improviser bench harmony``: the harmonizer's table; :func:`add_commands` adds it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from improviser.bench.harmony_table import LABELS, value_text
from improviser.cli.bench_tables import ms_text
from improviser.cli.report import report
from improviser.errors import ConfigError
from improviser.paths import HARMONY_MODEL

__all__ = ["add_commands", "bench_harmony", "print_harmony"]


def bench_harmony(
    model: Annotated[
        Path, typer.Option("--model", "-m", help="Harmony model (.keras; .npz and .json read).")
    ] = HARMONY_MODEL,
    data: Annotated[
        list[Path] | None,
        typer.Option(help="Measure on these files (less the model's training tunes)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the model's draws (each piece).")] = 0,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.8,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.")] = 0.9,
    engine: Annotated[str, typer.Option(help="Engine of the model's voices.")] = "auto",
    latency_onsets: Annotated[
        int, typer.Option(help="Onsets timed per latency row (0: none).")
    ] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The model's voices against the real lower voices, a tonic drone and a rule-based
    triad chooser on the held-out chorales; and what one melody onset costs."""
    from improviser.bench.harmony import run_harmony_bench  # noqa: PLC0415
    from improviser.inference.harmonizer import HarmonyParams  # noqa: PLC0415

    if engine not in ("auto", "numpy", "native"):
        raise ConfigError(f"--engine must be auto, numpy or native, got {engine!r}")
    try:
        params = HarmonyParams(temperature=temperature, top_p=top_p)
    except ValueError as exc:
        raise ConfigError(f"--{str(exc).replace('_', '-')}") from exc
    result = run_harmony_bench(
        model, data=data, seed=seed, params=params, engine=engine, latency_onsets=latency_onsets
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_harmony(result)


def print_harmony(result: dict[str, Any]) -> None:
    """The measures table and the latency rows of ``bench harmony``."""
    console = report()
    systems = result["systems"]
    table = Table(
        title=f"harmony on {result['files']} held-out chorales ({result['onsets']} melody "
        f"onsets), seed {result['seed']}, temperature {result['temperature']:g}, "
        f"top-p {result['top_p']:g}"
    )
    table.add_column("measure", no_wrap=True)
    for name in systems:
        table.add_column(name, justify="right")
    table.add_column("model / truth", justify="right")
    for m in result["measures"]:
        ratio = result["model_over_truth"][m]
        table.add_row(
            LABELS.get(m, m),
            *(value_text(m, systems[s][m]) for s in systems),
            "-" if ratio is None else f"{ratio:.2f}",
        )
    console.print(table)
    if result.get("latency"):
        lat = Table(title="one melody onset: 3 steps + 3 draws, hot")
        lat.add_column("path", no_wrap=True)
        for col in ("onsets", "p50 ms", "p99 ms", "max ms"):
            lat.add_column(col, justify="right")
        for name, r in result["latency"].items():
            lat.add_row(
                name, str(r["n"]), ms_text(r["p50_ms"]), ms_text(r["p99_ms"]), ms_text(r["max_ms"])
            )
        console.print(lat)


def add_commands(bench_app: typer.Typer) -> None:
    """Add ``harmony`` to the ``bench`` group."""
    bench_app.command("harmony")(bench_harmony)
