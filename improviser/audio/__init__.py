"""The built-in synth: FluidSynth with a General MIDI SoundFont, live and offline.

- :class:`~improviser.audio.companion.SynthCompanion`: a live session's companion that
  plays what the session plays (the player's notes as they arrive, the improviser's as
  they leave), each part on its own program, into JACK, PulseAudio, ALSA or a file;
- :func:`~improviser.audio.render.render_midi`: a recorded session (or any MIDI file)
  into a ``.wav`` or ``.flac`` file, offline.

The library is loaded only when a synth is made: importing this package costs nothing.
"""

from __future__ import annotations

from improviser.audio.companion import SynthCompanion
from improviser.audio.fluid import IMPROVISER_CHANNEL, PLAYER_CHANNEL, FluidSynth
from improviser.audio.output import AudioOutput, choose_output
from improviser.audio.render import RenderResult, render_midi
from improviser.audio.soundfont import find_soundfont

__all__ = [
    "IMPROVISER_CHANNEL",
    "PLAYER_CHANNEL",
    "AudioOutput",
    "FluidSynth",
    "RenderResult",
    "SynthCompanion",
    "choose_output",
    "find_soundfont",
    "render_midi",
]
