"""A private JACK server (dummy driver) for machines with no MIDI hardware.

The demo and the tests start one under a unique server name, so they never touch a
server a musician is running, and stop it by its PID. JACK clients find a server by
``JACK_DEFAULT_SERVER``: :meth:`JackServer.start` sets it in this process (children
inherit it) and :meth:`JackServer.stop` puts the previous value back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import rtmidi

from improviser.errors import PortError
from improviser.live.ports import probe_api

__all__ = ["ENV", "JackServer", "jack_running", "some_jack_server"]

ENV = "JACK_DEFAULT_SERVER"


def jack_running() -> bool:
    """Whether a JACK client can connect to the server ``JACK_DEFAULT_SERVER`` names."""
    return probe_api(rtmidi.API_UNIX_JACK) is None


class JackServer:
    """``jackd --no-realtime -d dummy`` under a unique name, for as long as it is entered."""

    def __init__(
        self,
        name: str | None = None,
        *,
        rate: int = 48000,
        period: int = 64,
        log: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name or f"improviser-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.rate = rate
        self.period = period
        self.log = log
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._previous: str | None = None

    def start(self) -> None:
        """Start the server and wait until a client can connect; :class:`PortError` if not."""
        jackd = shutil.which("jackd")
        if jackd is None:
            raise PortError("jackd not found: install JACK (jackd2) to run without MIDI hardware")
        self._previous = os.environ.get(ENV)
        os.environ[ENV] = self.name
        out = self.log.open("ab") if self.log is not None else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [
                    jackd,
                    "--no-realtime",
                    "-d",
                    "dummy",
                    "-r",
                    str(self.rate),
                    "-p",
                    str(self.period),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,  # a Ctrl-C meant for us does not kill it first
            )
        finally:
            if self.log is not None and not isinstance(out, int):
                out.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._restore_env()
                raise PortError(f"jackd exited with code {self.process.returncode} at start")
            if jack_running():
                return
            time.sleep(0.1)
        self.stop()
        raise PortError(f"JACK server {self.name!r} did not start within {self.timeout} s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) by its PID; safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._restore_env()

    def _restore_env(self) -> None:
        if os.environ.get(ENV) == self.name:
            if self._previous is None:
                del os.environ[ENV]
            else:
                os.environ[ENV] = self._previous

    def __enter__(self) -> JackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def some_jack_server(period: int = 64, log: Path | None = None) -> Iterator[JackServer | None]:
    """The JACK server running (``None``), or else a private one for as long as entered."""
    if jack_running():
        yield None
        return
    with JackServer(period=period, log=log) as server:
        yield server
