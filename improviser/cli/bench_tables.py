"""The tables of ``bench latency``, ``bench e2e`` and ``bench inputs``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from improviser.cli.report import report

__all__ = ["ms_text", "print_e2e", "print_inputs", "print_latency", "print_variants"]


def ms_text(value: float) -> str:
    return f"{value:.4f}" if value < 1 else f"{value:.2f}"


def print_latency(result: dict[str, Any]) -> None:
    """The tables of ``bench latency``: per-note rows, start-up, the step's phases."""
    console = report()
    lat = result["latency"]
    flops = lat["flops_per_note"]
    table = Table(
        title=f"per-note latency, {lat.get('cell', 'lstm').upper()} {lat['units']}, "
        f"{lat['cpu_count']} CPUs, "
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
            ms_text(r["p50_ms"]),
            ms_text(r["p99_ms"]),
            ms_text(r["max_ms"]),
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
    console = report()
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
    lat = _table(f"end to end, {result.get('mode', 'follow')} mode, {result['notes']} notes")
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
    if result.get("synth"):
        lines.append(_synth_line(result["synth"]))
    for line in lines:
        console.print(line, highlight=False)


def _mqtt_line(mqtt: dict[str, Any]) -> str:
    """MQTT off beside on, in one line."""
    off, on = mqtt["off"], mqtt["on"]
    verdict = "meets" if mqtt["added_p99_ms"] <= mqtt["target_added_p99_ms"] else "misses"
    rounds = ", ".join(f"{r['added_p99_ms']:+.3f}" for r in mqtt["per_round"])
    return (
        f"MQTT ({mqtt['broker']}, every note published, {mqtt['rounds']} rounds off/on): e2e "
        f"p50 {off['p50_ms']:.3f} -> {on['p50_ms']:.3f} ms, p99 {off['p99_ms']:.3f} -> "
        f"{on['p99_ms']:.3f} ms; added p99 {mqtt['added_p99_ms']:+.3f} ms {verdict} the "
        f"{mqtt['target_added_p99_ms']:g} ms target (by round: {rounds} ms); {on['n']} answers, "
        f"{mqtt['notes_skipped']} notes skipped, {mqtt['mqtt_dropped']} dropped"
    )


def _synth_line(synth: dict[str, Any]) -> str:
    """The built-in synth off beside on, in one line."""
    off, on = synth["off"], synth["on"]
    rounds = ", ".join(f"{r['engine_added_p99_ms']:+.3f}" for r in synth["per_round"])
    return (
        f"synth ({synth['rounds']} rounds off/on, {synth['synth_notes_played']} notes sounded): "
        f"engine stage p50 {off['engine']['p50_ms']:.3f} -> {on['engine']['p50_ms']:.3f} ms, "
        f"p99 {off['engine']['p99_ms']:.3f} -> {on['engine']['p99_ms']:.3f} ms (added p99 by "
        f"round: {rounds} ms); e2e p99 {off['e2e']['p99_ms']:.3f} -> {on['e2e']['p99_ms']:.3f} "
        f"ms; CPU {off['cpu_s_per_min']:.2f} -> {on['cpu_s_per_min']:.2f} s per minute of "
        f"playing (synth {synth['cpu_added_s_per_min']:+.2f} s/min; its own threads "
        f"{synth['synth_threads_cpu_s_per_min']:.2f} s/min)"
    )


def print_inputs(result: dict[str, Any]) -> None:
    """The ``bench inputs`` result: one row per variant, gains over ``none``."""
    print_variants(
        result,
        f"extra inputs: {result['epochs']} epochs each, LSTM {result['lstm_units']}",
        "inputs",
    )


def print_variants(result: dict[str, Any], title: str, first: str, cost: bool = False) -> None:
    """One row per trained variant (``bench inputs``, ``bench arch``), gains over the
    baseline; ``cost`` adds the multiply-adds and step time of each network."""
    console = report()
    table = Table(
        title=f"{title}, {result['files']['test']} test files ({result['test_notes']:,} notes)"
    )
    table.add_column(first, no_wrap=True)
    cols = ["pitch bits", "Δ pitch", "total bits", "Δ total", "top-1", "val loss", "epochs", "s"]
    for col in [*cols, *(("k MACs", "step p99 ms") if cost else ())]:
        table.add_column(col, justify="right")
    for name, row in result["variants"].items():
        spread = row.get("spread")
        cells = [
            name,
            f"{row['pitch_bits']:.3f}" + (f" ±{spread['pitch_bits'] / 2:.3f}" if spread else ""),
            f"{row['pitch_gain_bits']:+.3f}" if "pitch_gain_bits" in row else "-",
            f"{row['total_bits']:.3f}" + (f" ±{spread['total_bits'] / 2:.3f}" if spread else ""),
            f"{row['total_gain_bits']:+.3f}" if "total_gain_bits" in row else "-",
            f"{row['accuracy']:.3f}",
            f"{row['val_loss']:.3f}",
            f"{row['epochs']:.1f}",
            f"{row['seconds']:.0f}",
        ]
        if cost:
            step = row.get("step")
            cells += [
                f"{row['multiply_adds'] / 1000:.0f}",
                f"{step['p99_ms']:.4f}" if step else "-",
            ]
        table.add_row(*cells)
    console.print(table)
    console.print(
        f"Δ: bits/note saved against {result['baseline']} (positive is better); total = pitch "
        f"+ IOI + duration + velocity; {result['repeats']} model(s) per variant, ± half their "
        f"spread; {result['cpu_count']} CPUs, load {result['load_1min_before']:.2f} -> "
        f"{result['load_1min_after']:.2f}; {result['seconds']:.0f} s",
        highlight=False,
    )
