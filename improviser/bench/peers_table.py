"""The manual's table of the peer runtimes (``bench latency``'s JSON), never typed by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LABELS", "peers_table"]

LABELS = {
    "native step, beside peers": "native engine (C)",
    "numpy step, beside peers": "NumPy engine",
    "onnxruntime step": "**ONNX Runtime**",
    "litert step": "**LiteRT**",
    "harmony step, native": "harmony: native engine (C)",
    "harmony step, numpy": "harmony: NumPy engine",
    "harmony step, onnxruntime": "harmony: **ONNX Runtime**",
    "harmony step, litert": "harmony: **LiteRT**",
}
"""The rows the table shows, in order, and their labels."""


def _loads(loads: object) -> str:
    if not isinstance(loads, list | tuple):
        return "-"
    return " / ".join(f"{v:.2f}" for v in loads)


_PEER_ROWS = {
    "melody": {"ONNX Runtime": "onnxruntime step", "LiteRT": "litert step"},
    "harmony": {"ONNX Runtime": "harmony step, onnxruntime", "LiteRT": "harmony step, litert"},
}


def _claim(rows: Mapping[str, Any]) -> str:
    """One sentence: how many times the native engine's p50 each peer's step takes."""
    parts = []
    for model, named in _PEER_ROWS.items():
        ratios = [
            f"{label} {rows[name]['vs_native_p50']:.1f}×"
            for label, name in named.items()
            if "vs_native_p50" in rows.get(name, {})
        ]
        if ratios:
            parts.append(f"{model} model: {', '.join(ratios)}")
    return (
        "A peer's step takes this many times the native engine's (p50, same rounds): "
        + "; ".join(parts)
        + "."
    )


def peers_table(result: Mapping[str, Any]) -> str:
    """The peers' rows beside the engines they took turns with, as Markdown.

    ``result`` is ``improviser bench latency --json``'s output with the peers run. A
    row's ``× native`` is its p50 over the native engine's p50 for the same model in the
    same rounds. The rows timed on their own (TensorFlow, ``model.predict``) are left to
    the page's main table: on a shared machine a ratio across minutes measures the load.
    """
    lat = result["latency"]
    rows, peers = lat["rows"], lat["peers"]
    diffs = peers["max_abs_diff_vs_numpy"]
    lines = [
        "| path, one note | notes | p50 ms | p99 ms | × native p50 | max \\|Δp\\| vs NumPy |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label in LABELS.items():
        if name not in rows:
            continue
        r = rows[name]
        ratio = r.get("vs_native_p50")
        lines.append(
            f"| {label} | {r['n']:,} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} | "
            f"{f'{diffs[name]:.1e}' if name in diffs else '-'} |"
        )
    versions = peers["runtimes"]
    lines += ["", _claim(rows), ""]
    lines += [
        f"ONNX Runtime {versions['onnxruntime']} (CPU provider, ONNX opset "
        f"{peers['onnx_opset']} from tf2onnx) and LiteRT {versions['litert']} (XNNPACK) "
        f"with {peers['threads']} thread each, the step converted from TensorFlow "
        f"{peers['tensorflow']}; |Δp|: the largest difference of any probability from the "
        f"NumPy engine's over the first {peers['agreement_notes']} notes. The engines and "
        f"the peers of one model took turns of {peers['block_notes']} notes. Timed on "
        f"{lat['cpu_count']} CPUs at a load average (1 / 5 / 15 min) of "
        f"{_loads(peers.get('loadavg_start'))} as the peers' rows started and "
        f"{_loads(peers.get('loadavg_end'))} as they ended.",
    ]
    return "\n".join(lines)
