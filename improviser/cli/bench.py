"""``improviser bench``: the benchmark commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from improviser.cli import (
    bench_arch,
    bench_inputs,
    bench_install,
    bench_live,
    bench_musicality,
    bench_sync,
)
from improviser.cli.bench_tables import ms_text, print_e2e, print_latency
from improviser.cli.report import report
from improviser.config import load_config, with_overrides
from improviser.errors import ConfigError
from improviser.paths import CORPUS_DIR, DEFAULT_MODEL

__all__ = ["bench_app", "register"]

bench_app = typer.Typer(help="Benchmarks: each prints a table, or JSON with --json.")


@bench_app.command("train")
def train_cmd(
    data: Annotated[list[Path] | None, typer.Argument(help="MIDI files or directories.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    steps: Annotated[int, typer.Option(help="Timed batch steps per model.")] = 30,
    batch_size: Annotated[int | None, typer.Option(help="Sequences per batch.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Training throughput (notes/s) of the model against the notebook's, same run."""
    from improviser.bench.training import bench_training  # noqa: PLC0415

    cfg = with_overrides(load_config(config), train={"batch_size": batch_size})
    result = bench_training(data or [CORPUS_DIR], cfg, steps=steps)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table(
        title=f"training throughput, batch {result['batch_size']}, TF {result['tensorflow']}"
    )
    for col in ("model", "step p50 ms", "step p99 ms", "notes/s", "targets/s"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for name in ("improviser", "notebook_regression"):
        r = result[name]
        table.add_row(
            name,
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['notes_per_s']:,.0f}",
            f"{r['targets_per_s']:,.0f}",
        )
    report().print(table)
    report().print(f"targets/s ratio improviser / notebook: {result['ratio_targets_per_s']:.1f}×")


ModelOpt = Annotated[Path, typer.Option("--model", "-m", help="Model (.keras).")]


@bench_app.command("latency")
def latency_cmd(
    model: ModelOpt = DEFAULT_MODEL,
    notes: Annotated[int, typer.Option(help="Notes timed per fast row (>= 2000 for p99).")] = 2000,
    slow_notes: Annotated[
        int, typer.Option(help="Notes timed per slow row (Keras, window).")
    ] = 200,
    window: Annotated[int, typer.Option(help="Notes in the notebook's window.")] = 30,
    tensorflow: Annotated[
        bool, typer.Option("--tensorflow/--no-tensorflow", help="Include the Keras/TF rows.")
    ] = True,
    startup: Annotated[
        bool, typer.Option("--startup/--no-startup", help="Measure start-up in subprocesses.")
    ] = True,
    profile: Annotated[bool, typer.Option(help="Also time each phase of the NumPy step.")] = False,
    real_notes: Annotated[
        int, typer.Option(help="Notes per row at 100-500 ms spacing (~0.3 s each; 0: none).")
    ] = 100,
    real_engine: Annotated[
        list[str] | None,
        typer.Option(help="Engine timed at a player's spacing (repeat; default: every one)."),
    ] = None,
    peers: Annotated[
        bool,
        typer.Option(
            "--peers/--no-peers",
            help="Also the same models exported to ONNX Runtime and LiteRT (the bench extra).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per-note latency of every engine against the notebook's model.predict, start-up, FLOPs."""
    from improviser.bench.latency import CPU_ENGINES, run_latency_bench  # noqa: PLC0415
    from improviser.cli.bench_peers import print_peers  # noqa: PLC0415

    chosen = tuple(real_engine or CPU_ENGINES)
    if unknown := sorted(set(chosen) - set(CPU_ENGINES)):
        raise ConfigError(f"--real-engine must be one of {', '.join(CPU_ENGINES)}, got {unknown}")

    result = run_latency_bench(
        model,
        notes=notes,
        slow_notes=slow_notes,
        window=window,
        tensorflow=tensorflow,
        startup=startup,
        profile=profile,
        real_notes=real_notes,
        real_engines=chosen,
        peers=peers,
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_latency(result)
    print_peers(result)


@bench_app.command("window")
def window_cmd(
    data: Annotated[list[Path], typer.Argument(help="MIDI files or directories (held-out).")],
    model: ModelOpt = DEFAULT_MODEL,
    window: Annotated[int, typer.Option(help="Notes in the window.")] = 30,
    every: Annotated[
        list[int] | None, typer.Option(help="Re-prime every k notes (repeatable; 1 = fresh).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Bits/note and latency: carried LSTM state against a fresh N-note window."""
    from improviser.bench.window import compare_windows  # noqa: PLC0415

    result = compare_windows(model, data, window=window, every=every or [1])
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table(
        title=f"carried state vs {window}-note window, {result['files']} held-out files "
        f"(model trained on {result['trained_seq_len']}-note sequences)"
    )
    table.add_column("mode", no_wrap=True)
    for col in ("notes", "bits", "Δ bits", "acc", f"bits > {window} (n)", "p50 ms", "p99 ms"):
        table.add_column(col, justify="right")
    for name, m in result["modes"].items():
        beyond = m.get("beyond_window")
        table.add_row(
            name,
            str(m["notes"]),
            f"{m['bits_per_note']:.3f}",
            f"{m['bits_vs_carried']:+.3f}",
            f"{m['accuracy']:.3f}",
            f"{beyond['bits_per_note']:.3f} ({beyond['notes']})" if beyond else "-",
            ms_text(m["latency"]["p50_ms"]),
            ms_text(m["latency"]["p99_ms"]),
        )
    report().print(table)


@bench_app.command("e2e")
def e2e_cmd(
    model: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="Model (.keras); default: the bundled one if present."),
    ] = None,
    untrained: Annotated[
        bool, typer.Option("--untrained", help="Random weights of the default model's size.")
    ] = False,
    engine: Annotated[str, typer.Option(help="Step engine: auto, numpy, native or tf.")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or gpu.")] = "auto",
    notes: Annotated[int, typer.Option(help="Notes played in follow mode (>= 500 for p99).")] = 500,
    min_gap: Annotated[float, typer.Option(help="Shortest time between notes, s.")] = 0.1,
    max_gap: Annotated[float, typer.Option(help="Longest time between notes, s.")] = 0.25,
    phrases: Annotated[
        int, typer.Option(help="Phrases of the call-and-response run (0: none).")
    ] = 10,
    answer_notes: Annotated[int, typer.Option(help="Notes per call-and-response answer.")] = 8,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the sessions (as live does).")
    ] = True,
    jack_period: Annotated[
        int, typer.Option(help="Frames per period of a private JACK server (48 kHz).")
    ] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the notes played and of the sampler.")] = 0,
    jack_input: Annotated[
        str, typer.Option(help="live.jack_input: auto (the C input) or rtmidi.")
    ] = "auto",
    mqtt: Annotated[
        str | None,
        typer.Option(
            "--mqtt",
            help="Broker HOST:PORT: play the follow run again in rounds with MQTT off and "
            "on (every note published) and report both.",
        ),
    ] = None,
    mqtt_delay_ms: Annotated[
        float, typer.Option(help="With --mqtt: mqtt.publish_delay_ms of the bridge.")
    ] = 10.0,
    mqtt_rounds: Annotated[
        int, typer.Option(min=1, help="With --mqtt: rounds of an off and an on follow run.")
    ] = 2,
    synth: Annotated[
        bool,
        typer.Option(
            "--synth",
            help="Play the follow run again in rounds with the built-in synth off and on; "
            "report its CPU per minute and the engine stage of both.",
        ),
    ] = False,
    synth_rounds: Annotated[
        int, typer.Option(min=1, help="With --synth: rounds of an off and an on follow run.")
    ] = 2,
    mode: Annotated[
        str,
        typer.Option(
            help="The measured run: follow (a note after each note) or accompany (the "
            "voices under each note, from the harmony model)."
        ),
    ] = "follow",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """End-to-end latency through JACK: note in -> answering note out, against the JACK floor."""
    from improviser.bench.e2e import E2eOptions, bench_e2e  # noqa: PLC0415

    if mode not in ("follow", "accompany"):
        raise ConfigError(f"--mode must be follow or accompany, got {mode!r}")
    if notes < 1 or not 0 < min_gap <= max_gap:
        raise ConfigError(
            f"need notes >= 1 and 0 < min_gap <= max_gap, got {notes}, {min_gap}..{max_gap}"
        )
    result = bench_e2e(
        E2eOptions(
            model=model,
            untrained=untrained,
            engine=engine,
            device=device,
            notes=notes,
            min_gap=min_gap,
            max_gap=max_gap,
            phrases=phrases,
            answer_notes=answer_notes,
            record=record,
            jack_period=jack_period,
            seed=seed,
            jack_input=jack_input,
            mqtt=mqtt,
            mqtt_delay_ms=mqtt_delay_ms,
            mqtt_rounds=mqtt_rounds,
            synth=synth,
            synth_rounds=synth_rounds,
            mode=mode,
        )
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_e2e(result)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the main app."""
    app.add_typer(bench_app, name="bench")


bench_live.add_commands(bench_app)
bench_inputs.add_commands(bench_app)
bench_sync.add_commands(bench_app)
bench_install.add_commands(bench_app)
bench_arch.add_commands(bench_app)
bench_musicality.add_commands(bench_app)
