"""The built-in synth honours the player's sustain pedal (CC 64), live and rendering a
file: a note released under the pedal sounds on until the pedal comes up."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from improviser.audio import SynthCompanion
from improviser.audio.render import render_midi
from improviser.config.synth import SynthConfig
from improviser.live.events import PlayerControl, PlayerNote
from improviser.music.midi_read import read_controls
from tests.fakes import FakeClock
from tests.test_audio_companion import offline, sound
from tests.test_audio_render import require_synth
from tests.test_live_units import cc, make

SUSTAIN = 64


def rms(mono: npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(mono**2)))


def _after_release(companion: SynthCompanion, *, pedal: bool) -> float:
    """The sound 0.5-1.0 s after a note's release, the pedal down over it or not."""
    companion.play(PlayerNote(0.0, 0, 60, 100))
    sound(companion, 0.2)
    if pedal:
        companion.play(PlayerControl(0.2, 0, SUSTAIN, 127))
    companion.play(PlayerNote(0.3, 0, 60, 0))
    sound(companion, 0.5)
    return rms(sound(companion, 0.5))


def test_a_note_released_under_the_pedal_sounds_until_it_comes_up() -> None:
    require_synth()
    free, held = offline(SynthConfig(reverb=False)), offline(SynthConfig(reverb=False))
    try:
        without = _after_release(free, pedal=False)
        with_pedal = _after_release(held, pedal=True)
        assert with_pedal > 0.002  # still sounding half a second after its release
        assert with_pedal > 20 * max(without, 1e-6)
        assert held.synth is not None and held.synth.voices() > 0
        held.play(PlayerControl(1.3, 0, SUSTAIN, 0))  # pedal up: the note ends now
        sound(held, 1.0)
        assert rms(sound(held, 0.5)) < with_pedal / 20
    finally:
        free.close()
        held.close()


def test_other_controls_and_a_closing_synth_leave_no_note_held() -> None:
    require_synth()
    companion = offline(SynthConfig(reverb=False))
    synth = companion.synth
    assert synth is not None
    try:
        companion.play(PlayerControl(0.0, 0, 1, 127))  # the modulation wheel: not a pedal
        companion.play(PlayerControl(0.0, 0, SUSTAIN, 127))
        companion.play(PlayerNote(0.0, 0, 60, 100))
        companion.play(PlayerNote(0.1, 0, 60, 0))
        sound(companion, 0.2)
        assert synth.voices() > 0  # held by the pedal
        synth.release_all()  # what leaving the session does: the pedal is lifted too
        sound(companion, 2.0)
        assert synth.voices() == 0
    finally:
        companion.close()


def _file(path: Path, *, pedal: bool) -> Path:
    """A note of 0.25 s at 120 bpm (480 ticks a beat), the pedal down 0.125-1.5 s."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="player", time=0))
    track.append(mido.Message("note_on", note=60, velocity=100, time=0))
    if pedal:
        track.append(mido.Message("control_change", control=SUSTAIN, value=127, time=120))
        track.append(mido.Message("note_off", note=60, velocity=0, time=120))
        track.append(mido.Message("control_change", control=SUSTAIN, value=0, time=1200))
    else:
        track.append(mido.Message("note_off", note=60, velocity=0, time=240))
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)]))
    mid.tracks.append(track)
    mid.save(path)
    return path


def test_read_controls_times_the_pedal_by_the_tempo_map(tmp_path: Path) -> None:
    path = _file(tmp_path / "pedal.mid", pedal=True)
    found = read_controls(path, (SUSTAIN,))
    assert [(c.track, c.number, c.value) for c in found] == [(1, SUSTAIN, 127), (1, SUSTAIN, 0)]
    assert [c.at for c in found] == pytest.approx([0.125, 1.5])
    assert read_controls(path, (1,)) == []


def test_a_rendered_file_honours_the_pedal(tmp_path: Path) -> None:
    require_synth()

    def window(path: Path, start: float, end: float) -> float:
        audio, rate = soundfile.read(path, dtype="float64")
        return rms(audio[int(start * rate) : int(end * rate)].mean(axis=1))

    config = SynthConfig(reverb=False)
    held = render_midi(_file(tmp_path / "held.mid", pedal=True), tmp_path / "held.wav", config)
    free = render_midi(_file(tmp_path / "free.mid", pedal=False), tmp_path / "free.wav", config)
    # The note ends at 0.25 s either way; under the pedal it sounds on to 1.5 s.
    assert window(held.path, 0.75, 1.25) > 20 * max(window(free.path, 0.75, 1.25), 1e-6)
    assert window(held.path, 0.75, 1.25) > 0.002
    assert held.seconds > free.seconds


def test_the_engine_passes_the_players_pedal_on_to_the_synth() -> None:
    clock = FakeClock()
    engine, *_ = make(clock)
    events = engine.bus.subscribe(16)
    engine.handle(cc(SUSTAIN, 127, clock(), channel=2))
    engine.handle(cc(SUSTAIN, 0, clock() + 1.0, channel=2))
    controls = [e for e in events.drain() if isinstance(e, PlayerControl)]
    assert [(e.channel, e.number, e.value) for e in controls] == [(2, 64, 127), (2, 64, 0)]
