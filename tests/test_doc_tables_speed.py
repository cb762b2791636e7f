"""The manual's per-note cost tables (``improviser/bench/doc_tables_speed.py``) from a
small hand-made ``bench latency --json`` result."""

from __future__ import annotations

from typing import Any

from improviser.bench.doc_tables_speed import engines_table, speed_table, startup_table


def _row(p50: float, p99: float, top: float, n: int = 2000, **extra: float) -> dict[str, Any]:
    return {"n": n, "p50_ms": p50, "p99_ms": p99, "max_ms": top, **extra}


def _result() -> dict[str, Any]:
    return {
        "startup": [
            {
                "engine": "numpy",
                "engine_name": "numpy",
                "import_to_ready_s": 0.104,
                "first_step_ms": 0.52,
                "rss_mb": 33.4,
                "tensorflow_imported": False,
            },
        ],
        "latency": {
            "units": [128, 64],
            "flops_per_note": {"model": 330_000, "engine": 260_000, "weight_bytes": 2**20},
            "numpy": "2.3.0",
            "loadavg_1min": 0.6,
            "cpu_count": 2,
            "rows": {
                "keras predict (window)": _row(48.7, 57.9, 59.0, 200, speedup_vs_predict_p50=1),
                "numpy window (30)": _row(0.871, 1.28, 1.29, 200),
                "numpy step": _row(0.028, 0.057, 0.113, speedup_vs_predict_p50=1739.3),
                "native step": _row(0.014, 0.03, 0.05),
                "numpy, 100-500 ms apart": _row(0.5, 0.7, 0.9, 100),
                "native, 100-500 ms apart": _row(0.3, 0.6, 0.8, 100),
                "onnxruntime step": _row(0.05, 0.08, 0.1),
            },
        },
    }


def test_every_row_in_order_with_its_label_and_speedup() -> None:
    lines = speed_table(_result()).splitlines()
    assert lines[2] == (
        "| `model.predict` on a 30-note window (the notebook) | 200 | 48.7 | 57.9 | 59.0 | 1.0 |"
    )
    assert (
        lines[3] == "| NumPy, a fresh 30-note window each note | 200 | 0.871 | 1.280 | 1.290 | - |"
    )
    assert lines[4] == "| `numpy step` | 2,000 | 0.028 | 0.057 | 0.113 | 1,739.3 |"
    assert "| `onnxruntime step` | 2,000 | 0.050 |" in lines[8]
    assert lines[-1] == (
        "Model: LSTM 128 → 64; 0.33 MFLOP a note (0.26 in the engine), 1.00 MiB of weights "
        "read; NumPy 2.3.0; load average 0.60 on 2 cores."
    )
    kept = speed_table(
        _result(), keep=lambda name: name.startswith("native"), speedup=False
    ).splitlines()
    assert kept[0] == "| path | notes | p50 ms | p99 ms | max ms |"
    assert kept[2:4] == [
        "| `native step` | 2,000 | 0.014 | 0.030 | 0.050 |",
        "| `native, 100-500 ms apart` | 100 | 0.300 | 0.600 | 0.800 |",
    ]


def test_the_engines_side_by_side() -> None:
    lines = engines_table(_result()).splitlines()
    assert lines[2] == "| `ENGINE step` | 2,000 | 0.028 / 0.057 / 0.113 | 0.014 / 0.030 / 0.050 |"
    assert lines[3] == (
        "| `ENGINE, 100-500 ms apart` | 100 | 0.500 / 0.700 / 0.900 | 0.300 / 0.600 / 0.800 |"
    )
    assert not any("window" in line or "onnxruntime" in line for line in lines)


def test_startup() -> None:
    lines = startup_table(_result()).splitlines()
    assert lines[2] == "| `numpy` | numpy | 0.10 | 0.5 | 33 | no |"
