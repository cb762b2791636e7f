"""The beat tracker on synthetic onsets: steady, accelerating, rubato, rests, jitter, accents."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.music.beat import BeatTracker, salience

# Bars of note values (beats): quarters, eighths, a triplet, dotted rhythms, a half note.
BARS = (
    (1.0, 1.0, 1.0, 1.0),
    (0.5, 0.5, 1.0, 1.0, 1.0),
    (1.5, 0.5, 1.0, 1.0),
    (2.0, 1.0, 1.0),
    (1.0, 0.5, 0.5, 2.0),
    (1 / 3, 1 / 3, 1 / 3, 1.0, 1.0, 1.0),
    (0.75, 0.25, 1.0, 1.0, 1.0),
)
Clock = Callable[[float], float]
"""Beat position -> seconds."""


def melody(seed: int, bars: int = 12, rests: bool = False) -> list[tuple[float, int]]:
    """(beat position, velocity) of a melody in mixed note values, beats a little louder."""
    rng = np.random.default_rng(seed)
    pos, out = 0.0, []
    for bar in range(bars):
        if rests and bar % 3 == 2:
            pos += int(rng.integers(2, 5))  # a rest of 2..4 beats
        for value in BARS[int(rng.integers(len(BARS)))]:
            out.append((pos, 100 if abs(pos - round(pos)) < 1e-9 else 60))
            pos += value
    return out


def clock(bpm: Callable[[np.ndarray], np.ndarray]) -> Clock:
    """Seconds at a beat position, for a tempo that varies with the beat position."""

    def seconds(beat: float) -> float:
        grid = np.linspace(0.0, beat, 400)
        return float(np.trapezoid(60.0 / bpm(grid), grid)) if beat > 0 else 0.0

    return seconds


def steady(bpm: float) -> Clock:
    return lambda beat: beat * 60.0 / bpm


def track(
    notes: list[tuple[float, int]],
    at: Clock,
    tempo: Callable[[float], float],
    *,
    jitter: float = 0.0,
    seed: int = 0,
    settle: int = 16,
    accents: bool = True,
    bpm_range: tuple[float, float] = (50.0, 200.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Feed the onsets; after ``settle`` of them, the relative tempo error and the error
    (s) of the predicted next beat, asked for half a beat before it."""
    rng = np.random.default_rng(seed)
    tracker = BeatTracker(*bpm_range)
    tempo_err, beat_err = [], []
    for i, (beat, velocity) in enumerate(notes):
        t = at(beat) + rng.uniform(-jitter, jitter)
        tracker.onset(t, salience(velocity) if accents else 1.0)
        if i >= settle:
            true_next = at(np.floor(beat + 1e-9) + 1)
            half = 0.5 * (true_next - at(np.floor(beat + 1e-9)))
            beat_err.append(tracker.next_beat(true_next - half) - true_next)
            tempo_err.append(tracker.bpm / tempo(beat) - 1.0)
    return np.abs(tempo_err), np.abs(beat_err)


@pytest.mark.parametrize("bpm", [60, 90, 120, 160])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_steady_tempo_with_mixed_note_values_and_human_timing(bpm: int, seed: int) -> None:
    tempo_err, beat_err = track(melody(seed), steady(bpm), lambda _b: bpm, jitter=0.02, seed=seed)
    assert tempo_err.max() < 0.03
    assert beat_err.max() < 0.04


@pytest.mark.parametrize("bpm", [60, 90, 120, 160])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rests_of_two_to_four_beats(bpm: int, seed: int) -> None:
    tempo_err, beat_err = track(melody(seed, rests=True), steady(bpm), lambda _b: bpm)
    assert tempo_err.max() < 0.03
    assert beat_err.max() < 0.04


@pytest.mark.parametrize("bpm", [60, 90, 120])
def test_rests_with_human_timing(bpm: int) -> None:
    tempo_err, beat_err = track(
        melody(1, rests=True), steady(bpm), lambda _b: bpm, jitter=0.02, seed=1
    )
    assert tempo_err.max() < 0.03
    assert beat_err.max() < 0.04


@pytest.mark.xfail(strict=True, reason="documented: jitter + rests at 160 bpm can flip to 80")
def test_fast_tempo_with_rests_and_human_timing_stays_at_its_level() -> None:
    for seed in range(4):
        tempo_err, _ = track(
            melody(seed, rests=True), steady(160), lambda _b: 160, jitter=0.02, seed=seed
        )
        assert tempo_err.max() < 0.03


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accelerating_100_to_120_over_32_beats(seed: int) -> None:
    def bpm(beat: np.ndarray) -> np.ndarray:
        return 100.0 + 20.0 * np.clip(beat / 32.0, 0.0, 1.0)

    tempo_err, beat_err = track(
        melody(seed), clock(bpm), lambda b: float(bpm(np.asarray(b))), jitter=0.02, seed=seed
    )
    assert tempo_err.max() < 0.03
    assert beat_err.max() < 0.045
    assert np.percentile(beat_err, 90) < 0.03


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradual_rubato_of_ten_percent(seed: int) -> None:
    """110 bpm ± 10 % over a 64-beat cycle (faster swings: see the module docstring)."""

    def bpm(beat: np.ndarray) -> np.ndarray:
        return 110.0 * (1.0 + 0.1 * np.sin(2 * np.pi * beat / 64.0))

    tempo_err, beat_err = track(
        melody(seed, bars=16),
        clock(bpm),
        lambda b: float(bpm(np.asarray(b))),
        jitter=0.02,
        seed=seed,
    )
    assert np.percentile(tempo_err, 90) < 0.03
    assert np.percentile(beat_err, 90) < 0.04
    assert beat_err.max() < 0.1


def test_chords_count_as_one_onset() -> None:
    plain, chords = BeatTracker(50, 200), BeatTracker(50, 200)
    for i in range(12):
        plain.onset(0.5 * i)
        for j in range(3):  # a spread chord: three notes within 20 ms
            chords.onset(0.5 * i + 0.01 * j)
    assert chords.bpm == pytest.approx(plain.bpm, rel=1e-6)
    assert chords.next_beat(6.1) == pytest.approx(plain.next_beat(6.1), abs=1e-6)


def test_eighths_with_quarter_accents_keep_the_quarter_pulse() -> None:
    """70 bpm in eighths: the 140 bpm pulse is in range, the accents decide."""
    notes = [(0.5 * i, 110 if i % 2 == 0 else 55) for i in range(40)]
    tempo_err, beat_err = track(notes, steady(70), lambda _b: 70, jitter=0.01)
    assert tempo_err.max() < 0.03
    assert beat_err.max() < 0.04


def test_eighths_in_a_range_without_their_double_are_not_halved() -> None:
    """120 bpm in eighths, range 50..200: 240 is out of range, 60 must not win."""
    notes = [(0.5 * i, 80) for i in range(40)]
    tempo_err, _ = track(notes, steady(120), lambda _b: 120, accents=False)
    assert tempo_err.max() < 0.03


def test_unaccented_eighths_lock_to_the_double_pulse_as_documented() -> None:
    notes = [(0.5 * i, 80) for i in range(40)]
    tracker = BeatTracker(50, 200)
    for beat, _ in notes:
        tracker.onset(beat * 60.0 / 70.0)
    assert tracker.bpm == pytest.approx(140, rel=0.03)


# From 66 bpm up: at 60 bpm about 1 melody in 8 of these is read at double tempo for a few
# beats (measured: 6 of 50 seeds), at 64 bpm 7 of 251 seeds (hypothesis found seed 301);
# none of 251 at 66, 68, 70 or 72 bpm, none of 50 at 80, 100, 140 or 160 bpm. The module
# docstring states it under "where it fails".
@settings(max_examples=25, deadline=None)
@given(
    bpm=st.floats(66.0, 160.0),
    start=st.floats(0.0, 100.0),
    seed=st.integers(0, 1000),
)
def test_any_tempo_and_start_time(bpm: float, start: float, seed: int) -> None:
    tempo_err, beat_err = track(
        melody(seed, bars=8), lambda b: start + b * 60.0 / bpm, lambda _b: bpm, seed=seed
    )
    assert tempo_err.max() < 0.03
    assert beat_err.max() < 0.04


@given(st.floats(0.0, 1000.0))
def test_phase_is_in_unit_interval(t: float) -> None:
    tracker = BeatTracker(60, 180)
    for i in range(8):
        tracker.onset(0.5 * i)
    assert 0.0 <= tracker.beat_phase(t) < 1.0
    assert tracker.next_beat(t) > t


def test_before_lock_and_reset() -> None:
    tracker = BeatTracker(60, 180, initial_bpm=100)
    assert not tracker.locked
    assert tracker.confidence == 0.0
    assert tracker.bpm == 100
    assert tracker.next_beat(1.0) == pytest.approx(1.6)
    for i in range(8):
        tracker.onset(0.5 * i)
    assert tracker.locked
    assert tracker.confidence > 0.8
    assert tracker.beat_phase(3.25) == pytest.approx(0.5, abs=1e-6)
    tracker.reset()
    assert not tracker.locked
    assert tracker.bpm == 100


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="min_bpm"):
        BeatTracker(120, 60)
    with pytest.raises(ValueError, match="initial_bpm"):
        BeatTracker(60, 120, initial_bpm=200)
    tracker = BeatTracker(60, 180)
    tracker.onset(1.0)
    with pytest.raises(ValueError, match="time order"):
        tracker.onset(0.5)
    with pytest.raises(ValueError, match="weight"):
        tracker.onset(2.0, weight=0.0)


def test_onsets_wait_in_a_queue_and_every_query_takes_them_in() -> None:
    eager, lazy = BeatTracker(50, 200), BeatTracker(50, 200)
    onsets = [(0.5 * pos, salience(v)) for pos, v in melody(4)]
    for t, w in onsets:
        eager.onset(t, w)
        eager.settle()
        lazy.onset(t, w)
    assert lazy.pending == len(onsets) and eager.pending == 0
    assert lazy.bpm == eager.bpm  # the query took every onset in, in order
    assert lazy.pending == 0
    end = onsets[-1][0]
    assert lazy.next_beat(end) == eager.next_beat(end)
    assert lazy.confidence == eager.confidence
    lazy.onset(end + 0.01)  # a chord with the last onset: the check runs at once
    with pytest.raises(ValueError, match="time order"):
        lazy.onset(end - 1.0)
    lazy.reset()
    assert lazy.pending == 0 and not lazy.locked
