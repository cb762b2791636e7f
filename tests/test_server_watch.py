"""A server watch may be made while libjack logs on another thread.

libjack calls its error and info functions from whichever thread hits the trouble (a
client's own, as it finds a connection closed). JACK-Client frees the function it set
before as it sets a new one, so setting them for every watch (every session, every input
quieted before it closes) raced those calls: a benchmark crashed in CI with a segfault.
Here the race is made to happen, in a child process: a thread opens clients of a server
that is not there (libjack logs an error each time) while the main thread makes watches
as fast as it can (a session and the harness make a few each run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from improviser.harness.jackserver import ENV
from improviser.paths import ROOT

_CHILD = textwrap.dedent(
    """
    import sys, threading, time
    import jack
    from improviser.live.io.server import ServerWatch

    stop = threading.Event()

    def open_clients():
        while not stop.is_set():
            try:
                jack.Client("improviser-probe", no_start_server=True)
            except jack.JackError:
                pass

    thread = threading.Thread(target=open_clients, daemon=True)
    thread.start()
    watches = 0
    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        ServerWatch("improviser-watch")  # what each session and quieted input makes
        watches += 1
    stop.set()
    thread.join()
    print(watches)
    """
)


def test_watches_made_while_libjack_logs_on_another_thread_do_not_crash() -> None:
    pytest.importorskip("jack")
    env = {**os.environ, ENV: f"improviser-absent-{uuid.uuid4().hex[:8]}",
           "JACK_NO_START_SERVER": "1"}  # fmt: skip
    # Setting the functions anew for each watch crashed this within a second, every
    # run of ten (an illegal instruction or a segfault: a freed callback called).
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", _CHILD, "4"],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout) > 1000  # it made watches all along
