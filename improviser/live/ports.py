"""MIDI ports: choose an API, list ports, open one by name, create virtual ones, reconnect.

A port is chosen by a case-blind substring of its name (``--in keystation``); a name
that matches nothing is a one-line :class:`~improviser.errors.PortError` listing the
ports there are, never a silently created virtual port. ``--virtual`` creates ports
``improviser in`` / ``improviser out`` for other programs to connect to.

A port opened by name is watched: :meth:`MidiInput.present` tells whether the port it is
connected to still exists, and :meth:`MidiInput.reconnect` opens the first port matching
the name again once one is back (a keyboard unplugged and plugged in, a DAW restarted).

The input callback runs on RtMidi's thread: it parses the message and hands it on at
once (see :mod:`improviser.live.midi`); everything else happens on the asyncio loop.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import rtmidi

from improviser.errors import PortError
from improviser.live.midi import InMessage, parse

__all__ = [
    "VIRTUAL_IN",
    "VIRTUAL_OUT",
    "MidiInput",
    "MidiOutput",
    "PortLists",
    "api_label",
    "find_port",
    "list_ports",
    "probe_api",
    "resolve_api",
]

VIRTUAL_IN = "improviser in"
VIRTUAL_OUT = "improviser out"
JACK_DRAIN_SECONDS = 0.05
"""How long a JACK output is given to deliver its last messages before it closes."""

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


def _client_error(api: int, exc: Exception) -> PortError:
    return PortError(f"cannot open a {api_label(api)} MIDI client ({str(exc).strip()})")


def list_ports(api: int, client_name: str = "improviser-list") -> PortLists:
    """Every input and output port of ``api``."""
    try:
        mi = rtmidi.MidiIn(api, client_name)
        mo = rtmidi.MidiOut(api, client_name)
    except (rtmidi.RtMidiError, RuntimeError) as exc:
        raise _client_error(api, exc) from exc
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


class _Port:
    """What inputs and outputs share: the API, the name pattern, presence and reconnection."""

    kind = "port"

    def __init__(self, api: int, client_name: str, pattern: str | None, virtual: bool) -> None:
        if pattern is None and not virtual:
            raise PortError(f"no MIDI {self.kind} port chosen: give a port name or use virtual")
        self.api = api
        self.client_name = client_name
        self.pattern = pattern
        self.virtual = virtual
        self.name: str | None = None
        """The port we are connected to (ours, if virtual); ``None`` while none is open."""
        self._client: Any = None
        self._lister: Any = None
        self._lister_lock = threading.Lock()
        self._closed = False
        """:meth:`present` may run in a worker thread: the watcher client is never
        deleted while it lists ports."""

    @property
    def own_client(self) -> str:
        """Our client's name, saying what it is: ``improviser-in``, ``improviser-out``.

        One name for both would make JACK call the second ``improviser-01``.
        """
        return f"{self.client_name}-{'in' if self.kind == 'input' else 'out'}"

    def _open_on(self, client: Any) -> None:
        """Hook: set up ``client`` (callbacks, filters) before its port is opened."""

    def _names(self) -> list[str]:
        with self._lister_lock:
            if self._closed:
                return []
            if self._lister is None:
                try:
                    self._lister = self._new_client_named(f"{self.own_client}-watch")
                except PortError:
                    return []
            names: list[str] = self._lister.get_ports()
        return names

    def _new_client_named(self, name: str) -> Any:
        try:
            return self._factory()(self.api, name)
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            raise _client_error(self.api, exc) from exc

    def _factory(self) -> Callable[[int, str], Any]:
        raise NotImplementedError

    def open(self) -> None:
        """Open the port; :class:`PortError` if the name matches none."""
        self._closed = False
        client = self._new_client_named(self.own_client)
        try:
            self._open_on(client)
            own = VIRTUAL_IN if self.kind == "input" else VIRTUAL_OUT
            if self.virtual:
                client.open_virtual_port(own)
                self.name = own
            else:
                assert self.pattern is not None
                index, name = find_port(
                    client.get_ports(), self.pattern, kind=self.kind, api=self.api
                )
                client.open_port(index, own)
                self.name = name
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            client.delete()
            raise PortError(f"cannot open MIDI {self.kind} port {self.pattern!r}: {exc}") from exc
        except BaseException:
            client.delete()
            raise
        self._client = client
        if not self.virtual and self._lister is None:
            # Made now, not at the first check: a JACK client joining the graph mid-phrase
            # can cost a cycle or two of MIDI.
            self._names()

    def present(self) -> bool:
        """Whether the port we are connected to still exists (a virtual port always does)."""
        if self.virtual:
            return True
        if self._client is None or self.name is None:
            return False
        return self.name in self._names()

    def reconnect(self) -> bool:
        """Open the port again: ours (virtual), or the first matching the name, if there."""
        if self.virtual or self.pattern is None:
            if self._client is None:
                try:
                    self.open()
                except PortError:
                    return False
            return True
        wanted = self.pattern.casefold()
        if not any(wanted in n.casefold() for n in self._names()):
            return False
        self._close_client()
        try:
            self.open()
        except PortError:
            return False
        return True

    def abandon(self) -> None:
        """The MIDI server went away: forget our clients without talking to it.

        A client of a dead JACK server must not close its port (that is a call to the
        server); it is only deleted. :meth:`reconnect` then opens a new one.
        """
        with self._lister_lock:
            lister, self._lister = self._lister, None
        client, self._client = self._client, None
        self.name = None
        for old in (client, lister):
            if old is not None:
                if isinstance(self, MidiInput):
                    old.cancel_callback()
                with contextlib.suppress(rtmidi.RtMidiError, RuntimeError):
                    old.delete()

    def _close_client(self) -> None:
        client, self._client = self._client, None
        self.name = None
        if client is not None:
            self._before_close(client)
            client.close_port()
            client.delete()

    def _before_close(self, client: Any) -> None:
        """Hook: detach callbacks before the port is closed."""

    def close(self) -> None:
        """Close the port and its watcher; safe to call twice."""
        self._close_client()
        with self._lister_lock:
            lister, self._lister = self._lister, None
            self._closed = True
        if lister is not None:
            lister.delete()

    def __enter__(self) -> _Port:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MidiInput(_Port):
    """An input port whose messages go to ``on_message`` (called on RtMidi's thread)."""

    kind = "input"

    def __init__(
        self,
        api: int,
        client_name: str,
        pattern: str | None,
        virtual: bool,
        *,
        on_message: Callable[[InMessage], None],
        clock: Callable[[], float],
    ) -> None:
        super().__init__(api, client_name, pattern, virtual)
        self._on_message = on_message
        self._clock = clock
        self.received = 0
        """Messages our callback was given, garbage included (what JACK or ALSA delivered)."""

    def _factory(self) -> Callable[[int, str], Any]:
        return rtmidi.MidiIn  # type: ignore[no-any-return]

    def _open_on(self, client: Any) -> None:
        client.ignore_types(sysex=True, timing=True, active_sense=True)
        client.set_callback(self._callback)

    def _callback(self, event: tuple[list[int], float], _data: object = None) -> None:
        self.received += 1
        message = parse(event[0], self._clock())
        if message is not None:
            self._on_message(message)

    def _before_close(self, client: Any) -> None:
        # As mido does: no callback may run while the port is being torn down.
        client.cancel_callback()


class MidiOutput(_Port):
    """An output port. :meth:`send` is called from the loop's thread only."""

    kind = "output"
    _last_send = 0.0

    def _factory(self) -> Callable[[int, str], Any]:
        return rtmidi.MidiOut  # type: ignore[no-any-return]

    def send(self, data: Sequence[int]) -> None:
        """Send one message; dropped while no port is open (see :meth:`present`)."""
        if self._client is not None:
            self._client.send_message(data)
            self._last_send = time.monotonic()

    def _before_close(self, client: Any) -> None:
        # JACK sends from a ring buffer in its process cycle: closing the port at once
        # would drop the last note-offs. Give it a few cycles to drain.
        if self.api == rtmidi.API_UNIX_JACK:
            wait = self._last_send + JACK_DRAIN_SECONDS - time.monotonic()
            if wait > 0:
                time.sleep(wait)
