"""One FluidSynth instance: a SoundFont loaded, the two parts on their programs.

FluidSynth is reached through pyfluidsynth (PyPI), a ctypes binding to Debian's
``libfluidsynth3``: nothing to compile, kept up to date by its authors, and the calls a
session makes (note on, note off) cost a few microseconds. It is imported lazily, so a
session without ``--synth`` never loads the library; a missing binding, library or
SoundFont is one :class:`~improviser.errors.SynthError` line naming what to install.

FluidSynth's API is thread-safe: the session's loop plays notes while its audio driver
renders on a thread of its own (or :meth:`FluidSynth.block` renders offline).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from improviser.audio.soundfont import find_soundfont
from improviser.config.synth import SynthConfig
from improviser.errors import SynthError

__all__ = [
    "IMPROVISER_CHANNEL",
    "LIBRARY_HINT",
    "PEDALS",
    "PLAYER_CHANNEL",
    "SYNTH_CHANNELS",
    "FluidSynth",
    "fluidsynth_module",
]

PLAYER_CHANNEL = 16
"""The synth's channel for the player's part (0-15 play a file's own channels)."""
IMPROVISER_CHANNEL = 17
"""The synth's channel for the improviser's part."""
SYNTH_CHANNELS = 32
PEDALS = (64, 66, 67)
"""The pedals a player's part passes to the synth: sustain, sostenuto, soft (CC numbers)."""
DRUM_BANK = 128
LIBRARY_HINT = "apt-get install libfluidsynth3"
Setting = str | int | float


def fluidsynth_module() -> ModuleType:
    """pyfluidsynth, with Debian's ``libfluidsynth3`` loaded; else a one-line SynthError."""
    try:
        # pyfluidsynth prints where it found the library when CI is set: keep stdout clean.
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth  # noqa: PLC0415 - loads a C library: only when a synth is asked for
    except ModuleNotFoundError as exc:
        raise SynthError(
            "the FluidSynth binding is not installed (pip install pyfluidsynth)"
        ) from exc
    except (ImportError, OSError) as exc:
        raise SynthError(f"the FluidSynth library was not found ({LIBRARY_HINT})") from exc
    module: ModuleType = fluidsynth
    return module


class FluidSynth:
    """A FluidSynth synth with ``config``'s SoundFont, gain, effects and the parts' programs."""

    def __init__(
        self,
        config: SynthConfig,
        *,
        sample_rate: int | None = None,
        settings: dict[str, Setting] | None = None,
    ) -> None:
        self.module = fluidsynth_module()
        self.soundfont: Path = find_soundfont(config.soundfont)
        self.sample_rate = sample_rate or config.sample_rate
        options: dict[str, Setting] = {
            "synth.polyphony": config.polyphony,
            "synth.reverb.active": int(config.reverb),
            "synth.chorus.active": int(config.chorus),
            **(settings or {}),
        }
        self._synth: Any = self.module.Synth(
            gain=config.gain,
            samplerate=float(self.sample_rate),
            channels=SYNTH_CHANNELS,
            **options,
        )
        self._closed = False
        # update_midi_preset: every channel gets the font's presets (channel 10: its drums)
        self._sfid = self._synth.sfload(str(self.soundfont), update_midi_preset=1)
        try:
            if self._sfid < 0:
                raise SynthError(f"{self.soundfont}: not a SoundFont FluidSynth can load")
            self.set_program(PLAYER_CHANNEL, config.player_program)
            self.set_program(IMPROVISER_CHANNEL, config.improviser_program)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"FluidSynth({self.soundfont.name}, {self.sample_rate} Hz)"

    def set_program(self, channel: int, program: int, *, drums: bool = False) -> None:
        """Play ``program`` (GM, from 0) on ``channel``; ``drums``: from the drum bank."""
        bank = DRUM_BANK if drums else 0
        if self._synth.program_select(channel, self._sfid, bank, program) != 0:
            raise SynthError(f"{self.soundfont} has no program {program} in bank {bank}")

    def note_on(self, channel: int, pitch: int, velocity: int) -> None:
        """Start a note (``velocity`` 0 releases it, as in MIDI)."""
        if velocity == 0:
            self._synth.noteoff(channel, pitch)
        else:
            self._synth.noteon(channel, pitch, velocity)

    def note_off(self, channel: int, pitch: int) -> None:
        """Release a note (its sound decays as the program's envelope says)."""
        self._synth.noteoff(channel, pitch)

    def control_change(self, channel: int, number: int, value: int) -> None:
        """A control change, as a MIDI synth takes it: CC 64 down (64 or more) holds the
        notes released after it until it comes up, as a piano's sustain pedal does."""
        self._synth.cc(channel, number, value)

    def release_all(self) -> None:
        """Release every note on every channel (their tails decay naturally), the pedals
        lifted first: a note the sustain pedal holds would not end otherwise."""
        for channel in range(SYNTH_CHANNELS):
            for number in PEDALS:
                self._synth.cc(channel, number, 0)
            self._synth.all_notes_off(channel)

    def voices(self) -> int:
        """How many voices sound now."""
        return int(self._synth.get_active_voice_count())

    def block(self, frames: int) -> npt.NDArray[np.int16]:
        """Render the next ``frames`` frames offline: 16-bit stereo, shape ``(frames, 2)``."""
        samples = self._synth.get_samples(frames)
        return np.asarray(samples, dtype=np.int16).reshape(frames, 2)

    def start_audio(self, driver: str, settings: dict[str, Setting]) -> None:
        """Render in real time through FluidSynth's ``driver`` (``jack``, ``alsa``, ``file``...).

        Only an audio driver is started: no MIDI driver, so no port of the synth's own
        appears beside the session's.
        """
        self._synth.setting("audio.driver", driver)
        for key, value in settings.items():
            self._synth.setting(key, value)
        handle = self.module.new_fluid_audio_driver(self._synth.settings, self._synth.synth)
        if not handle:
            raise SynthError(
                f"FluidSynth could not open its {driver!r} audio output (no sound card or "
                "server? see above; or write a file: --synth-file take.wav)"
            )
        self._synth.audio_driver = handle

    def close(self) -> None:
        """Stop the audio driver (a file is finished then) and free the synth; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._synth.delete()
