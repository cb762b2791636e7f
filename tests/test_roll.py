"""What a piano roll shows a musician (music/roll.py), and ``improviser plot`` drawing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from improviser.music.roll import ANSWER_GAP, beat_lines, note_name, roll_of, split_parts
from improviser.training.plot import plot_pianoroll


def test_note_names_as_musicians_read_them() -> None:
    assert [note_name(p) for p in (60, 61, 69, 21, 108, 0, 127)] == [
        "C4", "C#4", "A4", "A0", "C8", "C-1", "G9"
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"0\.\.127"):
        note_name(128)


def test_beats_and_bars_at_a_tempo() -> None:
    lines = beat_lines(120.0, 4.0, beats_per_bar=4)
    assert [t for t, _ in lines] == pytest.approx([0.5 * i for i in range(9)])
    assert [b for _, b in lines] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    assert beat_lines(0.0, 4.0) == [] and beat_lines(120.0, 0.0) == []


def _session(path: Path) -> Path:
    """Two calls and their answers, as a session records them."""
    player = [Note(60 + i, 90, i * 0.5, 0.4) for i in range(4)]
    player += [Note(65 + i, 90, 6.0 + i * 0.5, 0.4) for i in range(3)]
    answers = [Note(67 - i, 80, 2.5 + i * 0.4, 0.3) for i in range(3)]
    answers += [Note(70 - i, 80, 8.0 + i * 0.4, 0.3) for i in range(3)]
    write_midi(path, [player, answers], bpm=100.0, time_unit="seconds",
               names=["player", "improviser"])  # fmt: skip
    return path


def test_answers_and_the_phrase_end_before_each(tmp_path: Path) -> None:
    score = read_midi(_session(tmp_path / "take.mid"))
    parts = split_parts(score)
    assert len(parts.player) == 7 and len(parts.improviser) == 6 and not parts.others
    first, second = parts.answers
    assert first.start == pytest.approx(2.5, abs=0.01) and first.end == pytest.approx(3.6, abs=0.01)
    assert first.phrase_end == pytest.approx(1.9, abs=0.01)
    assert second.phrase_end == pytest.approx(7.4, abs=0.01)
    assert second.start - first.end > ANSWER_GAP
    roll = roll_of(score)
    assert roll["bpm"] == pytest.approx(100.0) and len(roll["answers"]) == 2


def test_a_file_not_recorded_by_a_session_has_no_answers(tmp_path: Path) -> None:
    path = tmp_path / "tune.mid"
    write_midi(path, [[Note(62, 90, 0.0, 0.5, start_beats=0.0, duration_beats=1.0)]],
               names=["melody"])  # fmt: skip
    parts = split_parts(read_midi(path))
    assert len(parts.others) == 1 and parts.answers == []


@pytest.mark.parametrize("kind", ["session", "tune"])
def test_plot_draws_a_png(tmp_path: Path, kind: str) -> None:
    if kind == "session":
        source = _session(tmp_path / "take.mid")
    else:
        source = tmp_path / "tune.mid"
        write_midi(source, [[Note(62, 90, 0.0, 0.5, start_beats=0.0, duration_beats=1.0)]])
    out = plot_pianoroll(source, tmp_path / "roll.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
