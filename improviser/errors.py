"""The exceptions improviser raises.

Every error a user can cause is an :class:`ImproviserError`; each subclass is also the
built-in exception it resembles, so callers may catch either::

    ImproviserError
    ├── ConfigError(ValueError)      a wrong key or value in a TOML file or on the CLI
    ├── ControlError(ValueError)     a live control with an unknown key or a bad value
    ├── MidiFileError(ValueError)    a malformed, empty or oversized MIDI file
    ├── ModelError(ValueError)       a missing, corrupt or incompatible model file
    ├── PortError(OSError)           an unknown, vanished or unusable MIDI port
    ├── SynthError(OSError)          no synth library or SoundFont, or no audio output
    ├── MqttError(ConnectionError)   a broker that cannot be reached
    └── MissingExtraError(ImportError) a feature whose optional packages are not installed

The CLI prints such an error as one line and exits with code 2. :func:`reason` renders
the library exception behind one (``raise ModelError(f"{path}: ... ({reason(exc)})")``)
so that line stays one line.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ControlError",
    "ImproviserError",
    "MidiFileError",
    "MissingExtraError",
    "ModelError",
    "MqttError",
    "PortError",
    "SynthError",
    "missing_extra",
    "reason",
]

REASON_CHARS = 160
"""The most characters of a library's message quoted in one of ours."""


class ImproviserError(Exception):
    """Base of every error a user can cause; printed as one line by the CLI."""


class ConfigError(ImproviserError, ValueError):
    """A configuration key or value is wrong."""


class ControlError(ImproviserError, ValueError):
    """A live control (CC, MQTT) names no control or carries a bad value; nothing changed."""


class MidiFileError(ImproviserError, ValueError):
    """A MIDI file cannot be read or written."""


class ModelError(ImproviserError, ValueError):
    """A model file is missing, corrupt or does not match what is asked of it."""


class PortError(ImproviserError, OSError):
    """A MIDI port cannot be found, opened or kept."""


class SynthError(ImproviserError, OSError):
    """The built-in synth cannot start: its library or SoundFont is missing (the line names
    what to install), or its audio output cannot be opened."""


class MqttError(ImproviserError, ConnectionError):
    """The MQTT broker cannot be reached or refuses us."""


class MissingExtraError(ImproviserError, ImportError):
    """A feature needs an optional part of the package (an extra) that is not installed."""


def missing_extra(exc: ImportError, extra: str, feature: str) -> MissingExtraError:
    """The one line for ``feature``, whose extra ``extra`` lacks the module ``exc`` names.

    ``raise missing_extra(exc, "train", "training") from None`` in an ``except
    ImportError as exc`` around the lazy import.
    """
    module = (exc.name or "a package").split(".")[0]
    return MissingExtraError(
        f"{feature} needs {module}, which is not installed: pip install 'improviser[{extra}]'"
    )


def reason(exc: BaseException) -> str:
    """The message of ``exc`` (or its type's name) on one line, at most ``REASON_CHARS`` long."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"
