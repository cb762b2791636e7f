"""The manual's fine-tuning table (``improviser/bench/doc_tables.py``) from a small
hand-made ``finetune`` metadata."""

from __future__ import annotations

from typing import Any

from improviser.bench.doc_tables import finetune_table


def _scores(bits: float, top1: float) -> dict[str, float]:
    return {"bits_per_note": bits, "accuracy": top1}


def _run(before: float, after: float) -> dict[str, Any]:
    return {
        "before": {"player": _scores(before, 0.3), "base": _scores(2.494, 0.402)},
        "after": {"player": _scores(after, 0.2), "base": _scores(2.611, 0.383)},
        "player_files": {"train": 6, "test": 3},
        "learning_rate": 3e-4,
        "max_forgetting": 0.15,
        "forgetting": 0.117,
        "seconds": 155.7,
    }


def test_each_run_scored_on_both_sets_and_a_gain_in_bold() -> None:
    lines = finetune_table({"bundled": _run(3.667, 3.551), "old": _run(9.0, 9.5)}).splitlines()
    assert lines[2] == (
        "| bundled | the player's held-out sessions | 3.667 | **3.551** | 0.300 | 0.200 |"
    )
    assert lines[3] == (
        "| bundled | the corpus's held-out tunes (forgetting guard) | 2.494 | 2.611 | 0.402 "
        "| 0.383 |"
    )
    assert lines[4].startswith("| old | the player's held-out sessions | 9.000 | 9.500 |")
    assert lines[-1] == (
        "The player's files: 6 trained on, 3 held out; learning rate 0.0003; forgetting "
        "allowed 0.15 bits/note; bundled: 156 s, forgetting +0.117; old: 156 s, forgetting "
        "+0.117."
    )


def test_networks_table_puts_evaluated_models_side_by_side() -> None:
    from improviser.bench.doc_tables import networks_table

    def scored(cell: str, units: list[int], pitch: float, stopped: str | None) -> dict[str, Any]:
        network = {"cell": cell, "units": units, "epochs": 40, "stopped_by": stopped}
        return {
            "files": 12, "notes": 3456, "network": network, "bits_per_note": pitch,
            "with_stm": {"bits_per_note": pitch - 1}, "ioi_bits": 0.05,
            "duration_bits": 0.7, "accuracy": 0.4, "top5": 0.9,
        }  # fmt: skip

    table = networks_table(
        {
            "before": scored("lstm", [128, 64], 2.5, "max_minutes"),
            "now": scored("gru", [148, 74], 2.3, None),
        }
    )
    assert "| before | LSTM 128 → 64 | 40 (max_minutes) | 2.500 | 1.500 |" in table
    assert "| now | GRU 148 → 74 | 40 (stopped by hand) | 2.300 | 1.300 |" in table
    assert "12 held-out files (3,456 notes)" in table
