"""Small, deterministic synthetic melodies for tests that need a corpus on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from improviser.music.midi_write import write_midi
from improviser.music.notes import Note

SCALE = (0, 2, 4, 5, 7, 9, 11)
RHYTHMS = ((1.0, 0.5, 0.5, 1.0, 1.0), (0.5, 0.5, 0.5, 0.5, 2.0), (1.5, 0.5, 1.0, 1.0))


def make_melody(seed: int, length: int = 64) -> list[Note]:
    """A scale-wise random walk in a seeded key, with a repeating rhythm and rests."""
    rng = np.random.default_rng(seed)
    tonic = 55 + int(rng.integers(0, 12))
    rhythm = RHYTHMS[seed % len(RHYTHMS)]
    degree, beat, notes = 7, 0.0, []
    for i in range(length):
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 1, 1, 2]), 0, 14))
        pitch = tonic + 12 * (degree // 7) + SCALE[degree % 7]
        ioi = rhythm[i % len(rhythm)]
        dur = ioi * (0.5 if i % 8 == 7 else 0.9)  # a short note, i.e. a rest, every 8
        vel = 90 if beat % 4 == 0 else 70
        notes.append(Note(pitch, vel, beat * 0.5, dur * 0.5, 0, 0, beat, dur))
        beat += ioi
    return notes


def write_corpus(directory: Path, count: int, length: int = 64) -> list[Path]:
    """Write ``count`` synthetic tunes as MIDI files; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"tune{i:03d}.mid"
        write_midi(path, [make_melody(i, length)], bpm=120)
        paths.append(path)
    return paths
