"""The manual's musicality tables (``improviser/bench/doc_tables_music.py``) from small
hand-made ``bench musicality`` results."""

from __future__ import annotations

from typing import Any

from improviser.bench.doc_tables_music import (
    musicality_goals_table,
    musicality_octaves_table,
    musicality_table,
)
from improviser.bench.harmony_table import harmony_evaluate_table


def _metrics(key: float, reuse: float, drift: float, grid: float) -> dict[str, Any]:
    def m(mean: float, p50: float = 0.0, p99: float = 0.0) -> dict[str, float]:
        return {"mean": mean, "p50": p50, "p99": p99}

    return {
        "key": m(key),
        "motif_reuse": m(reuse),
        "drift": m(drift),
        "grid": m(grid),
        "replay": m(0.0),
        "register": m(2.0, 1.5, 8.25),
        "leaps": m(0.03),
    }


def _result() -> dict[str, Any]:
    metrics = {
        "model": _metrics(0.96, 0.2, 0.15, 0.99),
        "truth": _metrics(0.95, 0.3, 0.05, 0.98),
    }
    return {
        "answers": 1440,
        "calls": 60,
        "keys": list(range(12)),
        "octaves": [-1, 0],
        "call_notes": 16,
        "answer_notes": 16,
        "seconds": 65.2,
        "loadavg_1min": 1.25,
        "metrics": metrics,
        "by_octave": {"0": metrics, "-1": {**metrics, "model": _metrics(0.8, 0.1, 0.2, 0.9)}},
    }


def test_columns_rows_and_footer() -> None:
    lines = musicality_table(
        _result(), {"model": "the model", "truth": "truth"}, ("key", "register_p99")
    ).splitlines()
    assert lines[0] == "| share of answers / notes | `the model` | `truth` |"
    assert lines[1] == "| --- | ---: | ---: |"
    assert lines[2] == "| in the call's key | 0.960 | 0.950 |"
    assert lines[3] == "| register shift p99 | 8.250 | 8.250 |"
    assert lines[-1] == (
        "1,440 answers: 60 held-out calls × 12 keys × 2 octave(s), 16-note calls, "
        "16-note answers; 65 s, load average 1.25."
    )


def test_one_octaves_metrics() -> None:
    result = _result()
    lines = musicality_table(result, ["model"], ["key"], octave=-1).splitlines()
    assert "| in the call's key | 0.800 |" in lines
    assert lines[-1].startswith("The calls at octave -1: 720 answers of the run's 1,440 answers")


def test_goals_are_judged_against_the_real_continuations() -> None:
    lines = musicality_goals_table(_result(), ["model"]).splitlines()
    assert lines[2] == "| replays <= 0.02 | 0.000 met |"
    assert lines[3] == "| shapes reused >= 0.5 x real (0.150) | 0.200 met |"
    assert lines[4] == "| grid >= 0.95 x real (0.931) | 0.990 met |"
    assert lines[5] == "| drift <= 2 x real (0.100) | 0.150 **not met** |"


def test_octaves_sorted_with_the_other_model_in_brackets() -> None:
    before = _result()
    before["by_octave"]["-1"]["model"] = _metrics(0.5, 0.1, 0.2, 0.9)
    lines = musicality_octaves_table(_result(), ["model", "truth"], before).splitlines()
    assert (
        lines[2] == "| -1 | `model` | 0.800 (0.500) | 0.100 (0.100) | 1.50 / 8.25 (1.50 / 8.25) "
        "| 0.030 (0.030) |"
    )
    assert lines[3] == "| -1 | `truth` | 0.950 | 0.300 | 1.50 / 8.25 | 0.030 |"
    assert lines[4].startswith("| +0 | `model` | 0.960 (0.960)")


def _harmony_scores(bits: float, bass: float) -> dict[str, Any]:
    voice = {"bits": bass, "accuracy": 0.5}
    return {"bits_per_event": bits, "voices": {"bass": voice, "tenor": voice, "alto": voice}}


def test_harmony_evaluate_table_models_then_baselines_best_first() -> None:
    model = {
        **_harmony_scores(6.4, 2.9),
        "files": 35,
        "events": 1785,
        "excluded_files": 346,
        "train_files": 295,
        "baselines": {
            "ngram_flat1": _harmony_scores(11.2, 4.7),
            "ngram_role4": _harmony_scores(6.0, 2.8),
        },
    }
    lines = harmony_evaluate_table({"the model": model}).splitlines()
    assert lines[2] == "| the model | 6.400 | 2.900 / 0.500 | 2.900 / 0.500 | 2.900 / 0.500 |"
    assert lines[3].startswith("| per-voice n-gram, order 4 | **6.000** | 2.800 / 0.500 |")
    assert lines[4].startswith("| flat n-gram, order 1 | 11.200 |")
    assert lines[-1].startswith("35 held-out chorales, 1,785 melody onsets (346 files")
