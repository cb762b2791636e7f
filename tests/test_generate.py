"""generate: a playable continuation with rhythm, every note released."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from improviser.config import GenerateConfig, SamplingConfig
from improviser.errors import MidiFileError
from improviser.inference.generate import generate
from improviser.music.midi_read import read_midi
from tests.model_fixtures import Trained

pytestmark = pytest.mark.slow


def test_generate_writes_a_valid_continuation(trained: Trained, tmp_path: Path) -> None:
    seed = sorted(trained.corpus.glob("*.mid"))[0]
    out = tmp_path / "out.mid"
    cfg = GenerateConfig(notes=48, sampling=SamplingConfig(seed=3, min_pitch=50, max_pitch=90))
    result = generate(trained.model, seed, out, cfg)
    mid = mido.MidiFile(out)
    assert mid.type == 1 and len(mid.tracks) == 3
    sounding: set[tuple[int, int]] = set()
    for msg in mid:
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.add((msg.channel, msg.note))
        elif msg.type in ("note_on", "note_off"):
            sounding.discard((msg.channel, msg.note))
    assert not sounding, "a note was left sounding"
    score = read_midi(out)
    seed_len = len(read_midi(seed).notes)
    cont = [n for n in score.notes if n.track == 2]
    assert len([n for n in score.notes if n.track == 1]) == seed_len
    assert len(cont) == 48 == len(result.notes)
    assert all(50 <= n.pitch <= 90 for n in cont)
    last_seed = max(n.start_beats for n in score.notes if n.track == 1)
    assert min(n.start_beats for n in cont) >= last_seed
    assert len({round(n.duration_beats, 3) for n in cont}) > 1, "no rhythm"
    again = generate(trained.model, seed, tmp_path / "again.mid", cfg)
    assert [n.pitch for n in again.notes] == [n.pitch for n in result.notes]


def test_generate_refuses_an_empty_seed(trained: Trained, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mid"
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack())
    mid.save(empty)
    with pytest.raises(MidiFileError, match="no melody notes"):
        generate(trained.model, empty, tmp_path / "o.mid", GenerateConfig())
