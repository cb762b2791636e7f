"""Watching the JACK server behind our ports: told when it goes, asked when it is back.

When jackd stops or restarts, every port of every client is gone, but an RtMidi client of
the dead server goes on answering from its stale copy of the graph: listing ports cannot
tell. A JACK client of our own (the JACK-Client package, ``<client>-server``) registers
a shutdown callback, which libjack calls the moment the server goes; while it is gone,
:meth:`ServerWatch.back` tries to connect (without starting a server) until one answers.

Only JACK has a server to lose; with ALSA (a kernel sequencer) there is none to watch.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from typing import Any

from improviser.errors import PortError

__all__ = ["ServerWatch", "quiet_inputs"]

_log = logging.getLogger("improviser.live")
_ABANDONED: list[Any] = []
"""Clients of servers that went away: never closed, never collected (a few bytes each)."""


def _libjack_says(message: str) -> None:
    _log.debug("libjack: %s", message)


@functools.cache
def _jack() -> Any:
    """The JACK-Client module, its libjack messages routed to our log (debug).

    The routing is set once a process: JACK-Client frees the callback it set before as it
    sets a new one, while libjack may be calling it on another thread (a client's, as it
    logs a closed connection). Setting it for every watch crashed a benchmark in CI
    (a segfault) and crashes a test that sets it in a loop (``tests/test_server_watch.py``).
    """
    try:
        import jack  # noqa: PLC0415 - needs libjack; only a JACK session loads it
    except (ImportError, OSError) as exc:
        raise PortError(f"cannot watch the JACK server: {exc}") from exc
    jack.set_error_function(_libjack_says)
    jack.set_info_function(_libjack_says)
    return jack


class ServerWatch:
    """Knows whether the JACK server our ports live on is still there."""

    def __init__(self, client_name: str) -> None:
        self.name = f"{client_name}-server"
        self._jack = _jack()
        self._client: Any = None
        self._lost = threading.Event()
        self._lock = threading.Lock()
        """Held while the client is replaced or lists ports (a port may ask from a worker)."""
        self.losses = 0

    @property
    def lost(self) -> bool:
        """Whether the server went away (and has not been found back yet)."""
        return self._lost.is_set()

    def start(self) -> None:
        """Join the server as a silent client that hears of its shutdown."""
        try:
            client = self._jack.Client(self.name, no_start_server=True)
        except self._jack.JackError as exc:
            raise PortError(f"cannot connect to the JACK server ({exc})") from exc
        client.set_shutdown_callback(self._on_shutdown)
        client.activate()
        with self._lock:
            self._client = client
        self._lost.clear()

    def _on_shutdown(self, status: object, reason: str) -> None:
        """Called by libjack on its own thread: only note it."""
        self.losses += 1
        self._lost.set()

    def back(self) -> bool:
        """Whether a server answers again (then watch it instead of the lost one)."""
        self._drop_client()
        try:
            self.start()
        except PortError:
            return False
        return True

    def port_names(self, kind: str) -> list[str] | None:
        """The MIDI ports an ``input`` may connect from (other clients' outputs) or an
        ``output`` to (their inputs), named and ordered as RtMidi lists them; ``None``
        while no server is watched (lost, or not yet back)."""
        with self._lock:
            client = self._client
            if client is None or self.lost:
                return None
            try:
                ports = client.get_ports(
                    is_midi=True, is_output=kind == "input", is_input=kind == "output"
                )
            except self._jack.JackError:
                return None
            return [port.name for port in ports]

    def quiet(self, client_name: str) -> int:
        """Cut every connection into the MIDI inputs of the JACK client ``client_name`` and
        let the cycle under way end (see :func:`quiet_inputs`); the connections cut."""
        with self._lock:
            client = self._client
            if client is None or self.lost:
                return 0
            return _quiet(self._jack, client, client_name)

    def _drop_client(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is None:
            return
        if not self.lost:
            client.deactivate()
            client.close()
            return
        # Closing a client of a dead server talks to a server that is not there (libjack
        # crashes in it, even from the garbage collector): the client is kept, unclosed.
        client._ptr = self._jack._ffi.NULL
        _ABANDONED.append(client)

    def close(self) -> None:
        """Leave the server; safe to call twice."""
        self._drop_client()


def _quiet(jack: Any, client: Any, client_name: str) -> int:
    cut = 0
    try:
        ports = client.get_ports(f"^{re.escape(client_name)}:", is_midi=True, is_input=True)
        for port in ports:
            for other in client.get_all_connections(port):
                client.disconnect(other, port)
                cut += 1
    except jack.JackError:
        return cut
    if cut:
        time.sleep(2 * client.blocksize / client.samplerate + 0.002)
    return cut


def quiet_inputs(client_name: str) -> int:
    """Cut every connection into the MIDI inputs of the JACK client ``client_name``, then
    wait two cycles: nothing comes in any more, and a callback under way has ended.

    An RtMidi input cannot be closed safely while messages come in (see
    :func:`improviser.live.io.apis.close_client`): this makes it safe. Uses a server watch
    of its own, for a moment; 0 where no JACK server answers.
    """
    try:
        watch = ServerWatch(f"{client_name}-quiet")
        watch.start()
    except PortError as exc:
        _log.debug("no JACK client to quiet a port with: %s", exc)
        return 0
    try:
        return watch.quiet(client_name)
    finally:
        watch.close()
