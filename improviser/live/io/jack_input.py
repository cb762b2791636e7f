"""A JACK MIDI input read on the loop, not on JACK's thread (``_jackin.c``).

RtMidi calls its input callback on JACK's process thread, which must then take the GIL:
a busy interpreter makes our input client late for its cycle (JACK counts an overrun
and may drop the cycle's MIDI), and the client cannot be closed safely while messages
come in (see :func:`improviser.live.io.apis.close_client`). :class:`JackMidiIn` is a client
whose process callback is C: it copies each message with its JACK time into a bounded
ring and wakes the event loop through an eventfd; the loop reads the ring and calls the
Python callback. It offers the part of ``rtmidi.MidiIn`` the session's ports use, so
:class:`~improviser.live.io.ports.MidiInput` takes it where it was built (with the package,
when a C compiler was there) and a JACK server runs; elsewhere RtMidi serves as before.

Messages longer than 3 bytes (sysex) are dropped in C and counted, as are messages that
find the ring full (8,192 of them unread): garbage cannot grow memory.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable
from functools import cache

import rtmidi

from improviser.paths import built_library

__all__ = ["JackMidiIn", "jack_input_available"]

_READ = 256
"""Events read from the ring at a time."""


class _Event(ctypes.Structure):
    _fields_ = [
        ("time_us", ctypes.c_uint64),
        ("size", ctypes.c_uint8),
        ("data", ctypes.c_uint8 * 3),
    ]


@cache
def _library() -> ctypes.CDLL | None:
    path = built_library(__file__, "_jackin")
    if path is None:
        return None
    lib = ctypes.CDLL(str(path))
    if lib.jin_load() != 0:
        return None  # no libjack here
    lib.jin_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.jin_open.restype = ctypes.c_void_p
    for name in ("jin_fd", "jin_dead"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = ctypes.c_int
    lib.jin_dropped.argtypes = [ctypes.c_void_p]
    lib.jin_dropped.restype = ctypes.c_uint64
    lib.jin_now.argtypes = []
    lib.jin_now.restype = ctypes.c_uint64
    lib.jin_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.jin_connect.restype = ctypes.c_int
    lib.jin_outputs.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.jin_outputs.restype = ctypes.c_int
    lib.jin_read.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Event), ctypes.c_int]
    lib.jin_read.restype = ctypes.c_int
    lib.jin_close.argtypes = [ctypes.c_void_p]
    lib.jin_close.restype = None
    return lib


def jack_input_available() -> bool:
    """Whether the C input was built with the package and libjack is here."""
    return _library() is not None


class JackMidiIn:
    """A JACK client with one MIDI input port, read on the running event loop.

    Made on the loop's thread (it registers the eventfd with the running loop when a
    callback is set). Raises ``RuntimeError`` when no client can be made (no server), as
    ``rtmidi.MidiIn`` does; a name already taken is made unique by JACK, as for RtMidi's.
    """

    def __init__(self, name: str, port: str) -> None:
        lib = _library()
        if lib is None:
            raise RuntimeError("the JACK input was not built, or libjack is missing")
        self._lib = lib
        status = ctypes.c_int(0)
        handle = lib.jin_open(name.encode(), port.encode(), ctypes.byref(status))
        if not handle:
            raise RuntimeError(f"JACK client {name!r} could not be made (status {status.value:#x})")
        self._handle: int | None = handle
        self.name = name
        self._ports: list[str] = []
        self._callback: Callable[[tuple[list[int], float], object], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events = (_Event * _READ)()
        self._last_us: int | None = None
        self._ignored = {0xF8, 0xFA, 0xFB, 0xFC, 0xFE}

    # --- what rtmidi.MidiIn offers ------------------------------------------------------------
    def get_current_api(self) -> int:
        """JACK's, always."""
        return int(rtmidi.API_UNIX_JACK)

    def get_ports(self) -> list[str]:
        """The MIDI output ports there are (``client:port``), as JACK lists them."""
        if self._handle is None:
            return []
        size = 1 << 16
        names = ctypes.create_string_buffer(size)
        count = self._lib.jin_outputs(self._handle, names, size)
        self._ports = names.raw.decode(errors="replace").split("\0")[:count]
        return list(self._ports)

    def open_virtual_port(self, name: str = "") -> None:
        """The port was made with the client: nothing to do."""

    def open_port(self, index: int, name: str = "") -> None:
        """Connect the output port ``index`` of the last :meth:`get_ports` to ours."""
        if self._handle is None:
            raise RuntimeError("the client is closed")
        ports = self._ports or self.get_ports()
        if not 0 <= index < len(ports):
            raise RuntimeError(f"no MIDI output port {index}")
        rc = self._lib.jin_connect(self._handle, ports[index].encode())
        if rc != 0:
            raise RuntimeError(f"cannot connect {ports[index]!r} (JACK error {rc})")

    def ignore_types(
        self, sysex: bool = True, timing: bool = True, active_sense: bool = True
    ) -> None:
        """Which real-time messages to drop here (sysex is always dropped, in C)."""
        self._ignored = ({0xF8, 0xFA, 0xFB, 0xFC} if timing else set()) | (
            {0xFE} if active_sense else set()
        )

    def set_callback(self, func: Callable[[tuple[list[int], float], object], None]) -> None:
        """Call ``func((message, delta_seconds), None)`` on the loop for each message."""
        assert self._handle is not None
        self._callback = func
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._lib.jin_fd(self._handle), self._read)

    def close_port(self) -> None:
        """Nothing to do: :meth:`delete` closes the client and its port."""

    def delete(self) -> None:
        """Stop reading and close the client (safe while messages come in); twice is fine."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._lib.jin_fd(handle))
        self._lib.jin_close(handle)

    def abandon(self) -> None:
        """The server went away: stop reading, never close the client (that would talk to
        a server that is not there)."""
        handle, self._handle = self._handle, None
        if handle is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._lib.jin_fd(handle))

    # --- ours -----------------------------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """Messages dropped in C: longer than 3 bytes, or the ring full."""
        return 0 if self._handle is None else int(self._lib.jin_dropped(self._handle))

    @property
    def server_lost(self) -> bool:
        """Whether JACK told this client that the server went away."""
        return self._handle is not None and bool(self._lib.jin_dead(self._handle))

    def _read(self) -> None:
        handle = self._handle
        if handle is None:
            return
        count = self._lib.jin_read(handle, self._events, _READ)
        callback, ignored = self._callback, self._ignored
        for event in self._events[:count]:
            data = list(event.data[: event.size])
            if callback is None or data[0] in ignored:
                continue
            # As RtMidi's: seconds since the last message given (they are summed).
            last, self._last_us = self._last_us, event.time_us
            delta = 0.0 if last is None else (event.time_us - last) / 1e6
            callback((data, delta), None)
