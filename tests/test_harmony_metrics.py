"""The measures of ``bench harmony`` on hand-made voicings, and its two baselines."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from improviser.bench.harmony_baselines import drone, rule_based, triads
from improviser.bench.harmony_metrics import (
    MEASURES,
    VoicedPiece,
    attacks_on_beat,
    chords_per_window,
    crossings,
    dissonances,
    in_key,
    measure,
    motion,
    note_in_chord,
    parallels,
)
from improviser.music.key import Key

C_MAJOR = Key(0, "major")


def piece(
    melody: Sequence[int],
    voices: Sequence[tuple[int, int, int]],
    metres: Sequence[int] | None = None,
    starts: Sequence[float] | None = None,
) -> VoicedPiece:
    n = len(melody)
    return VoicedPiece(
        tuple(melody),
        tuple(starts if starts is not None else [float(i) for i in range(n)]),
        tuple(metres if metres is not None else [1] * n),
        tuple(voices),
        C_MAJOR,
    )


def test_a_parallel_fifth_and_a_parallel_octave_are_counted() -> None:
    # melody C5 -> D5; tenor F4 -> G4 a fifth under it, bass C4 -> D4 an octave under it
    p = piece([72, 74], [(60, 65, 0), (62, 67, 0)])
    found, moves = parallels(p)
    # melody-tenor fifths, melody-bass octaves, and bass-tenor fourths (not counted)
    assert (found, moves) == (2, 2)


def test_fifths_by_contrary_motion_or_with_a_voice_held_are_not_parallels() -> None:
    contrary = piece([72, 74], [(65, 0, 0), (55, 0, 0)])  # C5/F4 -> D5/G3: fifths, contrary
    assert parallels(contrary) == (0, 1)
    held = piece([72, 72], [(65, 0, 0), (65, 0, 0)])  # nothing moves
    assert parallels(held) == (0, 0)
    fifth_to_sixth = piece([72, 74], [(65, 0, 0), (65 + 2 - 1, 0, 0)])
    assert parallels(fifth_to_sixth)[0] == 0


def test_a_voice_that_rests_makes_no_move_and_no_parallel() -> None:
    p = piece([72, 74, 76], [(65, 0, 0), (0, 0, 0), (69, 0, 0)])
    assert parallels(p) == (0, 0)


def test_crossings_count_onsets_with_a_voice_above_a_higher_one_or_the_melody() -> None:
    p = piece(
        [72, 72, 72, 72],
        [(48, 60, 64), (48, 65, 64), (48, 0, 76), (50, 0, 52)],  # ok, T>A, A>melody, ok
    )
    assert crossings(p) == (2, 4)


def test_dissonances_are_minor_seconds_major_sevenths_and_tritones_in_any_octave() -> None:
    # C5 over B4 (m2), F#4 (tritone), C#3 (M7 two octaves down)
    p = piece([72, 72], [(49, 66, 71), (48, 55, 64)])
    assert dissonances(p) == (3, 2)


def test_note_in_chord_judges_the_melody_against_the_whole_sonority() -> None:
    # E over C-G: C major, yes; D over C-G: no triad or seventh holds C, D, G; B over
    # C-E-G: C major seventh, yes; F over C-E-G (a suspension's sound): no; a lone D under
    # F#: D major, yes; anything over no accompaniment: no
    p = piece(
        [76, 74, 71, 77, 78, 76],
        [(48, 55, 0), (48, 55, 0), (48, 55, 64), (48, 55, 64), (50, 0, 0), (0, 0, 0)],
    )
    assert note_in_chord(p) == (3, 6)


def test_a_drone_is_one_chord_per_stretch() -> None:
    p = piece([72, 74, 76, 77], [(48, 55, 60)] * 4, starts=[0.0, 2.0, 4.0, 9.0])
    assert chords_per_window(p) == [1, 1]


def test_motion_is_the_mean_step_of_a_voice_that_sounds_at_both_onsets() -> None:
    p = piece([72, 72, 72, 72], [(48, 60, 0), (50, 60, 0), (50, 0, 0), (55, 0, 0)])
    # bass 2, 0, 5; tenor 0 (then it rests)
    assert motion(p) == (7, 4)


def test_in_key_counts_the_voices_notes_in_the_scale() -> None:
    p = piece([72, 72], [(48, 54, 0), (48, 0, 64)])  # F#3 is out of C major
    assert in_key(p) == (3, 4)


def test_attacks_on_the_beat_are_voice_attacks_at_metre_0_or_1() -> None:
    p = piece(
        [72, 74, 76, 77],
        [(48, 0, 0), (48, 0, 0), (50, 55, 0), (52, 55, 0)],
        metres=[0, 2, 3, 1],
    )
    # bass: 48 at 0 (on), 50 at 2 (off), 52 at 3 (on); tenor: 55 at 2 (off)
    assert attacks_on_beat(p) == (2, 4)


def test_chords_are_counted_per_stretch_of_8_beats() -> None:
    c, g = (48, 55, 64), (43, 55, 62)
    p = piece(
        [72, 71, 72, 72],
        [c, g, c, c],
        starts=[0.0, 4.0, 8.0, 12.0],
    )
    assert chords_per_window(p) == [2, 1]


def test_measure_has_every_measure_and_pools_the_pieces() -> None:
    a = piece([72, 74], [(60, 65, 0), (62, 67, 0)])
    b = piece([72, 72], [(48, 55, 64), (48, 55, 64)])
    result = measure([a, b])
    assert tuple(result) == MEASURES
    assert result["parallels_per_100_moves"] == pytest.approx(100.0)  # 2 in 2 moves
    assert result["crossings"] == 0.0
    assert result["motion"] == pytest.approx((2 + 2 + 0 + 0 + 0) / 5)


def test_the_drone_holds_the_tonic_under_the_melody_and_never_above_it() -> None:
    voices = drone([72, 50, 67], Key(2, "minor"))
    assert voices[0] == (50, 57, 62)  # D3, A3, D4
    assert voices[1] == (50, 0, 0)
    assert all(v <= m for m, vs in zip([72, 50, 67], voices, strict=True) for v in vs)


def test_the_rule_based_chooser_plays_the_key_s_root_position_triads() -> None:
    assert [root for root, _ in triads(C_MAJOR)] == [0, 7, 5, 9, 2, 4, 11]
    assert triads(Key(9, "minor"))[1] == (4, frozenset({4, 8, 11}))  # E major in A minor
    melody = [72, 74, 76, 77, 79, 78]  # C D E F G, then F# (outside: the last chord held)
    voices = rule_based(melody, C_MAJOR)
    assert voices[0] == (48, 64, 67)  # C: C3, E4, G4 under C5
    assert voices[1] == (43, 67, 71)  # D -> G: G2, G4, B4
    assert voices[5][0] == voices[4][0]
    assert crossings(piece(melody, voices))[0] == 0
    # G A B C: I IV V I, and F2-C4 to G2-D4 is a parallel fifth between bass and tenor
    assert parallels(piece([67, 69, 71, 72], rule_based([67, 69, 71, 72], C_MAJOR)))[0] >= 1
