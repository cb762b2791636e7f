"""The harmony model's data, training and evaluation (train|evaluate --kind harmony)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from improviser.config import DataConfig, HarmonyModelConfig
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from improviser.music.voicing import REST, HarmonyEvent, harmony_tokens
from improviser.training.harmony_corpus import (
    HarmonyPiece,
    load_harmony_corpus,
    melody_key,
    read_piece,
    split_harmony,
)
from improviser.training.harmony_dataset import (
    piece_transpositions,
    transpose_tokens,
    transposed_sequences,
    voice_examples,
)
from tests.cli_run import improviser
from tests.model_fixtures import Trained, TrainedHarmony, copy_chorales

CFG = HarmonyModelConfig()


def _events(melody: list[int], shift: int = 0, bass: int = 48) -> tuple[HarmonyEvent, ...]:
    return tuple(
        HarmonyEvent(m + shift, i % 4 and 1, 9 if i else 0, (bass + shift, REST, m - 5 + shift))
        for i, m in enumerate(melody)
    )


def _piece(events: tuple[HarmonyEvent, ...], path: str = "x.mid") -> HarmonyPiece:
    return HarmonyPiece(path, events, harmony_tokens(events), "0" * 64, "parts")


def _n(pitch: int, start: float, length: float, track: int = 0) -> Note:
    return Note(pitch, 80, start / 2, length / 2, 0, track, start, length)


def test_examples_weigh_only_voice_targets_and_start_on_a_melody_token() -> None:
    tokens = harmony_tokens(_events(list(range(60, 70))))  # 10 events, 40 tokens
    ex = voice_examples([tokens], seq_events=4, stride_events=3)
    assert ex.inputs.shape == (len(ex), 16, 4)
    assert [int(x[0, 1]) for x in ex.inputs] == [0] * len(ex)  # each starts on a melody token
    assert [int(x[0, 0]) for x in ex.inputs] == [60, 63, 66]  # events 0, 3, then flush: 6
    for x, y, w in zip(ex.inputs, ex.targets, ex.weights, strict=True):
        target_roles = np.append(x[1:, 1], 0)  # the role of the token each target is
        assert (w[:-1] == (target_roles[:-1] != 0)).all()
        assert (y[:-1] == x[1:, 0]).all()  # a target is the next token's value
    assert ex.voice_targets == 3 * 4 * len(ex) - 0  # every window holds whole events


def test_a_short_piece_is_padded_with_weight_zero() -> None:
    tokens = harmony_tokens(_events([60, 62, 64]))  # 12 tokens
    ex = voice_examples([tokens], seq_events=8, stride_events=4)
    assert len(ex) == 1
    assert ex.weights[0, 11:].sum() == 0  # past the last token nothing counts
    assert ex.weights[0].sum() == 9  # 3 events x 3 voices, the first bass included
    assert (ex.inputs[0, 12:] == 0).all()


def test_transpositions_keep_every_pitch_in_range_and_rests_silent() -> None:
    tokens = harmony_tokens(_events([70, 98]))  # alto 93, melody up to 98, bass 48
    shifts = piece_transpositions(tokens, CFG)
    assert shifts == [-5, -4, -3, -2, -1, 0, 1, 2]  # 98 + 2 = 100, the top of the range
    moved = transpose_tokens(tokens, -5)
    assert (moved[tokens[:, 0] == REST, 0] == REST).all()
    assert moved[0, 0] == 65 and moved[1, 0] == 43
    low = harmony_tokens(_events([60, 62], bass=26))
    assert piece_transpositions(low, CFG) == [-2, -1, 0, 1, 2, 3, 4, 5, 6]
    sequences = transposed_sequences([_piece(_events([60, 62, 64]))], CFG)
    assert len(sequences) == 12  # all 12 keys fit
    assert len(transposed_sequences([_piece(_events([60]))], CFG, augment=False)) == 1


def test_one_tune_in_two_harmonisations_lands_in_one_split() -> None:
    tune = [60, 62, 64, 64, 65, 67, 65, 64, 62, 60, 62, 64, 62, 60, 59, 60, 62, 64]
    pieces = []
    for i in range(40):
        own = [60 + (i * 7 + k * 3) % 12 for k in range(18)]  # 40 other tunes
        pieces.append(_piece(_events(own), f"other{i}.mid"))
        pieces.append(_piece(_events(tune, shift=i % 5, bass=40 + i % 7), f"tune{i}.mid"))
    assert len({melody_key(p.events) for p in pieces if "tune" in p.path}) == 1
    split = split_harmony(pieces, DataConfig(val_fraction=0.3, test_fraction=0.3, seed=5))
    sides = [
        {p.path.startswith("tune") for p in side} for side in (split.train, split.val, split.test)
    ]
    assert sum(True in side for side in sides) == 1


def test_four_named_parts_are_read_as_parts_and_a_piano_piece_as_notes(tmp_path: Path) -> None:
    soprano = [_n(72, 0, 1), _n(74, 1, 1), _n(76, 2, 2)]
    alto = [_n(67, 0, 2), _n(67, 2, 2)]
    tenor = [_n(64, 0, 4)]
    bass = [_n(48, 0, 2), _n(43, 2, 2)]
    chorale = tmp_path / "four.mid"
    write_midi(chorale, [soprano, alto, tenor, bass], names=["Soprano", "Alto", "Tenor", "Bass"])
    piece = read_piece(chorale)
    assert piece.source == "parts"
    assert [e.voices for e in piece.events] == [(48, 64, 67), (48, 64, 67), (43, 64, 67)]
    piano = tmp_path / "piano.mid"
    write_midi(piano, [soprano, bass], names=["Right", "Left"])
    notes = read_piece(piano)
    assert notes.source == "notes"
    assert [e.voices for e in notes.events] == [(48, REST, REST)] * 2 + [(43, REST, REST)]


def test_files_without_harmony_are_skipped_and_listed(tmp_path: Path) -> None:
    write_midi(tmp_path / "line.mid", [[_n(60 + i, i, 1) for i in range(12)]])
    write_midi(tmp_path / "short.mid", [[_n(72, 0, 1)], [_n(48, 0, 1)]])
    (tmp_path / "broken.mid").write_bytes(b"MThd nonsense")
    corpus = load_harmony_corpus([tmp_path], CFG)
    assert corpus.pieces == []
    reasons = {Path(p).name: r for p, r in corpus.skipped}
    assert reasons["line.mid"] == "no note under the melody (one voice only)"
    assert reasons["short.mid"] == "only 1 melody onsets"
    assert "broken.mid" in reasons["broken.mid"]


@pytest.mark.slow
def test_tiny_harmony_model_file_and_its_evaluation(trained_harmony: TrainedHarmony) -> None:
    from improviser.training.harmony_evaluate import evaluate_harmony

    meta = json.loads(trained_harmony.model.with_suffix(".json").read_text())
    assert meta["kind"] == "harmony"
    assert meta["objective"] == "classes"
    assert meta["inputs"] == ["value", "role", "metre", "ioi"]
    assert meta["outputs"] == ["value"]
    assert meta["corpus"]["test_files"], "the fixture's seed must leave test pieces"
    assert trained_harmony.model.with_suffix(".npz").exists()
    result = evaluate_harmony(trained_harmony.model, [trained_harmony.corpus])
    assert result["files"] == len(meta["corpus"]["test_files"])
    assert result["excluded_files"] == len(meta["corpus"]["train_files"]) + len(
        meta["corpus"]["val_files"]
    )
    voices = result["voices"]
    assert set(voices) == {"bass", "tenor", "alto"}
    # bits per event is the three voices' bits summed (every event has one token each)
    assert result["bits_per_event"] == pytest.approx(sum(v["bits"] for v in voices.values()))
    assert 0 < result["bits_per_event"] < 3 * 7  # better than uniform over 128 values
    assert set(result["baselines"]) >= {"ngram_flat1", "ngram_role8"}
    best = result["baselines"][result["best_ngram"]]
    assert result["gain_over_best_ngram_bits"] == pytest.approx(
        best["bits_per_event"] - result["bits_per_event"]
    )


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return improviser(*args, timeout=600)


TINY_TOML = """
[data]
val_fraction = 0.2
test_fraction = 0.2
[harmony]
lstm_units = [16]
value_embedding = 8
seq_events = 8
stride_events = 4
[train]
epochs = 2
batch_size = 16
patience = 0
"""


@pytest.mark.slow
def test_train_and_evaluate_kind_harmony_end_to_end(tmp_path: Path) -> None:
    corpus = copy_chorales(tmp_path / "chorales")
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_TOML)
    model = tmp_path / "h.keras"
    trained = _cli("train", "--kind", "harmony", corpus, "--out", model, "-c", config)
    assert trained.returncode == 0, trained.stderr
    said = " ".join(trained.stderr.split())
    assert "took the lower voices under the melody of 16 files (16 as four named parts" in said
    assert "with 1 / 2 / 3 lower voices at" in said
    assert "(harmony)" in said
    assert "split by tune (the melody's first intervals):" in said
    scored = _cli("evaluate", "--kind", "harmony", "--model", model, corpus, "--json")
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert result["kind"] == "harmony" and result["files"] > 0
    assert result["best_ngram"] in result["baselines"]


@pytest.mark.slow
def test_train_says_what_it_took_from_a_polyphonic_file(tmp_path: Path) -> None:
    piece = tmp_path / "piano.mid"
    right = [_n(72 + (i % 5), i, 1, track=1) for i in range(24)]
    left = [_n(48 + (i % 3), 2 * i, 2, track=2) for i in range(12)]
    left += [_n(55 + (i % 3), 2 * i, 2, track=2) for i in range(12)]
    write_midi(piece, [right, left], names=["Right", "Left"])
    melody = _cli(
        "train", piece, "--out", tmp_path / "m.keras", "--epochs", "1", "--lstm-units", "8"
    )
    assert melody.returncode == 0, melody.stderr
    said = " ".join(melody.stderr.split())
    assert "took the melody line (the top line) of 1 files: 24 of 48 notes" in said
    assert "`--kind harmony` takes those as the lower voices" in said
    harmony = _cli(
        "train",
        "--kind",
        "harmony",
        piece,
        "--out",
        tmp_path / "h.keras",
        "--lstm-units",
        "8",
        "--epochs",
        "1",
    )
    assert harmony.returncode == 0, harmony.stderr
    said = " ".join(harmony.stderr.split())
    assert "(0 as four named parts, 1 as the top line and the notes under it)" in said
    assert "24 melody onsets, with 1 / 2 / 3 lower voices at 0 / 24 / 0" in said


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("train", "--kind", "chords", "x.mid", "--out", "m.keras"), "--kind must be"),
        (
            ("train", "--kind", "harmony", "x.mid", "--out", "m.keras", "--seq-len", "8"),
            "--seq-len apply to the melody model only",
        ),
        (("evaluate", "--kind", "chords", "x.mid"), "--kind must be"),
    ],
)
def test_bad_kind_options_are_one_line_and_exit_2(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    done = _cli(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_evaluate_kind_harmony_refuses_a_melody_model(trained: Trained, tmp_path: Path) -> None:
    done = _cli("evaluate", "--kind", "harmony", "--model", trained.model, tmp_path)
    assert done.returncode == 2
    assert "a melody model, not a harmony model" in done.stderr


@pytest.mark.slow
def test_the_streaming_engine_steps_the_trained_model_as_keras_reads_it(
    trained_harmony: TrainedHarmony,
) -> None:
    from improviser.inference import NumpyEngine
    from improviser.inference.modelfile import load_model
    from improviser.music.voicing import HARMONY_FIELDS

    engine = NumpyEngine.from_file(trained_harmony.model, kind="harmony")
    tokens = read_piece(sorted(trained_harmony.corpus.glob("*.mid"))[0]).tokens[:24]
    stepped = np.stack([np.asarray(engine.step_probs(row)).reshape(-1) for row in tokens])
    model, _ = load_model(trained_harmony.model)
    inputs = {f: tokens[None, :, j] for j, f in enumerate(HARMONY_FIELDS)}
    whole = np.asarray(model(inputs, training=False)["next_value"])[0]
    np.testing.assert_allclose(stepped, whole, atol=1e-5)
