"""Tables of the manual about a live session through JACK, from the JSON that
``improviser demo --json``, ``improviser bench e2e --json``, ``improviser bench window
--json`` and ``improviser bench sync --json`` leave in ``samples/`` (``python -m
improviser.cli.docs`` puts them in the pages)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["demo_table", "e2e_table", "mqtt_table", "sync_table", "window_table"]


def _pair(a: float | None, b: float | None, digits: int = 1) -> str:
    def one(v: float | None) -> str:
        return "-" if v is None or math.isnan(v) else f"{v:.{digits}f}"

    return f"{one(a)} / {one(b)}"


def _load(result: Mapping[str, Any], key: str = "loadavg_before") -> str:
    return f"{result[key][0]:.2f}"


def demo_table(summary: Mapping[str, Any]) -> str:
    """The summary of ``improviser demo --json`` as the getting-started page shows it."""
    sent, heard, rec = summary["response_sent"], summary["response_heard"], summary["recorded"]
    lines = [
        "| measure | value |",
        "| --- | ---: |",
        f"| notes in / out | {summary['notes_in']} / {summary['notes_out']} |",
        f"| phrases / answers | {summary['phrases']} / {summary['answers']} |",
        "| phrase end → first answer note sent, p50 / p99 | "
        f"{_pair(sent['p50_ms'], sent['p99_ms'])} ms |",
        "| phrase end → first answer note heard at the synth, p50 / p99 | "
        f"{_pair(heard['p50_ms'], heard['p99_ms'])} ms |",
        f"| stuck notes found | {summary['stuck_notes']} |",
        f"| recorded notes, player / improviser | {' / '.join(str(v) for v in rec.values())} |",
        "",
        f"Engine: {summary['engine'] or '-'}; MIDI API: {summary['api']}"
        f"{' (a private JACK server)' if summary['started_jack'] else ''}; "
        f"{summary['seconds']:.0f} s; load average {_load(summary, 'loadavg_after')} on "
        f"{summary['cpu_count']} cores when it ended.",
    ]
    return "\n".join(lines)


def _row(label: str, stats: Mapping[str, Any], digits: int = 3) -> str:
    return (
        f"| {label} | {stats['p50_ms']:.{digits}f} | {stats['p99_ms']:.{digits}f} "
        f"| {stats['max_ms']:.2f} |"
    )


def e2e_table(result: Mapping[str, Any]) -> str:
    """``improviser bench e2e --json``: the floors, note in to answer out, what the
    improviser adds above each floor, its stages, and the timed notes' jitter."""
    stages, jitter = result["stages"], result["jitter"]
    parts = (
        stages["callback -> loop (threadsafe)"],
        stages["queue -> engine task"],
        stages["engine: step, sample, send"],
    )
    lines = [
        "| ms | p50 | p99 | max |",
        "| --- | ---: | ---: | ---: |",
        _row("JACK floor, direct loopback (1 hop)", result["floor"]),
        _row("JACK floor, callback relay (2 hops)", result["relay_floor"]),
        _row("note_on in → answering note_on out", result["e2e"]),
        _row("added above the relay floor's p50", result["added_vs_relay"]["vs_p50"]),
        _row(
            "added above the relay floor, same percentile",
            result["added_vs_relay"]["per_percentile"],
        ),
        _row("added above the direct floor's p50", result["added"]["vs_p50"]),
        "| of which: callback → loop / queue → engine / engine (step, sample, send) | "
        + " | ".join(" / ".join(f"{p[f'{q}_ms']:.3f}" for p in parts) for q in ("p50", "p99"))
        + " | |",
    ]
    for label, key in (
        ("jitter of timed answer notes, note_on (sent − intended)", "answer on (timed)"),
        ("jitter of timed note_offs (follow)", "follow off (timed)"),
    ):
        if jitter.get(key, {}).get("n"):
            lines.append(_row(label, jitter[key]))
    jack, cr = result["jack"], result.get("call_response")
    phrases = f", {cr['answers']}/{cr['phrases']} phrases answered" if cr else ""
    lines += [
        "",
        f"{result['answered']}/{result['notes']} notes answered{phrases}, "
        f"{result['stuck_notes']} stuck, {result['dropped']} dropped; engine "
        f"{result['engine']}; JACK at {jack['period_frames']} frames "
        f"({jack['period_ms']:.2f} ms; the whole run: {jack['late_cycles']:,} late cycles, "
        f"{jack['client_overruns']:,} client overruns); load average "
        f"{_load(result)} → {_load(result, 'loadavg_after')} on {result['cpu_count']} cores.",
    ]
    return "\n".join(lines)


def window_table(result: Mapping[str, Any]) -> str:
    """``improviser bench window --json``: carried state against re-primed windows."""
    labels = {"carried": "state carried from note to note (what `live` and `generate` do)"}
    lines = [
        "| mode | pitch bits/note | top-1 | p50 ms / note |",
        "| --- | ---: | ---: | ---: |",
    ]
    modes = result["modes"]
    best = min(m["bits_per_note"] for m in modes.values())
    for name, mode in modes.items():
        label = labels.get(name, name)
        if name == f"window {result['window']}":
            label = f"fresh {result['window']}-note window every note (the notebook's semantics)"
        elif name.startswith("window ") and " every " in name:
            k = name.rsplit(" ", 1)[1]
            label = f"re-primed from the last {result['window']} notes every {k} notes"
        bits = f"{mode['bits_per_note']:.3f}"
        lines.append(
            f"| {label} | {f'**{bits}**' if mode['bits_per_note'] == best else bits} "
            f"| {mode['accuracy']:.3f} | {mode['latency']['p50_ms']:.3f} |"
        )
    notes = next(iter(modes.values()))["notes"]
    load = f"; load average {result['loadavg_1min']:.2f}" if "loadavg_1min" in result else ""
    lines += ["", f"{result['files']} held-out files, {notes:,} notes{load}."]
    return "\n".join(lines)


def mqtt_table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    """``improviser bench e2e --mqtt ... --json`` runs (file name -> JSON): the follow
    run's e2e latency with the MQTT bridge off and on, pooled over the rounds."""
    lines = [
        "| run | load before → after | rounds × notes | answered off / on "
        "| e2e p50 off → on, ms | e2e p99 off → on, ms | added p99 pooled | by round |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for name, r in runs.items():
        m = r["mqtt"]
        off, on = m["off"], m["on"]
        rounds = ", ".join(f"{x['added_p99_ms']:+.2f}" for x in m["per_round"])
        lines.append(
            f"| `{name}` | {_load(r)} → {_load(r, 'loadavg_after')} "
            f"| {m['rounds']} × {r['notes']} | {off['n']:,} / {on['n']:,} "
            f"| {off['p50_ms']:.3f} → {on['p50_ms']:.3f} "
            f"| {off['p99_ms']:.3f} → {on['p99_ms']:.3f} "
            f"| **{m['added_p99_ms']:+.3f}** | {rounds} |"
        )
    return "\n".join(lines)


def _span(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}" if values else "-"


def sync_table(result: Mapping[str, Any]) -> str:
    """``improviser bench sync --json``: answers on an outside clock's grid, the tempo
    followed, ``--clock-out``'s ticks at an outside client."""
    a, out, jack, change = (result[k] for k in ("answers", "clock_out", "jack", "tempo_change"))
    e, late, done = a["error"], a["late_to_plan"], a["runs"] - a["failed"]
    tempo = [abs(t) for t in a["tempo_off_pct"]]
    median = f"{sorted(tempo)[len(tempo) // 2]:.1f}" if tempo else "-"
    lines = [
        "| measure | figure |",
        "| --- | --- |",
        "| answer note-ons vs the master's tick at their planned place, at an outside client "
        f"| p50 {e['p50_ms']:.1f} ms, p99 {e['p99_ms']:.1f} ms, max {e['max_ms']:.1f} ms over "
        f"{a['runs']} runs ({a['notes_heard']} of {a['notes_sent']} notes heard: an answer at "
        f"{change['from_bpm']:g} bpm, then one after stop/continue and a change to "
        f"{change['to_bpm']:g} bpm); per run p50 {_span(a['run_p50_ms'])} ms, p99 "
        f"{_span(a['run_p99_ms'])} ms; {a['failed']} runs failed |",
        "| the same note-ons at the synth after the time the session planned them "
        "(what the session and JACK added, apart from where it placed them) "
        f"| p50 {late['p50_ms']:.1f} ms, p99 {late['p99_ms']:.1f} ms, "
        f"max {late['max_ms']:.1f} ms |",
        f"| ticks the session counted lost | {a['lost_ticks']} in {done} runs |",
        "| `--clock-out` tick jitter at an outside client (distance from the fitted grid) "
        f"| p50 {out['p50_ms']:.2f} ms, p99 {out['p99_ms']:.2f} ms ({out['ticks']} ticks at "
        f"{out['bpm']:g} bpm, {out['lost']} lost) |",
        f"| tempo change {change['from_bpm']:g} → {change['to_bpm']:g} bpm followed "
        f"| {change['read_after_beats']} beats after: off by {median} % (median), at most "
        f"{a['tempo_max_abs_off_pct']:.1f} % |",
        "",
        f"Model {result['model']}, engine {result['engine']}; JACK dummy driver at "
        f"{jack['period_frames']} frames ({jack['period_ms']:.2f} ms; the whole run: "
        f"{jack['late_cycles']:,} late cycles, {jack['client_overruns']:,} client overruns); "
        f"the master (a process of its own) sent its ticks up to "
        f"{a['master_late_p99_ms']:.1f} ms late (p99 of a run); {result['seconds']:.0f} s; "
        f"load average {_load(result)} → {_load(result, 'loadavg_after')} on "
        f"{result['cpu_count']} cores.",
    ]
    return "\n".join(lines)
