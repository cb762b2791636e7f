"""``improviser web --host ::1``: the IPv6 loopback is loopback (no token asked for, only
loopback ``Host`` names answered) and its address is printed as a browser takes it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from improviser.config import Config, with_overrides
from improviser.config.web import is_loopback
from improviser.web import create_app, settings_of
from improviser.web.serve import bind, url_of
from tests.mosquitto import free_port

ROOT = Path(__file__).resolve().parent.parent


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


@pytest.mark.parametrize("host", ["::1", "[::1]", "0:0:0:0:0:0:0:1"])
def test_the_ipv6_loopback_is_loopback(host: str) -> None:
    assert is_loopback(host)
    settings = settings_of(with_overrides(Config(), web={"host": host}))
    assert settings.loopback and settings.token_in_page


def test_a_bare_ipv6_address_is_printed_in_brackets() -> None:
    assert url_of("::1", 8765) == "http://[::1]:8765/"
    assert url_of("[::1]", 8765) == "http://[::1]:8765/"
    assert url_of("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert url_of("localhost", 80) == "http://localhost:80/"


def test_the_ipv6_loopback_host_name_is_answered(tmp_path: Path) -> None:
    settings = settings_of(
        with_overrides(Config(), web={"host": "::1", "sessions_dir": str(tmp_path)})
    )
    client = TestClient(create_app(settings), base_url="http://[::1]:8765")
    assert client.get("/", headers={"host": "[::1]:8765"}).status_code == 200
    assert client.get("/", headers={"host": "[::2]:8765"}).status_code == 400


@needs_ipv6
@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_bind_takes_an_ipv6_address_bare_or_in_brackets(host: str) -> None:
    with bind(host, 0) as sock:
        assert sock.family == socket.AF_INET6
        assert sock.getsockname()[0] == "::1"


@needs_ipv6
def test_web_serves_on_the_ipv6_loopback_without_a_token(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "improviser", "web", "--host", "::1", "--port", str(port),
             "--mqtt", "127.0.0.1:1", "--sessions", str(tmp_path)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        url = f"http://[::1]:{port}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as page:
                    body = page.read().decode()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"improviser web did not answer: {log.read_text()[-500:]}")
                time.sleep(0.1)
        assert '<meta name="improviser-token-needed" content="false">' in body
        assert f"studio page on {url} " in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
