"""Chords heard: names of known chords, inversions, broken chords, a bounded ear."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from improviser.music.chord_ear import RECENT_KEPT, ChordEar
from improviser.music.chords import estimate, estimate_set


@pytest.mark.parametrize(
    ("pitches", "name"),
    [
        ((60, 64, 67), "C"),
        ((57, 60, 64), "Am"),
        ((64, 67, 72), "C/E"),  # first inversion: the bass is named
        ((55, 59, 62, 65), "G7"),
        ((59, 62, 65, 67), "G7/B"),
        ((60, 64, 67, 69), "C6"),  # the bass's reading, not Am7/C
        ((62, 65, 69, 72), "Dm7"),
        ((60, 63, 66, 69), "Cdim7"),
        ((59, 62, 65), "Bdim"),
        ((60, 65, 67), "Csus4"),
        ((48, 55), "C5"),
        ((36, 60, 64, 67, 70, 76), "C7"),  # spread over both hands, doubled
        ((66, 69, 72, 76), "F#m7b5"),
    ],
)
def test_known_chords_are_named(pitches: tuple[int, ...], name: str) -> None:
    chord = estimate(pitches)
    assert chord is not None
    assert chord.name == name


def test_one_pitch_class_is_no_chord() -> None:
    assert estimate([60]) is None
    assert estimate([48, 60, 72]) is None
    assert estimate([]) is None


def test_weights_decide_between_readings() -> None:
    # A and C weigh little: the long C-E-G is the chord, the short A a passing note.
    chord = estimate({60: 4.0, 64: 4.0, 67: 4.0, 69: 0.2})
    assert chord is not None and chord.name == "C"


@given(st.frozensets(st.integers(0, 11), min_size=2, max_size=7), st.data())
def test_the_set_estimate_is_the_weighted_one_with_equal_weights(
    pcs: frozenset[int], data: st.DataObject
) -> None:
    bass = data.draw(st.sampled_from(sorted(pcs)))
    fast = estimate_set(pcs, bass)
    slow = estimate({pc + (0 if pc == bass else 12): 1.0 for pc in pcs})
    assert fast == slow
    assert fast is not None and fast.root in pcs and fast.bass == bass


def test_the_ear_hears_both_hands_and_a_broken_chord() -> None:
    ear = ChordEar(window_beats=1.0)
    spb = 0.5
    # left hand: C3 E3 G3 broken over half a beat; right hand holds E5
    ear.press(76, 0.0)
    for i, pitch in enumerate((48, 52, 55)):
        ear.press(pitch, 0.05 * i)
        ear.release(pitch, 0.05 * i + 0.05)
    chord = ear.chord(0.3, spb)
    assert chord is not None and chord.name == "C"
    # a beat later only the held E5 is left: one pitch class, no chord
    assert ear.chord(0.3 + 2 * spb, spb) is None
    for pitch in (64, 72, 79):
        ear.press(pitch, 1.5)
    chord = ear.chord(1.5, spb)
    assert chord is not None and chord.name == "C/E"  # E is the lowest sounding


def test_the_ear_stays_bounded_under_a_flood() -> None:
    ear = ChordEar()
    for i in range(10_000):
        pitch = 36 + i % 60
        ear.press(pitch, i * 0.001)
        ear.release(pitch, i * 0.001 + 0.0005)
    assert len(ear.pitches(10.0, 100.0)) <= RECENT_KEPT
    ear.press(60, 11.0)
    ear.release_all(11.5)
    assert ear.pitches(11.5, 0.5) == {60} | ear.pitches(11.5, 0.5)
    ear.forget()
    assert ear.pitches(11.5, 0.5) == set()


def test_a_block_chord_replaces_the_one_released_before_it_at_once() -> None:
    ear = ChordEar(window_beats=1.0)
    for pitch in (48, 52, 55):
        ear.press(pitch, 0.0)
    for pitch in (48, 52, 55):
        ear.release(pitch, 1.0)
    for pitch in (50, 53, 57):
        ear.press(pitch, 1.0)
    chord = ear.chord(1.0, 0.5)
    assert chord is not None and chord.name == "Dm"
