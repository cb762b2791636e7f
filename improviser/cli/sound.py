"""The built-in synth on the command line: ``render``, and ``--synth`` for ``live``/``demo``."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from improviser.audio.companion import SynthCompanion
from improviser.audio.render import RenderResult, render_midi
from improviser.config import load_config, with_overrides
from improviser.config.synth import SynthConfig
from improviser.errors import PortError, SynthError
from improviser.live.io.ports import api_label, resolve_api
from improviser.live.session.session import Companion

__all__ = [
    "SYNTH_TASK",
    "SoundfontOpt",
    "SynthFileOpt",
    "SynthOpt",
    "close_synth",
    "on_jack",
    "render_beside",
    "synth_companions",
    "synth_config",
    "synth_line",
]

SYNTH_TASK = "improviser.synth"
SynthOpt = Annotated[
    bool | None,
    typer.Option("--synth", help="Hear both parts through the built-in synth (FluidSynth)."),
]
SynthFileOpt = Annotated[
    Path | None,
    typer.Option("--synth-file", help="Write the synth's sound to a .wav/.flac (implies --synth)."),
]
SoundfontOpt = Annotated[
    Path | None, typer.Option("--soundfont", help="General MIDI SoundFont (.sf2/.sf3).")
]


def _say(line: str) -> None:
    # Plain print: one line however narrow the terminal (Rich would wrap a long path).
    print(f"improviser: {line}", file=sys.stderr)


def synth_config(
    path: Path | None,
    enabled: bool | None = None,
    file: Path | None = None,
    soundfont: Path | None = None,
    **overrides: object,
) -> SynthConfig:
    """The ``[synth]`` section of ``path`` with the command's options (``--synth-file``
    turns the synth on)."""
    values = {
        "enabled": True if file is not None else enabled,
        "file": file,
        "soundfont": soundfont,
        **overrides,
    }
    return with_overrides(load_config(path), synth=values).synth


def on_jack(api: str) -> bool:
    """Whether a session asked for ``api`` plays its MIDI through JACK."""
    try:
        return api_label(resolve_api(api)) == "jack"
    except PortError:
        return False  # the session itself will say why no MIDI API works


def synth_companions(config: SynthConfig, *, jack_session: bool) -> dict[str, Companion]:
    """``{"improviser.synth": companion}``, opened (SynthError now if it cannot be), when
    the synth is on; else nothing. ``jack_session``: JACK carries the session's MIDI (then
    ``audio = "auto"`` plays through JACK too)."""
    if not config.enabled:
        return {}
    companion = SynthCompanion(config, jack_session=jack_session)
    companion.open()
    _say(companion.describe())
    return {SYNTH_TASK: companion}


def close_synth(companions: dict[str, Companion]) -> None:
    """Close the synth among ``companions``, if there is one (a file is complete then)."""
    synth = companions.get(SYNTH_TASK)
    if isinstance(synth, SynthCompanion):
        synth.close()


def synth_line(companions: dict[str, Companion]) -> str:
    """``"; synth: ..."`` for the session's start line, or ``""``."""
    synth = companions.get(SYNTH_TASK)
    return f"; {synth.describe()}" if isinstance(synth, SynthCompanion) else ""


def _describe(result: RenderResult) -> str:
    peak = 20 * math.log10(result.peak) if result.peak > 0 else -math.inf
    return (
        f"wrote {result.path} ({result.seconds:.1f} s, {result.notes} notes, "
        f"{result.sample_rate} Hz, peak {peak:.1f} dBFS)"
    )


def render_beside(midi: Path, config: SynthConfig) -> None:
    """Leave ``midi``'s sound beside it as ``.wav``; a missing synth is one line, not a
    failure (the session itself went well)."""
    try:
        result = render_midi(midi, midi.with_suffix(".wav"), config)
    except SynthError as exc:
        _say(f"no .wav beside the recording: {exc}")
        return
    _say(_describe(result))


def render(
    midi: Annotated[Path, typer.Argument(help="A session's recording, or any MIDI file.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="take.wav or .flac (default: .wav beside).")
    ] = None,
    soundfont: SoundfontOpt = None,
    player_program: Annotated[
        int | None, typer.Option("--player-program", help="GM program of the player (0-127).")
    ] = None,
    improviser_program: Annotated[
        int | None,
        typer.Option("--improviser-program", help="GM program of the improviser (0-127)."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file.")] = None,
) -> None:
    """Render a MIDI file to audio offline, each part on its own program."""
    cfg = synth_config(
        config,
        soundfont=soundfont,
        player_program=player_program,
        improviser_program=improviser_program,
    )
    result = render_midi(midi, out or midi.with_suffix(".wav"), cfg)
    print(_describe(result))


def register(app: typer.Typer) -> None:
    """Add ``render`` to ``app``."""
    app.command("render")(render)
