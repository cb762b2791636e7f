"""The musicality benchmark: its measures on known cases, and a run on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from improviser.bench import phrase_metrics as pm
from improviser.bench.musicality import (
    ANSWERERS,
    PATHS,
    bench_musicality,
    guard_settings,
    listen_variants,
)
from improviser.cli.main import app
from improviser.errors import ConfigError
from improviser.inference import random_weights, write_weights
from improviser.music.key import Key
from improviser.music.notes import Note
from tests.synth import write_corpus


def phrase(pitches: list[int], iois: list[float] | float = 1.0, dur: float = 0.9) -> list[Note]:
    """Notes at the given IOIs (beats), each ``dur`` of its IOI long."""
    steps = iois if isinstance(iois, list) else [iois] * len(pitches)
    notes, at = [], 0.0
    for pitch, ioi in zip(pitches, steps, strict=True):
        notes.append(Note(pitch, 80, at, ioi * dur, 0, 0, at, ioi * dur))
        at += ioi
    return notes


C_SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def test_a_c_major_scale_is_all_in_c_major() -> None:
    scale = phrase(C_SCALE)
    assert pm.call_key(scale) == Key(0, "major", pm.call_key(scale).correlation)
    assert pm.key_share(scale, Key(0, "major")) == 1.0
    assert pm.key_share(phrase([61, 63, 60, 62]), Key(0, "major")) == 0.5


def test_repeating_the_call_reuses_every_motif_and_does_not_drift() -> None:
    call = phrase([60, 64, 67, 65, 64, 62, 60, 67], [1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 2.0])
    m = pm.answer_metrics(call, call)
    assert m["motif_reuse"] == 1.0
    assert m["drift"] == 0.0
    assert m["register"] == 0.0
    assert m["grid"] == 1.0
    assert m["degenerate"] == 0.0


def test_transposed_motifs_count_as_reused() -> None:
    call = phrase([60, 62, 64, 60, 67])
    assert pm.motif_reuse(phrase([65, 67, 69, 65]), call) == 1.0
    assert pm.motif_reuse(phrase([65, 66, 69, 65]), call) == 0.0


def test_rhythm_measures() -> None:
    quarters = phrase(C_SCALE, 1.0)
    assert pm.note_value_drift(phrase(C_SCALE, 0.5), quarters) == 1.0  # eighths: x2 faster
    assert pm.note_value_drift(phrase(C_SCALE, 0.75), quarters) == 0.0
    # Off the 16th grid (a 32nd late), and triplets only count where the call has them.
    assert pm.grid_share(phrase([60, 62], [1.125, 1.0]), quarters) == 0.5
    triplets = phrase([60, 62, 64, 65], [1 / 3, 1 / 3, 1 / 3, 1.0])
    assert pm.grid_share(triplets, quarters) == 0.5
    assert pm.grid_share(triplets, triplets) == 1.0
    # Gaps of 4 - 0.9 = 3.1 and 2 - 0.45 = 1.55 beats: both rests.
    gaps = phrase([60, 62, 64], [4.0, 2.0, 1.0], dur=0.225)
    assert pm.rest_share(gaps) == pytest.approx(1.0)
    assert pm.long_note_share(phrase([60, 62], [2.0, 1.0], dur=1.0)) == 0.5


def test_replays_count_eight_notes_of_the_call_in_order_transposed_apart() -> None:
    call = phrase([60, 62, 64, 65, 67, 65, 64, 62, 60, 59, 60, 64])
    assert pm.replay(call[2:10], call) == 1.0  # 8 notes of it, in order
    assert pm.transposed_replay(call[2:10], call) == 0.0
    assert pm.replay(call[2:9], call) == 0.0  # 7 are not a replay
    up = phrase([n.pitch + 2 for n in call[1:9]])
    assert pm.replay(up, call) == 0.0
    assert pm.transposed_replay(up, call) == 1.0
    varied = phrase([62, 64, 65, 67, 69, 65, 64, 62])  # the shape, one step changed
    assert pm.replay(varied, call) == pm.transposed_replay(varied, call) == 0.0
    assert (pm.motif_reuse(varied, call) or 0.0) > 0  # its 4-note shapes are still the call's


def test_guard_rows_are_named_and_checked(tiny: tuple[Path, Path]) -> None:
    assert guard_settings("penalty:6:0.05") == {
        "replay_guard": "penalty",
        "replay_notes": 6,
        "replay_penalty": 0.05,
    }
    assert guard_settings("off") == {"replay_guard": "off"}
    for bad in ("loud", "penalty:x", "penalty:6:0.1:2"):
        with pytest.raises(ConfigError, match=r"GUARD|NOTES"):
            guard_settings(bad)
    model, corpus = tiny
    result = bench_musicality(
        model, [corpus], calls=1, keys=[0], paths=["live"], guards=["off", "discount:4:0.5"]
    )
    assert {"live off", "live discount:4:0.5"} <= set(result["metrics"])
    assert "generate off" not in result["metrics"]
    with pytest.raises(ConfigError, match="replay_notes"):
        bench_musicality(model, [corpus], calls=1, keys=[0], guards=["penalty:1"])


def test_pitch_measures() -> None:
    assert pm.leap_share(phrase([60, 72, 71, 60])) == pytest.approx(2 / 3)
    assert pm.register_distance(phrase([72, 74]), phrase([60, 62])) == 12.0
    assert pm.degenerate(phrase([60, 62, 60, 62])) == 1.0  # two pitches
    assert pm.degenerate(phrase([60, 60, 60, 62, 64])) == 1.0  # one pitch > half
    assert pm.degenerate(phrase([60, 62, 64, 60])) == 0.0
    assert pm.leap_share(phrase([60])) is None


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("musicality")
    model = root / "tiny.keras"
    write_weights(random_weights(seed=3), model.with_suffix(".npz"))
    model.with_suffix(".json").write_text(
        json.dumps({"objective": "classes", "config": {"data": {}}, "corpus": {}}),
        encoding="utf-8",
    )
    corpus = root / "corpus"
    write_corpus(corpus, 4, 40)
    return model, corpus


def test_bench_on_a_tiny_model(tiny: tuple[Path, Path]) -> None:
    model, corpus = tiny
    seen: list[tuple[int, int]] = []
    result = bench_musicality(
        model, [corpus], calls=3, keys=[-2, 0, 5], progress=lambda d, t: seen.append((d, t))
    )
    assert result["calls"] == 3
    assert result["answers"] == 9
    assert seen[-1] == (9, 9)
    metrics = result["metrics"]
    assert set(metrics) == set(ANSWERERS) | set(PATHS)  # generate and live as a user runs them
    assert metrics["live"]["key"]["n"] == metrics["generate"]["key"]["n"] == 9
    repeat = metrics["repeat"]
    assert repeat["replay"]["mean"] == 1.0
    assert repeat["motif_reuse"]["mean"] == 1.0
    assert repeat["drift"]["mean"] == 0.0
    assert repeat["register"]["p99"] == 0.0
    # The synthetic tunes are scale-wise walks in one major key, rhythms on 8ths; from 16
    # notes the key finder may choose a neighbouring key (a note or two outside it).
    assert metrics["truth"]["key"]["mean"] >= 0.8
    assert metrics["truth"]["grid"]["mean"] == 1.0
    assert metrics["walk"]["key"]["mean"] == 1.0  # the walk stays in the estimated key
    assert metrics["model"]["key"]["n"] == 9
    # A random model's answers: anything, but measured on every answer.
    assert 0.0 <= metrics["model"]["leaps"]["mean"] <= 1.0


def test_cli_prints_a_table_within_80_columns_and_json(tiny: tuple[Path, Path]) -> None:
    model, corpus = tiny
    runner = CliRunner()
    args = ["bench", "musicality", str(corpus), "--model", str(model), "--calls", "2"]
    table = runner.invoke(app, [*args, "--keys", "0"], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert "4-note shapes reused" in table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80
    as_json = runner.invoke(app, [*args, "--keys", "0", "--keys", "1", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["answers"] == 4
    assert data["metrics"]["repeat"]["motif_reuse"]["mean"] == 1.0


def test_listening_rows_and_octaves_in_one_run(tiny: tuple[Path, Path]) -> None:
    model, corpus = tiny
    result = bench_musicality(
        model, [corpus], calls=2, keys=[0], octaves=[-2, 0], listen=listen_variants()
    )
    assert {"model", "model+stm", "model+listen"} <= set(result["metrics"])
    assert set(result["by_octave"]) == {"-2", "0"}
    assert result["answers"] == 4
    low = result["by_octave"]["-2"]
    # Answers with the register kept stay near a low call; truth is the song itself.
    assert low["model+listen"]["register"]["mean"] <= 12
    json.dumps(result)  # JSON-ready, the listening parameters included
