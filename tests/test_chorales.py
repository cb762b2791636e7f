"""The chorale builder (samples/build_chorales.py) and the corpus committed in samples/chorales."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from improviser.music.midi_read import read_midi
from improviser.music.time_signature import beats_per_bar
from improviser.training.harmony_corpus import read_piece

ROOT = Path(__file__).resolve().parents[1]
CHORALES = ROOT / "samples" / "chorales"


def _load_builder() -> ModuleType:
    name = "build_chorales"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "samples" / "build_chorales.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def _rows(name: str) -> list[dict[str, str]]:
    with (CHORALES / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    ("names", "indices"),
    [
        (["Soprano", "Alto", "Tenor", "Bass"], [0, 1, 2, 3]),
        (["Horn 2", "Soprano", "Alto", "Tenor", "Bass", "Continuo"], [1, 2, 3, 4]),
        (["Soprano\rOboe 1,2\rViolin1", "Alto\rViloin 2", "Tenor\rViola", "Bass"], [0, 1, 2, 3]),
    ],
)
def test_voice_parts_are_found_by_name(names: list[str], indices: list[int]) -> None:
    assert builder.voice_parts(names) == indices


@pytest.mark.parametrize(
    "names",
    [
        ["Soprano 1", "Soprano 2", "Alto", "Tenor", "Bass"],
        [None, None, None, None],
        ["Piano", "Piano"],
        ["Soprano", "Alto", "Bass"],
    ],
)
def test_anything_but_four_voice_parts_is_skipped(names: list[str | None]) -> None:
    with pytest.raises(builder.SkipError, match="not exactly four voice parts"):
        builder.voice_parts(names)


def test_titles_fall_back_to_the_bwv_number_without_its_suffix() -> None:
    known = {"18.5": "Durch Adams Fall"}
    assert builder.title_of("18.5-w", known) == "Durch Adams Fall"
    assert builder.title_of("1.6", known) == ""


def test_manifest_lists_every_file_with_its_hash_and_no_duplicate_melody() -> None:
    rows = _rows("MANIFEST.csv")
    files = sorted(p.name for p in CHORALES.glob("*.mid"))
    assert sorted(r["file"] for r in rows) == files
    assert len({r["content_hash"] for r in rows}) == len(rows)
    for row in rows:
        digest = hashlib.sha256((CHORALES / row["file"]).read_bytes()).hexdigest()
        assert digest == row["sha256"], row["file"]
    kept = {r["file"] for r in rows}
    for dup in _rows("DUPLICATES.csv"):
        assert dup["duplicate_of"] in kept
    assert len(rows) + len(_rows("DUPLICATES.csv")) + len(_rows("SKIPPED.csv")) == 413


def test_files_read_back_as_four_parts_with_the_manifest_s_events_and_metre() -> None:
    for row in _rows("MANIFEST.csv")[::25]:
        path = CHORALES / row["file"]
        score = read_midi(path)
        assert score.track_names[1:] == ("Soprano", "Alto", "Tenor", "Bass")
        numerator, denominator = (int(v) for v in row["time_signature"].split("/"))
        assert beats_per_bar(path) == numerator * 4 / denominator
        piece = read_piece(path)
        assert piece.source == "parts"
        assert len(piece.events) == int(row["events"])
        # pickups are padded to the bar grid, so most soprano onsets fall on beats
        on_beat = sum(e.metre in (0, 1) for e in piece.events)
        assert on_beat > len(piece.events) / 2, row["file"]
