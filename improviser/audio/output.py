"""Where the synth's sound goes: a FluidSynth audio driver and its settings.

JACK (our client's ports connected to the system's playback ports where there are
some), PulseAudio (or PipeWire's PulseAudio server), ALSA, or a ``.wav``/``.flac`` file
written in real time by FluidSynth's file driver.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from improviser.audio.fluid import Setting
from improviser.config.synth import SynthConfig
from improviser.errors import ConfigError

__all__ = ["AUDIO_FILE_TYPES", "AudioOutput", "audio_file_type", "choose_output", "pulse_running"]

AUDIO_FILE_TYPES = {".wav": "wav", ".flac": "flac"}
"""File suffix -> libsndfile's type, as FluidSynth and :mod:`soundfile` name it."""


@dataclass(frozen=True, slots=True)
class AudioOutput:
    """A FluidSynth audio driver and the settings it is opened with."""

    driver: str
    settings: dict[str, Setting] = field(default_factory=dict)

    def describe(self) -> str:
        """One phrase for the session's start line (``JACK as improviser-synth``)."""
        if self.driver == "file":
            return f"into {self.settings['audio.file.name']}"
        if self.driver == "jack":
            return f"JACK as {self.settings['audio.jack.id']}"
        device = self.settings.get(f"audio.{self.driver}.device")
        return self.driver + (f" ({device})" if device else "")


def audio_file_type(path: Path) -> str:
    """``wav`` or ``flac`` from ``path``'s suffix; any other suffix is a ConfigError."""
    kind = AUDIO_FILE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"{path}: an audio file must end in .wav or .flac")
    return kind


def pulse_running() -> bool:
    """Whether a PulseAudio (or PipeWire-Pulse) server seems to be there for this user."""
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return runtime is not None and (Path(runtime) / "pulse" / "native").exists()


def choose_output(config: SynthConfig, *, jack_session: bool) -> AudioOutput:
    """The driver ``config`` asks for (``auto``: JACK if the session's MIDI is on JACK,
    else PulseAudio if its server is there, else ALSA), or the file it names."""
    if config.file is not None:
        kind = audio_file_type(config.file)
        return AudioOutput(
            "file",
            {
                "audio.file.name": str(config.file),
                "audio.file.type": kind,
                "audio.file.format": "s16",
            },
        )
    driver: str = config.audio
    if driver == "auto":
        driver = "jack" if jack_session else ("pulseaudio" if pulse_running() else "alsa")
    if driver == "jack":
        return AudioOutput(
            "jack",
            {
                "audio.jack.id": config.client_name,
                "audio.jack.autoconnect": int(config.jack_connect),
            },
        )
    settings: dict[str, Setting] = {}
    if config.device is not None:
        settings[f"audio.{driver}.device"] = config.device
    return AudioOutput(driver, settings)
