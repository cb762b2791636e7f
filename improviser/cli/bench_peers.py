"""The peer runtimes' table of ``bench latency``: the same model on ONNX Runtime and LiteRT."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from improviser.cli.bench_tables import ms_text
from improviser.cli.report import report

__all__ = ["print_peers"]


def print_peers(result: dict[str, Any]) -> None:
    """The peers' rows beside the engines they are measured against (or why none ran)."""
    peers = result["latency"].get("peers")
    if not peers:
        return
    console = report()
    if "skipped" in peers:
        console.print(f"peer runtimes: {peers['skipped']}", highlight=False)
        return
    rows = result["latency"]["rows"]
    versions = ", ".join(f"{k} {v}" for k, v in peers["runtimes"].items())
    table = Table(title=f"one step per note, state carried: {versions}, {peers['threads']} thread")
    table.add_column("path", no_wrap=True)
    for col in ("notes", "p50 ms", "p99 ms", "× native p50", "max |Δp| vs NumPy"):
        table.add_column(col, justify="right")
    diffs = peers["max_abs_diff_vs_numpy"]
    for name in peers["baselines"]:
        r = rows[name]
        table.add_row(
            name,
            str(r["n"]),
            ms_text(r["p50_ms"]),
            ms_text(r["p99_ms"]),
            f"{r['vs_native_p50']:.2f}",
            f"{diffs[name]:.1e}" if name in diffs else "-",
        )
    console.print(table)
    console.print(
        f"× native p50: the row's p50 over the native engine's, same model, in turns of "
        f"{peers['block_notes']} notes; |Δp| over the first {peers['agreement_notes']} notes; "
        f"load {peers['loadavg_start'][0]:.2f} -> {peers['loadavg_end'][0]:.2f}",
        highlight=False,
    )
