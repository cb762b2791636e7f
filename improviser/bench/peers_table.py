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
    "tf step graph": "TensorFlow step (`tf.function`)",
    "tf step xla": "TensorFlow step, XLA",
    "keras predict (window)": "`model.predict`, 30-note window (the notebook)",
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


def peers_table(result: Mapping[str, Any]) -> str:
    """The peers' rows beside the engines and the notebook's ``model.predict``, as Markdown.

    ``result`` is ``improviser bench latency --json``'s output with the peers run. A
    row's ``× native`` is its p50 over the native engine's p50 for the same model in the
    same rounds (the TensorFlow rows, timed on their own, have none).
    """
    lat = result["latency"]
    rows, peers = lat["rows"], lat["peers"]
    diffs = peers["max_abs_diff_vs_numpy"]
    predict = rows.get("keras predict (window)", {}).get("p50_ms")
    lines = [
        "| path, one note | notes | p50 ms | p99 ms | × native p50 | × `model.predict` p50 "
        "| max \\|Δp\\| vs NumPy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label in LABELS.items():
        if name not in rows:
            continue
        r = rows[name]
        ratio = r.get("vs_native_p50")
        speed = predict / r["p50_ms"] if predict and not name.startswith("harmony") else None
        lines.append(
            f"| {label} | {r['n']:,} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} | "
            f"{'-' if speed is None else f'{speed:,.0f}'} | "
            f"{f'{diffs[name]:.1e}' if name in diffs else '-'} |"
        )
    versions = peers["runtimes"]
    lines += [
        "",
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
