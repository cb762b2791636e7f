"""The manual's soak table: answers counted in call and response, not in accompany mode."""

from __future__ import annotations

from typing import Any

from improviser.bench.doc_tables import soak_table


def _run(mode: str) -> dict[str, Any]:
    rows = [
        {"anon_mb": 40.0, "engine_p50_ms": 0.2, "engine_p99_ms": 1.0, "steal_pct": 0.5},
        {"anon_mb": 41.0, "engine_p50_ms": 0.3, "engine_p99_ms": 2.0, "steal_pct": 1.0},
    ]
    summary = {
        "answered": 0 if mode == "accompany" else 9, "unanswered": 10 if mode == "accompany" else 1,
        "stuck": 0, "input_lost": 2, "input_sent": 1000, "dropped": 0,
        "anon_growth_pct": 2.5, "anon_growth_second_half_pct": 0.1, "rss_growth_pct": 0.4,
        "latency_p99_first_last_ms": [3.0, 4.0],
    }  # fmt: skip
    return {"summary": summary, "rows": rows, "jack": {"late_cycles": 5, "client_overruns": 7},
            "options": {"seconds": 600.0, "mode": mode},
            "loadavg_before": [1.0], "loadavg_after": [1.5]}  # fmt: skip


def test_a_soak_row_says_answered_or_accompanied() -> None:
    table = soak_table({"a.json": _run("call-response"), "b.json": _run("accompany")})
    answering, accompanying = table.splitlines()[2:]
    assert "| 9 / 10 | 0 |" in answering and "| 3.00 → 4.00 |" in answering
    assert "| 10 accompanied | 0 |" in accompanying and "– (no answers)" in accompanying
    assert "9 / 10" not in accompanying
