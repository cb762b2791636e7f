"""Closing a MIDI input while messages pour in, through a real JACK server.

RtMidi's input callback runs on JACK's thread and takes the GIL. Closing the client the
usual way (``cancel_callback``, ``close_port``, ``delete``) while messages come in
either deadlocks (``delete`` holds the GIL while JACK waits for the cycle, whose callback
waits for the GIL) or crashes (the callback cancelled under the JACK thread's feet). Seen
as a segfault in a test's teardown; here it is made to happen on purpose: a client floods
an input that is closed and opened again many times. Each run is a child process, so a
crash or a deadlock is a failed test (and its report), not a dead test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from improviser.harness.jackserver import JackServer

pytestmark = pytest.mark.jack

FLOOD = """
import threading, time
import rtmidi
API = rtmidi.API_UNIX_JACK
out = rtmidi.MidiOut(API, "flood")
out.open_virtual_port("out")
stop = threading.Event()
def flood():
    while not stop.is_set():
        out.send_message([0x90, 60, 100])
        out.send_message([0x80, 60, 0])
        time.sleep(0.00005)
flooding = threading.Thread(target=flood)
flooding.start()
seen = [0]
def busy(*_):
    seen[0] += 1
    sum(range(200))  # stay in Python a while, holding the GIL on JACK's thread
"""

SESSION_PORTS = """
from improviser.live.io.ports import MidiInput
from improviser.live.io.server import ServerWatch
watch = ServerWatch("closer")
watch.start()
port = MidiInput(API, "closer", "flood", False, on_message=busy, clock=time.perf_counter,
                 c_input=False)  # RtMidi's callback: the C input is tests/test_jack_input.py's
port.lister, port.quieter = watch.port_names, watch.quiet
for _ in range(ROUNDS):
    port.open()
    time.sleep(0.01)
    port.close()
watch.close()
"""

HARNESS = """
from improviser.live.io.apis import close_client
for _ in range(ROUNDS):
    client = rtmidi.MidiIn(API, "closer")
    client.set_callback(busy)
    client.open_port(next(i for i, n in enumerate(client.get_ports()) if "flood" in n))
    time.sleep(0.01)
    close_client(client, "closer")
"""


@pytest.mark.parametrize("how", ["session ports", "harness"])
def test_an_input_closes_cleanly_while_messages_pour_in(jack_server: JackServer, how: str) -> None:
    body = SESSION_PORTS if how == "session ports" else HARNESS
    script = (
        textwrap.dedent(FLOOD)
        + body.replace("ROUNDS", "40")
        + (
            "stop.set()\nflooding.join()\nout.close_port()\nout.delete()\n"
            "print('closed 40 times;', seen[0], 'messages taken')\n"
        )
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{how}: stuck closing an input under a flood (a deadlock): {exc.stderr!r}")
    assert done.returncode == 0, (how, done.returncode, done.stderr[-2000:])
    assert "closed 40 times" in done.stdout
    taken = int(done.stdout.split(";")[1].split()[0])
    assert taken > 1000  # the flood did reach the input while it was open
