"""The manual's per-style tables (``docs/musicality.md``, block ``styles``): each bundled
style's melody model on its own held-out pieces (``improviser evaluate``), its per-note
step (``improviser bench latency``) and its answers (``improviser bench musicality``),
from the JSON those commands left in ``samples/``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from improviser.config.styles import STYLES
from improviser.paths import ROOT

__all__ = [
    "ANSWER_ROWS",
    "STYLE_RESULTS",
    "answers_table",
    "models_table",
    "style_results",
    "styles_block",
]

STYLE_RESULTS = ROOT / "samples" / "musicality" / "styles"
"""Where each style's ``NAME.musicality.json`` and ``NAME.latency.json`` are kept."""

ANSWER_ROWS: tuple[tuple[str, str], ...] = (
    ("replay", "replays (>= 8 notes of the call in order)"),
    ("transposed_replay", "transposed replays (apart)"),
    ("motif_reuse", "4-note shapes of the call reused"),
    ("grid", "onsets on the call's grid"),
    ("drift", "note values off by 2x (median IOI)"),
    ("key", "in the call's key"),
    ("leaps", "leaps > 7 semitones"),
)
"""The musicality rows shown per style: (metric, label); each the mean over answers."""

ANSWERERS = {"generate": "generate", "live": "live", "truth": "real"}
"""The bench's answerers shown, and their headings."""


_STOPPED = {"max_minutes": "time limit"}
"""How the training's ``stopped_by`` reads in the table, where it is not plain."""


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def style_results() -> dict[str, dict[str, dict[str, Any]]]:
    """Each style's results: ``evaluate``, ``model`` (its metadata), ``latency`` and
    ``musicality``, read from the files the commands left."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, style in STYLES.items():
        model = style.melody_model
        out[name] = {
            "evaluate": _read(model.with_name(f"{model.stem}.evaluate.json")),
            "model": _read(model.with_suffix(".json")),
            "latency": _read(STYLE_RESULTS / f"{name}.latency.json"),
            "musicality": _read(STYLE_RESULTS / f"{name}.musicality.json"),
        }
    return out


def _step(latency: Mapping[str, Any], engine: str) -> str:
    row = latency["latency"]["rows"].get(f"{engine} step")
    return "-" if row is None else f"{row['p50_ms']:.3f} / {row['p99_ms']:.3f}"


def models_table(results: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One row per style: the model, its held-out figures against its own n-grams, the
    per-note step's p50 and p99 in the NumPy and C engines and the load it was timed at."""
    lines = [
        "| style | melody model | trained | held-out pieces / notes | bits/note | "
        "+ short-term model | best n-gram | step p50 / p99, NumPy (ms) | C (ms) | load |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        ev, meta, lat = r["evaluate"], r["model"], r["latency"]
        training = meta["training"]
        best = ev["best_ngram"]
        model = meta.get("config", {}).get("model", {})
        stack = f"{str(model.get('cell', 'lstm')).upper()} " + " → ".join(
            str(u) for u in model.get("lstm_units", [])
        )
        lines.append(
            f"| `{name}` | `{Path(ev['model']).name}` ({stack}) "
            f"| {training['epochs']} epochs, {training['seconds'] / 60:.0f} min "
            f"({_STOPPED.get(training['stopped_by'], training['stopped_by'])}) "
            f"| {ev['files']} / {ev['notes']:,} | {ev['bits_per_note']:.3f} "
            f"| {ev['with_stm']['bits_per_note']:.3f} "
            f"| {ev['baselines'][best]['bits_per_note']:.3f} ({best.replace('ngram', 'order ')}) "
            f"| {_step(lat, 'numpy')} | {_step(lat, 'native')} "
            f"| {lat['latency']['loadavg_1min']:.1f} |"
        )
    return "\n".join(lines)


def answers_table(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    rows: Sequence[tuple[str, str]] = ANSWER_ROWS,
) -> str:
    """The answers of each style's model on its own held-out calls, on the ``generate``
    and ``live`` paths, beside the pieces' real continuations."""
    heads = [f"{name} `{label}`" for name in results for label in ANSWERERS.values()]
    lines = [
        "| share of answers / notes | " + " | ".join(heads) + " |",
        "| --- |" + " ---: |" * len(heads),
    ]
    for metric, label in rows:
        cells = [
            f"{r['musicality']['metrics'][answerer][metric]['mean']:.3f}"
            for r in results.values()
            for answerer in ANSWERERS
        ]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    lines.append("")
    for name, r in results.items():
        m = r["musicality"]
        lines.append(
            f"- `{name}`: {m['answers']:,} answers ({m['calls']} held-out calls × "
            f"{len(m['keys'])} keys, {m['call_notes']}-note calls, {m['answer_notes']}-note "
            f"answers), {m['seconds']:.0f} s at load average {m['loadavg_1min']:.1f}."
        )
    return "\n".join(lines)


def styles_block() -> str:
    """The ``styles`` block of ``docs/musicality.md``: both tables."""
    results = style_results()
    return models_table(results) + "\n\n" + answers_table(results)
