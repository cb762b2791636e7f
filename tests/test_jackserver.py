"""A private jackd dies with the process that started it (nothing leaked).

JACK's registry holds 8 servers for the whole machine: a jackd left behind by a parent
killed with SIGKILL breaks later runs. A child Python process starts a
:class:`JackServer` and tells us the server's PID; we SIGKILL the child and watch the
server (our grandchild, so not ours to reap) go within a bounded wait.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from improviser.harness.jackserver import JackServer, start_failure
from improviser.paths import ROOT
from tests.jack import TEST_PERIOD, require_jackd

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the server's death signal is Linux's prctl"
)

CHILD = f"""
import time
from improviser.harness.jackserver import JackServer, start_failure
server = JackServer(period={TEST_PERIOD})
server.start()
print(server.process.pid, flush=True)
time.sleep(60)
"""
GONE_WITHIN = 10.0
"""Seconds the server is given to shut down once its parent is dead (it takes well under one)."""


def proc_stat(pid: int) -> tuple[str, int] | None:
    """``(state, start time)`` of ``pid`` from ``/proc``; ``None`` once it is reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
    return fields[0], int(fields[19])  # fields 3 and 22 of proc(5)


def running(pid: int, started: int) -> bool:
    """The process that had ``started`` as its start time still runs (not a zombie)."""
    stat = proc_stat(pid)
    return stat is not None and stat[1] == started and stat[0] not in ("Z", "X")


@pytest.mark.jack
def test_the_server_dies_with_a_parent_killed_with_sigkill(tmp_path: Path) -> None:
    require_jackd()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the server is up (or start failed within its timeout)
        assert line, f"the child did not start a server (exit code {child.wait()})"
        pid = int(line)
        stat = proc_stat(pid)
        assert stat is not None
        started = stat[1]
        # The PID is jackd's own (the exec kept it), and it has a session of its own: a
        # Ctrl-C to the parent's terminal does not reach it.
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "jackd"
        assert os.getsid(pid) == pid
        child.kill()
        child.wait()
        deadline = time.monotonic() + GONE_WITHIN
        while running(pid, started) and time.monotonic() < deadline:
            time.sleep(0.05)
        leaked = running(pid, started)
        if leaked:
            os.kill(pid, signal.SIGTERM)  # leave no server behind for the next run
        assert not leaked, f"jackd {pid} outlived its parent by {GONE_WITHIN} s"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_a_server_starts_on_the_main_thread_only() -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            JackServer().start()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError), errors
    assert "main thread" in str(errors[0])


def test_why_jackd_did_not_start_is_one_line() -> None:
    greeting = "jackdmp 1.9.21\nCopyright 2001-2005 Paul Davis and others.\n"
    full = start_failure(255, "Too many servers already active\nFailed to open server\n" + greeting)
    assert "registry of servers on this machine is full" in full
    assert "/dev/shm/jack-shm-registry" in full and "\n" not in full
    other = start_failure(1, greeting + 'Unknown driver "nope"\nFailed to start server\n')
    assert other == 'jackd exited with code 1 at start: Unknown driver "nope"'
    assert start_failure(1, greeting) == "jackd exited with code 1 at start"
