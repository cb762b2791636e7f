"""The corpus builder (samples/build_corpus.py) and the corpus committed in samples/corpus."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import mido
import pytest

from improviser.music.midi_read import read_midi
from improviser.music.notes import Note

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "samples" / "corpus"


def _load_builder() -> ModuleType:
    name = "build_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "samples" / "build_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bc = _load_builder()

# Tune 1: "^c" in bar 1 carries to the next c of that bar (ABC 2.1), not into bar 2.
# Tune 2: two sections each closed by a bare ":|": each repeats on its own (A A B B).
# Tune 3: tune 1 a fifth higher with halved note values: a duplicate by content.
# Tune 4: too short.
ABC = """\
X:1
T:Carry
M:4/4
L:1/4
K:C
^c c d e | c d e f | g a b c' | c' b a g |]

X:2
T:Two parts
M:2/4
L:1/8
K:G
GABc | dedB :| gfed | cBAG :|

X:3
T:Carry transposed
M:2/4
L:1/8
K:G
^g g a b | g a b c' | d' e' f' g' | g' f' e' d' |]

X:4
T:Short
M:4/4
L:1/4
K:C
C D E F |]
"""

CARRY = [73, 73, 74, 76, 72, 74, 76, 77, 79, 81, 83, 84, 84, 83, 81, 79]
PART_A = [67, 69, 71, 72, 74, 76, 74, 71]
PART_B = [79, 78, 76, 74, 72, 71, 69, 67]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """Build the small test collection once for the tests that read it."""
    root = tmp_path_factory.mktemp("abc")
    (root / "test").mkdir()
    source = root / "test" / "tunes.abc"
    source.write_text(ABC, encoding="utf-8")
    out = root / "out"
    report = bc.build({"test": [source]}, out, root=root, workers=1)
    return out, report


def _manifest(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_build_writes_pitches_with_abc21_accidentals(built: tuple[Path, Any]) -> None:
    out, report = built
    rows = {row["x"]: row for row in _manifest(out / "MANIFEST.csv")}
    assert set(rows) == {"1", "2"}
    assert rows["1"]["file"] == "test/test-tunes-1.mid"
    score = read_midi(out / rows["1"]["file"])
    assert [n.pitch for n in score.notes] == CARRY
    assert [n.start_beats for n in score.notes] == [float(i) for i in range(16)]
    assert score.bpm == pytest.approx(120.0)
    # The downbeat accent: the first note of every bar is louder.
    assert [n.velocity for n in score.notes[:5]] == [92, 80, 80, 80, 92]
    assert report.tunes == 2


def test_bare_end_repeats_repeat_their_own_section(built: tuple[Path, Any]) -> None:
    out, _ = built
    score = read_midi(out / "test" / "test-tunes-2.mid")
    assert [n.pitch for n in score.notes] == PART_A * 2 + PART_B * 2
    assert score.notes[-1].end_beats == pytest.approx(16.0)


def test_transposed_copy_is_a_duplicate_and_short_tune_is_skipped(
    built: tuple[Path, Any],
) -> None:
    out, report = built
    duplicates = _manifest(out / "DUPLICATES.csv")
    assert [(d["x"], d["reason"], d["duplicate_of"]) for d in duplicates] == [
        ("3", "content", "test/test-tunes-1.mid")
    ]
    assert report.duplicates == 1
    assert report.skipped == {"fewer than 16 notes": 1}
    assert [(s["x"], s["reason"]) for s in _manifest(out / "SKIPPED.csv")] == [
        ("4", "fewer than 16 notes")
    ]
    assert not (out / "test" / "test-tunes-3.mid").exists()


def test_content_hash_ignores_key_but_not_melody() -> None:
    tune = [Note(60 + p, 80, 0.0, 0.5, start_beats=i / 2) for i, p in enumerate([0, 2, 4, 5])]
    up = [Note(n.pitch + 7, 80, 0.0, 1.0, start_beats=n.start_beats * 2) for n in tune]
    other = [Note(60 + p, 80, 0.0, 0.5, start_beats=i / 2) for i, p in enumerate([0, 2, 4, 7])]
    assert bc.content_hash(tune) == bc.content_hash(up)
    assert bc.content_hash(tune) != bc.content_hash(other)


def test_guard_refuses_the_evaluation_collection(tmp_path: Path) -> None:
    with pytest.raises(bc.ExcludedSourceError):
        bc.check_source("/x/music21/corpus/essenFolksong/han1.abc")
    essen = tmp_path / "essenFolksong"
    essen.mkdir()
    (essen / "a.abc").write_text(ABC, encoding="utf-8")
    with pytest.raises(bc.ExcludedSourceError):
        bc.build({"folk": [essen / "a.abc"]}, tmp_path / "out", root=tmp_path, workers=1)
    with pytest.raises(bc.ExcludedSourceError):
        bc.build({"essenFolksong": []}, tmp_path / "out", root=tmp_path, workers=1)
    assert not (tmp_path / "out").exists()
    # A Ryan's Mammoth tune whose name merely contains the word "essence" is allowed.
    bc.check_source("ryansMammoth/EssenceOfCinnamonSeed.abc")


def test_committed_corpus_reads_back_monophonic() -> None:
    rows = _manifest(CORPUS / "MANIFEST.csv")
    assert len(rows) >= 1000
    files = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.mid"))
    assert files == sorted(row["file"] for row in rows)
    assert not any("essen" in row["source_file"].lower().replace("essence", "") for row in rows)
    for row in rows:
        path = CORPUS / row["file"]
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
        mid = mido.MidiFile(path)
        assert mid.type == 1 and len(mid.tracks) == 2
        sounding = 0
        notes = 0
        for msg in mid.tracks[1]:
            if msg.type == "note_on" and msg.velocity > 0:
                notes += 1
                sounding += 1
                assert sounding == 1, f"{row['file']}: overlapping notes"
            elif msg.type in ("note_on", "note_off"):
                sounding -= 1
        assert sounding == 0 and notes == int(row["notes"]), row["file"]


def test_one_committed_file_reads_with_read_midi() -> None:
    row = _manifest(CORPUS / "MANIFEST.csv")[0]
    score = read_midi(CORPUS / row["file"])
    assert len(score.notes) == int(row["notes"])
    assert score.report.overlaps == 0 and score.report.unreleased == 0
    assert all(a.end_beats <= b.start_beats for a, b in itertools.pairwise(score.notes))
