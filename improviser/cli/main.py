"""The ``improviser`` command line (typer).

Every option also lives in the TOML config (``--config FILE``); an option given on the
command line wins over the file. A user's mistake (:class:`ImproviserError`) is printed
as one line on stderr with exit code 2, never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from improviser.cli.style import StyleOpt
from improviser.config import Config, load_config, with_overrides
from improviser.config.styles import melody_model_for
from improviser.errors import ConfigError, ImproviserError
from improviser.paths import CORPUS_DIR

__all__ = ["app", "main"]

app = typer.Typer(
    name="improviser",
    help="A real-time MIDI improviser: train, generate, evaluate, play live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config file (see config/default.toml).")
]


def _config(path: Path | None) -> Config:
    return load_config(path)


def _units(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise ConfigError(f"--lstm-units must be comma-separated integers, got {text!r}") from exc


@app.command()
def train(
    data: Annotated[list[Path], typer.Argument(help="MIDI files or directories of them.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model file to write (.keras).")],
    config: ConfigOpt = None,
    objective: Annotated[
        str | None, typer.Option(help="classes (default) or regression (the notebook's model).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Most epochs to train.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Sequences per batch.")] = None,
    window: Annotated[int | None, typer.Option(help="Notes of context (live window).")] = None,
    seq_len: Annotated[int | None, typer.Option(help="Training sequence length.")] = None,
    stride: Annotated[int | None, typer.Option(help="Notes between sequence starts.")] = None,
    lstm_units: Annotated[str | None, typer.Option(help="LSTM sizes, e.g. 256,128,64.")] = None,
    cell: Annotated[str | None, typer.Option(help="Recurrent layer: lstm (default), gru.")] = None,
    dropout: Annotated[float | None, typer.Option(help="Dropout between LSTM layers.")] = None,
    checkpoint_every: Annotated[int | None, typer.Option(help="Checkpoint every N epochs.")] = None,
    patience: Annotated[int | None, typer.Option(help="Early-stopping patience (epochs).")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Stop after this long.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Checkpoint (.keras) to resume.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the split and training.")] = None,
    finetune: Annotated[
        Path | None,
        typer.Option(help="Fine-tune this model (.keras) on DATA instead of training anew."),
    ] = None,
    part: Annotated[
        str | None,
        typer.Option(help="Read only the track of this name (e.g. player); others: whole."),
    ] = None,
    base_data: Annotated[
        list[Path] | None,
        typer.Option(help="The base model's corpus, for the forgetting guard (repeatable)."),
    ] = None,
    learning_rate: Annotated[
        float | None, typer.Option(help="Fine-tuning learning rate (default 3e-4).")
    ] = None,
    max_forgetting: Annotated[
        float | None, typer.Option(help="Bits/note the base's held-out set may lose.")
    ] = None,
    held_out: Annotated[
        float | None,
        typer.Option(help="Share of DATA held out to score a fine-tune (and to validate it)."),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(help="melody (the top line) or harmony (the voices under it)."),
    ] = "melody",
) -> None:
    """Train a model on MIDI files; writes MODEL.keras, .json, .npz and .history.csv.

    --kind melody (default) learns the top line of each file; --kind harmony learns the
    lower voices under each melody onset (four-part files part by part, any other file
    as its top line and the notes under it).

    With --finetune BASE.keras, trains BASE further on DATA (a player's session recordings
    with --part player, or any folder of their MIDI files), scoring a held-out share of
    DATA and the base's own held-out set before and after.
    """
    from improviser.training.train import train as run_train  # noqa: PLC0415

    cfg = with_overrides(
        _config(config),
        data={
            "window": window,
            "seq_len": seq_len,
            "stride": stride,
            "seed": seed,
            "part": part,
        },
        model={
            "objective": objective,
            "cell": cell,
            "lstm_units": _units(lstm_units),
            "dropout": dropout,
        },
        train={
            "epochs": epochs,
            "batch_size": batch_size,
            "checkpoint_every": checkpoint_every,
            "patience": patience,
            "max_minutes": max_minutes,
        },
    )
    from improviser.cli.progress import TrainingProgress  # noqa: PLC0415

    if kind == "harmony":
        from improviser.cli.train_harmony import train_harmony_command  # noqa: PLC0415

        melody_only: dict[str, object] = {"--window": window, "--seq-len": seq_len}
        melody_only |= {"--stride": stride, "--cell": cell}
        melody_only |= {"--finetune": finetune, "--objective": objective, "--part": part}
        harmony = {"lstm_units": _units(lstm_units), "dropout": dropout}
        train_harmony_command(data, out, cfg, resume, melody_only, harmony)
        return
    if kind != "melody":
        raise ConfigError(f"--kind must be melody or harmony, got {kind!r}")
    if finetune is not None:
        tuning = {
            "learning_rate": learning_rate,
            "max_forgetting": max_forgetting,
            "held_out_share": held_out,
        }
        _finetune(finetune, data, out, cfg, base_data, tuning)
        return
    with TrainingProgress(console) as progress:
        result = run_train(data, out, cfg, resume=resume, report=progress.report)
    hist = result.history
    last = {k: v[-1] for k, v in hist.items() if v}
    console.print(
        f"saved [bold]{result.model_path}[/] after {result.epochs} epochs in "
        f"{result.seconds:.0f} s ({result.notes_per_second:,.0f} notes/s); "
        + ", ".join(f"{k} {v:.4f}" for k, v in sorted(last.items()))
    )


def _finetune(
    base: Path,
    data: list[Path],
    out: Path,
    cfg: Config,
    base_data: list[Path] | None,
    tuning: dict[str, float | None],
) -> None:
    from improviser.cli.progress import TrainingProgress  # noqa: PLC0415
    from improviser.training.finetune import finetune  # noqa: PLC0415

    if base_data is None:
        base_data = [CORPUS_DIR] if CORPUS_DIR.is_dir() else []
    options = {k: v for k, v in tuning.items() if v is not None}
    with TrainingProgress(console) as progress:
        figures = finetune(
            base, data, out, cfg, base_data=base_data, report=progress.report, **options
        )
    table = Table(title=f"fine-tuned {base.name} -> {out}")
    for column in ("held-out set", "bits/note before", "after", "top-1 before", "after"):
        table.add_column(column, justify="left" if column == "held-out set" else "right")
    for name, label in (("player", "the player's sessions"), ("base", "the base's corpus")):
        if name in figures["before"]:
            b, a = figures["before"][name], figures["after"][name]
            table.add_row(
                label,
                f"{b['bits_per_note']:.3f}",
                f"{a['bits_per_note']:.3f}",
                f"{b['accuracy']:.3f}",
                f"{a['accuracy']:.3f}",
            )
    console.print(table)
    console.print(f"{figures['seconds']:.0f} s; figures in {out.with_suffix('.json')} (finetune)")


@app.command()
def generate(
    seed: Annotated[Path, typer.Option("--seed", "-s", help="Seed MIDI file to continue.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="MIDI file to write.")],
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Model (.keras).")] = None,
    style: StyleOpt = None,
    config: ConfigOpt = None,
    notes: Annotated[
        int | None, typer.Option(help="Exactly this many notes (default: the answer length rule).")
    ] = None,
    answer_length: Annotated[
        str | None,
        typer.Option(help="How long the answer is: notes, beats, bars, or call (as the seed)."),
    ] = None,
    answer_beats: Annotated[
        float | None, typer.Option(help="Answer length in beats (--answer-length beats).")
    ] = None,
    answer_bars: Annotated[
        int | None, typer.Option(help="Answer length in bars (--answer-length bars).")
    ] = None,
    answer_start: Annotated[
        str | None,
        typer.Option(help="First note: now (right after the seed), beat (next beat), bar."),
    ] = None,
    answer_delay: Annotated[
        float | None, typer.Option(help="Seconds of rest after the seed before the answer.")
    ] = None,
    rhythm_strength: Annotated[
        float | None,
        typer.Option(help="How strongly the note values follow the seed's (0: the model's own)."),
    ] = None,
    rhythm_memory: Annotated[
        float | None,
        typer.Option(help="Share of each IOI taken from the seed's rhythmic motifs (0: off)."),
    ] = None,
    rhythm_guard: Annotated[
        float | None,
        typer.Option(help="Weight of the IOIs that take the pace off the seed's (1: off)."),
    ] = None,
    key: Annotated[
        str | None, typer.Option(help='Key to keep to: auto, off, or e.g. "D minor".')
    ] = None,
    chord_lean: Annotated[
        float | None,
        typer.Option(
            help="Strong-beat notes: the chord under the seed's melody this many times "
            "likelier (1: off)."
        ),
    ] = None,
    replay_guard: Annotated[
        str | None,
        typer.Option(help="Keep from replaying the seed: penalty, stm, discount or off."),
    ] = None,
    short_term: Annotated[
        bool | None,
        typer.Option(
            "--short-term/--no-short-term", help="Blend in a short-term model of the seed."
        ),
    ] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling mass.")] = None,
    top_k: Annotated[int | None, typer.Option(help="Keep the k likeliest pitches.")] = None,
    random_seed: Annotated[int | None, typer.Option(help="Seed of the sampler.")] = None,
    include_seed: Annotated[
        bool | None, typer.Option("--include-seed/--no-include-seed", help="Write the seed too.")
    ] = None,
) -> None:
    """Continue a seed melody and write it as a MIDI file: answered as a live call is,
    with the config's answer settings (the options here change them for this run)."""
    from improviser.inference.generate import generate as run_generate  # noqa: PLC0415

    model = melody_model_for(model, style)
    cfg = with_overrides(
        _config(config),
        generate={
            "notes": notes,
            "answer_length": answer_length,
            "answer_beats": answer_beats,
            "answer_bars": answer_bars,
            "answer_start": answer_start,
            "answer_delay": answer_delay,
            "rhythm_strength": rhythm_strength,
            "rhythm_memory": rhythm_memory,
            "rhythm_guard": rhythm_guard,
            "key": key,
            "chord_lean": chord_lean,
            "replay_guard": replay_guard,
            "short_term": short_term,
            "sampling.temperature": temperature,
            "sampling.top_p": top_p,
            "sampling.top_k": top_k,
            "sampling.seed": random_seed,
            "include_seed": include_seed,
        },
    )
    result = run_generate(model, seed, out, cfg.generate)
    seconds = max((n.end for n in result.notes), default=0.0) - min(
        (n.start for n in result.notes), default=0.0
    )
    console.print(
        f"wrote [bold]{result.path}[/]: {result.seed_notes} seed notes + {len(result.notes)} "
        f"generated ({seconds:.1f} s at {result.bpm:.0f} bpm)"
    )


@app.command()
def plot(
    source: Annotated[Path, typer.Argument(help="A .mid (piano roll) or a model (curves).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="PNG to write.")] = None,
) -> None:
    """Draw a piano roll of a MIDI file, or the training curves of a model."""
    from improviser.training.plot import plot_pianoroll, plot_training  # noqa: PLC0415

    target = out or source.with_suffix(".png")
    if source.suffix in (".keras", ".json"):
        written = plot_training(source, target)
    else:
        written = plot_pianoroll(source, target)
    console.print(f"wrote [bold]{written}[/]")


def _register_extensions() -> None:
    from improviser.cli.evaluate import register as register_evaluate  # noqa: PLC0415

    register_evaluate(app)
    from improviser.cli.bench import register as register_bench  # noqa: PLC0415

    register_bench(app)
    from improviser.cli.live import register as register_live  # noqa: PLC0415

    register_live(app)
    from improviser.cli.mqtt import register as register_mqtt  # noqa: PLC0415

    register_mqtt(app)
    from improviser.cli.sound import register as register_sound  # noqa: PLC0415

    register_sound(app)
    from improviser.cli.web import register as register_web  # noqa: PLC0415

    register_web(app)
    from improviser.cli.harmonize import register as register_harmonize  # noqa: PLC0415

    register_harmonize(app)


_register_extensions()


def main() -> None:
    """Console-script entry point: one line and exit 2 for a user's mistake."""
    try:
        app(standalone_mode=True)
    except ImproviserError as exc:
        # Plain print: one line however wide the terminal, no markup to mangle a path.
        print(f"improviser: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BaseExceptionGroup as group:
        # A task group's failure: where every failure in it is a user-facing error, say
        # the first in one line, as above; anything else is a bug and keeps its traceback.
        errors, rest = group.split(ImproviserError)
        if errors is None or rest is not None:
            raise
        print(f"improviser: error: {_first_leaf(errors)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def _first_leaf(group: BaseExceptionGroup[ImproviserError]) -> BaseException:
    first: BaseException = group
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first
