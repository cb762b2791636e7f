"""Options of the built-in synth (the ``[synth]`` section of the config).

Off by default: ``live --synth`` (or ``enabled = true``) plays both parts through
FluidSynth with a General MIDI SoundFont, each part on its own program; ``render`` uses
the same programs, SoundFont, gain and effects offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from improviser.config.base import Section

__all__ = ["AUDIO_OUTPUTS", "AudioOutput", "SynthConfig"]

AudioOutput = Literal["auto", "jack", "pulseaudio", "alsa"]
AUDIO_OUTPUTS: tuple[str, ...] = ("auto", "jack", "pulseaudio", "alsa")


class SynthConfig(Section):
    """Which sounds the synth plays, and where its audio goes."""

    enabled: bool = False
    """Play the session through the built-in synth (``--synth`` turns it on)."""
    soundfont: Path | None = None
    """A ``.sf2``/``.sf3`` file; ``None``: Debian's General MIDI SoundFont."""
    player_program: int = Field(0, ge=0, le=127)
    """General MIDI program of the player's part, counted from 0 (0: Acoustic Grand Piano)."""
    improviser_program: int = Field(11, ge=0, le=127)
    """General MIDI program of the improviser's part (11: Vibraphone)."""
    audio: AudioOutput = "auto"
    """Where the sound goes: ``jack``, ``pulseaudio``, ``alsa``; ``auto``: JACK when the
    session's MIDI runs on JACK, else PulseAudio when its server answers, else ALSA."""
    device: str | None = None
    """The ALSA device (``hw:1``) or PulseAudio sink; ``None``: the default one."""
    file: Path | None = None
    """Write the sound to this ``.wav``/``.flac`` file instead (``--synth-file``)."""
    client_name: str = Field("improviser-synth", min_length=1, max_length=64)
    """Our JACK client's name (its ports: ``<name>:left``, ``<name>:right``)."""
    jack_connect: bool = True
    """Connect our JACK ports to the system's playback ports, where there are some."""
    gain: float = Field(0.5, gt=0.0, le=5.0)
    """FluidSynth's master gain (0.2 is FluidSynth's own default; above 1 may clip)."""
    sample_rate: int = Field(48000, ge=22050, le=96000)
    """Hz, for ALSA, PulseAudio and files (JACK's own rate wins on JACK)."""
    reverb: bool = True
    """FluidSynth's reverb (its tail lingers ~1 s after the last note)."""
    chorus: bool = False
    """FluidSynth's chorus (costs CPU; off by default)."""
    polyphony: int = Field(64, ge=4, le=4096)
    """Most voices sounding at once (FluidSynth's default is 256; two parts need fewer)."""
