"""The manual's chord-lean table, from a small ``bench lean`` result."""

from __future__ import annotations

from improviser.bench.lean_table import lean_table


def test_the_lean_table_has_a_row_per_weight_and_the_truth() -> None:
    draw = {"n": 10, "p50_ms": 0.08, "p99_ms": 0.2, "max_ms": 0.3, "mean_ms": 0.1}
    row = {"notes": 10, "strong_notes": 4, "strong_chord_tones": 0.5,
           "other_chord_tones": 0.25, "in_key": 1.0}  # fmt: skip
    result = {
        "systems": {"chord_lean 1": {**row, "draw": draw}, "truth": {**row, "in_key": 0.9}},
        "load": [1.5, 1.0, 1.0], "calls": 3, "call_beats": 8.0, "pieces": 5, "seeds": 2,
        "engine": "NativeEngine",
    }  # fmt: skip
    table = lean_table(result)
    lines = table.splitlines()
    assert lines[2] == "| `chord_lean 1` | 10 (4) | 50.0 % | 25.0 % | 100.0 % | 0.080 / 0.200 |"
    assert lines[3].startswith("| the chorale's own soprano (truth) | 10 (4) |")
    assert lines[3].endswith("| 90.0 % | – |")
    assert "3 calls (8 beats of each" in table and "load average 1.5" in table
