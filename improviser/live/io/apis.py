"""MIDI APIs and their ports: which API works here, what ports it has, one by name.

``auto`` tries ALSA then JACK on Linux (CoreMIDI on macOS, WinMM on Windows); a port is
chosen by a case-blind substring of its name, and a name that matches nothing is a
one-line :class:`~improviser.errors.PortError` listing the ports there are.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import rtmidi

from improviser.errors import PortError
from improviser.live.io.server import quiet_inputs

__all__ = [
    "PortLists",
    "api_label",
    "client_error",
    "close_client",
    "find_port",
    "list_ports",
    "probe_api",
    "resolve_api",
]

_APIS: dict[str, int] = {
    "alsa": rtmidi.API_LINUX_ALSA,
    "jack": rtmidi.API_UNIX_JACK,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "winmm": rtmidi.API_WINDOWS_MM,
}
_LABELS = {v: k for k, v in _APIS.items()}


def api_label(api: int) -> str:
    """The name of an rtmidi API constant (``jack``, ``alsa``...)."""
    return _LABELS.get(api, f"api {api}")


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what libjack/libasound print on fd 2 while an API is probed."""
    fd = 2  # the C libraries write to the process's fd 2, whatever sys.stderr is
    saved = os.dup(fd)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def probe_api(api: int) -> str | None:
    """``None`` if a client of ``api`` can be created here, else why not."""
    if api not in rtmidi.get_compiled_api():
        return "not compiled into python-rtmidi"
    try:
        with _quiet_native_stderr():
            client = rtmidi.MidiIn(api, "improviser-probe")
            client.get_port_count()
            client.delete()
    except (rtmidi.RtMidiError, RuntimeError, OSError) as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def resolve_api(name: Literal["auto", "jack", "alsa", "coremidi", "winmm"] | str) -> int:
    """The rtmidi API to use; ``auto`` takes the first that works here.

    Linux tries ALSA then JACK; macOS CoreMIDI; Windows WinMM. Raises :class:`PortError`
    naming each API tried and why it failed.
    """
    if name == "auto":
        if sys.platform == "darwin":
            order = ["coremidi", "jack"]
        elif sys.platform == "win32":
            order = ["winmm"]
        else:
            order = ["alsa", "jack"]
    elif name in _APIS:
        order = [name]
    else:
        raise PortError(f"MIDI API must be one of auto, {', '.join(_APIS)}; got {name!r}")
    reasons = []
    for candidate in order:
        why = probe_api(_APIS[candidate])
        if why is None:
            return _APIS[candidate]
        reasons.append(f"{candidate}: {why}")
    raise PortError(f"no usable MIDI API ({'; '.join(reasons)})")


@dataclass(frozen=True, slots=True)
class PortLists:
    """The ports of one API: inputs we can read from, outputs we can send to."""

    api: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def client_error(api: int, exc: Exception) -> PortError:
    return PortError(f"cannot open a {api_label(api)} MIDI client ({str(exc).strip()})")


def list_ports(api: int, client_name: str = "improviser-list") -> PortLists:
    """Every input and output port of ``api``."""
    try:
        mi = rtmidi.MidiIn(api, client_name)
        mo = rtmidi.MidiOut(api, client_name)
    except (rtmidi.RtMidiError, RuntimeError) as exc:
        raise client_error(api, exc) from exc
    try:
        return PortLists(api, tuple(mi.get_ports()), tuple(mo.get_ports()))
    finally:
        mi.delete()
        mo.delete()


def _quote(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "none"


def find_port(names: Sequence[str], pattern: str, *, kind: str, api: int) -> tuple[int, str]:
    """The index and name of the first of ``names`` containing ``pattern`` (case-blind)."""
    wanted = pattern.casefold()
    for index, name in enumerate(names):
        if wanted in name.casefold():
            return index, name
    raise PortError(
        f"no MIDI {kind} port matches {pattern!r} ({api_label(api)}); {kind} ports: {_quote(names)}"
    )


def close_client(client: Any, name: str | None = None) -> None:
    """Close an RtMidi client (``MidiIn`` or ``MidiOut``) and every port it opened.

    An input is never closed with ``close_port`` or ``cancel_callback``: RtMidi clears
    the callback pointer while the JACK (or ALSA) thread may be about to call it
    (python-rtmidi's ``close_port`` cancels the callback too), which crashed a test's
    teardown with a segfault while answers were still coming in. Nor may it be deleted
    while messages come in: ``delete`` holds the GIL while JACK waits for the cycle to
    end, and the cycle's callback waits for the GIL. So where the input's JACK client
    ``name`` is given, every connection into it is cut first and the cycle under way
    waited out (:func:`~improviser.live.io.server.quiet_inputs`); a session's ports do the
    same through its server watch before calling this.
    """
    if isinstance(client, rtmidi.MidiOut):
        client.close_port()
    elif name is not None and client.get_current_api() == rtmidi.API_UNIX_JACK:
        quiet_inputs(name)
    client.delete()
