"""The latency and window benchmarks run on a tiny model and return well-formed results."""

from __future__ import annotations

import json
import math

from typer.testing import CliRunner

from improviser.bench.latency import (
    bench_latency,
    flops_per_note,
    measure_startup,
    profile_numpy_step,
)
from improviser.bench.window import compare_windows
from improviser.cli.bench import bench_app
from improviser.inference import NumpyEngine, load_weights, random_weights
from tests.model_fixtures import Trained


def test_flops_are_counted_from_the_shapes() -> None:
    w = random_weights((8,), embedding=2)
    f = flops_per_note(w)
    # one layer: input 4 fields × 2 = 8, 8 units, 32 gates; heads 8 → 169 classes.
    layer = 2 * 8 * 32 + 2 * 8 * 32 + 32 + (4 * 32 + 5 * 8)
    assert f["model"] == layer + 2 * 8 * 169 + 169
    assert f["engine"] == f["model"] - 2 * 8 * 32 + 3 * 32
    assert f["weight_bytes"] == 4 * (8 * 32 + 9 * 4 * 128 + 4 * 32)
    g = flops_per_note(random_weights((8,), embedding=2, cell="gru"))
    # a GRU: 24 gates, and both an input and a recurrent bias
    layer = 2 * 8 * 24 + 2 * 8 * 24 + 2 * 24 + (4 * 24 + 5 * 8)
    assert g["model"] == layer + 2 * 8 * 169 + 169
    assert g["weight_bytes"] == 4 * (8 * 24 + 9 * 4 * 128 + 4 * 24)


def test_bench_latency_rows_are_well_formed(trained: Trained) -> None:
    result = bench_latency(
        trained.model, notes=30, slow_notes=4, window=5, spaced_notes=3, real_notes=3
    )
    rows = result["rows"]
    assert list(rows) == [
        "keras predict (window)",
        "keras eager (window)",
        "tf step graph",
        "tf step xla",
        "numpy window (5)",
        *(
            row
            for engine in ("numpy", "native")
            for row in (
                f"{engine} step",
                f"{engine} step + sample",
                f"{engine} step + sample, 5 ms apart",
                f"{engine} step + listen + sample",
                f"{engine} step + hear",
                f"{engine}, 100-500 ms apart",
                f"{engine}, 100-500 ms, warm 5 ms",
                f"{engine}, 100-500 ms, warm 1 ms",
                *(
                    f"engine note, {mode}, {engine}, 100-500 ms, idle work {idle}{out}"
                    for mode in ("call-response", "follow")
                    for idle in ("off", "on")
                    for out in ("", ", answer out")
                    if mode == "follow" or not out
                ),
            )
        ),
    ]
    assert rows["numpy step"]["n"] == 30 and rows["keras predict (window)"]["n"] == 4
    assert rows["numpy, 100-500 ms apart"]["n"] == 3
    assert rows["engine note, follow, native, 100-500 ms, idle work on"]["n"] == 3
    out = rows["engine note, follow, native, 100-500 ms, idle work on, answer out"]
    whole = rows["engine note, follow, native, 100-500 ms, idle work on"]
    assert out["n"] == 3 and out["max_ms"] < whole["max_ms"]  # the answer leaves mid-note
    for row in rows.values():
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
        assert row["speedup_vs_predict_p50"] > 0 and row["gflops"] > 0
    assert rows["keras predict (window)"]["speedup_vs_predict_p50"] == 1.0
    assert result["units"] == [48, 24]
    json.dumps(result)  # JSON-ready


def test_bench_latency_without_tensorflow_has_only_cpu_engine_rows(trained: Trained) -> None:
    result = bench_latency(
        trained.model, notes=10, slow_notes=3, window=4, tensorflow=False, real_notes=0
    )
    assert all(name.startswith(("numpy", "native")) for name in result["rows"])
    assert all("speedup_vs_predict_p50" not in r for r in result["rows"].values())


def test_startup_of_the_numpy_engine_does_not_import_tensorflow(trained: Trained) -> None:
    r = measure_startup(trained.model, "numpy")
    assert r["engine_name"] == "numpy" and r["tensorflow_imported"] is False
    assert 0 < r["import_to_ready_s"] < r["wall_s"]
    assert 0 < r["rss_mb"] <= r["hwm_mb"]


def test_profile_names_every_phase() -> None:
    prof = profile_numpy_step(NumpyEngine(random_weights((16, 8, 4))), notes=20)
    assert next(iter(prof)) == "layer 0 recurrent product"
    assert {"layer 2 stacked product", "softmax", "sample (top-p, pitch range)"} <= set(prof)
    assert all(v > 0 for v in prof.values())


def test_compare_windows_agrees_within_the_window(trained: Trained) -> None:
    result = compare_windows(trained.model, [trained.corpus], window=8, every=[1, 4])
    modes = result["modes"]
    assert list(modes) == ["carried", "window 8", "window 8 every 4"]
    assert result["files"] > 0 and result["trained_seq_len"] == 24
    carried, fresh = modes["carried"], modes["window 8"]
    assert carried["notes"] == fresh["notes"] > 0
    assert carried["bits_vs_carried"] == 0.0
    # Beyond the window the fresh window forgets: its scores differ from carried state.
    assert carried["beyond_window"]["notes"] > 0
    assert carried["beyond_window"]["bits_per_note"] != fresh["beyond_window"]["bits_per_note"]
    for m in modes.values():
        assert math.isfinite(m["bits_per_note"]) and 0 <= m["accuracy"] <= 1
        assert m["latency"]["n"] == m["notes"]
    # A fresh window costs window steps per note.
    assert fresh["latency"]["p50_ms"] > carried["latency"]["p50_ms"]


def test_bench_cli_latency_json_and_table(trained: Trained) -> None:
    runner = CliRunner()
    args = ["latency", "--model", str(trained.model), "--notes", "10", "--slow-notes", "2",
            "--real-notes", "3"]  # fmt: skip
    out = runner.invoke(bench_app, [*args, "--no-tensorflow", "--profile", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["startup"][0]["engine_name"] == "numpy" and "softmax" in data["profile"]
    table = runner.invoke(bench_app, [*args, "--no-tensorflow", "--no-startup"])
    assert table.exit_code == 0 and "numpy step" in table.output
    assert "FLOPs per note" in table.output


def test_bench_cli_window_table(trained: Trained) -> None:
    out = CliRunner().invoke(
        bench_app, ["window", str(trained.corpus), "--model", str(trained.model), "--window", "6"]
    )
    assert out.exit_code == 0, out.output
    assert "carried" in out.output and "window 6" in out.output


def test_load_weights_of_the_tiny_model(trained: Trained) -> None:
    assert [r.shape[0] for r in load_weights(trained.model).recurrents] == [48, 24]
