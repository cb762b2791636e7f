"""The ``harmonize`` command: lower voices under a melody file; :func:`register` adds it."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from improviser.cli.style import StyleOpt
from improviser.config.styles import harmony_model_for
from improviser.errors import ConfigError
from improviser.music.voicing import VOICES_PLAYED

__all__ = ["harmonize", "register"]

console = Console(stderr=True)


def harmonize(
    melody: Annotated[Path, typer.Argument(help="MIDI file whose top line is the melody.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="MIDI file to write (type 1).")],
    voices: Annotated[
        int, typer.Option(help="Voices to add: 1 = bass, 2 = bass and alto, 3 = bass, tenor, alto.")
    ] = 3,
    model: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="Harmony model (.keras; its .npz is read)."),
    ] = None,
    style: StyleOpt = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the draws (default: a fresh one, printed).")
    ] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.8,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.")] = 0.9,
    engine: Annotated[str, typer.Option(help="Step engine: auto, numpy or native.")] = "auto",
) -> None:
    """Add bass, tenor and alto under a melody, voiced onset by onset as live accompaniment
    is (the same seed gives the same notes); the melody's tracks are kept unchanged."""
    from improviser.inference.harmonize import harmonize_file  # noqa: PLC0415
    from improviser.inference.harmonizer import Harmonizer, HarmonyParams  # noqa: PLC0415

    model = harmony_model_for(model, style)
    if voices not in VOICES_PLAYED:
        raise ConfigError(f"--voices must be 1, 2 or 3, got {voices}")
    if engine not in ("auto", "numpy", "native"):
        raise ConfigError(f"--engine must be auto, numpy or native, got {engine!r}")
    try:
        params = HarmonyParams(temperature=temperature, top_p=top_p)
    except ValueError as exc:
        raise ConfigError(f"--{str(exc).replace('_', '-')}") from exc
    if seed is None:
        seed = secrets.randbelow(2**31)
    harmonizer = Harmonizer.from_file(model, engine, params, seed)
    result = harmonize_file(melody, out, harmonizer, voices)
    names = ", ".join(("bass", "tenor", "alto")[v] for v in result.voices)
    console.print(
        f"wrote [bold]{result.path}[/]: {len(result.melody)} melody notes, {names} "
        f"({result.notes} notes), seed {seed}"
    )


def register(app: typer.Typer) -> None:
    """Add ``harmonize`` to ``app``, and ``bench harmony`` and ``bench lean`` to its
    ``bench`` group."""
    app.command("harmonize")(harmonize)
    from improviser.cli import bench_harmony, bench_lean  # noqa: PLC0415
    from improviser.cli.bench import bench_app  # noqa: PLC0415

    bench_harmony.add_commands(bench_app)
    bench_lean.add_commands(bench_app)
