"""generate's options: what differs from the [answer] settings, for one run; bad values are
one line naming the key, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from improviser.cli.main import app
from improviser.music.key import parse_key
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from tests.cli_run import improviser, one_line_error

SEED = [62, 64, 65, 67, 69, 65, 62, 61, 62, 64, 65, 67, 69, 70, 69, 67]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.mid"
    notes = [Note(p, 80, i * 0.25, 0.2, 0, 0, i * 0.5, 0.4) for i, p in enumerate(SEED)]
    write_midi(path, [notes], bpm=120)
    return path


def _generate(seed: Path, out: Path, *options: str) -> list[Note]:
    args = ["generate", "--seed", str(seed), "--out", str(out), "--random-seed", "1", *options]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return [n for n in read_midi(out).notes if n.track == 2]


def test_notes_and_the_answer_length_rules(seed: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.mid"
    assert len(_generate(seed, out, "--notes", "10")) == 10
    assert len(_generate(seed, out, "--answer-length", "notes")) == 16  # answer_notes
    two_beats = _generate(seed, out, "--answer-length", "beats", "--answer-beats", "2")
    first = two_beats[0].start_beats
    assert all(n.start_beats < first + 2 for n in two_beats)
    bar = _generate(seed, out, "--answer-length", "bars", "--answer-bars", "1")
    assert all(n.start_beats < bar[0].start_beats + 4 for n in bar)
    # As the seed (the default): no longer than the seed, in beats.
    call = _generate(seed, out)
    assert call[-1].start_beats - call[0].start_beats < 8.0


def test_where_the_answer_starts(seed: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.mid"
    end = 15 * 0.5 + 0.4  # the seed's last note ends at beat 7.9
    assert _generate(seed, out, "--answer-start", "beat")[0].start_beats == 8.0
    assert _generate(seed, out, "--answer-start", "now")[0].start_beats == pytest.approx(end)
    # One second at 120 bpm is two beats of rest, then the next bar.
    late = _generate(seed, out, "--answer-start", "bar", "--answer-delay", "1.0")
    assert late[0].start_beats == 12.0


def test_key_rhythm_guard_and_short_term_options(seed: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.mid"
    key = parse_key("Eb major")
    notes = _generate(seed, out, "--key", "Eb major", "--notes", "24")
    assert sum(key.contains(n.pitch) for n in notes) >= 0.8 * len(notes)
    free = _generate(seed, out, "--rhythm-strength", "0", "--replay-guard", "off")
    again = _generate(seed, out, "--rhythm-strength", "0", "--replay-guard", "off")
    assert [n.pitch for n in free] == [n.pitch for n in again]  # seeded: the same run
    assert _generate(seed, out, "--no-short-term", "--notes", "5")


@pytest.mark.parametrize(
    ("option", "value", "key"),
    [
        ("--key", "H minor", "generate.key"),
        ("--answer-length", "forever", "generate.answer_length"),
        ("--answer-start", "later", "generate.answer_start"),
        ("--replay-guard", "loud", "generate.replay_guard"),
        ("--rhythm-strength", "-1", "generate.rhythm_strength"),
        ("--chord-lean", "0.5", "generate.chord_lean"),
    ],
)
def test_a_bad_option_is_one_line(
    seed: Path, tmp_path: Path, option: str, value: str, key: str
) -> None:
    line = one_line_error(
        improviser("generate", "--seed", seed, "--out", tmp_path / "o.mid", option, value)
    )
    assert f"config key '{key}'" in line


def test_the_old_keys_still_work_for_their_command(seed: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[generate]\nnotes = 7\nrhythm_strength = 0.5\nkey = "D minor"\n')
    out = tmp_path / "o.mid"
    notes = _generate(seed, out, "--config", str(config))
    assert len(notes) == 7
