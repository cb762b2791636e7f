"""Small valid files to fuzz from, shared by ``test_fuzz.py`` and ``fuzz_atheris.py``.

Kept apart from the tests so the atheris harness need not import pytest or hypothesis.
"""

from __future__ import annotations

import io
import json

import mido
import numpy as np

from improviser.inference.modelfile import FORMAT, weight_arrays
from improviser.inference.weights import random_weights
from improviser.music.midi_write import to_midifile
from improviser.music.notes import Note

__all__ = ["META", "MIDI", "NPZ", "NPZ_COMPRESSED"]


def valid_midi() -> bytes:
    """A short two-part type-1 file with a tempo change: every chunk kind the reader meets."""
    melody = [Note(60 + i % 12, 80, 0.0, 0.0, 0, 0, i * 0.5, 0.4) for i in range(12)]
    bass = [Note(36 + i % 5, 70, 0.0, 0.0, 1, 0, i * 1.0, 0.9) for i in range(6)]
    mid = to_midifile([melody, bass], bpm=100)
    mid.tracks[1].insert(0, mido.MetaMessage("set_tempo", tempo=400_000, time=0))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


def tiny_weights_npz(compressed: bool = False) -> bytes:
    """The smallest valid weights file: one LSTM unit, one-wide embeddings."""
    buffer = io.BytesIO()
    arrays = weight_arrays(random_weights((1,), 1))
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def valid_metadata() -> bytes:
    """Metadata with every key the package reads, small enough to mutate quickly."""
    meta = {
        "format": FORMAT,
        "objective": "classes",
        "window": 30,
        "seq_len": 24,
        "config": {"data": {"window": 30, "channel": None}, "model": {}, "train": {}},
        "corpus": {"train_files": ["a.mid"], "val_files": [], "train_keys": ["k"]},
        "history": {"loss": [1.5, 1.25]},
        "scaler": {"min": 40, "max": 90.0, "residual_std": 3.0},
    }
    return json.dumps(meta).encode()


MIDI = valid_midi()
NPZ = tiny_weights_npz()
NPZ_COMPRESSED = tiny_weights_npz(compressed=True)
META = valid_metadata()
