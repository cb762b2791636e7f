"""The JACK server goes away mid-session: the improviser says so and plays again after.

Each test runs its own private server (it is killed on purpose) under a unique name.
Waits are for states, with generous timeouts; nothing asserts on latency.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rtmidi

from improviser.harness.jackserver import JackServer
from improviser.harness.player import VirtualPlayer
from improviser.inference import random_weights, write_weights
from improviser.live.events import Notice
from improviser.live.io.ports import list_ports
from improviser.live.session.session import LiveSession
from improviser.paths import ROOT
from tests.jack import TEST_PERIOD, require_jackd
from tests.test_live_jack import config, model, phrase, wait_for

pytestmark = pytest.mark.jack
API = rtmidi.API_UNIX_JACK


@pytest.fixture
def server(tmp_path: Path) -> Iterator[JackServer]:
    require_jackd()
    jack = JackServer(log=tmp_path / "jackd.log", period=TEST_PERIOD)
    jack.start()
    try:
        yield jack
    finally:
        if jack.process is None:
            # Killed by the test: JACK keeps a killed server's slot in its registry (8 slots
            # for the whole machine) until a server of the same name starts and stops.
            jack.start()
        jack.stop()


def kill(server: JackServer) -> None:
    """The server dies as a crash would (SIGKILL); the name is kept for a restart."""
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    server.process = None


async def test_a_restarted_server_is_found_again_and_the_session_answers(
    server: JackServer, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    first = VirtualPlayer(API)
    async with LiveSession(cfg, model=model()) as session:
        engine = session.engine
        assert engine is not None
        events = session.bus.subscribe()
        await asyncio.sleep(0.1)
        await first.play(phrase([60, 62, 64]))
        await wait_for(lambda: session.stats.answers == 1)
        kill(server)
        await wait_for(lambda: engine.status == "waiting for port")
        assert session.scheduler is not None and not session.scheduler.sounding
        del first  # its ports died with the server
        server.start()  # the same name: as a service manager restarts jackd
        second = VirtualPlayer(API)
        try:
            await wait_for(lambda: engine.status == "listening", limit=15.0)
            await asyncio.sleep(0.2)
            await second.play(phrase([67, 65, 64]))
            await wait_for(lambda: session.stats.answers == 2 and engine.status == "listening")
            await asyncio.sleep(0.2)
            assert second.tracker.stuck() == []
            assert len(second.tracker.ons) >= 1
        finally:
            second.close()
    topics = [e.topic for e in events.drain() if isinstance(e, Notice)]
    assert topics.count("port_lost") == 2 and topics.count("port_back") == 2


async def test_virtual_ports_come_back_under_names_that_say_what_they_are(
    server: JackServer, tmp_path: Path
) -> None:
    cfg = config(tmp_path, virtual=True, in_port=None, out_port=None)
    async with LiveSession(cfg, model=model()) as session:
        engine = session.engine
        assert engine is not None
        ports = list_ports(API)
        assert "improviser-in:improviser in" in ports.inputs + ports.outputs
        assert "improviser-out:improviser out" in ports.inputs + ports.outputs
        kill(server)
        await wait_for(lambda: engine.status == "waiting for port")
        server.start()
        await wait_for(lambda: engine.status == "listening", limit=15.0)
        ports = list_ports(API)
        assert "improviser-in:improviser in" in ports.inputs + ports.outputs
        assert "improviser-out:improviser out" in ports.inputs + ports.outputs


def test_on_server_loss_exit_ends_with_one_line(server: JackServer, tmp_path: Path) -> None:
    model_path = tmp_path / "tiny.keras"
    write_weights(random_weights(seed=2), model_path.with_suffix(".npz"))
    conf = tmp_path / "live.toml"
    conf.write_text('[live]\non_server_loss = "exit"\nport_poll_seconds = 0.1\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "improviser", "live", "--api", "jack", "--virtual",
         "--model", str(model_path), "--config", str(conf), "--record", str(tmp_path / "t.mid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "listening on" in line:
                break
        kill(server)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, err
    errors = [line for line in err.splitlines() if line.startswith("improviser: error")]
    assert len(errors) == 1 and "JACK server went away" in errors[0], err
    assert "Traceback" not in err
