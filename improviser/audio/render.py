"""Offline rendering: a MIDI file through FluidSynth into a ``.wav`` or ``.flac`` file.

A session's recording names its tracks ``player`` and ``improviser``: each plays on its
part's program (``synth.player_program``, ``synth.improviser_program``), as it sounded
live with ``--synth``. Any other track plays its own channels, on the first program the
file gives each channel (channel 10 from the drum bank); the pedals (sustain, sostenuto,
soft: CC 64, 66, 67) play on the same channels, so a note the sustain pedal holds sounds
on past its release as it would on the player's instrument. The notes are read by the
package's own MIDI reader (:func:`~improviser.music.midi_read.read_midi`: a note-off as
a player means it, tempo changes, damaged files refused in one line), rendered in
blocks between events (an onset lands within FluidSynth's 64-frame step, ~1.3 ms at
48 kHz), streamed to the file as they come (a long session never sits in memory) and
the file is renamed into place when complete.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from improviser.audio.fluid import IMPROVISER_CHANNEL, PEDALS, PLAYER_CHANNEL, FluidSynth
from improviser.audio.output import audio_file_type
from improviser.config.synth import SynthConfig
from improviser.errors import MidiFileError, SynthError, reason
from improviser.music.midi_read import ControlChange, part_track, read_controls, read_midi
from improviser.music.notes import DRUM_CHANNEL, Score

__all__ = ["MAX_SECONDS", "RenderResult", "render_midi"]

MAX_SECONDS = 6 * 3600.0
"""A file whose last note ends later than this is refused (it would make a huge file)."""
TAIL_MAX_SECONDS = 5.0
"""After the last note the sound is rendered until it is silent, at most this long."""
SILENT = 4
"""A block whose samples all stay within this (of 32767) counts as silence."""
_BLOCK = 8192
_TAIL_BLOCK_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What :func:`render_midi` wrote."""

    path: Path
    seconds: float
    notes: int
    sample_rate: int
    peak: float
    """The loudest sample, as a fraction of full scale (1.0 would be clipping)."""


_OFF, _PEDAL, _ON = 0, 1, 2
"""At one instant releases go first (a re-struck pitch is not cut by its own), then the
pedals, then the onsets."""


@dataclass(frozen=True, slots=True, order=True)
class _Event:
    at: float
    kind: int
    channel: int
    number: int
    """The pitch of a note; the controller of a pedal."""
    value: int
    """The velocity of a note (0: its release); the pedal's value."""


def _channel_programs(path: Path, skip: set[int]) -> dict[int, int]:
    """The first program each channel is given, in tracks other than ``skip``."""
    try:
        mid = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise MidiFileError(f"{path}: cannot read it ({reason(exc)})") from exc
    programs: dict[int, int] = {}
    for index, track in enumerate(mid.tracks):
        if index in skip:
            continue
        for msg in track:
            if msg.type == "program_change":
                programs.setdefault(msg.channel, msg.program)
    return programs


def _events(score: Score, parts: dict[int, int], pedals: list[ControlChange]) -> list[_Event]:
    """Every note as an on and an off event, and every pedal, on the synth's channel."""
    events: list[_Event] = []
    for note in score.notes:
        channel = parts.get(note.track, note.channel)
        events.append(_Event(note.start, _ON, channel, note.pitch, note.velocity))
        events.append(_Event(note.end, _OFF, channel, note.pitch, 0))
    for cc in pedals:
        events.append(_Event(cc.at, _PEDAL, parts.get(cc.track, cc.channel), cc.number, cc.value))
    events.sort()
    return events


def render_midi(path: Path, out: Path, config: SynthConfig) -> RenderResult:
    """Render the MIDI file ``path`` into ``out`` (``.wav`` or ``.flac``, 16-bit stereo)."""
    import soundfile  # noqa: PLC0415 - libsndfile is loaded only to write audio

    kind = audio_file_type(out)
    score = read_midi(path)
    if not score.notes:
        raise MidiFileError(f"{path}: no notes to render")
    if max(n.end for n in score.notes) > MAX_SECONDS:
        raise MidiFileError(f"{path}: longer than {MAX_SECONDS / 3600:.0f} hours; not rendered")
    parts = {
        index: channel
        for name, channel in (("player", PLAYER_CHANNEL), ("improviser", IMPROVISER_CHANNEL))
        if (index := part_track(score, name)) is not None
    }
    programs = _channel_programs(path, set(parts))
    synth = FluidSynth(config)
    tmp = out.with_name(f".{out.name}.part")
    try:
        for channel, program in programs.items():
            synth.set_program(channel, program, drums=channel == DRUM_CHANNEL)
        rate = synth.sample_rate
        peak = 0
        try:
            with soundfile.SoundFile(
                tmp, "w", samplerate=rate, channels=2, format=kind.upper(), subtype="PCM_16"
            ) as sink:

                def advance(frames: int) -> None:
                    nonlocal peak
                    while frames > 0:
                        block = synth.block(min(frames, _BLOCK))
                        peak = max(peak, int(np.abs(block.astype(np.int32)).max()))
                        sink.write(block)
                        frames -= len(block)

                cursor = 0
                for event in _events(score, parts, read_controls(path, PEDALS)):
                    target = round(event.at * rate)
                    advance(target - cursor)
                    cursor = max(cursor, target)
                    if event.kind == _PEDAL:
                        synth.control_change(event.channel, event.number, event.value)
                    else:
                        synth.note_on(event.channel, event.number, event.value)
                synth.release_all()
                tail = round(_TAIL_BLOCK_SECONDS * rate)
                for _ in range(round(TAIL_MAX_SECONDS / _TAIL_BLOCK_SECONDS)):
                    block = synth.block(tail)
                    sink.write(block)
                    cursor += tail
                    if int(np.abs(block.astype(np.int32)).max()) <= SILENT:
                        break
            tmp.replace(out)
        except (OSError, RuntimeError) as exc:  # soundfile's LibsndfileError is a RuntimeError
            raise SynthError(f"{out}: cannot write the audio ({reason(exc)})") from exc
    finally:
        synth.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return RenderResult(out, cursor / rate, len(score.notes), rate, peak / 32768)
