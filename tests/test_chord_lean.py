"""Leaning an answer on the call's chord: strong beats, the chord under a call, the draw."""

from __future__ import annotations

import numpy as np
import pytest

from improviser.inference import NumpyEngine
from improviser.music.chord_lean import ChordLean, call_chord, chord_under, strong_beat
from improviser.music.chords import estimate_set
from improviser.music.notes import Note
from improviser.paths import DEFAULT_MODEL
from tests.fakes import FakeClock
from tests.test_live_units import make, off, on


def _n(pitch: int, start: float, length: float, channel: int = 0) -> Note:
    return Note(pitch, 80, start / 2, length / 2, channel, 0, start, length)


def test_strong_beats_are_the_downbeat_and_the_middle_of_an_even_bar() -> None:
    assert [b for b in np.arange(0, 8, 0.5) if strong_beat(float(b), 4)] == [0, 2, 4, 6]
    assert [b for b in range(6) if strong_beat(b, 3)] == [0, 3]
    assert [b for b in range(6) if strong_beat(b, 6)] == [0, 3]
    assert strong_beat(1.97, 4) and strong_beat(4.03, 4) and not strong_beat(1.9, 4)
    with pytest.raises(ValueError):
        strong_beat(0.0, 0)


def test_the_chord_under_a_melody_note_needs_a_note_under_it() -> None:
    g7 = chord_under(77, [55, 59, 62, 77])
    assert g7 is not None and g7.name == "G7"
    assert chord_under(72, [72, 76, 79]) is None  # only notes at or above the melody: one hand
    assert chord_under(72, [60]) is None  # a single pitch class
    assert chord_under(72, [48]) is None


def test_a_files_chord_is_the_one_under_its_last_two_hand_onset() -> None:
    melody = [_n(72, 0, 1), _n(74, 1, 1), _n(76, 2, 1), _n(77, 3, 1)]
    left = [_n(48, 0, 2), _n(52, 0, 2), _n(55, 0, 2), _n(50, 2, 1), _n(53, 2, 1), _n(57, 2, 1)]
    drums = [_n(36, 3, 1, channel=9)]
    chord = call_chord(melody, melody + left + drums)
    assert chord is not None and chord.name == "Dm"  # the last onset, F5, has nothing under it
    assert call_chord(melody, melody) is None
    assert call_chord([], left) is None


def test_a_lean_keeps_chord_tones_and_refuses_others_by_its_weight() -> None:
    c = estimate_set(frozenset({0, 4, 7}), 0)
    assert c is not None
    lean = ChordLean(c, 4.0, phase=3.0, beats_per_bar=4)
    assert lean.strong(1.0) and lean.strong(3.0) and not lean.strong(0.0)
    rng = np.random.default_rng(0)
    assert all(lean.keeps(64, rng) for _ in range(100))  # E: a chord tone, nothing drawn
    assert rng.random() == np.random.default_rng(0).random()
    kept = sum(lean.keeps(62, rng) for _ in range(20000)) / 20000
    assert kept == pytest.approx(0.25, abs=0.02)
    assert ChordLean.of(c, 1.0, 0.0, 4) is None and ChordLean.of(None, 3.0, 0.0, 4) is None
    assert ChordLean.of(c, 3.0, 5.0, 4) == ChordLean(c, 3.0, 1.0, 4)
    with pytest.raises(ValueError):
        ChordLean(c, 0.5)


def _follow_over_a_chord(lean: float) -> tuple[list[int], list[int]]:
    """Follow mode, a melody on every beat over a C major the left hand strikes with its
    first note and holds: the follow notes on strong beats (beats 1 and 3) and off them."""

    clock = FakeClock()
    model = NumpyEngine.from_file(DEFAULT_MODEL)
    engine, _, wire, _, _ = make(
        clock,
        model,  # type: ignore[arg-type]
        mode="follow",
        follow_delay=0.0,
        sync="fixed",
        chord_lean=lean,
        key="off",
    )
    start = clock()
    for i, pitch in enumerate([72, 74, 76, 77, 79, 77, 76, 74] * 4):
        engine.handle(on(pitch, clock()))
        if i == 0:
            for low in (48, 52, 55):  # struck with the melody note: not the top line
                engine.handle(on(low, clock.advance(0.005), channel=1))
        clock.advance(0.45 - (0.015 if i == 0 else 0.0))
        engine.handle(off(pitch, clock()))
        clock.advance(0.05)  # 120 bpm: one note a beat
    beats = [(round((t - start) / 0.5), p) for t, p in wire.ons()]  # ours only (no thru)
    assert len(beats) == 32
    return [p for b, p in beats if b % 2 == 0], [p for b, p in beats if b % 2]


def test_follow_notes_on_strong_beats_lean_on_the_chord_held() -> None:
    tones = {0, 4, 7}
    plain_strong, plain_other = _follow_over_a_chord(1.0)
    leant_strong, leant_other = _follow_over_a_chord(50.0)
    assert len(plain_strong) == len(leant_strong) == 16

    def share(ps: list[int]) -> float:
        return sum(p % 12 in tones for p in ps) / len(ps)

    assert share(leant_strong) >= share(plain_strong) + 0.25  # 0.81 against 0.44 here
    assert len(plain_other) == len(leant_other) == 16  # off the strong beats: as drawn
