"""The manual's live-session tables (``improviser/bench/doc_tables_live.py``) from small
hand-made results: each figure lands in its row, rounded as the page shows it."""

from __future__ import annotations

from typing import Any

from improviser.bench.doc_tables_live import demo_table, e2e_table, mqtt_table, window_table


def _stats(p50: float, p99: float, top: float, n: int = 10) -> dict[str, float]:
    return {"n": n, "p50_ms": p50, "p99_ms": p99, "max_ms": top, "mean_ms": p50}


def _e2e() -> dict[str, Any]:
    return {
        "floor": _stats(0.8, 1.5, 1.7),
        "relay_floor": _stats(2.0, 2.8, 4.3),
        "e2e": _stats(2.1, 2.9, 3.9),
        "added": {"vs_p50": _stats(1.3, 2.1, 3.1), "per_percentile": _stats(1.3, 1.4, 2.2)},
        "added_vs_relay": {
            "vs_p50": _stats(0.1, 0.9, 1.9),
            "per_percentile": _stats(0.1, 0.1, -0.4),
        },
        "stages": {
            "callback -> loop (threadsafe)": _stats(0.011, 0.021, 0.1),
            "queue -> engine task": _stats(0.032, 0.042, 0.1),
            "engine: step, sample, send": _stats(0.253, 0.503, 0.9),
        },
        "jitter": {
            "answer on (timed)": _stats(0.06, 0.26, 0.32),
            "follow off (timed)": {"n": 0, "p50_ms": float("nan")},
        },
        "answered": 499,
        "notes": 500,
        "stuck_notes": 0,
        "dropped": 1,
        "engine": "native on cpu",
        "call_response": {"phrases": 10, "answers": 9, "unanswered": 1},
        "jack": {
            "period_frames": 64,
            "period_ms": 4 / 3,
            "late_cycles": 1234,
            "client_overruns": 5,
        },
        "loadavg_before": [0.42, 0.3, 0.2],
        "loadavg_after": [0.1, 0.2, 0.2],
        "cpu_count": 2,
    }


def test_e2e_table_rows_and_footer() -> None:
    lines = e2e_table(_e2e()).splitlines()
    assert lines[0] == "| ms | p50 | p99 | max |"
    assert "| JACK floor, direct loopback (1 hop) | 0.800 | 1.500 | 1.70 |" in lines
    assert "| note_on in → answering note_on out | 2.100 | 2.900 | 3.90 |" in lines
    assert "| added above the relay floor, same percentile | 0.100 | 0.100 | -0.40 |" in lines
    assert any(
        line.startswith("| of which:")
        and "| 0.011 / 0.032 / 0.253 | 0.021 / 0.042 / 0.503 |" in line
        for line in lines
    )
    assert any("jitter of timed answer notes" in line and "| 0.060 |" in line for line in lines)
    assert not any("note_offs" in line for line in lines)  # no timed note-off: no row
    assert lines[-1].startswith("499/500 notes answered, 9/10 phrases answered, 0 stuck, 1 dropped")
    assert "1,234 late cycles" in lines[-1]
    assert "load average 0.42 → 0.10 on 2 cores" in lines[-1]


def test_demo_table() -> None:
    summary = {
        "api": "jack",
        "started_jack": True,
        "engine": "numpy on cpu",
        "notes_in": 36,
        "notes_out": 35,
        "phrases": 6,
        "answers": 6,
        "response_sent": {"p50_ms": 355.21, "p99_ms": 382.04, "each_ms": []},
        "response_heard": {"p50_ms": None, "p99_ms": None, "each_ms": []},
        "stuck_notes": 0,
        "recorded": {"player": 36, "improviser": 35},
        "seconds": 33.8,
        "loadavg_after": [1.5, 1.0, 1.0],
        "cpu_count": 2,
    }
    lines = demo_table(summary).splitlines()
    assert "| notes in / out | 36 / 35 |" in lines
    assert "| phrase end → first answer note sent, p50 / p99 | 355.2 / 382.0 ms |" in lines
    assert "| phrase end → first answer note heard at the synth, p50 / p99 | - / - ms |" in lines
    assert "| recorded notes, player / improviser | 36 / 35 |" in lines
    assert "a private JACK server" in lines[-1]
    assert "load average 1.50 on 2 cores" in lines[-1]


def test_window_table_bolds_the_best_and_names_the_modes() -> None:
    def mode(bits: float, p50: float) -> dict[str, Any]:
        return {"bits_per_note": bits, "accuracy": 0.4, "notes": 1000, "latency": {"p50_ms": p50}}

    result = {
        "window": 30,
        "files": 12,
        "modes": {
            "carried": mode(2.44, 0.03),
            "window 30": mode(2.46, 0.8),
            "window 30 every 16": mode(2.45, 0.033),
        },
        "loadavg_1min": 0.5,
    }
    lines = window_table(result).splitlines()
    assert lines[2].startswith("| state carried") and "| **2.440** | 0.400 | 0.030 |" in lines[2]
    assert lines[3].startswith("| fresh 30-note window every note") and "| 2.460 |" in lines[3]
    assert lines[4].startswith("| re-primed from the last 30 notes every 16 notes")
    assert lines[-1] == "12 held-out files, 1,000 notes; load average 0.50."


def test_mqtt_table_one_row_per_run() -> None:
    run = {
        "notes": 300,
        "loadavg_before": [0.4, 0.0, 0.0],
        "loadavg_after": [0.3, 0.0, 0.0],
        "mqtt": {
            "rounds": 2,
            "off": {"n": 600, "p50_ms": 2.128, "p99_ms": 3.155},
            "on": {"n": 599, "p50_ms": 2.084, "p99_ms": 2.848},
            "added_p99_ms": -0.307,
            "per_round": [{"added_p99_ms": -0.02}, {"added_p99_ms": 0.5}],
        },
    }
    lines = mqtt_table({"a.json": run}).splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        "| `a.json` | 0.40 → 0.30 | 2 × 300 | 600 / 599 | 2.128 → 2.084 | 3.155 → 2.848 "
        "| **-0.307** | -0.02, +0.50 |"
    )
