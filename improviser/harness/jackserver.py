"""A private JACK server (dummy driver) for machines with no MIDI hardware.

The demo and the tests start one under a unique server name, so they never touch a
server a musician is running, and stop it by its PID. JACK clients find a server by
``JACK_DEFAULT_SERVER``: :meth:`JackServer.start` sets it in this process (children
inherit it) and :meth:`JackServer.stop` puts the previous value back.

The server dies with us. JACK's registry holds 8 servers for the whole machine, so a
jackd left behind by a parent killed with SIGKILL (a test run, ``make demo``, a
benchmark) breaks later runs. On Linux jackd is started through a few lines of Python
that set ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` and then exec it (the same PID; no
``preexec_fn``, which may deadlock a process with threads): when we die, the kernel
sends it SIGTERM and it shuts down cleanly, freeing its slot. The signal is tied to the
*thread* that started the server, so :meth:`JackServer.start` runs on the main thread
only. The server still has its own session: a Ctrl-C meant for us does not reach it
before we stop it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

import rtmidi

from improviser.errors import PortError
from improviser.live.io.ports import probe_api

__all__ = ["ENV", "JackServer", "jack_running", "some_jack_server", "start_failure"]

STOP_SECONDS = 15.0
"""How long a server is given to shut down after SIGTERM before SIGKILL."""

ENV = "JACK_DEFAULT_SERVER"

_DIE_WITH_PARENT = """\
import ctypes, os, signal, sys
if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0) != 0:  # PDEATHSIG
    sys.exit(f"prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}")
if os.getppid() != int(sys.argv[1]):
    sys.exit("the parent died before jackd started")
os.execv(sys.argv[2], sys.argv[2:])
"""
"""Run as ``python -c`` between fork and jackd: the death signal survives the exec. The
parent is checked after it is set, so a parent dying before that starts no server."""


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
        """Start the server and wait until a client can connect; :class:`PortError` if not.

        Called on the main thread only (``RuntimeError`` elsewhere): see the module docstring.
        """
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError(
                "JackServer.start runs on the main thread: the server dies with the thread "
                "that started it"
            )
        jackd = shutil.which("jackd")
        if jackd is None:
            raise PortError("jackd not found: install JACK (jackd2) to run without MIDI hardware")
        self._previous = os.environ.get(ENV)
        os.environ[ENV] = self.name
        dummy = ["-d", "dummy", "-r", str(self.rate), "-p", str(self.period)]
        with self._output() as out:
            began = out.seek(0, os.SEEK_END)
            self.process = subprocess.Popen(
                _dying_with_us([jackd, "--no-realtime", *dummy]),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,  # a Ctrl-C meant for us does not kill it first
            )
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self._restore_env()
                    out.seek(began)
                    said = out.read().decode(errors="replace")
                    raise PortError(start_failure(self.process.returncode, said))
                if jack_running():
                    return
                time.sleep(0.1)
        self.stop()
        raise PortError(f"JACK server {self.name!r} did not start within {self.timeout} s")

    def _output(self) -> IO[bytes]:
        """Where jackd writes: the log, or a scratch file (read back if it fails to start)."""
        if self.log is not None:
            return self.log.open("a+b")
        return tempfile.TemporaryFile()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) by its PID; safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                # Generous: a server killed (SIGKILL) keeps its registry slot for good.
                process.wait(timeout=STOP_SECONDS)
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


_BANNER = ("jackdmp", "Copyright", "This is free software", "under certain conditions")
"""How the lines of jackd's greeting begin (it prints them whatever happens)."""


def start_failure(code: int | None, output: str) -> str:
    """One line saying why jackd exited at start, from its exit code and what it said."""
    if "Too many servers already active" in output:
        return (
            "jackd could not start: JACK's registry of servers on this machine is full (it "
            "holds 8, and a server killed without shutting down keeps its place); with no "
            "JACK server running, remove /dev/shm/jack-shm-registry (or reboot)"
        )
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(_BANNER)]
    said = f": {lines[0]}" if lines else ""
    return f"jackd exited with code {code} at start{said}"


def _dying_with_us(argv: list[str]) -> list[str]:
    """``argv`` run so that it gets SIGTERM when this process dies (Linux; elsewhere as is)."""
    if not sys.platform.startswith("linux") or not sys.executable:
        return argv
    return [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


@contextlib.contextmanager
def some_jack_server(period: int = 64, log: Path | None = None) -> Iterator[JackServer | None]:
    """The JACK server running (``None``), or else a private one for as long as entered."""
    if jack_running():
        yield None
        return
    with JackServer(period=period, log=log) as server:
        yield server
