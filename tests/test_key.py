"""The Krumhansl–Kessler key finder on major, minor and modal melodies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from improviser.music.key import Key, estimate_key, pitch_class_histogram

C_MAJOR_SCALE = [60, 62, 64, 65, 67, 69, 71, 72]
# "Twinkle twinkle" in C: tonic and dominant dominate.
TWINKLE = [60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60]
# A minor melody with its raised seventh (G#) leading home.
A_MINOR = [69, 72, 76, 74, 72, 71, 68, 69, 64, 69, 72, 71, 69]


def test_c_major_scale_is_c_major() -> None:
    key = estimate_key(C_MAJOR_SCALE)
    assert (key.tonic, key.mode) == (0, "major")
    assert all(key.contains(p) for p in C_MAJOR_SCALE)
    assert key.name == "C major"


def test_a_tune_in_c_major() -> None:
    assert estimate_key(TWINKLE) == Key(0, "major", estimate_key(TWINKLE).correlation)


def test_a_minor_with_the_raised_seventh() -> None:
    key = estimate_key(A_MINOR)
    assert (key.tonic, key.mode) == (9, "minor")
    assert all(key.contains(p) for p in A_MINOR)


@given(st.integers(-12, 12))
def test_transposition_moves_the_tonic(shift: int) -> None:
    key = estimate_key([p + 36 + shift for p in TWINKLE])
    assert key.tonic == shift % 12
    assert key.mode == "major"


def test_durations_weigh_notes() -> None:
    # The same notes; long Cs and Gs make C major, long As and Es make A minor.
    notes = [60, 64, 67, 69, 72, 76, 69, 64]
    c = estimate_key(notes, [4, 1, 4, 1, 4, 1, 1, 1])
    a = estimate_key(notes, [1, 2, 1, 4, 1, 2, 4, 2])
    assert (c.tonic, c.mode) == (0, "major")
    assert (a.tonic, a.mode) == (9, "minor")


@pytest.mark.parametrize(
    ("tune", "keys"),
    [
        # D Dorian (white notes from D to D, D stressed): D minor or C major.
        ([62, 64, 65, 67, 69, 71, 72, 74, 69, 65, 62, 62, 69, 62], {(2, "minor"), (0, "major")}),
        # G Mixolydian (white notes from G, F natural): G or C major.
        ([67, 69, 71, 72, 74, 76, 77, 79, 74, 71, 67, 67, 77, 67], {(7, "major"), (0, "major")}),
    ],
)
def test_modal_tunes_get_the_nearest_major_or_minor(tune: list[int], keys: set[object]) -> None:
    key = estimate_key(tune)
    assert (key.tonic, key.mode) in keys
    inside = sum(key.contains(p) for p in tune) / len(tune)
    assert inside >= 0.85


def test_histogram_and_errors() -> None:
    assert pitch_class_histogram([60, 72, 61], [1.0, 2.0, 0.5]).tolist()[:2] == [3.0, 0.5]
    with pytest.raises(ValueError, match="no notes"):
        estimate_key([])
    assert estimate_key([60, 60]).tonic == 0
