"""``improviser bench``: the benchmark commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from improviser.cli import bench_live
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
    Console().print(table)
    Console().print(f"targets/s ratio improviser / notebook: {result['ratio_targets_per_s']:.1f}×")


ModelOpt = Annotated[Path, typer.Option("--model", "-m", help="Model (.keras).")]


def _ms(value: float) -> str:
    return f"{value:.4f}" if value < 1 else f"{value:.2f}"


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per-note latency of every engine against the notebook's model.predict, start-up, FLOPs."""
    from improviser.bench.latency import run_latency_bench  # noqa: PLC0415

    result = run_latency_bench(
        model,
        notes=notes,
        slow_notes=slow_notes,
        window=window,
        tensorflow=tensorflow,
        startup=startup,
        profile=profile,
        real_notes=real_notes,
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_latency(result)


def print_latency(result: dict[str, Any]) -> None:
    """The tables of ``bench latency``: per-note rows, start-up, the step's phases."""
    console = Console()
    lat = result["latency"]
    flops = lat["flops_per_note"]
    table = Table(
        title=f"per-note latency, LSTM {lat['units']}, {lat['cpu_count']} CPUs, "
        f"load {lat['loadavg_1min']:.2f}"
    )
    table.add_column("path", no_wrap=True)
    for col in ("notes", "p50 ms", "p99 ms", "max ms", "× predict p50", "GFLOP/s"):
        table.add_column(col, justify="right")
    for name, r in lat["rows"].items():
        ratio = r.get("speedup_vs_predict_p50")
        table.add_row(
            name,
            str(r["n"]),
            _ms(r["p50_ms"]),
            _ms(r["p99_ms"]),
            _ms(r["max_ms"]),
            f"{ratio:,.1f}" if ratio else "-",
            f"{r['gflops']:.2f}",
        )
    console.print(table)
    console.print(
        f"FLOPs per note: model {flops['model']:,}, NumPy engine {flops['engine']:,}; "
        f"weights read per note {flops['weight_bytes'] / 2**20:.2f} MiB "
        f"({lat['weight_bandwidth_gb_s']:.0f} GB/s at the NumPy step's p50)"
    )
    _print_startup_and_profile(console, result)


def _print_startup_and_profile(console: Console, result: dict[str, Any]) -> None:
    if result.get("startup"):
        st = Table(title="start-up to ready (fresh process: import improviser, make the engine)")
        for col in ("engine", "wall s", "import→ready s", "first step ms", "RSS MB", "peak MB"):
            st.add_column(col, justify="left" if col == "engine" else "right")
        st.add_column("tensorflow imported")
        for r in result["startup"]:
            st.add_row(
                r["engine_name"],
                f"{r['wall_s']:.2f}",
                f"{r['import_to_ready_s']:.2f}",
                f"{r['first_step_ms']:.2f}",
                f"{r['rss_mb']:.0f}",
                f"{r['hwm_mb']:.0f}",
                "yes" if r["tensorflow_imported"] else "no",
            )
        console.print(st)
    if result.get("profile"):
        pt = Table(title="NumPy step + sampling, by phase (median µs)")
        pt.add_column("phase")
        pt.add_column("µs", justify="right")
        for name, us in result["profile"].items():
            pt.add_row(name, f"{us:.1f}")
        pt.add_row("total", f"{sum(result['profile'].values()):.1f}")
        console.print(pt)


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
            _ms(m["latency"]["p50_ms"]),
            _ms(m["latency"]["p99_ms"]),
        )
    Console().print(table)


@bench_app.command("musicality")
def musicality_cmd(
    data: Annotated[
        list[Path] | None, typer.Argument(help="MIDI files or directories (held-out songs).")
    ] = None,
    model: ModelOpt = DEFAULT_MODEL,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Key, rhythm, motif and register of the model's answers against truth and baselines."""
    from improviser.bench.musicality import (  # noqa: PLC0415
        DEFAULT_KEYS,
        bench_musicality,
        listen_variants,
    )
    from improviser.cli.progress import count_progress  # noqa: PLC0415

    with count_progress("answering calls") as progress:
        result = bench_musicality(
            model,
            data or [CORPUS_DIR],
            calls=calls,
            keys=keys or DEFAULT_KEYS,
            call_notes=call_notes,
            answer_notes=answer_notes,
            seed=seed,
            rhythm_strength=rhythm_strength,
            listen=listen_variants() if listen else None,
            octaves=octaves or (0,),
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
    Console().print(table)
    Console().print(
        f"{result['call_notes']}-note calls, {result['answer_notes']}-note answers; register "
        f"in semitones, shares are means over answers; {result['seconds']:.0f} s",
        highlight=False,
    )


@bench_app.command("e2e")
def e2e_cmd(
    model: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="Model (.keras); default: the bundled one if present."),
    ] = None,
    untrained: Annotated[
        bool, typer.Option("--untrained", help="Random weights of the default model's size.")
    ] = False,
    engine: Annotated[str, typer.Option(help="Step engine: auto, numpy or tf.")] = "auto",
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
    mqtt: Annotated[
        str | None,
        typer.Option(
            "--mqtt",
            help="Broker HOST:PORT: play the follow run again with MQTT on (every note "
            "published) and report both.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """End-to-end latency through JACK: note in -> answering note out, against the JACK floor."""
    from improviser.bench.e2e import E2eOptions, bench_e2e  # noqa: PLC0415

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
            mqtt=mqtt,
        )
    )
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_e2e(result)


def _row(table: Table, name: str, s: dict[str, float]) -> None:
    table.add_row(
        name, str(s.get("n", "")), f"{s['p50_ms']:.3f}", f"{s['p99_ms']:.3f}", f"{s['max_ms']:.2f}"
    )


def _table(title: str) -> Table:
    table = Table(title=title)
    table.add_column("ms", no_wrap=True)
    for col in ("n", "p50", "p99", "max"):
        table.add_column(col, justify="right")
    return table


def _verdict(value: float, target: float) -> str:
    return f"{value:.3f} ms {'meets' if value <= target else 'misses'} the {target:g} ms target"


def print_e2e(result: dict[str, Any]) -> None:
    """The ``bench e2e`` result as tables (80 columns)."""
    console = Console()
    jack = result["jack"]
    server = (
        f"private JACK server (dummy, {jack['period_frames']} frames at {jack['rate']} Hz = "
        f"{jack['period_ms']:.2f} ms; {jack['late_cycles']} late cycles, "
        f"{jack['client_overruns']} client overruns)"
        if jack["private_server"]
        else "the running JACK server"
    )
    load = result["loadavg_before"][0], result["loadavg_after"][0]
    console.print(
        f"engine {result['engine']}; model {result['model']}; {server}; "
        f"{result['cpu_count']} CPUs, load {load[0]:.2f} -> {load[1]:.2f}",
        highlight=False,
    )
    lat = _table(f"end to end, follow mode, {result['notes']} notes")
    _row(lat, "JACK floor: loopback, 1 hop", result["floor"])
    _row(lat, "relay floor: 2 hops", result["relay_floor"])
    _row(lat, "note_on -> answer note_on", result["e2e"])
    _row(lat, "added: e2e - floor p50", result["added"]["vs_p50"])
    _row(lat, "added: e2e - floor, same %ile", result["added"]["per_percentile"])
    _row(lat, "added: e2e - relay p50", result["added_vs_relay"]["vs_p50"])
    _row(lat, "added: e2e - relay, same %ile", result["added_vs_relay"]["per_percentile"])
    console.print(lat)
    stages = _table("where the time goes")
    for name, s in result["stages"].items():
        _row(stages, name, s)
    console.print(stages)
    jitter = _table("jitter: sent - intended (Scheduler.timing)")
    for name, s in result["jitter"].items():
        _row(jitter, name, s)
    console.print(jitter)
    targets = result["targets"]
    added = result["added"]["vs_p50"]["p99_ms"]
    relay = result["added_vs_relay"]["vs_p50"]["p99_ms"]
    timed = [s["p99_ms"] for name, s in result["jitter"].items() if "timed" in name and s.get("n")]
    lines = [
        f"added p99 over the floor's p50: {_verdict(added, targets['added_p99_ms'])}",
        f"added p99 over the relay's p50: {_verdict(relay, targets['added_p99_ms'])}",
    ]
    if timed:
        lines.append(f"timed jitter p99 (worst): {_verdict(max(timed), targets['jitter_p99_ms'])}")
    cr = result["call_response"]
    lines.append(
        f"answered {result['answered']}/{result['notes']} notes "
        f"({result['notes_in']} reached the engine)"
        + (f", {cr['answers']}/{cr['phrases']} phrases" if cr else "")
        + f"; stuck at the synth: {result['stuck_notes']}; dropped: {result['dropped']}; "
        f"{result['seconds']:.0f} s"
    )
    if result.get("mqtt"):
        lines.append(_mqtt_line(result["mqtt"]))
    for line in lines:
        console.print(line, highlight=False)


def _mqtt_line(mqtt: dict[str, Any]) -> str:
    """MQTT off beside on, in one line."""
    off, on = mqtt["off"], mqtt["on"]
    verdict = "meets" if mqtt["added_p99_ms"] <= mqtt["target_added_p99_ms"] else "misses"
    return (
        f"MQTT ({mqtt['broker']}, every note published): e2e p50 {off['p50_ms']:.3f} -> "
        f"{on['p50_ms']:.3f} ms, p99 {off['p99_ms']:.3f} -> {on['p99_ms']:.3f} ms; added p99 "
        f"{mqtt['added_p99_ms']:+.3f} ms {verdict} the {mqtt['target_added_p99_ms']:g} ms target"
        f"; {on['n']} answers, {mqtt['notes_skipped']} notes skipped, "
        f"{mqtt['mqtt_dropped']} dropped"
    )


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the main app."""
    app.add_typer(bench_app, name="bench")


bench_live.add_commands(bench_app)
