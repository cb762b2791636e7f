"""``improviser harmonize``: a melody file in, the melody's track and one track per voice
out, every note released, the same bytes for the same seed; bad input one line, exit 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mido
import pytest

from improviser.inference import NumpyEngine, write_weights
from improviser.inference.harmonize import harmonize_file, voice_notes
from improviser.inference.harmonizer import Harmonizer, Voicing
from improviser.music.encoding import ioi_class
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from tests.cli_run import improviser
from tests.test_harmonizer import WEIGHTS


def _note(pitch: int, start: float, length: float = 1.0, velocity: int = 80) -> Note:
    return Note(pitch, velocity, start / 2, length / 2, 0, 0, start, length)


MELODY = [_note(p, float(i)) for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69, 67, 66, 67])]


def test_a_voice_is_held_while_it_keeps_its_pitch_and_ends_where_it_changes() -> None:
    melody = [_note(72, 0), _note(74, 1), _note(76, 2, length=0.5), _note(74, 4, length=2)]
    voicings = [Voicing(48, 0, 60), Voicing(48, 0, 62), Voicing(50, 0, 62), Voicing(50, 55, 0)]
    bass = voice_notes(melody, voicings, 0, channel=1)
    assert [(n.pitch, n.start_beats, n.duration_beats, n.channel) for n in bass] == [
        (48, 0.0, 2.0, 1),  # tied across onsets 0 and 1, ends where the bass moves
        (50, 2.0, 4.0, 1),  # held to the end of the last melody note (beat 6)
    ]
    assert [
        (n.pitch, n.start_beats, n.duration_beats) for n in voice_notes(melody, voicings, 1, 2)
    ] == [(55, 4.0, 2.0)]
    alto = voice_notes(melody, voicings, 2, channel=3)
    assert [(n.pitch, n.start_beats, n.duration_beats) for n in alto] == [
        (60, 0.0, 1.0),
        (62, 1.0, 3.0),  # ends at the onset where the alto falls silent
    ]
    assert all(n.velocity == 60 for n in bass)  # 3/4 of the melody's


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "tiny.keras"
    write_weights(WEIGHTS, model.with_suffix(".npz"))
    melody = tmp_path / "melody.mid"
    write_midi(melody, [MELODY], bpm=90, names=["Melody"])
    return model, melody


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return improviser("harmonize", *args)


def test_harmonize_end_to_end_the_same_seed_gives_the_same_bytes(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    model, melody = files
    outs = [tmp_path / "a.mid", tmp_path / "b.mid"]
    for out in outs:
        result = run(melody, "--out", out, "--model", model, "--seed", "5")
        assert result.returncode == 0, result.stderr
        assert "11 melody notes, bass, tenor, alto" in " ".join(result.stderr.split())
    assert outs[0].read_bytes() == outs[1].read_bytes()

    source, written = mido.MidiFile(melody), mido.MidiFile(outs[0])
    assert written.type == 1 and written.ticks_per_beat == source.ticks_per_beat
    names = [next((m.name for m in t if m.type == "track_name"), "") for t in written.tracks]
    assert names == ["", "Melody", "Bass", "Tenor", "Alto"]
    for kept, original in zip(written.tracks[:2], source.tracks, strict=True):
        assert list(kept) == list(original)  # the tempo and melody tracks unchanged

    score = read_midi(outs[0])
    assert score.report.unreleased == 0 and score.report.overlaps == 0
    for track in (2, 3, 4):
        notes = [n for n in score.notes if n.track == track]
        assert notes, f"track {track} is empty"
        assert len({n.channel for n in notes}) == 1 and notes[0].channel != 0
        for note in notes:  # never above the melody at any onset it sounds under
            over = [m for m in MELODY if note.start_beats <= m.start_beats < note.end_beats]
            assert over and all(note.pitch <= m.pitch for m in over)


def test_the_file_is_the_harmonizer_s_voices_in_process(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, melody = files
    harmonizer = Harmonizer(NumpyEngine(WEIGHTS), seed=2)
    result = harmonize_file(melody, tmp_path / "o.mid", harmonizer, voices=2)
    assert result.voices == (0, 2)
    again = Harmonizer(NumpyEngine(WEIGHTS), seed=2)
    # quarter notes from beat 0 in 4/4: a downbeat every 4th, whole beats between
    expected = [
        again.voice(n.pitch, 0 if i % 4 == 0 else 1, 0 if i == 0 else ioi_class(1.0))
        for i, n in enumerate(MELODY)
    ]
    assert list(result.voicings) == expected
    tracks = mido.MidiFile(tmp_path / "o.mid").tracks
    assert [t.name for t in tracks[2:]] == ["Bass", "Alto"]


def test_a_type_0_file_gets_a_tempo_track_first(tmp_path: Path) -> None:
    model = tmp_path / "tiny.npz"
    write_weights(WEIGHTS, model)
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=600_000, time=0))
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    for pitch in (64, 65, 67):
        track.append(mido.Message("note_on", note=pitch, velocity=70, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=96))
    track.append(mido.MetaMessage("end_of_track", time=0))
    mid.tracks.append(track)
    mid.save(tmp_path / "zero.mid")
    harmonizer = Harmonizer(NumpyEngine(WEIGHTS), seed=1)
    harmonize_file(tmp_path / "zero.mid", tmp_path / "o.mid", harmonizer, voices=1)
    out = mido.MidiFile(tmp_path / "o.mid")
    assert [m.type for m in out.tracks[0]] == ["set_tempo", "time_signature", "end_of_track"]
    assert list(out.tracks[1]) == list(track)
    assert out.tracks[2].name == "Bass"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent.mid", "--out", "o.mid"], "cannot read"),
        (["MELODY", "--out", "o.mid", "--voices", "4"], "--voices must be 1, 2 or 3, got 4"),
        (["MELODY", "--out", "o.mid", "--temperature", "0"], "temperature must be positive"),
        (["MELODY", "--out", "o.mid", "--model", "/nonexistent.keras"], "weights file not found"),
        (["EMPTY", "--out", "o.mid"], "no melody notes to harmonize"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    files: tuple[Path, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    model, melody = files
    empty = tmp_path / "empty.mid"
    write_midi(empty, [[]])
    args = [{"MELODY": str(melody), "EMPTY": str(empty)}.get(a, a) for a in args]
    if "--model" not in args:
        args += ["--model", str(model)]
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
