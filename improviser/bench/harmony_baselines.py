"""The two baselines ``bench harmony`` measures beside the model and the truth.

- :func:`drone`: the key's tonic held under everything: the tonic in the bass (E2..D#3),
  its fifth above in the tenor, the tonic an octave up in the alto; a voice that would be
  above the melody rests.
- :func:`rule_based`: at each onset the root-position triad of the key that contains the
  melody note (of the key's diatonic triads, the first in the order I, V, IV, vi, ii, iii,
  vii that holds it; a note outside the key keeps the last chord): the root in the bass,
  the alto the nearest chord tone below the melody, the tenor the nearest below the alto.

Both are given the piece's key (estimated from the whole melody: more than the causal
model knows).
"""

from __future__ import annotations

from collections.abc import Sequence

from improviser.music.key import Key

__all__ = ["BASS_LOW", "drone", "rule_based", "triads"]

BASS_LOW = 40
"""The lowest bass pitch a baseline places its root at (E2)."""
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)
_PREFERENCE = (0, 4, 3, 5, 1, 2, 6)
"""Scale degrees in the order a triad is chosen: I, V, IV, vi, ii, iii, vii."""

Voices = tuple[int, int, int]


def _placed(pc: int, low: int) -> int:
    """The pitch of class ``pc`` in the octave from ``low`` up."""
    return low + (pc - low) % 12


def drone(melody: Sequence[int], key: Key) -> list[Voices]:
    """The tonic drone under ``melody``."""
    bass = _placed(key.tonic, BASS_LOW)
    held = (bass, bass + 7, bass + 12)
    return [
        (
            held[0] if held[0] <= m else 0,
            held[1] if held[1] <= m else 0,
            held[2] if held[2] <= m else 0,
        )
        for m in melody
    ]


def triads(key: Key) -> list[tuple[int, frozenset[int]]]:
    """The key's diatonic triads as (root, pitch classes), in :data:`_PREFERENCE` order
    (the minor key's from its harmonic minor scale, so V is major)."""
    steps = _MAJOR if key.mode == "major" else _HARMONIC_MINOR
    out = []
    for degree in _PREFERENCE:
        tones = [(key.tonic + steps[(degree + i) % 7]) % 12 for i in (0, 2, 4)]
        out.append((tones[0], frozenset(tones)))
    return out


def rule_based(melody: Sequence[int], key: Key) -> list[Voices]:
    """The rule-based chooser's voices under ``melody``."""
    chords = triads(key)
    current = chords[0]
    out: list[Voices] = []
    for m in melody:
        current = next((c for c in chords if m % 12 in c[1]), current)
        root, tones = current
        alto = next((p for p in range(m - 1, 0, -1) if p % 12 in tones), 0)
        tenor = next((p for p in range(alto - 1, 0, -1) if p % 12 in tones), 0) if alto else 0
        bass = _placed(root, BASS_LOW)
        while tenor and bass > tenor:
            bass -= 12
        out.append((bass if 0 < bass <= m else 0, tenor, alto))
    return out
