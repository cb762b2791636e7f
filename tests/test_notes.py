"""MIDI files in and out: round trips, the velocity-0 rule, overlaps, bad files."""

from __future__ import annotations

import struct
from pathlib import Path

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.errors import MidiFileError
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import MAX_FILE_BYTES, Note, extract_melody, skyline

TPB = 480


def _file(tmp_path: Path, tracks: list[list[mido.Message]], kind: int = 1) -> Path:
    mid = mido.MidiFile(type=kind, ticks_per_beat=TPB)
    for messages in tracks:
        mid.tracks.append(mido.MidiTrack(messages))
    path = tmp_path / "f.mid"
    mid.save(path)
    return path


def _raw_smf(tmp_path: Path, track_bytes: bytes, tpb: int = 96) -> Path:
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpb)
    body = b"MTrk" + struct.pack(">I", len(track_bytes)) + track_bytes
    path = tmp_path / "raw.mid"
    path.write_bytes(header + body)
    return path


@st.composite
def note_lists(draw: st.DrawFn) -> list[Note]:
    count = draw(st.integers(1, 40))
    notes, busy_until = [], {}
    for _ in range(count):
        pitch = draw(st.integers(0, 127))
        channel = draw(st.integers(0, 15))
        start = draw(st.integers(0, 4000)) / 8
        length = draw(st.integers(1, 64)) / 8
        if busy_until.get((channel, pitch), -1.0) > start:
            continue  # same-pitch overlaps are merged on write; covered by their own test
        if any(n.channel == channel and n.pitch == pitch and n.start_beats > start for n in notes):
            continue
        busy_until[(channel, pitch)] = start + length
        vel = draw(st.integers(1, 127))
        notes.append(Note(pitch, vel, start / 2, length / 2, channel, 0, start, length))
    return notes


@settings(max_examples=40, deadline=None)
@given(note_lists(), st.sampled_from([96, 480, 960]), st.sampled_from([60.0, 120.0, 97.0]))
def test_notes_file_notes_is_identity_up_to_tick_rounding(
    tmp_path_factory: pytest.TempPathFactory, notes: list[Note], tpb: int, bpm: float
) -> None:
    path = tmp_path_factory.mktemp("rt") / "rt.mid"
    write_midi(path, [notes], bpm=bpm, ticks_per_beat=tpb)
    back = read_midi(path)
    key = lambda n: (n.start_beats, n.channel, n.pitch)  # noqa: E731
    assert len(back.notes) == len(notes)
    tick = 1 / tpb
    for a, b in zip(sorted(notes, key=key), sorted(back.notes, key=key), strict=True):
        assert (a.pitch, a.velocity, a.channel) == (b.pitch, b.velocity, b.channel)
        assert abs(a.start_beats - b.start_beats) <= tick / 2 + 1e-9
        assert abs(a.duration_beats - b.duration_beats) <= tick + 1e-9
        assert abs(b.start - b.start_beats * 60 / back.bpm) < 1e-6
    assert back.bpm == pytest.approx(bpm, rel=1e-3)
    assert back.report.overlaps == back.report.unreleased == 0


def test_velocity_zero_note_on_is_a_note_off(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        [
            [
                mido.Message("note_on", note=60, velocity=90, time=0),
                mido.Message("note_on", note=60, velocity=0, time=240),
                mido.Message("note_on", note=62, velocity=80, time=0),
                mido.Message("note_on", note=62, velocity=0, time=480),
            ]
        ],
    )
    notes = read_midi(path).notes
    assert [(n.pitch, n.start_beats, n.duration_beats) for n in notes] == [
        (60, 0.0, 0.5),
        (62, 0.5, 1.0),
    ]


def test_running_status_is_read(tmp_path: Path) -> None:
    # note_on C4, then running-status events (no status byte): D4 on, C4 off (vel 0), D4 off.
    events = bytes(
        [0x00, 0x90, 60, 100, 0x60, 62, 90, 0x00, 60, 0, 0x60, 62, 0, 0x00, 0xFF, 0x2F, 0x00]
    )
    notes = read_midi(_raw_smf(tmp_path, events, tpb=96)).notes
    assert [(n.pitch, n.velocity, n.start_beats, n.duration_beats) for n in notes] == [
        (60, 100, 0.0, 1.0),
        (62, 90, 1.0, 1.0),
    ]


def test_type0_with_tempo_change_gives_seconds_through_the_tempo_map(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        [
            [
                mido.MetaMessage("set_tempo", tempo=500_000, time=0),  # 120 bpm
                mido.Message("note_on", note=60, velocity=80, time=0),
                mido.Message("note_off", note=60, time=TPB),
                mido.MetaMessage("set_tempo", tempo=1_000_000, time=0),  # 60 bpm
                mido.Message("note_on", note=64, velocity=80, time=0),
                mido.Message("note_off", note=64, time=TPB),
            ]
        ],
        kind=0,
    )
    score = read_midi(path)
    first, second = score.notes
    assert (first.start, first.duration) == (0.0, pytest.approx(0.5))
    assert (second.start, second.duration) == (pytest.approx(0.5), pytest.approx(1.0))
    assert second.start_beats == 1.0
    assert score.bpm == pytest.approx(120.0)


def test_tempo_in_track_zero_applies_to_other_tracks(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        [
            [mido.MetaMessage("set_tempo", tempo=1_000_000, time=0)],
            [
                mido.Message("note_on", note=60, velocity=80, time=TPB),
                mido.Message("note_off", note=60, time=TPB),
            ],
        ],
    )
    (note,) = read_midi(path).notes
    assert (note.start, note.duration, note.track) == (1.0, 1.0, 1)


def test_overlapping_same_pitch_and_unreleased_notes_are_resolved_and_counted(
    tmp_path: Path,
) -> None:
    path = _file(
        tmp_path,
        [
            [
                mido.Message("note_on", note=60, velocity=80, time=0),
                mido.Message("note_on", note=60, velocity=70, time=TPB),  # re-strike
                mido.Message("note_off", note=60, time=TPB),
                mido.Message("note_on", note=67, velocity=60, time=0),  # never released
                mido.Message("note_off", note=50, time=TPB),  # releases nothing
            ]
        ],
    )
    score = read_midi(path)
    got = [(n.pitch, n.start_beats, n.duration_beats) for n in score.notes]
    assert got == [(60, 0.0, 1.0), (60, 1.0, 1.0), (67, 2.0, 1.0)]
    assert score.report.overlaps == 1
    assert score.report.unreleased == 1
    assert score.report.orphan_offs == 1


@pytest.mark.parametrize(
    "content",
    [b"", b"not a midi file at all", b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60MTrk\xff"],
)
def test_malformed_files_raise_one_line_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(MidiFileError) as info:
        read_midi(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_and_huge_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MidiFileError, match="cannot read"):
        read_midi(tmp_path / "absent.mid")
    huge = tmp_path / "huge.mid"
    with huge.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(MidiFileError, match="larger than"):
        read_midi(huge)


def test_written_file_has_a_note_off_for_every_note_on(tmp_path: Path) -> None:
    # Overlapping same pitch and a zero-length note: both must still be released.
    notes = [
        Note(60, 80, 0, 0, start_beats=0.0, duration_beats=2.0),
        Note(60, 80, 0, 0, start_beats=1.0, duration_beats=2.0),
        Note(64, 80, 0, 0, start_beats=1.0, duration_beats=0.0),
    ]
    path = tmp_path / "w.mid"
    write_midi(path, [notes])
    sounding: dict[int, int] = {}
    for msg in mido.MidiFile(path):
        if msg.type == "note_on" and msg.velocity > 0:
            assert sounding.get(msg.note, 0) == 0, "re-struck before release"
            sounding[msg.note] = 1
        elif msg.type in ("note_off", "note_on"):
            sounding[msg.note] = 0
    assert not any(sounding.values())
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"


def test_skyline_keeps_the_highest_note_and_never_overlaps() -> None:
    chord = [Note(p, 80, 0, 0, start_beats=0.0, duration_beats=2.0) for p in (48, 55, 64)]
    tune = [Note(67, 80, 0, 0, start_beats=1.0, duration_beats=1.0)]
    drums = [Note(36, 80, 0, 0, channel=9, start_beats=0.0, duration_beats=0.1)]
    out = skyline(chord + tune)
    assert [(n.pitch, n.start_beats, n.duration_beats) for n in out] == [
        (64, 0.0, 1.0),
        (67, 1.0, 1.0),
    ]
    assert [n.pitch for n in extract_melody(chord + drums)] == [64]
    assert [n.pitch for n in extract_melody(drums, channel=9)] == [36]
    assert len(extract_melody(chord, mode="all")) == 3
