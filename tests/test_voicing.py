"""Harmony events and tokens: chorale-like parts, a piano-like texture, causality."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.music.encoding import ioi_class
from improviser.music.notes import DRUM_CHANNEL, Note
from improviser.music.voicing import (
    HARMONY_FIELDS,
    HARMONY_VOCAB,
    REST,
    ROLES,
    HarmonyEvent,
    events_from_notes,
    events_from_parts,
    events_from_tokens,
    harmony_tokens,
    lower_voice_counts,
    metre_class,
)


def _n(pitch: int, start: float, length: float, *, channel: int = 0, track: int = 0) -> Note:
    return Note(pitch, 80, start / 2, length / 2, channel, track, start, length)


def _part(*notes: tuple[int, float]) -> list[Note]:
    """A monophonic part from (pitch, length) pairs played one after another."""
    out, at = [], 0.0
    for pitch, length in notes:
        out.append(_n(pitch, at, length))
        at += length
    return out


# A chorale-like phrase in C (bar of 4): I - V6 - I with a passing eighth in the alto and
# a held bass under two soprano notes.
SOPRANO = _part((72, 1.0), (71, 0.5), (72, 0.5), (74, 1.0), (72, 1.0))
ALTO = _part((67, 1.0), (67, 0.5), (65, 0.5), (67, 1.0), (67, 1.0))
TENOR = _part((64, 1.0), (62, 1.0), (62, 1.0), (64, 1.0))
BASS = _part((48, 2.0), (47, 1.0), (48, 1.0))


def test_metre_classes() -> None:
    assert metre_class(0.0, 4.0) == 0
    assert metre_class(4.0, 4.0) == 0
    assert metre_class(3.97, 4.0) == 0  # within 1/16 beat before the bar line
    assert metre_class(1.0, 4.0) == 1
    assert metre_class(2.0, 3.0) == 1
    assert metre_class(1.5, 4.0) == 2
    assert metre_class(1.25, 4.0) == 3
    assert metre_class(2 / 3, 4.0) == 3
    assert metre_class(6.0, 3.0) == 0  # wraps into the bar
    with pytest.raises(ValueError, match="beats_per_bar"):
        metre_class(1.0, 0.0)


def test_events_from_parts_take_what_sounds_at_each_soprano_onset() -> None:
    events = events_from_parts(SOPRANO, ALTO, TENOR, BASS)
    assert [e.melody for e in events] == [72, 71, 72, 74, 72]
    assert [e.start_beats for e in events] == [0.0, 1.0, 1.5, 2.0, 3.0]
    assert [e.metre for e in events] == [0, 1, 2, 1, 1]
    quarter, eighth = ioi_class(1.0), ioi_class(0.5)
    assert [e.ioi for e in events] == [0, quarter, eighth, eighth, quarter]
    assert [e.voices for e in events] == [
        (48, 64, 67),
        (48, 62, 67),  # bass held from beat 0
        (48, 62, 65),  # the alto's passing eighth, tenor held
        (47, 62, 67),
        (48, 64, 67),
    ]


def test_events_from_parts_rest_where_a_part_is_silent() -> None:
    bass = [_n(48, 0.0, 1.0), _n(43, 2.0, 2.0)]  # silent on beat 1
    events = events_from_parts(SOPRANO, ALTO, TENOR, bass)
    assert [e.voices[0] for e in events] == [48, REST, REST, 43, 43]
    assert lower_voice_counts(events) == {0: 0, 1: 0, 2: 2, 3: 3}


def test_events_from_parts_bars_of_three() -> None:
    soprano = _part((67, 1.0), (67, 1.0), (67, 1.0), (67, 1.0))
    events = events_from_parts(soprano, [], [], [], beats_per_bar=3.0)
    assert [e.metre for e in events] == [0, 1, 1, 0]
    assert all(e.voices == (REST, REST, REST) for e in events)


def test_piano_texture_skyline_and_lower_voices() -> None:
    notes = [
        # right hand: melody over a held third
        _n(76, 0.0, 1.0, track=1),
        _n(72, 0.0, 2.0, track=1),
        _n(67, 0.0, 2.0, track=1),
        _n(74, 1.0, 1.0, track=1),
        # left hand: a bass held two beats, then a broken chord
        _n(48, 0.0, 2.0, track=2),
        _n(43, 2.0, 0.5, track=2),
        _n(55, 2.5, 0.5, track=2),
        _n(79, 2.0, 1.0, track=1),
        _n(79, 2.5, 0.02, track=1, channel=1),  # a grace note in the melody
        _n(36, 0.0, 4.0, channel=DRUM_CHANNEL),  # percussion never counts
    ]
    events = events_from_notes(notes)
    assert [(e.melody, e.start_beats) for e in events] == [
        (76, 0.0),
        (74, 1.0),
        (79, 2.0),
        (79, 2.5),
    ]
    assert events[0].voices == (48, 67, 72)  # three below: bass, tenor (middle), alto
    assert events[1].voices == (48, 67, 72)  # still held under the new melody note
    assert events[2].voices == (43, REST, REST)  # one lower note: bass only
    assert events[3].voices == (55, REST, REST)
    assert lower_voice_counts(events) == {0: 0, 1: 2, 2: 0, 3: 2}


def test_piano_two_lower_notes_are_bass_and_alto_and_tenor_is_the_middle() -> None:
    two = events_from_notes([_n(72, 0, 1), _n(60, 0, 1), _n(64, 0, 1)])
    assert two[0].voices == (60, REST, 64)
    five = events_from_notes([_n(84, 0, 1)] + [_n(p, 0, 1) for p in (48, 55, 60, 64, 67)])
    assert five[0].voices == (48, 60, 67)
    same = events_from_notes([_n(72, 0, 1), _n(60, 0, 1, track=1), _n(60, 0, 1, track=2)])
    assert same[0].voices == (60, REST, REST)  # one pitch doubled is one voice


def test_top_line_as_the_live_engine_hears_it() -> None:
    notes = [
        _n(72, 0.0, 2.0),  # a melody note held two beats
        _n(48, 0.0, 1.0),
        _n(50, 1.0, 1.0),  # the bass moves under it: not a melody onset
        _n(71, 1.9, 1.1),  # legato: struck a step below while 72 still sounds
        _n(60, 2.5, 1.0),  # struck 11 below the held melody note: another voice
        _n(67, 3.0, 1.0),
        _n(74, 4.0, 2.0),
        _n(72, 5.0, 1.0),  # a step below, but the melody note sounds on a beat: inner voice
    ]
    events = events_from_notes(notes)
    assert [(e.melody, e.start_beats) for e in events] == [
        (72, 0.0),
        (71, 1.9),
        (67, 3.0),
        (74, 4.0),
    ]
    assert events[1].voices == (50, REST, REST)  # the previous melody note is not a voice
    assert events[2].voices == (60, REST, REST)


def test_chorale_parts_read_as_notes_give_the_same_voicing() -> None:
    parts = [
        [_n(n.pitch, n.start_beats, n.duration_beats, track=i) for n in part]
        for i, part in enumerate((SOPRANO, ALTO, TENOR, BASS))
    ]
    as_parts = events_from_parts(*parts)
    as_notes = events_from_notes([n for part in parts for n in part])
    assert as_notes == as_parts


def test_tokens_layout_and_round_trip() -> None:
    events = events_from_parts(SOPRANO, ALTO, TENOR, BASS)
    tokens = harmony_tokens(events)
    assert tokens.dtype == np.int32
    assert tokens.shape == (4 * len(events), len(HARMONY_FIELDS))
    assert ROLES == ("melody", "bass", "tenor", "alto")
    assert tokens[:4].tolist() == [[72, 0, 0, 0], [48, 1, 0, 0], [64, 2, 0, 0], [67, 3, 0, 0]]
    for col, name in enumerate(HARMONY_FIELDS):
        assert tokens[:, col].max() < HARMONY_VOCAB[name]
    back = events_from_tokens(tokens)
    assert [(e.melody, e.metre, e.ioi, e.voices) for e in back] == [
        (e.melody, e.metre, e.ioi, e.voices) for e in events
    ]
    assert harmony_tokens([]).shape == (0, 4)


def test_bad_events_and_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="melody"):
        HarmonyEvent(0, 0, 0, (0, 0, 0))
    with pytest.raises(ValueError, match="voices"):
        HarmonyEvent(60, 0, 0, (128, 0, 0))
    with pytest.raises(ValueError, match="whole events"):
        events_from_tokens(np.zeros((3, 4), dtype=np.int32))
    with pytest.raises(ValueError, match="roles"):
        events_from_tokens(np.zeros((4, 4), dtype=np.int32))


@st.composite
def piano_notes(draw: st.DrawFn) -> list[Note]:
    count = draw(st.integers(1, 30))
    notes = []
    for _ in range(count):
        start = draw(st.integers(0, 64)) / 8
        length = draw(st.integers(1, 24)) / 8
        pitch = draw(st.integers(21, 108))
        notes.append(_n(pitch, start, length, track=draw(st.integers(0, 2))))
    return notes


@settings(max_examples=200, deadline=None)
@given(piano_notes())
def test_no_voice_is_above_the_melody(notes: list[Note]) -> None:
    for event in events_from_notes(notes):
        sounding = [v for v in event.voices if v != REST]
        assert all(v < event.melody for v in sounding)
        assert sounding == sorted(sounding)
        assert event.voices[1] == REST or event.voices[0] != REST  # tenor only with a bass


@settings(max_examples=200, deadline=None)
@given(piano_notes(), st.integers(0, 64))
def test_events_of_a_prefix_are_a_prefix_of_the_events(notes: list[Note], cut8: int) -> None:
    cut = cut8 / 8 - 1 / 64  # between grid onsets, so no chord is split by the cut
    whole = events_from_notes(notes)
    prefix = events_from_notes([n for n in notes if n.start_beats < cut])
    assert prefix == whole[: len(prefix)]
    assert len(prefix) == sum(e.start_beats < cut for e in whole)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(40, 90), st.integers(1, 8)), min_size=1, max_size=24))
def test_parts_events_are_causal(line: list[tuple[int, int]]) -> None:
    soprano = _part(*((p + 12, n / 4) for p, n in line))
    alto = _part(*((p, n / 2) for p, n in line))
    bass = _part(*((p - 12, n / 3) for p, n in line))
    whole = events_from_parts(soprano, alto, [], bass)
    for k in range(len(whole) + 1):
        cut = whole[k].start_beats if k < len(whole) else 1e9

        def before(part: list[Note], cut: float = cut) -> list[Note]:
            return [n for n in part if n.start_beats < cut - 1 / 64]

        prefix = events_from_parts(before(soprano), before(alto), [], before(bass))
        assert prefix == whole[:k]
