"""Tables of the manual written from the JSON the benchmarks and ``evaluate`` leave in
``samples/``, so no figure in them is typed by hand (``python -m improviser.cli.docs``
puts them in the pages; a test keeps the pages equal to them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "e2e_modes_table",
    "evaluation_table",
    "finetune_table",
    "networks_table",
    "soak_rows_table",
    "soak_table",
    "step_cost_table",
    "synth_table",
    "training_table",
]


def _units(meta: Mapping[str, Any], key: str) -> str:
    units = meta.get("config", {}).get("model", {}).get(key, [])
    return " → ".join(str(unit) for unit in units)


def _stack(meta: Mapping[str, Any]) -> str:
    """The recurrent stack of a classes model, e.g. ``LSTM 128 → 64`` or ``GRU 148 → 74``."""
    cell = str(meta.get("config", {}).get("model", {}).get("cell", "lstm"))
    return f"{cell.upper()} {_units(meta, 'lstm_units')}"


def evaluation_table(
    evaluation: Mapping[str, Any],
    model: Mapping[str, Any],
    regression: Mapping[str, Any] | None = None,
) -> str:
    """The held-out scores of ``improviser evaluate --json`` (``evaluation``) as a table;
    ``model`` and ``regression`` are the metadata (``M.json``) of the models scored."""
    baselines = evaluation.get("baselines", {})
    stm = evaluation.get("with_stm")
    rows: list[tuple[str, Mapping[str, Any]]] = [
        (
            f"**improviser** ({_stack(model)}, {evaluation['objective']})",
            evaluation,
        )
    ]
    if stm is not None:
        rows.append(("**improviser + short-term model** (blended note by note)", stm))
    if "stm" in baselines:
        order = f", order {stm['max_order']}" if stm is not None else ""
        rows.append((f"short-term model alone (the piece so far{order})", baselines["stm"]))
    if "unigram" in baselines:
        rows.append(("unigram (add-one, over the augmented range)", baselines["unigram"]))
    orders = sorted(
        int(name.removeprefix("ngram")) for name in baselines if name.startswith("ngram")
    )
    rows += [
        (f"n-gram, {n} notes of context (PPM-C blend)", baselines[f"ngram{n}"]) for n in orders
    ]
    if "regression" in baselines:
        units = _units(regression, "regression_units") if regression else ""
        label = f"notebook regression (LSTM {units}, MSE)" if units else "notebook regression"
        rows.append((label, baselines["regression"]))
    best = min(scores["bits_per_note"] for _, scores in rows)
    lines = ["| model | pitch bits/note | top-1 | top-5 |", "| --- | ---: | ---: | ---: |"]
    for label, scores in rows:
        bits = f"{scores['bits_per_note']:.3f}"
        if scores["bits_per_note"] == best:
            bits = f"**{bits}**"
        top5 = f"{scores['top5']:.3f}" if "top5" in scores else "-"
        lines.append(f"| {label} | {bits} | {scores['accuracy']:.3f} | {top5} |")
    return "\n".join(lines)


def training_table(models: Mapping[str, Mapping[str, Any]]) -> str:
    """How each model was trained, from its metadata (``M.json``; file name -> metadata)."""
    lines = [
        "| model | objective | network | epochs | minutes | notes/s | stopped by "
        "| best val loss (epoch) | corpus files / notes | TensorFlow |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for name, meta in models.items():
        training, corpus = meta.get("training", {}), meta.get("corpus", {})
        val = list(meta.get("history", {}).get("val_loss", []))
        best = f"{min(val):.3f} ({val.index(min(val)) + 1})" if val else "-"
        regressive = meta.get("objective") == "regression"
        stack = f"LSTM {_units(meta, 'regression_units')}" if regressive else _stack(meta)
        lines.append(
            f"| `{name}` | {meta.get('objective', '-')} | {stack} "
            f"| {training.get('epochs', '-')} | {training.get('seconds', 0) / 60:.1f} "
            f"| {training.get('notes_per_second', 0):,.0f} | {training.get('stopped_by', '-')} "
            f"| {best} | {corpus.get('files', 0):,} / {corpus.get('notes', 0):,} "
            f"| {training.get('tensorflow', '-')} |"
        )
    return "\n".join(lines)


def _span(values: Sequence[float], digits: int) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:.{digits}f}–{high:.{digits}f}"


def _column(rows: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    return [float(row[key]) for row in rows if row.get(key) is not None]


def soak_table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    """One row per ``improviser bench soak --json`` result (file name -> its JSON)."""
    lines = [
        "| run | min | phrases answered | stuck | player messages lost by JACK "
        "| dropped by us | anon MB first → last | anon growth (second half) | RSS growth "
        "| answer p99 first → last, ms | engine per note-on p50 / p99 a minute, ms "
        "| steal a minute, % | JACK late cycles / client overruns (whole run) "
        "| load before → after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: |",
    ]
    for name, run in runs.items():
        summary, rows, jack = run["summary"], run["rows"], run.get("jack", {})
        phrases = summary["answered"] + summary["unanswered"]
        first, last = summary["latency_p99_first_last_ms"]
        accompany = run["options"].get("mode") == "accompany"
        answered = f"{phrases} accompanied" if accompany else f"{summary['answered']} / {phrases}"
        answer_p99 = "– (no answers)" if accompany else f"{first:.2f} → {last:.2f}"
        steal = _column(rows, "steal_pct")
        lines.append(
            " | ".join(
                [
                    f"| `{name}`",
                    f"{run['options']['seconds'] / 60:.0f}",
                    answered,
                    f"{summary['stuck']}",
                    f"{summary['input_lost']} / {summary['input_sent']:,}",
                    f"{summary['dropped']}",
                    f"{rows[0]['anon_mb']:.1f} → {rows[-1]['anon_mb']:.1f}",
                    f"{summary['anon_growth_pct']:+.1f} % "
                    f"({summary['anon_growth_second_half_pct']:+.1f} %)",
                    f"{summary['rss_growth_pct']:+.1f} %",
                    answer_p99,
                    f"{_span(_column(rows, 'engine_p50_ms'), 3)} / "
                    f"{_span(_column(rows, 'engine_p99_ms'), 2)}",
                    _span(steal, 2) if steal else "not measured",
                    f"{jack.get('late_cycles', 0):,} / {jack.get('client_overruns', 0):,}",
                    f"{run['loadavg_before'][0]:.2f} → {run['loadavg_after'][0]:.2f} |",
                ]
            )
        )
    return "\n".join(lines)


def synth_table(result: Mapping[str, Any]) -> str:
    """The synth off beside on, from ``improviser bench e2e --synth --json``."""
    synth = result["synth"]
    off, on = synth["off"], synth["on"]
    lines = [
        "| measure | synth off | synth on | on − off |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key in (("engine stage", "engine"), ("player → answer at the synth", "e2e")):
        for pct in ("p50", "p99"):
            a, b = off[key][f"{pct}_ms"], on[key][f"{pct}_ms"]
            lines.append(f"| {label} {pct}, ms | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    a, b = off["cpu_s_per_min"], on["cpu_s_per_min"]
    lines.append(
        f"| CPU of the session's process, s per minute of playing | {a:.2f} | {b:.2f} "
        f"| **{b - a:+.2f}** ({(b - a) / 60:+.1%} of a core) |"
    )
    if "synth_threads_cpu_s_per_min" in synth:  # runs before it was read per thread lack it
        own = synth["synth_threads_cpu_s_per_min"]
        lines.append(
            f"| CPU of FluidSynth's own {synth['synth_threads']} threads, s per minute of "
            f"playing | — | {own:.2f} | **{own:+.2f}** ({own / 60:+.1%} of a core) |"
        )
    p50s = ", ".join(f"{r['engine_added_p50_ms']:+.3f}" for r in synth["per_round"])
    p99s = ", ".join(f"{r['engine_added_p99_ms']:+.3f}" for r in synth["per_round"])
    cpu = ", ".join(f"{r['cpu_added_s_per_min']:+.2f}" for r in synth["per_round"])
    jack = result["jack"]
    lines += [
        "",
        f"{synth['rounds']} rounds of a synth-off and a synth-on follow run of "
        f"{result['notes']} notes each (order flipping each round), "
        f"{off['engine']['n']} / {on['engine']['n']} answered notes pooled per arm, "
        f"{synth['synth_notes_played']:,} notes sounded by the synth, "
        f"{synth['synth_events_dropped']} events dropped by it; JACK at "
        f"{jack['period_frames']} frames ({jack['period_ms']:.2f} ms; the whole run: "
        f"{jack['late_cycles']:,} late cycles, {jack['client_overruns']:,} client overruns). "
        f"By round, engine stage added p50: {p50s} ms, p99: {p99s} ms; synth CPU: {cpu} s/min. "
        f"Load average {result['loadavg_before'][0]:.2f} → {result['loadavg_after'][0]:.2f} "
        f"on {result['cpu_count']} cores.",
    ]
    return "\n".join(lines)


def e2e_modes_table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    """``bench e2e --mode follow|accompany --json`` runs side by side: the player's note to
    the first note answering it at the synth, against the relay floor of the same run."""
    lines = [
        "| run | load | relay floor p50 / p99 | e2e p50 / p99 | added over the relay, "
        "same %ile, p50 / p99 | engine stage p50 / p99 | notes answered / sent, stuck |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in runs.items():
        relay, e2e, engine = r["relay_floor"], r["e2e"], r["stages"]["engine: step, sample, send"]
        added = r["added_vs_relay"]["per_percentile"]
        lines.append(
            f"| {name} ({r.get('mode', 'follow')}) | {r['loadavg_before'][0]:.1f} "
            f"| {relay['p50_ms']:.2f} / {relay['p99_ms']:.2f} "
            f"| {e2e['p50_ms']:.2f} / {e2e['p99_ms']:.2f} "
            f"| {added['p50_ms']:.2f} / {added['p99_ms']:.2f} "
            f"| {engine['p50_ms']:.3f} / {engine['p99_ms']:.3f} "
            f"| {r['answered']} / {r['notes']}, {r['stuck_notes']} |"
        )
    lines += [
        "",
        "Milliseconds. Load: the 1-minute load average when the run began, on "
        f"{next(iter(runs.values()))['cpu_count']} cores.",
    ]
    return "\n".join(lines)


def soak_rows_table(run: Mapping[str, Any]) -> str:
    """One soak's rows (``improviser bench soak --json``): memory, phrases and latency for
    each interval, as it went."""
    lines = [
        "| minute | anon MB | RSS MB | tasks | phrases answered | stuck | answer p50 / p99, "
        "ms | engine per note-on p50 / p99, ms | JACK late cycles / client overruns |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in run["rows"]:
        phrases = row["answered"] + row["unanswered"]
        lines.append(
            f"| {row['t_s'] / 60:.0f} | {row['anon_mb']:.1f} | {row['rss_mb']:.1f} "
            f"| {row['tasks']} | {row['answered']} / {phrases} | {row['stuck']} "
            f"| {row['latency_p50_ms']:.2f} / {row['latency_p99_ms']:.2f} "
            f"| {row['engine_p50_ms']:.3f} / {row['engine_p99_ms']:.3f} "
            f"| {row['late_cycles']:,} / {row['client_overruns']:,} |"
        )
    return "\n".join(lines)


def finetune_table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    """``improviser train --finetune`` runs: each model's ``finetune`` metadata (a label
    for the base model -> its figures), scored before and after on the player's held-out
    files and on the base's held-out tunes (the forgetting guard)."""
    lines = [
        "| base model | held-out set | bits/note before | after | top-1 before | after |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, run in runs.items():
        for key, held in (("player", "the player's held-out sessions"),
                          ("base", "the corpus's held-out tunes (forgetting guard)")):  # fmt: skip
            before, after = run["before"][key], run["after"][key]
            bits = f"{after['bits_per_note']:.3f}"
            if key == "player" and after["bits_per_note"] < before["bits_per_note"]:
                bits = f"**{bits}**"
            lines.append(
                f"| {label} | {held} | {before['bits_per_note']:.3f} | {bits} "
                f"| {before['accuracy']:.3f} | {after['accuracy']:.3f} |"
            )
    first = next(iter(runs.values()))
    files = first["player_files"]
    lines += [
        "",
        f"The player's files: {files['train']} trained on, {files['test']} held out; "
        f"learning rate {first['learning_rate']:g}; forgetting allowed "
        f"{first['max_forgetting']:g} bits/note; "
        + "; ".join(
            f"{label}: {run['seconds']:.0f} s, forgetting {run['forgetting']:+.3f}"
            for label, run in runs.items()
        )
        + ".",
    ]
    return "\n".join(lines)


def networks_table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """Held-out scores of several models side by side, one ``improviser evaluate --json``
    result per row (its ``network`` says what was scored and how long it trained)."""
    lines = [
        "| model | network | epochs (stopped by) | pitch bits/note | with the short-term model "
        "| IOI bits | duration bits | pitch top-1 / top-5 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, ev in rows.items():
        net = ev.get("network", {})
        stack = f"{str(net.get('cell', 'lstm')).upper()} " + " → ".join(
            str(u) for u in net.get("units", [])
        )
        epochs = f"{net.get('epochs', '-')} ({net.get('stopped_by') or 'stopped by hand'})"
        stm = ev.get("with_stm", {}).get("bits_per_note")
        lines.append(
            f"| {label} | {stack} | {epochs} | {ev['bits_per_note']:.3f} "
            f"| {'-' if stm is None else f'{stm:.3f}'} | {ev['ioi_bits']:.3f} "
            f"| {ev['duration_bits']:.3f} | {ev['accuracy']:.3f} / {ev['top5']:.3f} |"
        )
    first = next(iter(rows.values()))
    lines.append("")
    lines.append(
        f"{first['files']} held-out files ({first['notes']:,} notes), each model scored by "
        "`improviser evaluate --json`."
    )
    return "\n".join(lines)


def step_cost_table(result: Mapping[str, Any]) -> str:
    """The per-note step of each network and engine, timed in one interleaved run
    (``samples/model/arch/step_cost.py``)."""
    lines = ["| network, engine | notes | p50 ms | p99 ms |", "| --- | ---: | ---: | ---: |"]
    for row, t in result.items():
        if isinstance(t, Mapping):
            lines.append(f"| {row} | {t['notes']:,} | {t['p50_ms']:.3f} | {t['p99_ms']:.3f} |")
    lines.append("")
    lines.append(
        f"Random weights of each shape, 10 interleaved rounds; load average "
        f"{result['loadavg_1min']:.2f} on this 2-core machine at the end."
    )
    return "\n".join(lines)
