"""Corpus reading, the content split (no leakage) and windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from improviser.config import DataConfig
from improviser.music.midi_write import write_midi
from improviser.training.dataset import Piece, load_corpus, split_pieces, windows
from tests.synth import make_melody, write_corpus


def _pieces(n: int) -> list[Piece]:
    from improviser.music.encoding import encode

    return [Piece(f"p{i}.mid", encode(make_melody(i, 40)), f"sha{i}") for i in range(n)]


def test_split_is_seeded_disjoint_and_keeps_copies_together() -> None:
    pieces = _pieces(200)
    transposed = [
        Piece(f"copy{i}.mid", p.tokens + np.array([3, 0, 0, 0], np.int32), f"c{i}")
        for i, p in enumerate(pieces[:50])
    ]
    split = split_pieces(pieces + transposed, 0.15, 0.15, seed=7)
    keys = [{p.key for p in part} for part in (split.train, split.val, split.test)]
    assert not keys[0] & keys[1] and not keys[0] & keys[2] and not keys[1] & keys[2]
    where = {p.path: name for name, part in vars(split).items() for p in part}
    for i in range(50):
        assert where[f"p{i}.mid"] == where[f"copy{i}.mid"]
    assert 0.05 < len(split.test) / 250 < 0.3 and 0.05 < len(split.val) / 250 < 0.3
    again = split_pieces(pieces + transposed, 0.15, 0.15, seed=7)
    assert [p.path for p in again.test] == [p.path for p in split.test]
    other = split_pieces(pieces + transposed, 0.15, 0.15, seed=8)
    assert [p.path for p in other.test] != [p.path for p in split.test]


def test_load_corpus_skips_bad_and_short_files_and_lists_them(tmp_path: Path) -> None:
    write_corpus(tmp_path, 3)
    (tmp_path / "broken.mid").write_bytes(b"garbage")
    write_midi(tmp_path / "short.mid", [make_melody(9, 3)])
    corpus = load_corpus([tmp_path], DataConfig())
    assert len(corpus.pieces) == 3
    reasons = dict(corpus.skipped)
    assert "not a readable MIDI file" in reasons[str(tmp_path / "broken.mid")]
    assert "only 3 melody notes" in reasons[str(tmp_path / "short.mid")]
    assert corpus.notes == 3 * 64


def test_windows_cover_each_piece_and_pad_short_ones() -> None:
    pieces = _pieces(2)
    w = windows(pieces, length=16, stride=8)
    assert w.shape[1:] == (17, 5)
    first = pieces[0].tokens
    assert np.array_equal(w[0, :, :4], first[:17])
    assert np.array_equal(w[0, :, 4], np.ones(17))
    short = windows([Piece("s", pieces[0].tokens[:5], "x")], length=16, stride=8)
    assert short.shape == (1, 17, 5)
    assert short[0, :, 4].sum() == 5 and short[0, -5:, 4].all()


def test_dataset_transposition_stays_in_range_and_masks_padding() -> None:
    from improviser.training.dataset import make_dataset

    tokens = np.tile(np.array([[120, 1, 8, 4]], np.int32), (40, 1))
    tokens[::2, 0] = 2  # pitches 2 and 120: only shifts in -2..+7 keep them in range
    w = windows([Piece("t", tokens, "x"), Piece("s", tokens[:6], "y")], length=16, stride=16)
    ds = make_dataset(w, batch_size=64, transpose=(-12, 12), shuffle=False)
    for _ in range(5):
        for inputs, targets, weights in ds:
            pitch = inputs["pitch"].numpy()
            assert pitch.min() >= 0 and pitch.max() <= 127
            assert np.array_equal(targets["next_pitch"].numpy()[:, :-1], pitch[:, 1:])
            mask = weights["next_pitch"].numpy()
            assert mask[-1].sum() == 5  # 6 real notes of the short piece: 5 targets
