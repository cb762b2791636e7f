"""The built-in synth offline: a known file rendered, and the audio checked with NumPy.

Every note starts within 15 ms of its time, nothing sounds where nothing plays, nothing
clips, and the two parts' programs sound different (while the same program twice sounds
the same, so the comparison can tell). Plus the ``render`` command's one-line errors.
Needs Debian's ``libfluidsynth3`` and ``timgm6mb-soundfont`` (``make system-deps``):
skipped without them, a failure in CI.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from improviser.audio import render_midi
from improviser.audio.fluid import fluidsynth_module
from improviser.audio.soundfont import find_soundfont
from improviser.config.synth import SynthConfig
from improviser.errors import ConfigError, MidiFileError, SynthError
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note

ROOT = Path(__file__).resolve().parent.parent
ONSET_TOLERANCE = 0.015
SILENCE = 1e-3
"""-60 dBFS: below it counts as silence (FluidSynth's dither is about 3e-5)."""
CLIP = 0.99


def require_synth() -> None:
    """Skip (or, in CI, fail) when FluidSynth or a GM SoundFont is not installed."""
    try:
        fluidsynth_module()
        find_soundfont()
    except SynthError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the synth tests: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(autouse=True)
def _synth_installed() -> None:
    require_synth()


def known_session(path: Path) -> list[Note]:
    """Eight notes taking turns (player on track 1, improviser on track 2), 1.5 s apart."""
    pitches = (48, 60, 67, 72, 55, 64, 76, 84)
    velocities = (60, 80, 100, 110, 70, 90, 100, 64)
    notes = [
        Note(pitch, vel, 0.5 + i * 1.5, 0.3, 0, 1 + i % 2)
        for i, (pitch, vel) in enumerate(zip(pitches, velocities, strict=True))
    ]
    parts = [[n for n in notes if n.track == 1], [n for n in notes if n.track == 2]]
    write_midi(path, parts, time_unit="seconds", names=["player", "improviser"])
    return notes


def level(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """The file's loudest channel at each sample (0..1 of full scale) and its rate."""
    audio, rate = soundfile.read(path)
    assert audio.ndim == 2 and audio.shape[1] == 2
    return np.abs(audio).max(axis=1), int(rate)


def onset(envelope: npt.NDArray[np.float64], rate: int, at: float) -> float:
    """Where the note near ``at`` first reaches a tenth of its peak, in seconds."""
    start = int((at - 0.05) * rate)
    window = envelope[start : int((at + 0.1) * rate)]
    first = int(np.argmax(window > 0.1 * window.max()))
    return (start + first) / rate


def test_every_note_sounds_on_time_and_nothing_else_does(tmp_path: Path) -> None:
    notes = known_session(tmp_path / "known.mid")
    result = render_midi(tmp_path / "known.mid", tmp_path / "known.wav", SynthConfig())
    envelope, rate = level(tmp_path / "known.wav")
    assert rate == result.sample_rate == 48000
    assert result.notes == len(notes)
    for note in notes:
        heard = onset(envelope, rate, note.start)
        assert abs(heard - note.start) <= ONSET_TOLERANCE, (note, heard)
        assert envelope[int(note.start * rate) : int((note.start + 0.1) * rate)].max() > 0.01
    assert envelope[: int(notes[0].start * rate)].max() < SILENCE  # before the first note
    for note, following in itertools.pairwise(notes):
        # A second after a release the sound (reverb too) is gone until the next note.
        quiet = envelope[int((note.end + 1.0) * rate) : int(following.start * rate)]
        assert quiet.size > 0 and quiet.max() < SILENCE, (note, quiet.max())
    assert envelope[-int(0.1 * rate) :].max() < SILENCE  # the tail rendered to its end
    assert 0.01 < result.peak == pytest.approx(envelope.max(), abs=1e-4)
    assert envelope.max() < CLIP


def spectrum(path: Path, at: float) -> npt.NDArray[np.float64]:
    audio, rate = soundfile.read(path)
    mono = audio.mean(axis=1)[int(at * rate) : int((at + 0.5) * rate)]
    return np.abs(np.fft.rfft(mono * np.hanning(len(mono))))


def similarity(config: SynthConfig, tmp_path: Path) -> float:
    """How alike the player's and the improviser's C4 sound (cosine of their spectra)."""
    midi = tmp_path / "same-pitch.mid"
    player, improviser = Note(60, 100, 0.5, 1.0, 0, 1), Note(60, 100, 3.0, 1.0, 0, 2)
    write_midi(midi, [[player], [improviser]], time_unit="seconds", names=["player", "improviser"])
    out = tmp_path / "same-pitch.flac"
    render_midi(midi, out, config)
    a, b = spectrum(out, player.start), spectrum(out, improviser.start)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_the_two_parts_play_their_own_programs(tmp_path: Path) -> None:
    # Piano and vibraphone (the defaults) on the same note: measured ~0.51 here.
    assert similarity(SynthConfig(), tmp_path) < 0.8
    # The same program for both: the same sound (~0.9995), so the check above can tell.
    assert similarity(SynthConfig(improviser_program=0), tmp_path) > 0.99


def test_a_file_of_no_session_plays_its_own_channels(tmp_path: Path) -> None:
    """A track not named player/improviser plays on its channel (the demo's call)."""
    result = render_midi(
        ROOT / "samples" / "demo" / "call.mid", tmp_path / "call.wav", SynthConfig()
    )
    envelope, _ = level(tmp_path / "call.wav")
    assert result.notes > 10 and envelope.max() > 0.01


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    known_session(tmp_path / "known.mid")
    with pytest.raises(ConfigError, match=r"\.wav or \.flac"):
        render_midi(tmp_path / "known.mid", tmp_path / "take.mp3", SynthConfig())
    with pytest.raises(SynthError, match="not found"):
        render_midi(
            tmp_path / "known.mid", tmp_path / "t.wav", SynthConfig(soundfont=tmp_path / "x.sf2")
        )
    (tmp_path / "bad.sf2").write_bytes(b"RIFF0000sfbk")
    with pytest.raises(SynthError, match="not a SoundFont"):
        render_midi(
            tmp_path / "known.mid", tmp_path / "t.wav", SynthConfig(soundfont=tmp_path / "bad.sf2")
        )
    write_midi(tmp_path / "empty.mid", [[]])
    with pytest.raises(MidiFileError, match="no notes"):
        render_midi(tmp_path / "empty.mid", tmp_path / "t.wav", SynthConfig())
    assert not list(tmp_path.glob("*.wav")) and not list(tmp_path.glob(".*.part"))


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a process (``code``: Python run first, to take something away)."""
    prelude = f"{code}\n" if code else ""
    script = f"{prelude}from improviser.cli import main\nmain()"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_render_command_writes_flac(tmp_path: Path) -> None:
    known_session(tmp_path / "known.mid")
    done = run("render", str(tmp_path / "known.mid"), "--out", str(tmp_path / "take.flac"))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "8 notes" in done.stdout
    info = soundfile.info(tmp_path / "take.flac")
    assert info.format == "FLAC" and info.channels == 2 and info.duration > 11.0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--out", "take.mp3"], None, "must end in .wav or .flac"),
        (["--soundfont", "/nonexistent.sf2"], None, "SoundFont /nonexistent.sf2 not found"),
        (
            [],
            "import ctypes.util\nctypes.util.find_library = lambda name: None",
            "apt-get install libfluidsynth3",
        ),
        ([], "import sys\nsys.modules['fluidsynth'] = None", "pip install pyfluidsynth"),
    ],
)
def test_render_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], code: str | None, message: str
) -> None:
    known_session(tmp_path / "known.mid")
    done = run("render", str(tmp_path / "known.mid"), *args, code=code)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stderr
