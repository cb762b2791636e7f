"""improviser: a real-time MIDI improviser built on an LSTM note model.

The public API, importable without TensorFlow::

    from improviser import Note, read_midi, write_midi, encode, decode, NumpyEngine
"""

from improviser.errors import (
    ConfigError,
    ImproviserError,
    MidiFileError,
    ModelError,
    MqttError,
    PortError,
)
from improviser.inference import NumpyEngine, StepModel
from improviser.music.encoding import Distribution, Token, decode, encode
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note, Score, extract_melody
from improviser.music.sampling import SamplingParams, sample
from improviser.music.stm import ShortTermModel

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Distribution",
    "ImproviserError",
    "MidiFileError",
    "ModelError",
    "MqttError",
    "Note",
    "NumpyEngine",
    "PortError",
    "SamplingParams",
    "Score",
    "ShortTermModel",
    "StepModel",
    "Token",
    "__version__",
    "decode",
    "encode",
    "extract_melody",
    "read_midi",
    "sample",
    "write_midi",
]
