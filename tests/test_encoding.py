"""Notes to tokens and back: quantization and invertibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.music.encoding import (
    DURATION_BEATS,
    IOI_BEATS,
    VELOCITY_BINS,
    VOCAB_SIZES,
    decode,
    duration_class,
    encode,
    ioi_class,
    velocity_class,
    velocity_value,
)
from improviser.music.notes import Note

tokens_strategy = st.lists(
    st.tuples(
        st.integers(0, 127),
        st.integers(0, VOCAB_SIZES["ioi"] - 1),
        st.integers(0, VOCAB_SIZES["duration"] - 1),
        st.integers(0, VELOCITY_BINS - 1),
    ),
    min_size=1,
    max_size=50,
)


@settings(max_examples=100, deadline=None)
@given(tokens_strategy, st.sampled_from([60.0, 90.0, 120.0, 173.0]))
def test_encode_decode_is_the_identity_on_tokens(tokens: list[tuple[int, ...]], bpm: float) -> None:
    arr = np.asarray(tokens, dtype=np.int32)
    arr[0, 1] = 0  # the first note of a piece has no IOI
    notes = decode(arr, bpm=bpm)
    assert np.array_equal(encode(notes), arr)


def test_on_grid_notes_survive_a_round_trip_exactly() -> None:
    notes = []
    beat = 0.0
    for i, (ioi, dur) in enumerate([(0, 1.0), (1.0, 0.5), (0.5, 0.5), (0.5, 1.5), (2.0, 1 / 3)]):
        beat += ioi
        notes.append(Note(60 + i, velocity_value(3), 0, 0, start_beats=beat, duration_beats=dur))
    back = decode(encode(notes))
    assert [(n.pitch, n.start_beats, n.duration_beats, n.velocity) for n in back] == [
        (n.pitch, n.start_beats, pytest.approx(n.duration_beats), n.velocity) for n in notes
    ]


def test_quantization_picks_the_nearest_musical_value() -> None:
    for i, value in enumerate(DURATION_BEATS):
        assert duration_class(value) == i
        assert ioi_class(value) == i + 1
    assert DURATION_BEATS[duration_class(0.9)] == 1.0
    assert DURATION_BEATS[duration_class(0.62)] == pytest.approx(2 / 3)
    assert DURATION_BEATS[duration_class(100.0)] == DURATION_BEATS[-1]  # long notes clamp
    assert IOI_BEATS[ioi_class(0.01)] == 0.0  # struck together
    assert duration_class(0.0) == 0


def test_rests_are_the_gap_between_duration_and_next_ioi() -> None:
    notes = [
        Note(60, 80, 0, 0, start_beats=0.0, duration_beats=1.0),
        Note(62, 80, 0, 0, start_beats=2.0, duration_beats=1.0),  # a quarter rest before
    ]
    back = decode(encode(notes))
    assert back[1].start_beats - back[0].end_beats == 1.0


def test_velocity_bins_round_trip() -> None:
    for b in range(VELOCITY_BINS):
        assert velocity_class(velocity_value(b)) == b
    assert velocity_class(127) == VELOCITY_BINS - 1
    assert velocity_class(1) == 0


@given(st.floats(min_value=1e-4, max_value=100.0))
def test_duration_class_is_the_nearest_class_on_a_log_scale(beats: float) -> None:
    distance = np.abs(np.log(np.asarray(DURATION_BEATS)) - np.log(beats))
    expected = 0 if beats <= DURATION_BEATS[0] else int(np.argmin(distance))
    assert duration_class(beats) == expected
    # and exactly between two classes: the shorter, as argmin's first minimum
    for a, b in itertools.pairwise(DURATION_BEATS):
        assert duration_class(float(np.sqrt(a * b))) == DURATION_BEATS.index(a)
