"""MIDI ports: open one by name, create virtual ones, watch and reconnect them.

Choosing an API and listing ports is :mod:`improviser.live.io.apis` (re-exported here).

A port is chosen by a case-blind substring of its name (``--in keystation``); a name
that matches nothing is a one-line :class:`~improviser.errors.PortError` listing the
ports there are, never a silently created virtual port. ``--virtual`` creates ports
``improviser in`` / ``improviser out`` for other programs to connect to.

A port opened by name is watched: :meth:`MidiInput.present` tells whether the port it is
connected to still exists, and :meth:`MidiInput.reconnect` opens the first port matching
the name again once one is back (a keyboard unplugged and plugged in, a DAW restarted).

The input callback runs on RtMidi's thread: it parses the message and hands it on at
once (see :mod:`improviser.live.io.midi`); everything else happens on the asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import rtmidi

from improviser.errors import PortError
from improviser.live.io.apis import (
    PortLists,
    api_label,
    client_error,
    close_client,
    find_port,
    list_ports,
    probe_api,
    resolve_api,
)
from improviser.live.io.jack_input import JackMidiIn, jack_input_available
from improviser.live.io.midi import InMessage, Kind, parse

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
JACK_DRAIN_SECONDS = 0.1
"""How long a JACK output is given to deliver its last messages before it closes: a few
cycles of the longest period in common use (1024 frames at 48 kHz is 21 ms)."""

_ABANDONED: list[object] = []


def _keep_forever(client: object) -> None:
    """Never run ``client``'s destructor, not even as the interpreter exits.

    The list keeps it through the session; the extra reference keeps CPython's shutdown,
    which clears module globals, from freeing it then.
    """
    _ABANDONED.append(client)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(client))


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
        self.lister: Callable[[str], list[str] | None] | None = None
        """Lists the ports by this port's kind without a client of ours (the session's
        JACK server watch); ``None``, or a ``None`` answer: our own watcher client lists
        them. Each RtMidi client of JACK is woken every cycle (750 times a second at 64
        frames), and one more in the graph is one more that can be late for a cycle."""
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
        if self.lister is not None and (listed := self.lister(self.kind)) is not None:
            return listed
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

    def _new_client_named(self, name: str, *, own: bool = False) -> Any:
        try:
            return (self._own_factory() if own else self._factory())(self.api, name)
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            raise client_error(self.api, exc) from exc

    def _factory(self) -> Callable[[int, str], Any]:
        raise NotImplementedError

    def _own_factory(self) -> Callable[[int, str], Any]:
        """What makes the client of our port (a watcher client is always RtMidi's)."""
        return self._factory()

    def open(self) -> None:
        """Open the port; :class:`PortError` if the name matches none."""
        self._closed = False
        client = self._new_client_named(self.own_client, own=True)
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
        if not self.virtual and self._lister is None and self.lister is None:
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

        A client of a dead JACK server is neither closed nor deleted: RtMidi's destructor
        closes the JACK client, a call into a libjack whose server is gone, and that has
        crashed the process (a segfault under load, seen in CI). The old client is kept
        for good instead, a few kilobytes per server loss. :meth:`reconnect` then opens
        a new one.
        """
        with self._lister_lock:
            lister, self._lister = self._lister, None
        client, self._client = self._client, None
        self.name = None
        for old in (client, lister):
            if isinstance(old, JackMidiIn):
                old.abandon()
            elif old is not None:
                _keep_forever(old)

    def _close_client(self) -> None:
        client, self._client = self._client, None
        self.name = None
        if client is not None:
            self._before_close(client)
            close_client(client)

    def _before_close(self, client: Any) -> None:
        """Hook: what to do before the client is closed (see :func:`close_client`)."""

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
        timing: bool = False,
        c_input: bool = True,
    ) -> None:
        super().__init__(api, client_name, pattern, virtual)
        self.c_input = c_input
        """On JACK, read by the C client where it was built (:mod:`.jack_input`)."""
        self.quieter: Callable[[str], int] | None = None
        """Cuts every connection into a client's inputs and waits out the cycle (the
        session's JACK server watch): an RtMidi input is closed safely only when nothing
        comes in (see :func:`close_client`)."""
        self._on_message = on_message
        self._clock = clock
        self.timing = timing
        """Let MIDI clock messages through (RtMidi filters them out otherwise)."""
        self._stream = 0.0
        """The sum of RtMidi's delta times: each message's time on the MIDI thread's clock."""
        self._offset = math.inf
        """Our clock minus the MIDI thread's: the smallest seen (the least delayed callback)."""
        self.received = 0
        """Messages our callback was given, garbage included (what JACK or ALSA delivered)."""

    def _factory(self) -> Callable[[int, str], Any]:
        return rtmidi.MidiIn  # type: ignore[no-any-return]

    def _own_factory(self) -> Callable[[int, str], Any]:
        # The C input is read on the running loop: with none (a script), RtMidi's.
        if self.c_input and self.api == rtmidi.API_UNIX_JACK and jack_input_available():
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop()
                return lambda _api, name: JackMidiIn(name, VIRTUAL_IN)
        return self._factory()

    def _before_close(self, client: Any) -> None:
        if self.quieter is not None and not isinstance(client, JackMidiIn):
            self.quieter(self.own_client)

    def _open_on(self, client: Any) -> None:
        # A new client's delta times start afresh: a stream summed across a reconnect
        # would lag by the time the port was gone, and date every clock tick that far back.
        self._stream, self._offset = 0.0, math.inf
        client.ignore_types(sysex=True, timing=not self.timing, active_sense=True)
        client.set_callback(self._callback)

    def _callback(self, event: tuple[list[int], float], _data: object = None) -> None:
        self.received += 1
        message = parse(event[0], self._clock())
        if message is not None:
            if message.kind == Kind.SYNC:
                message = message._replace(time=self._midi_time(event[1], message.time))
            self._on_message(message)

    def _midi_time(self, delta: float, now: float) -> float:
        """When a message arrived, from RtMidi's delta times (stamped on its MIDI thread,
        which needs no GIL) rather than from when this callback got to run: a clock tick's
        time must not carry the callback's delay on a busy machine."""
        self._stream += delta
        self._offset = min(self._offset, now - self._stream)
        return self._stream + self._offset


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
