"""``bench harmony`` end to end on a tiny random harmony model and three small chorales."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from improviser.bench.harmony import SYSTEMS, held_out, run_harmony_bench
from improviser.bench.harmony_metrics import MEASURES
from improviser.errors import ModelError
from improviser.inference import write_weights
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from tests.test_harmonizer import WEIGHTS

PARTS = ("Soprano", "Alto", "Tenor", "Bass")
CHORDS = [(72, 67, 64, 48), (71, 67, 62, 43), (72, 69, 65, 41), (74, 67, 59, 43)]


def _chorale(path: Path, seed: int) -> None:
    """Four parts in quarter notes: I V IV V progressions, transposed per file."""
    rng = np.random.default_rng(seed)
    shift = int(rng.integers(-3, 4))
    order = rng.permutation(len(CHORDS) * 3) % len(CHORDS)
    parts: list[list[Note]] = [[], [], [], []]
    for beat, index in enumerate(order):
        for part, pitch in enumerate(CHORDS[int(index)]):
            parts[part].append(Note(pitch + shift, 80, beat / 2, 0.5, part, 0, float(beat), 1.0))
    write_midi(path, parts, names=list(PARTS))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    chorales = tmp_path / "chorales"
    chorales.mkdir()
    for i in range(3):
        _chorale(chorales / f"c{i}.mid", seed=i)
    path = tmp_path / "tiny.keras"
    write_weights(WEIGHTS, path.with_suffix(".npz"))
    meta = {
        "format": "improviser-model/1",
        "objective": "classes",
        "kind": "harmony",
        "corpus": {"test_files": [str(chorales / f"c{i}.mid") for i in (0, 2)]},
    }
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def test_the_bench_measures_every_system_on_the_model_s_test_files(model: Path) -> None:
    result = run_harmony_bench(model, latency_onsets=50)
    assert result["files"] == 2 and result["onsets"] == 24
    assert tuple(result["systems"]) == SYSTEMS
    for name in SYSTEMS:
        assert tuple(result["systems"][name]) == MEASURES
    truth, drone = result["systems"]["truth"], result["systems"]["drone"]
    assert truth["note_in_chord"] == 1.0 and truth["crossings"] == 0.0  # the triads as written
    assert drone["chords_per_8_beats"] == 1.0 and drone["motion"] == 0.0
    assert result["systems"]["model"]["crossings"] == 0.0  # the masks
    assert all(r["n"] == 50 for r in result["latency"].values())
    again = run_harmony_bench(model, latency_onsets=0)
    assert again["systems"] == result["systems"]  # seeded: the same voices
    assert "latency" not in again


def test_data_leaves_out_the_model_s_training_files(model: Path, tmp_path: Path) -> None:
    meta = json.loads(model.with_suffix(".json").read_text())
    meta["corpus"] = {"train_files": [str(tmp_path / "chorales" / "c1.mid")]}
    model.with_suffix(".json").write_text(json.dumps(meta))
    pieces = held_out(model, [tmp_path / "chorales"])
    assert sorted(Path(p.path).name for p in pieces) == ["c0.mid", "c2.mid"]
    meta["corpus"]["train_files"] = [str(tmp_path / "chorales" / f"c{i}.mid") for i in range(3)]
    model.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="no held-out piece"):
        run_harmony_bench(model, data=[tmp_path / "chorales"], latency_onsets=0)


def _bench(model: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "improviser", "bench", "harmony", "--model", str(model)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_bench_harmony_prints_json_and_a_bad_option_is_one_line(model: Path) -> None:
    result = _bench(model, "--latency-onsets", "30", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["systems"]) == set(SYSTEMS) and data["files"] == 2
    bad = _bench(model, "--latency-onsets", "0", "--temperature", "-1")
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert bad.returncode == 2 and len(lines) == 1 and "temperature must be positive" in lines[0]


def test_the_latency_rows_of_bench_latency(model: Path, tmp_path: Path) -> None:
    from improviser.bench.harmony_latency import harmony_latency_summary, onset_flops
    from improviser.inference.weights import random_weights
    from improviser.music.voicing import HARMONY_VOCAB

    tiny = random_weights((8,), 4, inputs=HARMONY_VOCAB, outputs={"value": 128}, kind="harmony")
    # per step: 4 table rows of 32 gates, the 8x32 recurrent product, the cell, the head
    assert onset_flops(tiny) == 3 * (4 * 32 + 2 * 8 * 32 + 4 * 32 + 5 * 8 + 2 * 9 * 128)
    rows = harmony_latency_summary(25, model)
    assert rows and all(r["n"] == 25 and r["gflops"] > 0 for r in rows.values())
    assert harmony_latency_summary(25, tmp_path / "none.keras") == {}
