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
