"""``improviser bench musicality``: the answers' key, rhythm, motifs and register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from improviser.cli.report import report
from improviser.cli.style import StyleOpt
from improviser.config.styles import DEFAULT_STYLE, get_style, melody_model_for
from improviser.errors import ConfigError

__all__ = ["add_commands", "musicality_cmd", "print_musicality"]


def musicality_cmd(
    data: Annotated[
        list[Path] | None, typer.Argument(help="MIDI files or directories (held-out songs).")
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Model (.keras).")] = None,
    style: StyleOpt = None,
    calls: Annotated[int, typer.Option(help="Held-out songs whose opening is a call.")] = 60,
    keys: Annotated[
        list[int] | None,
        typer.Option("--keys", help="Transpositions in semitones (repeatable; default -5..6)."),
    ] = None,
    call_notes: Annotated[int, typer.Option(help="Notes in each call.")] = 16,
    answer_notes: Annotated[int, typer.Option(help="Notes in each answer.")] = 16,
    seed: Annotated[int, typer.Option(help="Seed of the sampler and the baselines.")] = 0,
    rhythm_strength: Annotated[
        float, typer.Option(help="How strongly answers follow the call's note values (0: not).")
    ] = 1.0,
    listen: Annotated[
        bool,
        typer.Option(
            "--listen/--no-listen",
            help="Also answer with the short-term model (model+stm) and with the short-term "
            "model, key and register as live does (model+listen).",
        ),
    ] = True,
    octaves: Annotated[
        list[int] | None,
        typer.Option("--octave", help="Move the calls by octaves (repeatable; default 0)."),
    ] = None,
    path: Annotated[
        str,
        typer.Option(
            help="Also answer as the commands do with their defaults: generate, live or both "
            "(the live engine on a simulated clock), or none."
        ),
    ] = "both",
    guards: Annotated[
        list[str] | None,
        typer.Option(
            "--guard",
            help="Add generate/live rows with this replay guard, GUARD[:NOTES[:PENALTY]] "
            "(e.g. penalty:6:0, discount:5:0.1, off), or with answer settings "
            "KEY=VALUE,... (e.g. rhythm_strength=2); repeatable.",
        ),
    ] = None,
    before: Annotated[
        bool,
        typer.Option(
            "--before/--no-before",
            help="Also answer as generate did before it took the live path (no rhythm tilt, "
            "no replay guard) and as live with no replay guard.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Key, rhythm, motif and register of the model's answers against truth and baselines."""
    from improviser.bench.musicality import (  # noqa: PLC0415
        DEFAULT_KEYS,
        PATHS,
        bench_musicality,
        listen_variants,
    )

    chosen = get_style(style or DEFAULT_STYLE)  # its corpus where no DATA is named
    model = melody_model_for(model, style)
    choices = {"both": PATHS, "none": (), **{p: (p,) for p in PATHS}}
    if path not in choices:
        raise ConfigError(f"--path is one of {', '.join(choices)}, got {path!r}")
    from improviser.cli.progress import count_progress  # noqa: PLC0415

    with count_progress("answering calls") as progress:
        result = bench_musicality(
            model,
            data or [chosen.corpus],
            calls=calls,
            keys=keys or DEFAULT_KEYS,
            call_notes=call_notes,
            answer_notes=answer_notes,
            seed=seed,
            rhythm_strength=rhythm_strength,
            listen=listen_variants() if listen else None,
            octaves=octaves or (0,),
            paths=choices[path],
            guards=guards or (),
            before=before,
            progress=progress,
        )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_musicality(result)
    if len(result["octaves"]) > 1:
        for octave, metrics in result["by_octave"].items():
            print_musicality(result, metrics, f"calls moved {int(octave):+d} octave(s)")


_MUSICALITY_ROWS = (
    ("key", "in the call's key", "mean"),
    ("grid", "on the call's grid", "mean"),
    ("drift", "note values drift x2", "mean"),
    ("rests", "rests >= 1.5 beats", "mean"),
    ("long_notes", "notes >= 1.5 beats", "mean"),
    ("motif_reuse", "4-note shapes reused", "mean"),
    ("replay", "replays >= 8 notes of the call", "mean"),
    ("transposed_replay", "  transposed replays", "mean"),
    ("register", "register shift p50", "p50"),
    ("register", "register shift p99", "p99"),
    ("leaps", "leaps > 7 semitones", "mean"),
    ("degenerate", "degenerate answers", "mean"),
)


def print_musicality(
    result: dict[str, Any], metrics: dict[str, Any] | None = None, title: str | None = None
) -> None:
    """The ``bench musicality`` result (or its ``metrics`` for one octave) as one table."""
    metrics = metrics or result["metrics"]
    table = Table(
        title=title
        or f"musicality: {result['answers']} answers, {result['calls']} held-out calls "
        f"x {len(result['keys'])} keys x {len(result['octaves'])} octave(s)"
    )
    table.add_column("share of answers / notes", no_wrap=True)
    for name in metrics:
        table.add_column(name, justify="right")
    for metric, label, stat in _MUSICALITY_ROWS:
        cells = []
        for name in metrics:
            value = metrics[name][metric][stat]
            cells.append("-" if value is None else f"{value:.2f}")
        table.add_row(label, *cells)
    report().print(table)
    report().print(
        f"{result['call_notes']}-note calls, {result['answer_notes']}-note answers; register "
        f"in semitones, shares are means over answers; {result['seconds']:.0f} s",
        highlight=False,
    )


def add_commands(app: typer.Typer) -> None:
    """Add ``musicality`` to the ``bench`` app."""
    app.command("musicality")(musicality_cmd)
