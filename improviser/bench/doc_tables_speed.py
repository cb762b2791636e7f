"""Tables of the manual about the per-note cost, from the JSON that ``improviser bench
latency --json`` leaves in ``samples/latency/`` (``python -m improviser.cli.docs`` puts
them in the pages). Rows the tables do not know by name are shown by their JSON name, so
a row a newer bench adds still appears."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["engines_table", "speed_table", "startup_table"]

LABELS = {
    "keras predict (window)": "`model.predict` on a 30-note window (the notebook)",
    "keras eager (window)": "eager `model(x)` on the window",
    "tf step graph": "compiled TF step (`tf.function`, state carried)",
    "tf step xla": "compiled TF step, XLA",
}
"""The slow rows' labels in a table (the rest are shown by their bench name)."""
ENGINES = ("numpy", "native")
"""The engines the side-by-side table compares (the bench names its rows by them)."""


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    window = re.fullmatch(r"numpy window \((\d+)\)", name)
    if window:
        return f"NumPy, a fresh {window[1]}-note window each note"
    return f"`{name}`"


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _footer(latency: Mapping[str, Any]) -> str:
    flops = latency["flops_per_note"]
    return (
        f"Model: {latency.get('cell', 'lstm').upper()} "
        f"{' → '.join(str(u) for u in latency['units'])}; "
        f"{flops['model'] / 1e6:.2f} MFLOP a note ({flops['engine'] / 1e6:.2f} in the engine), "
        f"{flops['weight_bytes'] / 2**20:.2f} MiB of weights read; NumPy {latency['numpy']}; "
        f"load average {latency['loadavg_1min']:.2f} on {latency['cpu_count']} cores."
    )


def speed_table(
    result: Mapping[str, Any],
    keep: Callable[[str], bool] | None = None,
    *,
    speedup: bool = True,
) -> str:
    """Every row of ``bench latency --json`` (or those ``keep`` passes), in its order:
    notes timed, p50 / p99 / max ms and (``speedup``) the speed-up over
    ``model.predict``'s p50."""
    latency = result["latency"]
    lines = [
        "| path | notes | p50 ms | p99 ms | max ms |"
        + (" × `model.predict` p50 |" if speedup else ""),
        "| --- | ---: | ---: | ---: | ---: |" + (" ---: |" if speedup else ""),
    ]
    for name, row in latency["rows"].items():
        if keep is not None and not keep(name):
            continue
        times = (
            f"| {_label(name)} | {row['n']:,} | {_ms(row['p50_ms'])} | {_ms(row['p99_ms'])} "
            f"| {_ms(row['max_ms'])} |"
        )
        if speedup:
            ratio = row.get("speedup_vs_predict_p50")
            times += f" {'-' if ratio is None else f'{ratio:,.1f}'} |"
        lines.append(times)
    lines += ["", _footer(latency)]
    return "\n".join(lines)


def startup_table(result: Mapping[str, Any]) -> str:
    """Start-up in a fresh process (``bench latency`` without ``--no-startup``)."""
    lines = [
        "| engine asked for | made | import to ready, s | first step, ms | resident MB "
        "| TensorFlow imported |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for run in result["startup"]:
        lines.append(
            f"| `{run['engine']}` | {run['engine_name']} | {run['import_to_ready_s']:.2f} "
            f"| {run['first_step_ms']:.1f} | {run['rss_mb']:.0f} "
            f"| {'yes' if run['tensorflow_imported'] else 'no'} |"
        )
    return "\n".join(lines)


def _engine_of(name: str) -> tuple[str, str] | None:
    """(the row with the engine's name taken out, the engine), for an engine's row."""
    for engine in ENGINES:
        pattern = rf"\b{engine}\b"
        if re.search(pattern, name) and not name.startswith(f"{engine} window"):
            return re.sub(pattern, "ENGINE", name, count=1), engine
    return None


def engines_table(result: Mapping[str, Any]) -> str:
    """The rows both engines have (:data:`ENGINES`), side by side: p50 / p99 / max ms."""
    latency = result["latency"]
    pairs: dict[str, dict[str, Mapping[str, Any]]] = {}
    for name, row in latency["rows"].items():
        found = _engine_of(name)
        if found is not None:
            pairs.setdefault(found[0], {})[found[1]] = row
    lines = [
        "| row (ms; ENGINE: the engine of the column) | notes | "
        + " | ".join(f"{e} p50 / p99 / max" for e in ENGINES)
        + " |",
        "| --- | ---: |" + " ---: |" * len(ENGINES),
    ]
    for key, by_engine in pairs.items():
        if len(by_engine) < len(ENGINES):
            continue
        n = by_engine[ENGINES[0]]["n"]
        cells = " | ".join(
            f"{_ms(r['p50_ms'])} / {_ms(r['p99_ms'])} / {_ms(r['max_ms'])}"
            for r in (by_engine[e] for e in ENGINES)
        )
        lines.append(f"| `{key}` | {n:,} | {cells} |")
    lines += ["", _footer(latency)]
    return "\n".join(lines)
