"""A real JACK server (dummy driver) for the live tests.

Each test module that asks for ``jack_server`` gets its own server under a unique
``JACK_DEFAULT_SERVER`` name, stopped by its PID afterwards. Where ``jackd`` is not
installed the tests are skipped — except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
import rtmidi

from improviser.harness.jackserver import JackServer
from improviser.harness.player import VirtualPlayer


def require_jackd() -> None:
    """Skip (or, in CI, fail) when jackd is not installed."""
    if shutil.which("jackd") is None:
        if os.environ.get("CI"):
            pytest.fail("jackd is not installed, and CI must run the JACK tests")
        pytest.skip("jackd is not installed")


TEST_PERIOD = 1024
"""Frames per JACK cycle in tests (21 ms at 48 kHz). Without realtime scheduling a client
that overruns a cycle on a busy 2-core machine can lose that cycle's MIDI (a note, or its
note-off); a long cycle makes that rare. Nothing in the tests measures latency; the
benchmarks run their own server at 64 frames."""


def private_server(
    tmp_path_factory: pytest.TempPathFactory, period: int = TEST_PERIOD
) -> Iterator[JackServer]:
    """A private JACK server at ``period`` frames, stopped by its PID afterwards."""
    require_jackd()
    server = JackServer(log=tmp_path_factory.mktemp("jack") / "jackd.log", period=period)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JackServer]:
    """A private JACK server for one test module; ``JACK_DEFAULT_SERVER`` names it."""
    yield from private_server(tmp_path_factory)


@pytest.fixture
def player(jack_server: JackServer) -> Iterator[VirtualPlayer]:
    """The demo's virtual player (keyboard and synth ports) on the test's JACK server."""
    p = VirtualPlayer(rtmidi.API_UNIX_JACK)
    try:
        yield p
    finally:
        p.close()
