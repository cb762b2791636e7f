"""The viewpoints (interval, degree, bar): hand-computed examples, causality, invariance."""

from __future__ import annotations

import numpy as np
import pytest

from improviser.music.key import key_of_histogram, pitch_class_histogram, running_tonics
from improviser.music.viewpoints import (
    NO_DEGREE,
    NO_INTERVAL,
    VIEWPOINT_SIZES,
    VIEWPOINTS,
    bar_classes,
    degree_classes,
    interval_classes,
    ordered,
    viewpoint_classes,
)

QUARTER = 8  # the duration class of one beat
BEAT = 9  # the IOI class of one beat


def tokens(pitches: list[int], iois: list[int] | None = None) -> np.ndarray:
    """Tokens of ``pitches`` (one beat each unless ``iois`` gives the IOI classes)."""
    n = len(pitches)
    ioi = iois if iois is not None else [0] + [BEAT] * (n - 1)
    return np.array([[p, i, QUARTER, 4] for p, i in zip(pitches, ioi, strict=True)], np.int32)


def test_interval_from_the_previous_note_clipped_to_two_octaves() -> None:
    got = interval_classes(tokens([60, 62, 60, 90, 30, 30]))
    # none, +2, -2, +30 -> +24, -60 -> -24, 0 (class = interval + 24)
    assert got.tolist() == [NO_INTERVAL, 26, 22, 48, 0, 24]
    assert NO_INTERVAL == 49 and VIEWPOINT_SIZES["interval"] == 50


def test_bar_position_in_sixteenths_of_a_four_beat_bar() -> None:
    # IOI classes: 9 = 1 beat, 6 = 1/2, 3 = 1/4, 8 = 3/4, 12 = 2, 11 = 3/2, 14 = 4.
    # Onsets 0, 1, 1.5, 1.75, 2.5, 4.5, 6, 10 beats -> sixteenths 0, 4, 6, 7, 10, 18, 24, 40.
    got = bar_classes(tokens([60] * 8, [0, 9, 6, 3, 8, 12, 11, 14]))
    assert got.tolist() == [0, 4, 6, 7, 10, 2, 8, 8]
    # Triplet quarters (class 7 = 2/3 beat) land on the nearest sixteenth: 0, 2.67, 5.33, 8.
    assert bar_classes(tokens([60] * 4, [0, 7, 7, 7])).tolist() == [0, 3, 5, 8]
    # A piece whose first token has an IOI still starts the bar at its first note.
    assert bar_classes(tokens([60] * 3, [9, 6, 6])).tolist() == [0, 2, 4]
    assert VIEWPOINT_SIZES["bar"] == 16


def test_degree_against_the_running_key_none_until_eight_notes() -> None:
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64]  # C major, then G and E
    got = degree_classes(tokens(scale))
    assert got.tolist() == [NO_DEGREE] * 7 + [0, 7, 4]
    # A G and a D after the scale tip the running key to G major: D is then its fifth.
    assert degree_classes(tokens([*scale[:9], 62]))[-1] == 7
    # In D major the degrees are the same: they are transposition-invariant.
    assert degree_classes(tokens([p + 2 for p in scale])).tolist() == got.tolist()
    assert VIEWPOINT_SIZES["degree"] == 13


def test_degree_follows_the_key_as_it_changes() -> None:
    # Eight notes of A minor, then the tonic A is degree 0; the same A after eight notes of
    # F major (A is its third) is degree 4.
    a_minor = [69, 72, 76, 74, 72, 71, 68, 69]
    f_major = [65, 67, 69, 70, 72, 74, 76, 77]
    assert degree_classes(tokens([*a_minor, 69]))[-1] == 0
    assert degree_classes(tokens([*f_major, 69]))[-1] == 4


def test_running_tonics_are_the_key_finder_on_each_prefix() -> None:
    rng = np.random.default_rng(3)
    pitches = rng.integers(40, 90, 60)
    weights = rng.choice([0.25, 0.5, 1.0, 2.0], 60)
    running = running_tonics(pitches, weights)
    for i in range(60):
        hist = pitch_class_histogram(pitches[: i + 1].tolist(), weights[: i + 1].tolist())
        assert running[i] == key_of_histogram(hist).tonic


def test_every_viewpoint_is_causal_and_in_range() -> None:
    rng = np.random.default_rng(7)
    n = 50
    t = np.stack(
        [rng.integers(30, 100, n), rng.integers(0, 17, n), rng.integers(0, 16, n), np.zeros(n)],
        axis=1,
    ).astype(np.int32)
    full = viewpoint_classes(t, VIEWPOINTS)
    assert full.shape == (n, 3) and full.dtype == np.int32
    for j, name in enumerate(VIEWPOINTS):
        assert full[:, j].min() >= 0 and full[:, j].max() < VIEWPOINT_SIZES[name]
    for k in range(1, n + 1):  # a note's value depends only on it and the notes before
        assert np.array_equal(viewpoint_classes(t[:k], VIEWPOINTS), full[:k])
    shifted = t.copy()
    shifted[:, 0] += 5
    assert np.array_equal(viewpoint_classes(shifted, ["interval", "degree"]), full[:, :2])


def test_names_order_and_unknown_names() -> None:
    assert ordered(["bar", "interval", "bar"]) == ("interval", "bar")
    assert viewpoint_classes(tokens([60, 62]), []).shape == (2, 0)
    with pytest.raises(ValueError, match="unknown extra input"):
        ordered(["contour"])
    with pytest.raises(ValueError, match="unknown extra input"):
        viewpoint_classes(tokens([60, 62]), ["contour"])
