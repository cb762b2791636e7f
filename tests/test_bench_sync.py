"""``improviser bench sync``: its arithmetic on synthetic times, and the command through a
real JACK server with one run (nothing asserts on a timing)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from improviser.bench.sync import run_figures
from improviser.bench.sync_runs import Answer, ClockRun, collapse_repeats
from improviser.bench.sync_stats import (
    answer_errors,
    late_to_plan,
    master_time,
    nearest_beat,
    planned_ticks,
    tick_jitter,
)
from improviser.cli.bench import bench_app
from tests.cli_run import improviser, one_line_error
from tests.jack import require_jackd

SPB = 0.5  # 120 bpm
TICK = SPB / 24


def master(start: float = 100.0, count: int = 24 * 16) -> list[float]:
    """A steady master's tick times at 120 bpm."""
    return [start + i * TICK for i in range(count)]


def test_planned_ticks_are_whole_note_values_from_the_first_beat() -> None:
    # an eighth, a triplet eighth, a 32nd, a dotted quarter: 12, 8, 3, 36 ticks
    beats = np.cumsum([0.0, 0.5, 1 / 3, 1 / 8, 1.5])
    start = 200.25
    assert planned_ticks(start, list(start + beats * SPB), SPB) == [0, 12, 20, 23, 59]


def test_planned_ticks_find_the_tempo_the_answer_was_drawn_at() -> None:
    # Drawn at 120.3 bpm; the tempo read a moment later is 1.5 % slower: rounding at the
    # read tempo would put the last note (59 ticks) a tick early.
    drawn, read = 60 / 120.3, 60 / 120.3 * 1.015
    places = [0, 12, 20, 23, 59]
    start = 50.0
    intended = [start + k * drawn / 24 for k in places]
    assert [round((t - start) / (read / 24)) for t in intended][-1] == 58
    assert planned_ticks(start, intended, read) == places
    assert planned_ticks(start, [start], read) == [0]


def test_master_time_extrapolates_past_the_last_tick() -> None:
    ticks = master(count=10)
    assert master_time(ticks, 3) == ticks[3]
    assert master_time(ticks, 12) == pytest.approx(ticks[-1] + 3 * TICK)


def test_nearest_beat_is_a_beat_tick() -> None:
    ticks = master()
    assert nearest_beat(ticks, ticks[48] + 0.1) == 48
    assert nearest_beat(ticks, ticks[48] + 0.3) == 72  # nearer the next beat
    with pytest.raises(ValueError, match="no tick"):
        nearest_beat([], 1.0)


def _answer(
    ticks: list[float],
    beat: int,
    places: list[int],
    pitches: list[int],
    start_off: float = 0.0,
    spb: float = SPB,
) -> tuple[list[tuple[float, int]], float]:
    """Planned note-ons of an answer the session placed at master beat ``beat`` (off by
    ``start_off`` seconds), drawn at ``spb``."""
    start = ticks[beat] + start_off
    return [(start + k * spb / 24, p) for k, p in zip(places, pitches, strict=True)], start


def test_notes_heard_on_their_ticks_a_little_late_err_by_that() -> None:
    ticks = master()
    places, pitches = [0, 12, 20, 24, 36], [60, 62, 64, 65, 67]
    planned, start = _answer(ticks, 96, places, pitches)
    heard = [(ticks[96 + k] + 0.0015, p) for k, p in zip(places, pitches, strict=True)]
    errors = answer_errors(heard, planned, start, SPB, ticks)
    assert errors == pytest.approx([0.0015] * 5)


def test_a_beat_followed_a_tick_late_shows_on_every_note() -> None:
    # The session's beat is a tick late; every note lands a tick late, which the distance
    # to the nearest tick (or 32nd) would not show.
    ticks = master()
    places, pitches = [0, 12, 24], [60, 62, 64]
    planned, start = _answer(ticks, 96, places, pitches, start_off=TICK)
    heard = [(t, p) for t, p in planned]
    errors = answer_errors(heard, planned, start, SPB, ticks)
    assert errors == pytest.approx([TICK] * 3)


def test_a_tempo_followed_slow_drifts_note_by_note() -> None:
    ticks = master()
    slow = SPB * 1.02  # 2 % slow
    planned, start = _answer(ticks, 48, [0, 12, 24, 36], [60, 62, 64, 65], spb=slow)
    errors = answer_errors(list(planned), planned, start, slow, ticks)
    assert errors == pytest.approx([0.0, 0.005, 0.01, 0.015])


def test_a_dropped_note_and_a_stray_pitch_do_not_shift_the_others() -> None:
    ticks = master()
    planned, start = _answer(ticks, 24, [0, 12, 24], [60, 62, 60])
    heard = [(planned[2][0] + 0.001, 60), (planned[1][0] + 0.2, 99)]  # 1st lost, a stray
    assert answer_errors(heard, planned, start, SPB, ticks) == pytest.approx([0.001])
    assert answer_errors(heard, [], start, SPB, ticks) == []


def test_late_to_plan_is_arrival_less_intended_whatever_the_grid() -> None:
    planned = [(10.0, 60), (10.25, 62), (10.5, 60)]
    heard = [(10.252, 62), (10.503, 60)]
    assert late_to_plan(heard, planned) == pytest.approx([0.002, 0.003])


def test_tick_jitter_counts_a_lost_tick_as_a_gap_not_jitter() -> None:
    rng = np.random.default_rng(1)
    period = 60.0 / 125.0 / 24
    grid = 5.0 + np.arange(200) * period + rng.uniform(0, 0.0005, 200)
    ticks = np.delete(grid, 70).tolist()
    j = tick_jitter(ticks, 125.0)
    assert j["ticks"] == 199 and j["lost"] == 1
    assert j["median_period_ms"] == pytest.approx(period * 1000, rel=0.05)
    assert 0 <= j["p50_ms"] <= j["p95_ms"] <= j["p99_ms"] <= j["max_ms"] < 0.5
    assert math.isnan(tick_jitter([1.0], 125.0)["p50_ms"])


def test_a_note_on_delivered_twice_is_heard_once_and_counted() -> None:
    heard = [(1.0, 60), (1.0013, 60), (1.25, 62), (1.5, 62), (1.502, 64)]
    kept, repeats = collapse_repeats(heard)
    # the same pitch again a JACK cycle later is the message again; an eighth later, a
    # note repeated; another pitch close by, a note of its own
    assert kept == [(1.0, 60), (1.25, 62), (1.5, 62), (1.502, 64)] and repeats == 1


def test_run_figures_pool_both_answers() -> None:
    ticks = master()
    answers = []
    for beat, late in ((24, 0.001), (96, 0.003)):
        planned, start = _answer(ticks, beat, [0, 12], [60, 62])
        answers.append(Answer("a", start, SPB, planned, [(t + late, p) for t, p in planned]))
    run = ClockRun(answers, followed_bpm=147.0, target_bpm=150.0, ticks=ticks,
                   sent=[t + 0.0002 for t in ticks], lost_ticks=1)  # fmt: skip
    figures = run_figures(run)
    assert figures["notes_sent"] == figures["notes_heard"] == [2, 2]
    assert figures["signed_errors_ms"] == [[1.0, 1.0], [3.0, 3.0]]
    assert figures["error"]["n"] == 4 and figures["error"]["max_ms"] == pytest.approx(3.0)
    assert figures["tempo_off_pct"] == pytest.approx(-2.0)
    assert figures["answer_bpm"] == pytest.approx([120.0, 120.0])
    assert figures["master_late"]["p50_ms"] == pytest.approx(0.2)
    assert figures["late_to_plan_ms"] == pytest.approx([1.0, 1.0, 3.0, 3.0])


@pytest.mark.jack
def test_bench_sync_one_run_through_jack_gives_every_figure() -> None:
    require_jackd()
    out = CliRunner().invoke(
        bench_app, ["sync", "--runs", "1", "--clock-out-seconds", "2", "--json"]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    keys = {"model", "engine", "answers", "per_run", "clock_out", "jack", "cpu_count"}
    assert set(result) >= keys | {"loadavg_before", "loadavg_after", "tempo_change"}
    assert result["jack"]["private_server"] is True and result["jack"]["period_frames"] == 64
    assert len(result["loadavg_before"]) == len(result["loadavg_after"]) == 3
    a = result["answers"]
    assert a["runs"] == 1 and len(result["per_run"]) == 1
    run = result["per_run"][0]
    # Nothing on a timing, but one run on any machine: it reached its steps (or says
    # which it did not), and what it heard is what it measured.
    if run["failed"] is None:
        assert len(run["notes_sent"]) == len(run["signed_errors_ms"]) == 2
        assert sum(run["notes_heard"]) == a["notes_heard"] >= a["error"]["n"] > 0
        assert math.isfinite(run["followed_bpm"]) and run["lost_ticks"] >= 0
    else:
        assert a["failed"] == 1 and "within" in run["failed"]
    out_ = result["clock_out"]
    assert out_["ticks"] > 24  # 2 s at 125 bpm: about 100 ticks
    assert set(out_) >= {"p50_ms", "p99_ms", "lost"}


def test_bench_sync_refuses_no_runs_in_one_line() -> None:
    line = one_line_error(improviser("bench", "sync", "--runs", "0"))
    assert "--runs must be at least 1, got 0" in line
