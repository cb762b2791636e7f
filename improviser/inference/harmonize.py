"""``improviser harmonize``: lower voices under a melody file, written beside it.

The melody is the file's skyline (its highest note at each onset; percussion left out).
Each onset's metre class comes from its position in the bar (the file's beats and its
first time signature, 4/4 when it has none) and its IOI class from the melody's previous
onset; the :class:`~improviser.inference.harmonizer.Harmonizer` voices the onsets one by
one, exactly as the live accompaniment does, so the same seed gives the same notes.

The file written is type 1: the input's tracks unchanged (a type-0 file's one track after
a tempo track of its tempo and time signatures), then one track per added voice, named
Bass, Tenor, Alto, each on a channel of its own that the input does not use. A voice that
keeps its pitch from one onset to the next is held (tied); a note ends at the next onset
where its voice changes (or falls silent), or at the end of the last melody note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mido

from improviser.errors import MidiFileError
from improviser.inference.harmonizer import Harmonizer, Voicing
from improviser.music.encoding import ioi_class
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import save_atomic, to_midifile
from improviser.music.notes import DRUM_CHANNEL, Note, extract_melody
from improviser.music.time_signature import beats_per_bar
from improviser.music.voicing import VOICES_PLAYED, metre_class

__all__ = [
    "VELOCITY_SCALE",
    "VOICE_NAMES",
    "HarmonizeResult",
    "harmonize_file",
    "harmonize_melody",
    "voice_notes",
]

VOICE_NAMES = ("Bass", "Tenor", "Alto")
VELOCITY_SCALE = 0.75
"""A voice's velocity against the melody note's (as ``accompany_velocity``'s default)."""
_META_KEPT = ("set_tempo", "time_signature", "key_signature")


@dataclass(frozen=True)
class HarmonizeResult:
    """What :func:`harmonize_file` wrote."""

    path: Path
    melody: tuple[Note, ...]
    voicings: tuple[Voicing, ...]
    voices: tuple[int, ...]
    """The voices written (indices into bass, tenor, alto)."""
    notes: int
    """Notes written in the added tracks."""


def harmonize_melody(
    melody: Sequence[Note], bar_beats: float, harmonizer: Harmonizer
) -> list[Voicing]:
    """The voicing of each melody note (times in beats; bars of ``bar_beats`` from 0)."""
    voicings = []
    previous: float | None = None
    for note in melody:
        onset = note.start_beats
        ioi = 0 if previous is None else ioi_class(onset - previous)
        voicings.append(harmonizer.voice(note.pitch, metre_class(onset, bar_beats), ioi))
        harmonizer.settle()  # the pause after the onset, as live
        previous = onset
    return voicings


def voice_notes(
    melody: Sequence[Note], voicings: Sequence[Voicing], voice: int, channel: int
) -> list[Note]:
    """The notes of one voice: held while its pitch stays, ended at the onset where it
    changes, or at the end of the last melody note."""
    notes = []
    count = len(melody)
    k = 0
    while k < count:
        pitch = voicings[k][voice]
        j = k + 1
        while j < count and voicings[j][voice] == pitch:
            j += 1
        if pitch:
            first = melody[k]
            end_beats = melody[j].start_beats if j < count else melody[-1].end_beats
            end = melody[j].start if j < count else melody[-1].end
            notes.append(
                Note(
                    pitch=pitch,
                    velocity=max(1, round(first.velocity * VELOCITY_SCALE)),
                    start=first.start,
                    duration=max(end - first.start, 0.0),
                    channel=channel,
                    start_beats=first.start_beats,
                    duration_beats=max(end_beats - first.start_beats, 0.0),
                )
            )
        k = j
    return notes


def harmonize_file(
    melody_path: str | Path, out: str | Path, harmonizer: Harmonizer, voices: int = 3
) -> HarmonizeResult:
    """Harmonize the melody of ``melody_path`` and write the type-1 file ``out``.

    A file that cannot be read or holds no melody is a one-line
    :class:`~improviser.errors.MidiFileError`.
    """
    if voices not in VOICES_PLAYED:
        raise ValueError(f"voices must be 1, 2 or 3, got {voices}")
    melody_path, out = Path(melody_path), Path(out)
    score = read_midi(melody_path)
    melody = [n for n in extract_melody(score.notes) if n.pitch > 0]
    if not melody:
        raise MidiFileError(f"{melody_path}: no melody notes to harmonize")
    voicings = harmonize_melody(melody, beats_per_bar(melody_path), harmonizer)
    source = mido.MidiFile(melody_path, clip=True)  # read_midi has vetted it
    played = VOICES_PLAYED[voices]
    channels = _free_channels(score.notes, len(played))
    parts = [voice_notes(melody, voicings, v, ch) for v, ch in zip(played, channels, strict=True)]
    added = to_midifile(
        parts, ticks_per_beat=score.ticks_per_beat, names=[VOICE_NAMES[v] for v in played]
    ).tracks[1:]
    mid = mido.MidiFile(type=1, ticks_per_beat=score.ticks_per_beat)
    if source.type == 0:
        mid.tracks.append(_tempo_track(source.tracks[0]))
    mid.tracks.extend(source.tracks)
    mid.tracks.extend(added)
    save_atomic(mid, out)
    return HarmonizeResult(out, tuple(melody), tuple(voicings), played, sum(len(p) for p in parts))


def _free_channels(notes: Sequence[Note], count: int) -> list[int]:
    """``count`` channels the input does not use (never percussion); reused if too few."""
    used = {n.channel for n in notes}
    free = [c for c in range(16) if c not in used and c != DRUM_CHANNEL]
    pool = free or [c for c in range(16) if c != DRUM_CHANNEL]
    return [pool[i % len(pool)] for i in range(count)]


def _tempo_track(track: mido.MidiTrack) -> mido.MidiTrack:
    """The tempo, time and key signatures of a type-0 file's track, at their ticks."""
    out = mido.MidiTrack()
    tick = last = 0
    for msg in track:
        tick += msg.time
        if msg.type in _META_KEPT:
            out.append(msg.copy(time=tick - last))
            last = tick
    out.append(mido.MetaMessage("end_of_track", time=0))
    return out
